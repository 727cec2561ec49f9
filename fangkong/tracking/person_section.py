"""The person page's close contacts, both ways: whose contact the person is, and theirs."""

from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import scope_for
from fangkong.orgs.models import Person
from fangkong.orgs.person_sections import Entry, Section, register

from .models import CloseContact


def contact_entries(user: Viewer, person: Person) -> list[Entry]:
    """Links to the other person of each contact, only where the user sees their health data."""
    scope = scope_for(user, Perm.VIEW_HEALTH)
    links = CloseContact.objects.select_related("person", "case")
    as_contact = scope.filter(links.filter(person=person), "case__unit_path")
    as_case = scope.filter(links.filter(case=person), "person__unit_path")
    entries = [
        _entry(gettext("Case"), link.case, link)
        for link in as_contact.order_by("-last_contact_day")
    ]
    entries += [
        _entry(gettext("Close contact"), link.person, link)
        for link in as_case.order_by("-last_contact_day")
    ]
    return entries


def _entry(role: str, other: Person, link: CloseContact) -> Entry:
    return Entry(
        text=f"{role} · {other.name} · {link.get_relation_display()}",
        url=reverse("orgs:person", args=[other.pk]),
        when=link.last_contact_day,
    )


def register_section() -> None:
    register(
        Section(
            key="tracking",
            title=gettext_lazy("Close contacts"),
            perm=Perm.VIEW_HEALTH,
            entries=contact_entries,
            order=50,
        )
    )
