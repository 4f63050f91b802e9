"""Console forms for on-call. They parse and shape input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.oncall import selectors
from warroom.oncall.models import EscalationPolicy, LayerMember, Schedule, TargetKind
from warroom.oncall.services import TargetSpec


class PersonField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class OverrideForm(forms.Form):
    """An override in the schedule's own wall-clock time (``datetime-local`` inputs)."""

    user = PersonField(queryset=User.objects.none(), label="Who is on call", empty_label="Choose a person…")
    replaces = PersonField(
        queryset=User.objects.none(),
        required=False,
        label="In place of",
        empty_label="Nobody: in addition",
    )
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, schedule: Schedule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = accounts.team_people(schedule.team)  # type: ignore[attr-defined]
        on_schedule = LayerMember.objects.filter(layer__schedule=schedule).values("user_id")
        people = User.objects.filter(memberships__team=schedule.team) | User.objects.filter(
            pk__in=on_schedule
        )
        self.fields["replaces"].queryset = people.distinct().order_by("full_name", "email")  # type: ignore[attr-defined]
        zone = selectors.zone_of(schedule)
        # The inputs are wall-clock time in the schedule's zone, not the reader's.
        self.fields["start"].help_text = self.fields["end"].help_text = f"Local time in {zone.key}."


# ---------------------------------------------------------------------------------------------------------------
# escalation policies


def target_choices(user: User, team: Team) -> list[tuple[str, list[tuple[str, str]]]]:
    """What a step may page, grouped for a ``<select>``: ``user:<id>``, ``schedule:<id>``, ``team:<id>``.
    People are the policy team's active members; schedules and teams those ``user`` can see (the services check
    the same again)."""
    people = [(f"user:{p.pk}", p.display_name) for p in accounts.team_people(team)]
    schedules = [
        (f"schedule:{s.pk}", f"On call: {s.name}")
        for s in selectors.visible_schedules(user).order_by("team__name", "name", "id")
    ]
    teams = [(f"team:{t.pk}", f"Whole team: {t.name}") for t in accounts.visible_teams(user).order_by("name")]
    return [("Schedules", schedules), ("People", people), ("Teams", teams)]


def parse_target(value: str) -> TargetSpec:
    """``"schedule:3"`` → ``TargetSpec("schedule", 3)``; :class:`forms.ValidationError` otherwise."""
    kind, _, key = (value or "").partition(":")
    if kind not in TargetKind.values or not key.isdigit():
        raise forms.ValidationError("Choose a person, a schedule or a team.")
    return TargetSpec(kind, int(key))


class PolicyForm(forms.Form):
    """Name, description and repeat of a policy; ``team`` only when creating one."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label="Choose a team…")
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=20000)
    repeat = forms.IntegerField(
        min_value=0,
        max_value=20,
        initial=0,
        label="Repeat",
        help_text="How many more times to run all the steps when nobody acknowledges (0–20).",
    )

    def __init__(self, *args: Any, user: User, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if creating:
            self.fields["team"].queryset = accounts.managed_teams(user).order_by("name")  # type: ignore[attr-defined]
        else:
            del self.fields["team"]

    def policy_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "description": data["description"], "repeat": data["repeat"]}


class AddStepForm(forms.Form):
    """A new last step: its first target and its delay."""

    target = forms.ChoiceField(label="Page", choices=())
    delay_minutes = forms.IntegerField(
        min_value=1,
        max_value=1440,
        initial=15,
        label="Then wait (minutes)",
        help_text="Before the next step (1–1440).",
    )

    def __init__(self, *args: Any, user: User, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Choose who to page…"), *target_choices(user, team)]  # type: ignore[attr-defined]

    def clean_target(self) -> TargetSpec:
        return parse_target(self.cleaned_data["target"])


class StepEditForm(forms.Form):
    """One change to one existing step (0-based ``step``): add or remove a target, set the delay, move it or
    remove it."""

    ACTIONS = ("add_target", "remove_target", "set_delay", "move_up", "move_down", "remove")

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    step = forms.IntegerField(min_value=0)
    target_index = forms.IntegerField(min_value=0, required=False)
    target = forms.ChoiceField(label="Add", choices=(), required=False)
    delay_minutes = forms.IntegerField(min_value=1, max_value=1440, required=False, label="Wait (minutes)")

    def __init__(self, *args: Any, user: User, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Add a target…"), *target_choices(user, team)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "add_target":
            if not data.get("target"):
                self.add_error("target", "Choose a person, a schedule or a team.")
            else:
                try:
                    data["target_spec"] = parse_target(data["target"])
                except forms.ValidationError as exc:
                    self.add_error("target", exc)
        elif action == "remove_target" and data.get("target_index") is None:
            self.add_error("target_index", "Which target?")
        elif action == "set_delay" and data.get("delay_minutes") is None:
            self.add_error("delay_minutes", "A whole number of minutes from 1 to 1440.")
        return data


class ServicePolicyForm(forms.Form):
    """The policy that pages for a service (empty: nobody is paged)."""

    policy = forms.ModelChoiceField(
        queryset=EscalationPolicy.objects.none(),
        required=False,
        empty_label="No policy: nobody is paged",
        widget=forms.Select(attrs={"id": "service-policy-select"}),
    )

    def __init__(self, *args: Any, user: User, team_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].queryset = selectors.visible_policies(user).filter(team_id=team_id)  # type: ignore[attr-defined]
