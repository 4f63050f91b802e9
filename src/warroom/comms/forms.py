"""Console forms of stakeholder updates, update templates and subscriptions. They shape input; the services
validate and decide (an unknown component, a private-address webhook, a duplicate are their errors)."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.comms import selectors
from warroom.comms.models import Audience, ComponentStatus, RecipientKind, UpdateStatus
from warroom.comms.services import MESSAGE_MAX, TEMPLATE_BODY_MAX, TEMPLATE_NAME_MAX


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=UpdateStatus.choices, label="Status")
    audience = forms.ChoiceField(
        choices=Audience.choices,
        initial=Audience.INTERNAL,
        label="Audience",
        help_text="Internal: subscribers inside the company. Public: the status pages.",
    )
    message = forms.CharField(
        max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 5}), label="Message", strip=True
    )
    components = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Components affected",
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Status-page components this update is about.",
    )
    component_status = forms.ChoiceField(
        choices=[("", "Leave as they are"), *ComponentStatus.choices],
        required=False,
        label="Set their status to",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["components"].choices = [  # type: ignore[attr-defined]
            (c.pk, f"{c.page.name} · {c.name}") for c in selectors.components()
        ]


class TemplatePickForm(forms.Form):
    """The GET form that pre-fills the update form from a template."""

    update_template = forms.ChoiceField(label="Template", choices=())

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["update_template"].choices = [  # type: ignore[attr-defined]
            (c.key, f"{UpdateStatus(c.status).label}: {c.name}") for c in selectors.template_choices(team)
        ]


class SubscriptionForm(forms.Form):
    kind = forms.ChoiceField(choices=RecipientKind.choices, label="Deliver by")
    address = forms.CharField(
        max_length=500, label="Address", help_text="An email address, or an https URL for a signed webhook."
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, empty_label="—", label="Service"
    )
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="—", label="Team")
    incident = forms.CharField(
        max_length=20, required=False, label="Incident", help_text="A reference such as INC0001042."
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = catalog.visible_services(user).order_by("name")  # type: ignore[attr-defined]
        self.fields["team"].queryset = accounts.visible_teams(user).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [name for name in ("service", "team", "incident") if data.get(name)]
        if len(chosen) != 1:
            raise forms.ValidationError("Choose exactly one of a service, a team or an incident to follow.")
        return data


class TemplateForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="Every team (organisation-wide)",
        label="Team",
    )
    status = forms.ChoiceField(choices=UpdateStatus.choices, label="Status")
    name = forms.CharField(max_length=TEMPLATE_NAME_MAX, label="Name")
    body = forms.CharField(
        max_length=TEMPLATE_BODY_MAX, widget=forms.Textarea(attrs={"rows": 4}), label="Message"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        field.queryset = accounts.managed_teams(user).order_by("name")  # type: ignore[attr-defined]
        if not user.is_org_admin:
            field.required = True
            field.empty_label = None  # type: ignore[attr-defined]


class TemplateEditForm(forms.Form):
    status = forms.ChoiceField(choices=UpdateStatus.choices, label="Status")
    name = forms.CharField(max_length=TEMPLATE_NAME_MAX, label="Name")
    body = forms.CharField(
        max_length=TEMPLATE_BODY_MAX, widget=forms.Textarea(attrs={"rows": 4}), label="Message"
    )
