from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ChannelKind, Delivery, Event


def split_addresses(text: str) -> list[str]:
    """Split addresses typed one per line or separated by commas or semicolons."""
    for separator in (",", ";", "，", "；"):
        text = text.replace(separator, "\n")
    return [line.strip() for line in text.splitlines() if line.strip()]


class ChannelCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices)
    unit_code = forms.CharField(label=_("Owner unit (code)"), max_length=64)
    webhook_url = forms.CharField(label=_("Webhook URL"), max_length=500, required=False)
    secret = forms.CharField(
        label=_("Signing secret (DingTalk, Feishu)"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    email_addresses = forms.CharField(
        label=_("E-mail addresses (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ChannelEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    webhook_url = forms.CharField(
        label=_("New webhook URL (blank keeps the current one)"), max_length=500, required=False
    )
    secret = forms.CharField(
        label=_("New signing secret (blank keeps the current one)"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    clear_secret = forms.BooleanField(label=_("Remove the signing secret"), required=False)
    email_addresses = forms.CharField(
        label=_("E-mail addresses (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)


class SubscriptionForm(forms.Form):
    unit_code = forms.CharField(label=_("Unit (code)"), max_length=64)
    event = forms.ChoiceField(label=_("Event"), choices=Event.choices)
    include_subtree = forms.BooleanField(label=_("Include sub-units"), required=False, initial=True)


class DeliveryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Delivery.Status.choices]
    )
    event = forms.ChoiceField(
        label=_("Event"), required=False, choices=[("", _("All")), *Event.choices]
    )
    channel = forms.TypedChoiceField(
        label=_("Channel"), required=False, coerce=int, empty_value=None
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
