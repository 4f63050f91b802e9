"""Console forms of the notifications page. They shape input; the services validate addresses and decide."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts.models import User
from warroom.integrations import registry
from warroom.lib import zones
from warroom.notify import selectors
from warroom.notify.models import ContactMethod, ShiftReminder, Urgency
from warroom.notify.working_hours import WEEKDAYS


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
    working_hours_only = forms.BooleanField(
        required=False,
        label="Only during my working hours",
        help_text="Low urgency only: waits for your working hours, if you set them.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].queryset = selectors.contact_methods_of(user)  # type: ignore[attr-defined]
        self.fields["contact_method"].label_from_instance = (  # type: ignore[attr-defined]
            lambda m: f"{m.name} ({m.get_kind_display()})" + ("" if m.is_usable else " — not verified")
        )


class WorkingHoursForm(forms.Form):
    """One weekly window in the person's zone; the service validates and decides."""

    time_zone = forms.ChoiceField(label="Time zone", choices=())
    days = forms.MultipleChoiceField(
        label="Working days",
        choices=[(str(i), name.capitalize()) for i, name in enumerate(WEEKDAYS)],
        widget=forms.CheckboxSelectMultiple,
        initial=["0", "1", "2", "3", "4"],
    )
    start = forms.TimeField(
        label="From", initial="09:00", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end = forms.TimeField(
        label="Until",
        initial="18:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="At or before “From”: the window runs past midnight.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zones.choices()  # type: ignore[attr-defined]


class ShiftReminderForm(forms.Form):
    """The "Before my on-call shifts" choice: off or a fixed lead time."""

    minutes_before = forms.TypedChoiceField(
        label="Before my on-call shifts",
        choices=ShiftReminder.choices,
        coerce=int,
        help_text="A low-urgency notification through your low-urgency rules, once per shift.",
    )
