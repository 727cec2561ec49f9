"""manage.py purge_personal_data [--dry-run]

The daily retention job by hand: erase the personal data of the outbreaks closed longer
ago than their retention, and the audit rows older than AUDIT_RETENTION_DAYS. With
``--dry-run`` it only counts what it would erase, per kind, and changes nothing.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fangkong.health.retention import purge_personal_data


class Command(BaseCommand):
    help = (
        "Erase personal data whose retention is over (closed outbreaks, old audit rows); "
        "--dry-run only counts it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be erased, erase nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = purge_personal_data(dry_run=options["dry_run"])
        heading = "Would erase" if report.dry_run else "Erased"
        outbreaks = ", ".join(map(str, report.outbreaks)) or "none"
        self.stdout.write(f"{heading} (outbreaks due: {outbreaks}):")
        for line in report.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write(f"Total: {report.total}")
