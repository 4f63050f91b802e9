"""Console forms for teams, their members, API tokens and the person's own profile."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts.models import Role
from warroom.lib import zones


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What the team runs and how to reach it"}),
    )


class AddMemberForm(forms.Form):
    email = forms.EmailField(label="Email of an existing user")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RESPONDER)


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. laptop CLI, Grafana", "autocomplete": "off"}),
    )


class ProfileForm(forms.Form):
    """The person's display name and time zone; the service validates the zone and decides."""

    full_name = forms.CharField(
        label="Display name",
        max_length=150,
        required=False,
        help_text="How you appear on incidents and timelines. Left empty, your email address is shown.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=(),
        help_text="The console shows every time in this zone.",
    )

    def __init__(self, *args: Any, current_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = zones.choices()  # a legacy alias (EST ...) set through the API is added below
        if current_zone not in {value for value, _label in choices}:
            choices = [(current_zone, current_zone), *choices]  # e.g. "EST", set through the API
        self.fields["time_zone"].choices = choices  # type: ignore[attr-defined]
