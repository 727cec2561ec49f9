from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import User
from .roles import Role


class LoginForm(AuthenticationForm):
    """Password log-in that says so when the account is locked."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        user = User.objects.filter(username=username).first() if username else None
        if user is not None and user.is_locked:
            until = timezone.localtime(user.locked_until)
            raise forms.ValidationError(
                _("Too many failed log-ins: the account is locked until %(time)s.")
                % {"time": f"{until:%H:%M}"},
                code="locked",
            )
        return super().clean()


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
