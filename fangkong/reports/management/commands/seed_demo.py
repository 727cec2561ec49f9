"""manage.py seed_demo --scale small|seeds|10x [--if-empty] [--no-health]

Lives in the reports app, the highest app, because it seeds orgs, health and reports.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fangkong.accounts.models import User
from fangkong.checkpoints.demo import demo_visitor_link, seed_checkpoints, seed_gate_passes
from fangkong.core.paths import subtree_q
from fangkong.evaluation.demo import demo_follow_up_path, seed_evaluation
from fangkong.health.demo import seed_declarations
from fangkong.health.selectors import link_token, live_link
from fangkong.health.services import link_issue
from fangkong.orgs.demo import DEMO_PASSWORD, SCALES, seed
from fangkong.orgs.models import OrgUnit, Person
from fangkong.passes.demo import seed_daily_pass
from fangkong.quarantine.demo import seed_quarantine
from fangkong.rectification.demo import seed_rectification
from fangkong.reports.demo import create_report_accounts, seed_reports
from fangkong.tracking.demo import seed_tracking
from fangkong.travel.demo import RAISE_IN_DEMO, demo_summary, seed_travel

# The small demo gets a week of declarations and reports; the large scales one day (today),
# enough for the roll-up and the benchmarks without minutes of loading.
DAYS = {"small": 7, "seeds": 1, "10x": 1}
# Whose personal link the command prints: a worker in the demo reporter's workshop.
DEMO_LINK_UNIT = "SDLY-P1-W1"


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
                self._print_personal_link()
                self._print_visitor_link()
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
            quarantine = seed_quarantine()
            travel = seed_travel()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {declared} declarations, {made['reports']} daily reports and "
                    f"{made['alarms']} alarms ({DAYS[scale]} day(s)) "
                    f"in {time.monotonic() - started:.1f}s."
                )
            )
            self.stdout.write(
                f"Quarantine: {quarantine['sites']} sites, {quarantine['placements']} placements, "
                f"{quarantine['trips']} trip."
            )
            accounts += seed_tracking(days=DAYS[scale])
            gates = seed_checkpoints()
            self.stdout.write(f"Checkpoints: {gates['checkpoints']} at plants SDLY-P1 and SDLY-P2.")
            problems = seed_rectification()
            self.stdout.write(
                f"Rectification: {problems['problems']} problems at SDLY, every state and colour, "
                f"and {problems['imported']} from an audit report's list (/rectification/); "
                f"last week's bulletin: /rectification/bulletins/{problems['bulletin']}/"
            )
            self.stdout.write(
                "The gate scanner, as guard on a phone: http://127.0.0.1:8000/guard/ ; "
                "passes to show it (photo of the code), the last one revoked:"
            )
            for path in seed_gate_passes():
                self.stdout.write(f"  {path}")
            self.stdout.write(
                f"\nReturnees ({travel['cards']} cards; raise region {RAISE_IN_DEMO} to high "
                "on /travel/risk-areas/ to flag the one who passed through it):"
            )
            for line in demo_summary():
                self.stdout.write(f"  {line}")
            started = time.monotonic()
            evaluation = seed_evaluation()
            accounts += evaluation["accounts"]
            self.stdout.write(
                f"\nService evaluation: {evaluation['ratings']} ratings, "
                f"{evaluation['bad_reviews']} bad reviews at every stage "
                f"({time.monotonic() - started:.1f}s); a 追评 link waiting for the person:"
                f"\n  http://127.0.0.1:8000{demo_follow_up_path()}"
            )
        self.stdout.write(f"\nDemo accounts (password: {DEMO_PASSWORD}):")
        for username, role, unit in accounts:
            self.stdout.write(f"  {username:<18} {role:<10} {unit}")
        self._print_personal_link()
        self._print_visitor_link()

    def _print_visitor_link(self) -> None:
        """Show the pre-registered visitor's link: her pass, for the guard to scan."""
        found = demo_visitor_link()
        if found is None:
            return
        visitor, path = found
        self.stdout.write(
            f"\nVisitor link of {visitor.name} (pre-registered by unit_admin for "
            f"{visitor.day:%Y-%m-%d}; also on /checkpoints/visitors/{visitor.pk}/), "
            f"open on a phone and scan its code as `guard` at 1号门:"
            f"\n  http://127.0.0.1:8000{path}"
        )

    def _print_personal_link(self) -> None:
        """Show one worker's personal declaration link, to try the phone page."""
        workshop = OrgUnit.objects.filter(code=DEMO_LINK_UNIT).first()
        people = Person.objects.filter(is_active=True).order_by("pk")
        person = people.filter(subtree_q("unit_path", workshop.path)).first() if workshop else None
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if person is None or admin is None:
            return
        link = live_link(person) or link_issue(actor=admin, person=person)
        self.stdout.write(
            f"\nPersonal declaration link of {person.name} ({person.unit.name}), open on a phone:"
            f"\n  http://127.0.0.1:8000/health/d/{link_token(link)}/"
        )
        pass_path, why = seed_daily_pass(link)
        self.stdout.write(
            f"Today's pass of {person.name}:\n  http://127.0.0.1:8000{pass_path}"
            + (f"\n  (not issued: {why})" if why else "")
        )
