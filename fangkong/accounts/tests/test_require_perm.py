"""require_perm, the one permission check (at a path 403 or 404, anywhere 403), and @requires."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse

from fangkong.accounts.decorators import requires
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import require_perm
from fangkong.core.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


def test_at_a_path_403_where_the_unit_is_seen_and_404_outside_the_subtree(org):
    viewer = org.user("viewer", org.ent_a)
    require_perm(viewer, Perm.VIEW_UNITS, org.shop_a.path)
    with pytest.raises(PermissionDenied):
        require_perm(viewer, Perm.MANAGE_UNITS, org.shop_a.path)
    with pytest.raises(NotFound):
        require_perm(viewer, Perm.MANAGE_UNITS, org.plant_b.path)


def test_seen_with_names_what_shows_the_object(org):
    viewer = org.user("viewer", org.ent_a)  # sees units, not health data
    with pytest.raises(NotFound):
        require_perm(viewer, Perm.TRACK, org.shop_a.path, seen_with=Perm.VIEW_HEALTH)
    with pytest.raises(PermissionDenied, match="not here"):
        require_perm(viewer, Perm.TRACK, org.shop_a.path, message="not here")


def test_without_a_path_the_permission_must_be_held_somewhere(org):
    admin = org.user("unit_admin", org.plant_b)
    require_perm(admin, Perm.MANAGE_UNITS)
    with pytest.raises(PermissionDenied):
        require_perm(org.user("viewer", org.ent_a), Perm.MANAGE_UNITS)


def test_the_system_passes_and_an_anonymous_user_holds_nothing(org):
    require_perm(None, Perm.MANAGE_OUTBREAK)
    require_perm(None, Perm.MANAGE_UNITS, org.plant_b.path)
    with pytest.raises(PermissionDenied):
        require_perm(AnonymousUser(), Perm.VIEW_UNITS)
    with pytest.raises(NotFound):
        require_perm(AnonymousUser(), Perm.VIEW_UNITS, org.shop_a.path)


def test_the_page_decorator_lets_in_any_listed_permission_and_renders_a_refusal(org, rf):
    @requires(Perm.MANAGE_QUARANTINE, Perm.VIEW_ROLLUP)
    def page(request):
        return HttpResponse("in")

    request = rf.get("/")
    request.user = org.user("viewer", org.ent_a)  # the roll-up, not quarantine
    assert page(request).content == b"in"
    request.user = org.user("guard", org.ent_a)
    refused = page(request)
    assert refused.status_code == 403
    assert str(PermissionDenied().message) in refused.content.decode()  # the error page
