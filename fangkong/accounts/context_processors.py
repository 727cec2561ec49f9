"""Which navigation entries the signed-in user may use."""

from typing import Any

from django.http import HttpRequest

from .roles import Perm
from .selectors import user_has_perm_anywhere


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can": {
            "people": user_has_perm_anywhere(user, Perm.VIEW_PEOPLE),
            "rollup": user_has_perm_anywhere(user, Perm.VIEW_ROLLUP),
            "attest": user_has_perm_anywhere(user, Perm.ATTEST_REPORT),
            "import": user_has_perm_anywhere(user, Perm.IMPORT),
            "duplicates": user_has_perm_anywhere(user, Perm.MANAGE_PEOPLE),
            "audit": user_has_perm_anywhere(user, Perm.VIEW_AUDIT),
            "accounts": user_has_perm_anywhere(user, Perm.MANAGE_ACCOUNTS),
            "notify": user_has_perm_anywhere(user, Perm.MANAGE_NOTIFY),
            "jobs": user_has_perm_anywhere(user, Perm.VIEW_JOBS),
            "health": user_has_perm_anywhere(user, Perm.VIEW_HEALTH),
            "declare": user_has_perm_anywhere(user, Perm.DECLARE_FOR_OTHERS),
            "outbreak": user_has_perm_anywhere(user, Perm.MANAGE_OUTBREAK),
            "ledger": user_has_perm_anywhere(user, Perm.VIEW_HEALTH),
            "track": user_has_perm_anywhere(user, Perm.TRACK),
            "quarantine": user_has_perm_anywhere(user, Perm.VIEW_ROLLUP)
            or user_has_perm_anywhere(user, Perm.MANAGE_QUARANTINE),
            "travel": user_has_perm_anywhere(user, Perm.VIEW_HEALTH),
            "return_rules": user_has_perm_anywhere(user, Perm.MANAGE_RETURN_RULES),
            "gate": any(
                user_has_perm_anywhere(user, perm)
                for perm in (Perm.RECORD_GATE, Perm.OVERRIDE_GATE, Perm.MANAGE_CHECKPOINTS)
            ),
            "override_gate": user_has_perm_anywhere(user, Perm.OVERRIDE_GATE),
            "problems": user_has_perm_anywhere(user, Perm.VIEW_PROBLEMS),
            "rectify": user_has_perm_anywhere(user, Perm.RECTIFY),
            "supervise": user_has_perm_anywhere(user, Perm.SUPERVISE),
            "evaluation": user_has_perm_anywhere(user, Perm.VIEW_EVALUATION),
            "cases": user_has_perm_anywhere(user, Perm.REGISTER_CASES),
            "services": user_has_perm_anywhere(user, Perm.MANAGE_SERVICES),
        }
    }
