"""Forms of the status pages: the public subscribe form and the console's forms. They parse and shape input; the
services (:mod:`warroom.comms.page_services`) decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts.models import Team
from warroom.catalog.models import Service
from warroom.comms.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    Maintenance,
    RecipientKind,
    StatusMode,
    Visibility,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text="In your time zone.",
    )


class PrefixedForm(forms.Form):
    """Fields' HTML ids carry the form's own prefix, so several forms on one page never share an id."""

    ids = "id_%s"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", self.ids)
        super().__init__(*args, **kwargs)


class SubscribeForm(forms.Form):
    """The public subscribe form. On a server that sends no email (``email_ready`` False) the page offers no
    email choice (a posted one is refused by the service, on ``kind``: its confirmation link could never
    arrive)."""

    kind = forms.ChoiceField(
        label="How", choices=RecipientKind.choices, initial=RecipientKind.EMAIL, widget=forms.RadioSelect
    )
    email = forms.CharField(label="Email address", required=False, max_length=254)
    url = forms.CharField(label="Webhook URL", required=False, max_length=500)
    signing_secret = forms.CharField(
        label="Signing secret (optional)",
        required=False,
        max_length=200,
        help_text="16 to 200 characters, to check the signature of the challenge too; leave empty to get one.",
    )
    components = forms.MultipleChoiceField(
        label="Only these components",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to follow the whole page.",
    )

    def __init__(
        self, *args: Any, components: list[Component], email_ready: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.email_ready = email_ready
        field = self.fields["components"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(c.pk), c.name) for c in components]
        if not email_ready:
            self.fields["kind"].initial = RecipientKind.WEBHOOK

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # without email the service refuses the kind itself (naming the problem); no "give your address" first
        if data.get("kind") == RecipientKind.EMAIL and self.email_ready and not data.get("email"):
            self.add_error("email", "Give your email address.")
        if data.get("kind") == RecipientKind.WEBHOOK and not data.get("url"):
            self.add_error("url", "Give the URL that receives the webhooks.")
        return data


def footer_links_text(links: list[dict[str, str]]) -> str:
    return "\n".join(f"{link['label']} | {link['url']}" for link in links)


class PageForm(PrefixedForm):
    ids = "id_page_%s"
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(max_length=100, required=False, help_text="The address: /status/<slug>/.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label="Owning team")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(choices=Visibility.choices)
    logo_url = forms.CharField(label="Logo URL", required=False, max_length=200, help_text="https only.")
    brand_color = forms.CharField(
        label="Brand colour", max_length=7, initial="#1f6feb", help_text="#rrggbb; the header's colour."
    )
    footer_links = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: Label | https://…",
    )
    history_days = forms.IntegerField(label="Days of history", min_value=7, max_value=90, initial=90)

    def __init__(self, *args: Any, teams: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = teams
        if editing:
            del self.fields["team"]
        color = self.fields["brand_color"]
        color.widget.input_type = "color"

    def clean_footer_links(self) -> list[dict[str, str]]:
        links = []
        for number, line in enumerate(str(self.cleaned_data.get("footer_links") or "").splitlines(), 1):
            if not line.strip():
                continue
            label, sep, url = line.partition("|")
            if not sep:
                raise forms.ValidationError(f"Line {number}: write Label | https://…")
            links.append({"label": label.strip(), "url": url.strip()})
        return links


class GroupForm(PrefixedForm):
    ids = "id_group_%s"
    name = forms.CharField(label="Group name", max_length=100)


class ComponentForm(PrefixedForm):
    ids = "id_component_%s"
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, max_length=300)
    group = forms.ModelChoiceField(queryset=ComponentGroup.objects.none(), required=False)
    status_mode = forms.ChoiceField(label="Status", choices=StatusMode.choices, initial=StatusMode.DERIVED)
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Derived status follows the open incidents of these services.",
    )

    def __init__(self, *args: Any, groups: Any, services: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group = self.fields["group"]
        assert isinstance(group, forms.ModelChoiceField)
        group.queryset = groups
        svc = self.fields["services"]
        assert isinstance(svc, forms.ModelMultipleChoiceField)
        svc.queryset = services


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ComponentStatus.choices)


class MaintenanceForm(PrefixedForm):
    ids = "id_maintenance_%s"
    title = forms.CharField(max_length=200)
    message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    scheduled_start = _datetime_field("Starts")
    scheduled_end = _datetime_field("Ends")
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="They show under maintenance during the window; their services' alerts are suppressed.",
    )

    def __init__(self, *args: Any, components: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["components"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = components

    @classmethod
    def initial_for(cls, m: Maintenance) -> dict[str, Any]:
        return {
            "title": m.title,
            "message": m.message,
            "scheduled_start": m.scheduled_start,
            "scheduled_end": m.scheduled_end,
            "components": list(m.components.all()),
        }
