"""Console forms for teams, their members and API tokens."""

from __future__ import annotations

from django import forms

from warroom.accounts.models import Role


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
