from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .backends import login_refusal
from .roles import Role


class LoginForm(AuthenticationForm):
    """Password log-in that says so when log-ins are locked out.

    The backend decides; a refused log-in then shows why, with the same words whether or
    not the account exists.
    """

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            refusal = login_refusal(self.request, self.cleaned_data.get("username") or "")
            if refusal is None:
                raise
            raise forms.ValidationError(refusal, code="locked") from None


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name of the device or integration"), max_length=100)


class RoleGrantForm(forms.Form):
    """Grant a role on a unit to an existing user, or to a new one (with a password)."""

    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=64, required=False)
    password = forms.CharField(
        label=_("Password (new users only)"), required=False, widget=forms.PasswordInput
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    unit_code = forms.CharField(label=_("Unit (code)"), max_length=64)
