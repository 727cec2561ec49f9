"""The home page's rectification panel: each count is the row count of its list."""

import pytest

from fangkong.rectification import services

from . import factories as f
from .helpers import travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _wednesday_morning():
    """The problems are dated back from 10:00 on Wednesday 18 November 2026."""
    with travel("2026-11-18", "10:00"):
        yield


def _panel(client):
    response = client.get("/")
    assert response.status_code == 200
    sections = {s.key: s for s in response.context["sections"]}
    return sections.get("problems")


def _by_link(panel) -> dict[str, int]:
    """The counts by the query of the list they link to (labels are translated)."""
    return {c.url.partition("?")[2]: c.n for c in panel.counts}


def _list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].paginator.count


def test_an_owner_sees_their_open_problems_by_colour(client, org, login_as):
    red = f.overdue(org, title="逾期的")
    f.assign(org, red)
    f.assign(org, f.problem(org, title="刚分派的"))
    f.overdue(org, title="别人的")  # not assigned to the owner
    owner = f.owner_of(org)
    client.force_login(owner)
    panel = _panel(client)
    assert panel is not None
    counts = _by_link(panel)
    assert counts["owner=me&colour=red"] == 1
    assert counts["owner=me"] == 2
    for count in panel.counts:
        assert _list_count(client, count.url) == count.n, count.label
    html = client.get("/").content.decode()
    assert 'id="home-problems"' in html


def test_the_assigning_unit_sees_what_waits_for_its_acceptance_and_checks_due(
    client, org, login_as
):
    owner = f.owner_of(org)
    submitted = f.problem(org, title="待验收")
    f.assign(org, submitted, owner)
    services.problem_submit(actor=owner, problem=submitted, measures="已整改")
    accepted = f.problem(org, title="待核查", opened_ago=40, due_in=-10)
    f.assign(org, accepted, owner)
    services.problem_submit(actor=owner, problem=accepted, measures="已整改", now=f.days_ago(35))
    services.problem_accept(
        actor=org.user("supervisor", org.ent_a), problem=accepted, now=f.days_ago(31)
    )
    login_as("supervisor", org.ent_a)
    panel = _panel(client)
    counts = _by_link(panel)
    assert counts["awaiting=1"] == 1
    assert counts["check_due=1"] == 1  # 31 days after the acceptance, 30 to wait
    for count in panel.counts:
        assert _list_count(client, count.url) == count.n, count.label
    # The owner is not asked to accept their own work; a viewer has no panel.
    client.force_login(owner)
    assert _by_link(_panel(client))["awaiting=1"] == 0
    # Counts of one's own work only for whoever owns some.
    login_as("supervisor", org.ent_a)
    assert "owner=me" not in _by_link(_panel(client))
    login_as("viewer", org.ent_a)
    assert _panel(client) is None
