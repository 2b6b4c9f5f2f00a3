"""Check the hash chain of every promise's trail; exit status 1 when any is broken."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from promises.trail_verify import trail_chain_breaks


class Command(BaseCommand):
    help = ("Recompute the hash chain of every promise's transition trail and report the first broken row "
            "of each promise whose history was changed or cut. Exit status 1 when any chain is broken.")

    def handle(self, *args, **options):
        checked, breaks = trail_chain_breaks()
        for found in breaks:
            self.stderr.write(f"promise {found.promise_id}: trail row {found.row_id} is broken: {found.reason}")
        if breaks:
            raise CommandError(f"{len(breaks)} promise trail(s) broken ({checked} rows checked).")
        self.stdout.write(self.style.SUCCESS(f"Trail intact: {checked} rows checked."))
