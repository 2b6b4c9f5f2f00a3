"""Import feedback from a CSV export of a ticket system or survey tool: all rows or none."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from feedback.services.importing import feedback_import_csv


class Command(BaseCommand):
    help = ("Import feedback from a CSV file (UTF-8; columns kind, channel, text and promise or category; "
            "optional customer, severity, csat, nps, received_at, external_reference). Every row is "
            "validated first; if any is bad, nothing is imported and each bad row is reported.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file")
        parser.add_argument("--user", required=True, help="username recorded as the importer")
        parser.add_argument("--dry-run", action="store_true", help="validate only")

    def handle(self, *args, path, user, dry_run, **options):
        importer = get_user_model().objects.filter(username=user, is_active=True).first()
        if importer is None:
            raise CommandError(f"No active user {user!r}.")
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            result = feedback_import_csv(user=importer, content=content, dry_run=dry_run)
        except DomainError as exc:
            for name, reason in exc.fields.items():
                self.stderr.write(f"{name}: {reason}")
            raise CommandError(exc.message) from exc
        verb = "would import" if dry_run else "imported"
        self.stdout.write(self.style.SUCCESS(f"{verb} {result.imported} feedback rows"))
