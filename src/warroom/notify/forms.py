"""Console forms of the notifications page. They shape input; the services validate addresses and decide."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts.models import User
from warroom.integrations import registry
from warroom.notify import selectors
from warroom.notify.models import ContactMethod, Urgency


def kind_choices() -> list[tuple[str, str]]:
    """Every channel, marked when this server cannot send through it."""
    return [
        (c.kind, c.label if c.configured() else f"{c.label} (not configured on this server)")
        for c in registry.channels()
    ]


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=())
    name = forms.CharField(max_length=100, help_text="Yours to recognise it, e.g. “Work phone”.")
    address = forms.CharField(
        max_length=2000,
        label="Address",
        help_text="Email address, phone number (+14155550100), or the webhook/topic URL; see the list below.",
    )
    token = forms.CharField(
        max_length=500,
        required=False,
        label="Access token",
        help_text="ntfy only, when your topic needs one. Never shown again.",
        widget=forms.PasswordInput(render_value=False),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()  # type: ignore[attr-defined]


class VerifyForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        label="Code",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class RuleForm(forms.Form):
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.HIGH)
    delay_minutes = forms.IntegerField(
        min_value=0, max_value=1440, initial=0, label="After (minutes)", help_text="0 = as soon as paged."
    )
    contact_method = forms.ModelChoiceField(
        queryset=ContactMethod.objects.none(), label="Notify", empty_label="Choose a contact method…"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].queryset = selectors.contact_methods_of(user)  # type: ignore[attr-defined]
        self.fields["contact_method"].label_from_instance = (  # type: ignore[attr-defined]
            lambda m: f"{m.name} ({m.get_kind_display()})" + ("" if m.is_usable else " — not verified")
        )
