"""Recompute every summary row (keep rates, reasons, gate lead times and escapes, feedback by month)
from the raw rows and compare with the stored ones: exit status 1 and the differences when they
disagree; `--fix` rewrites them (also how the summaries are first filled for existing data)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from feedback.summaries_check import summaries_compare, summaries_rebuild


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="rewrite the summary rows from the raw rows")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, fix: bool, quiet: bool, **options):
        if fix:
            written = summaries_rebuild()
            if not quiet:
                self.stdout.write("Summaries rewritten: " + ", ".join(f"{t} {n}" for t, n in written.items()))
            return
        diffs = summaries_compare()
        if diffs:
            for line in diffs[:200]:
                self.stdout.write(line)
            raise CommandError(f"{len(diffs)} summary rows differ from a recomputation (run with --fix to rewrite).")
        if not quiet:
            self.stdout.write(self.style.SUCCESS("Summaries equal a full recomputation."))
