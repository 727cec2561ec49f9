import pytest
from django.urls import reverse

from fangkong.core.models import AuditLog

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def test_login_with_the_right_password(client, org):
    org.user("viewer", org.ent_a)
    response = client.post(LOGIN, {"username": "viewer-a", "password": "pw-Test-123"})
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="login").exists()


def test_the_account_locks_after_repeated_failures(client, org, settings):
    user = org.user("viewer", org.ent_a)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(LOGIN, {"username": user.username, "password": "wrong"})
    response = client.post(
        LOGIN,
        {"username": user.username, "password": "pw-Test-123"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert "锁定" in response.content.decode()
    user.refresh_from_db()
    assert user.is_locked
    assert AuditLog.objects.filter(action="locked", object_id=str(user.pk)).count() == 1
    assert AuditLog.objects.filter(action="login_failed").count() == settings.LOGIN_FAILURE_LIMIT


def test_passwords_are_hashed_with_argon2_in_production(settings):
    from config import settings as config

    assert "Argon2" in config.PASSWORD_HASHERS[-2] or any(
        "Argon2" in h for h in config.PASSWORD_HASHERS
    )


def test_token_page_shows_the_key_once_and_revokes(client, org, login_as):
    login_as("viewer")
    page = client.post(reverse("accounts:tokens"), {"name": "门岗平板"}).content.decode()
    assert "fk_" in page
    token = org.users[("viewer", org.ent_a.pk)].api_tokens.get()
    assert "fk_" not in client.get(reverse("accounts:tokens")).content.decode().replace(
        token.prefix, ""
    )
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_audit_log_is_scoped_and_filterable(client, org, login_as):
    from fangkong.orgs.services import unit_rename

    unit_rename(actor=None, unit=org.shop_a, name="一车间（新）")
    unit_rename(actor=None, unit=org.plant_b, name="氧化铝厂（新）")
    login_as("unit_admin")
    page = client.get(reverse("accounts:audit"), {"action": "update"}).content.decode()
    assert "一车间" in page and "氧化铝厂" not in page
    login_as("reporter")
    assert client.get(reverse("accounts:audit")).status_code == 403


def test_unit_admin_creates_an_account_with_a_role_in_their_subtree(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    url = reverse("accounts:users")
    client.post(
        url,
        {
            "username": "zhang.wei",
            "display_name": "张伟",
            "password": "Cuixi-2020-north",
            "role": "reporter",
            "unit_code": "A1W1",
        },
    )
    from fangkong.accounts.models import RoleAssignment, User

    user = User.objects.get(username="zhang.wei")
    assert user.check_password("Cuixi-2020-north")
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.role, assignment.unit) == ("reporter", org.shop_a)
    assert AuditLog.objects.filter(action="role_grant").exists()
    page = client.get(url).content.decode()
    assert "zhang.wei" in page and "unit_admin-b" not in page


def test_roles_cannot_be_granted_outside_the_subtree_or_above_it(client, org, login_as):
    login_as("unit_admin", org.ent_a)
    url = reverse("accounts:users")
    outside = client.post(
        url,
        {
            "username": "li.na",
            "password": "Cuixi-2020-north",
            "role": "reporter",
            "unit_code": "B1",
        },
    ).content.decode()
    assert "范围" in outside
    missing = client.post(
        url,
        {
            "username": "li.na",
            "password": "Cuixi-2020-north",
            "role": "reporter",
            "unit_code": "NOPE",
        },
    ).content.decode()
    # A unit outside the subtree answers exactly as a unit that does not exist.
    assert "您的管辖范围内没有该编码的单位" in outside
    assert "您的管辖范围内没有该编码的单位" in missing
    above = client.post(
        url,
        {
            "username": "li.na",
            "password": "Cuixi-2020-north",
            "role": "group_admin",
            "unit_code": "A",
        },
    ).content.decode()
    assert "系统管理员" in above
    from fangkong.accounts.models import User

    assert not User.objects.filter(username="li.na").exists()  # nothing half-written
    weak = client.post(
        url, {"username": "wang.fang", "password": "123", "role": "reporter", "unit_code": "A"}
    ).content.decode()
    assert "密码" in weak


def test_revoking_a_role_from_the_page(client, org, login_as):
    reporter = org.user("reporter", org.shop_a)
    login_as("unit_admin", org.ent_a)
    assignment = reporter.role_assignments.get()
    client.post(reverse("accounts:role_revoke", args=[assignment.pk]))
    assert not reporter.role_assignments.exists()
    login_as("reporter", org.shop_a)
    assert client.get(reverse("accounts:users")).status_code == 403
