"""Sections that apps above orgs add to the person page (health, cards, travel, ...).

orgs may not import those apps, so each registers a section in its ``AppConfig.ready()``:
a title, the permission that shows it, and a function returning the person's entries. The
page shows a section only to a viewer holding its permission over the person's unit, and
each entry links to its own page.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for

from .models import Person


@dataclass(frozen=True)
class Entry:
    """One line of a section: what it is, its page, and when."""

    text: str
    url: str = ""
    when: dt.date | dt.datetime | None = None
    badge: str = ""  # a status class ("green", "red", "bad") with its label in ``badge_text``
    badge_text: str = ""

    @property
    def when_text(self) -> str:
        """The moment in local time, or the day."""
        if isinstance(self.when, dt.datetime):
            return timezone.localtime(self.when).strftime("%Y-%m-%d %H:%M")
        return self.when.isoformat() if self.when else ""


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    perm: Perm
    entries: Callable[[Viewer, Person], list[Entry]]
    order: int = 100


_SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    """Add (or replace, by key) a section of the person page."""
    _SECTIONS[section.key] = section


def unregister(key: str) -> None:
    _SECTIONS.pop(key, None)


def sections_for(user: Viewer, person: Person) -> list[tuple[Section, list[Entry]]]:
    """Return the sections ``user`` may see for ``person``, in order, with their entries."""
    shown = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        if scope_for(user, section.perm).covers(person.unit_path):
            shown.append((section, section.entries(user, person)))
    return shown
