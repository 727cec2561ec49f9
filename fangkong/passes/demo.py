"""Demo passes: today's daily pass of the worker whose personal link the demo prints."""

from django.urls import reverse

from fangkong.health.models import PersonLink
from fangkong.health.selectors import link_token

from . import daily


def seed_daily_pass(link: PersonLink) -> tuple[str, str]:
    """Issue today's pass for the link's person (if the status admits it); return the pass
    page's path and, when no pass could be issued, why."""
    _row, why = daily.daily_pass(link.person)
    return reverse("passes:phone", args=[link_token(link)]), why
