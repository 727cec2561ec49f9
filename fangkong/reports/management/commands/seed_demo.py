"""manage.py seed_demo --scale small|seeds|10x [--if-empty] [--no-health]

Lives in the reports app, the highest app, because it seeds orgs, health and reports.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.health.demo import seed_declarations
from fangkong.orgs.demo import DEMO_PASSWORD, SCALES, seed
from fangkong.orgs.models import OrgUnit
from fangkong.reports.demo import create_report_accounts, seed_reports

# The small demo gets a week of declarations and reports; the large scales one day (today),
# enough for the roll-up and the benchmarks without minutes of loading.
DAYS = {"small": 7, "seeds": 1, "10x": 1}


class Command(BaseCommand):
    help = (
        "Load the deterministic demo organisation, people, one account per role, and "
        "declarations and daily reports (a week for the small scale, today otherwise)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has units"
        )
        parser.add_argument(
            "--no-health",
            action="store_true",
            help="load the organisation only: no declarations and no reports",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if OrgUnit.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo data already loaded.")
                return
            raise CommandError("The database already has org units; use a fresh database.")
        started = time.monotonic()
        scale = options["scale"]
        result = seed(scale)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result['units']} units and {result['people']} people "
                f"({scale}) in {time.monotonic() - started:.1f}s."
            )
        )
        accounts = list(result["accounts"])  # type: ignore[call-overload]
        if not options["no_health"]:
            started = time.monotonic()
            declared = seed_declarations(days=DAYS[scale])
            accounts += create_report_accounts()
            made = seed_reports(days=DAYS[scale])
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {declared} declarations, {made['reports']} daily reports and "
                    f"{made['alarms']} alarms ({DAYS[scale]} day(s)) "
                    f"in {time.monotonic() - started:.1f}s."
                )
            )
        self.stdout.write(f"\nDemo accounts (password: {DEMO_PASSWORD}):")
        for username, role, unit in accounts:
            self.stdout.write(f"  {username:<18} {role:<10} {unit}")
