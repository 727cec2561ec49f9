from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import User


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
