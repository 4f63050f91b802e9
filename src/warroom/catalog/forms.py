"""Console forms for the service catalog. They parse and shape input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.catalog import selectors
from warroom.catalog.models import Service, Tier

URL_FIELDS = ("runbook_url", "dashboard_url", "repository_url")


class DependencyField(forms.ModelMultipleChoiceField[Service]):
    """Pick services; each shows its owning team, since names alone can be ambiguous across teams."""

    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} · {obj.team.name}"


def _url_field(label: str) -> forms.CharField:
    # A CharField, not a URLField: the service is the one judge of a good URL (http or https only), so the
    # console and the API refuse the same input with the same message. 200 is the column's width.
    return forms.CharField(
        label=label,
        required=False,
        max_length=200,
        widget=forms.URLInput(attrs={"placeholder": "https://…", "autocomplete": "off"}),
    )


class ServiceForm(forms.Form):
    """A service's fields, for both the "New service" and the "Edit" form.

    ``team`` offers the teams ``user`` manages; ``dependencies`` the services ``user`` can see, without the
    service being edited. Dependencies on services the user cannot see are not shown (the view keeps them).
    """

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), label="Owner team", empty_label="Choose a team…"
    )
    tier = forms.TypedChoiceField(choices=Tier.choices, coerce=int, initial=Tier.TIER_3)
    runbook_url = _url_field("Runbook URL")
    dashboard_url = _url_field("Dashboard URL")
    repository_url = _url_field("Repository URL")
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown: **bold**, `code`, lists, links.",
    )
    dependencies = DependencyField(
        queryset=Service.objects.none(),
        required=False,
        label="Depends on",
        help_text="When one of these breaks, this service may break too.",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User, service: Service | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = accounts.managed_teams(user).order_by("name")
        candidates = selectors.visible_services(user).order_by("name")
        if service is not None:
            candidates = candidates.exclude(pk=service.pk)
        dependencies = self.fields["dependencies"]
        assert isinstance(dependencies, forms.ModelMultipleChoiceField)
        dependencies.queryset = candidates

    def service_fields(self) -> dict[str, Any]:
        """The cleaned plain fields, as keyword arguments of ``create_service`` / ``update_service``."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "tier": data["tier"],
            **{name: data[name] for name in URL_FIELDS},
        }


def service_initial(service: Service, visible_dependency_ids: list[int]) -> dict[str, Any]:
    """The edit form's starting values: the service as it is, with the dependencies the user can see."""
    return {
        "name": service.name,
        "team": service.team_id,
        "tier": service.tier,
        "description": service.description,
        **{name: getattr(service, name) for name in URL_FIELDS},
        "dependencies": visible_dependency_ids,
    }
