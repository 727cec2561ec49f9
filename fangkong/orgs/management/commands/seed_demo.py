"""manage.py seed_demo --scale small|seeds|10x"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.orgs.demo import DEMO_PASSWORD, SCALES, seed
from fangkong.orgs.models import OrgUnit


class Command(BaseCommand):
    help = "Load the deterministic demo organisation, people and one account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has units"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if OrgUnit.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo data already loaded.")
                return
            raise CommandError("The database already has org units; use a fresh database.")
        started = time.monotonic()
        result = seed(options["scale"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result['units']} units and {result['people']} people "
                f"({options['scale']}) in {time.monotonic() - started:.1f}s."
            )
        )
        self.stdout.write(f"\nDemo accounts (password: {DEMO_PASSWORD}):")
        for username, role, unit in result["accounts"]:  # type: ignore[attr-defined]
            self.stdout.write(f"  {username:<14} {role:<10} {unit}")
