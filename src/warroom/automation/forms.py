"""Console form for a workflow (docs/automation.md). It parses and shapes input into a
:class:`~warroom.automation.services.WorkflowSpec`; the services decide what is allowed.

The choices that depend on the team (its services, its active members for roles and notifications) come from the
workflow's team, or on the "New workflow" page from the team chosen (posted, or picked in the team select, which
fetches the form again for that team with htmx).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.urls import reverse

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.automation.models import Trigger, Urgency, Workflow
from warroom.automation.services import WorkflowSpec
from warroom.catalog import selectors as catalog
from warroom.catalog.models import Service
from warroom.incidents import selectors as incidents
from warroom.incidents.models import RoleType
from warroom.incidents.priority import Priority
from warroom.lib.ids import as_id
from warroom.web.forms import FieldWording, UserChoiceField

#: a role select is named ``role_<role type slug>``
ROLE_PREFIX = "role_"
PRIORITY_CHOICES = [(p.value, f"P{p.value}") for p in Priority]


class PeopleField(forms.ModelMultipleChoiceField[User]):
    """Pick people; shows their name, not their email."""

    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class WorkflowForm(FieldWording):
    """A workflow's fields, for both the "New workflow" page (with ``team``) and the edit page (without).

    ``user`` is the editor: ``team`` offers the teams they manage. ``workflow`` is the one being edited (None
    for a new one); ``team`` the team a new one is for when the form is not bound (a bound form reads it from
    the posted ``team``, among the teams ``user`` manages).
    """

    wording: ClassVar[dict[str, str]] = {
        "notify_users": "The people to notify",
        "notify_urgency": "The urgency",
    }

    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.none(), empty_label="Choose a team…")
    name = forms.CharField(label="Name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    enabled = forms.BooleanField(
        label="Enabled", required=False, initial=True, help_text="A disabled workflow never runs."
    )
    trigger = forms.ChoiceField(label="Trigger", choices=Trigger.choices, help_text="When the workflow runs.")
    priorities = forms.TypedMultipleChoiceField(
        label="Priorities",
        choices=PRIORITY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only incidents of these priorities. None ticked: any priority.",
    )
    services = forms.ModelMultipleChoiceField(
        label="Services",
        queryset=Service.objects.none(),
        required=False,
        help_text="Only incidents about one of these services (Ctrl or ⌘ picks several). None chosen: any service.",
    )
    tasks = forms.CharField(
        label="Tasks",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Added to the incident, one task per line.",
    )
    notify_users = PeopleField(
        queryset=User.objects.none(),
        required=False,
        label="Notify",
        widget=forms.CheckboxSelectMultiple,
        help_text="Told through their own notification rules, with the message.",
    )
    notify_urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.HIGH, label="Urgency")
    message = forms.CharField(
        label="Message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the people notified, and written on the incident's timeline.",
    )
    webhook_url = forms.CharField(
        label="URL",
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"autocomplete": "off", "placeholder": "https://"}),
        help_text="An https URL that gets the incident as signed JSON each time the workflow runs.",
    )
    webhook_secret = forms.CharField(
        label="Signing secret",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the webhook's secret, or to get a new one (shown once).",
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        workflow: Workflow | None = None,
        team: Team | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.role_types: list[RoleType] = list(incidents.role_types())
        if workflow is not None:
            del self.fields["team"]
            self.for_team: Team | None = workflow.team
        else:
            managed = accounts.managed_teams(user).order_by("name")
            team_field = self.fields["team"]
            assert isinstance(team_field, forms.ModelChoiceField)
            team_field.queryset = managed
            # picking a team fetches the form again for it: its services and people replace the old team's
            team_field.widget.attrs.update(
                {
                    "hx-get": reverse("web:workflow-new"),
                    "hx-trigger": "change",
                    "hx-target": "#team-fields",
                    "hx-select": "#team-fields",
                    "hx-swap": "outerHTML",
                }
            )
            if self.is_bound:
                ident = as_id(self.data.get("team"))
                team = managed.filter(pk=ident).first() if ident is not None else None
            self.for_team = team
        people = accounts.team_people(self.for_team) if self.for_team else User.objects.none()
        #: the people the team-dependent fields offer: the team's active members
        self.people = people
        services = self.fields["services"]
        assert isinstance(services, forms.ModelMultipleChoiceField)
        services.queryset = (
            catalog.visible_services(user).filter(team=self.for_team).order_by("name")
            if self.for_team
            else Service.objects.none()
        )
        notify_users = self.fields["notify_users"]
        assert isinstance(notify_users, forms.ModelMultipleChoiceField)
        notify_users.queryset = people
        for role_type in self.role_types:
            self.fields[ROLE_PREFIX + role_type.slug] = UserChoiceField(
                queryset=people, required=False, label=role_type.name, empty_label="Nobody"
            )

    def role_fields(self) -> list[forms.BoundField]:
        """The role selects, in the role types' order."""
        return [self[ROLE_PREFIX + role_type.slug] for role_type in self.role_types]

    def spec(self) -> WorkflowSpec:
        """The cleaned form as the services take it."""
        data = self.cleaned_data
        roles = {
            role_type.slug: holder.pk
            for role_type in self.role_types
            if (holder := data.get(ROLE_PREFIX + role_type.slug)) is not None
        }
        return WorkflowSpec(
            name=data["name"],
            trigger=data["trigger"],
            enabled=data["enabled"],
            priorities=list(data["priorities"]),
            services=[s.pk for s in data["services"]],
            tasks=data["tasks"].splitlines(),
            roles=roles,
            notify_users=[u.pk for u in data["notify_users"]],
            notify_urgency=data["notify_urgency"],
            message=data["message"],
            webhook_url=data["webhook_url"],
            webhook_secret=data["webhook_secret"],
        )

    def note_departed(self, workflow: Workflow, names: dict[int, str]) -> None:
        """Say under a role select, or under "Notify", when a person the workflow names there is no longer an
        active member of the team: the form cannot offer them, so saving it leaves them out. ``names``: user id
        → name, for the workflow's role holders."""
        gone = f"no longer an active member of {workflow.team.name}"
        for role_type in self.role_types:
            field = self.fields[ROLE_PREFIX + role_type.slug]
            holder = workflow.roles.get(role_type.slug)
            if holder is not None and not self.people.filter(pk=holder).exists():
                field.help_text = (
                    f"{names.get(holder, 'Someone')} is {gone}: saving leaves this role to nobody."
                )
        notify = self.fields["notify_users"]
        offered = set(self.people.values_list("pk", flat=True))
        left = [u.display_name for u in workflow.notify_users.all() if u.pk not in offered]
        if left:
            verb = "is" if len(left) == 1 else "are"
            notify.help_text = f"{', '.join(left)} {verb} {gone}: saving leaves them out. {notify.help_text}"


def workflow_initial(workflow: Workflow) -> dict[str, Any]:
    """The edit form's starting values: the workflow as it is."""
    return {
        "name": workflow.name,
        "enabled": workflow.enabled,
        "trigger": workflow.trigger,
        "priorities": list(workflow.priorities),
        "services": [s.pk for s in workflow.services.all()],
        "tasks": "\n".join(workflow.tasks),
        "notify_users": [u.pk for u in workflow.notify_users.all()],
        "notify_urgency": workflow.notify_urgency,
        "message": workflow.message,
        "webhook_url": workflow.webhook_url,
        **{ROLE_PREFIX + slug: user_id for slug, user_id in workflow.roles.items()},
    }
