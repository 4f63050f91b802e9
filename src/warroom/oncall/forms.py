"""Console forms for on-call. They parse and shape input; the services decide what is allowed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from warroom.accounts import selectors as accounts
from warroom.accounts.models import Team, User
from warroom.lib import zones
from warroom.lib.ids import as_id
from warroom.oncall import rotation, selectors
from warroom.oncall.models import (
    EscalationPolicy,
    Layer,
    LayerMember,
    LengthUnit,
    RotationKind,
    Schedule,
    TargetKind,
)
from warroom.oncall.services import MAX_PARTICIPANTS, MAX_RESTRICTIONS, TargetSpec


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
        # Only people who may be on call are offered (not observers). Any team member is still accepted, so a
        # stale or hand-made form gets the service's refusal naming the person and the rule.
        user_field = self.fields["user"]
        user_field.queryset = accounts.team_people(schedule.team)  # type: ignore[attr-defined]
        user_field.widget.choices = [
            ("", user_field.empty_label),  # type: ignore[attr-defined]
            *((p.pk, p.display_name) for p in selectors.on_call_people(schedule.team_id)),
        ]
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
    People are the policy team's active members who may be on call (not observers); schedules and teams those
    ``user`` can see (the services check the same again)."""
    people = [(f"user:{p.pk}", p.display_name) for p in selectors.on_call_people(team.pk)]
    schedules = [
        (f"schedule:{s.pk}", f"On call: {s.name}")
        for s in selectors.visible_schedules(user).order_by("team__name", "name", "id")
    ]
    teams = [(f"team:{t.pk}", f"Whole team: {t.name}") for t in accounts.visible_teams(user).order_by("name")]
    return [("Schedules", schedules), ("People", people), ("Teams", teams)]


def parse_target(value: str) -> TargetSpec:
    """``"schedule:3"`` → ``TargetSpec("schedule", 3)``; :class:`forms.ValidationError` otherwise."""
    kind, _, key = (value or "").partition(":")
    ident = as_id(key)
    if kind not in TargetKind.values or ident is None:
        raise forms.ValidationError("Choose a person, a schedule or a team.")
    return TargetSpec(kind, ident)


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
        # a field its own validation already refused keeps that one error (not a second, vaguer one)
        if action == "add_target" and "target" not in self.errors:
            if not data.get("target"):
                self.add_error("target", "Choose a person, a schedule or a team.")
            else:
                try:
                    data["target_spec"] = parse_target(data["target"])
                except forms.ValidationError as exc:
                    self.add_error("target", exc)
        elif action == "remove_target" and data.get("target_index") is None:
            self.add_error("target_index", "Which target?")
        elif (
            action == "set_delay" and data.get("delay_minutes") is None and "delay_minutes" not in self.errors
        ):
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


# ---------------------------------------------------------------------------------------------------------------
# schedules and layers

DAY_CHOICES = [(str(i), name.capitalize()) for i, name in enumerate(rotation.WEEKDAYS)]
#: a restriction row's field name; the row number is any run of ASCII digits (checked against the limit)
WINDOW_KEY = re.compile(r"r([0-9]+)_(?:days|start|end)", re.ASCII)


def restriction_row(key: str) -> int | None:
    """The row number of a restriction field name such as ``r2_days`` (None for a number past any limit)."""
    match = WINDOW_KEY.fullmatch(key)
    if match is None or len(match.group(1)) > 3:
        return None
    return int(match.group(1))


def departed_participants(layer: Layer | None, members: set[int]) -> list[User]:
    """The layer's participants (in rotation order, once each) who are not among ``members`` any more: they left
    the team or were deactivated."""
    if layer is None:
        return []
    found: list[User] = []
    for m in layer.members.select_related("user").order_by("position"):
        if m.user_id not in members and m.user not in found:
            found.append(m.user)
    return found


class WallClockField(forms.DateTimeField):
    """A ``datetime-local`` input read as a naive wall-clock time (the schedule's zone gives it meaning), never
    converted through the reader's zone, so a time skipped or repeated there is not refused here."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value: Any) -> dt.datetime | None:
        with timezone.override(dt.UTC):
            parsed = super().to_python(value)
        return parsed.replace(tzinfo=None) if parsed is not None else None


class OrderedPeopleField(forms.MultipleChoiceField):
    """Repeated ``<select>`` s in rotation order: empty places are dropped, order and repeats are kept."""

    def to_python(self, value: Any) -> list[str]:
        return [v for v in super().to_python(value) if v]


class ScheduleForm(forms.Form):
    """Name, zone and description of a schedule; ``team`` only when creating one."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label="Choose a team…")
    name = forms.CharField(max_length=100)
    time_zone = forms.ChoiceField(
        label="Time zone", choices=(), help_text="Shifts and restrictions are wall-clock times in this zone."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=20000)

    def __init__(self, *args: Any, user: User, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zones.choices()  # type: ignore[attr-defined]
        if creating:
            self.fields["team"].queryset = accounts.managed_teams(user).order_by("name")  # type: ignore[attr-defined]
        else:
            del self.fields["team"]

    def schedule_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "time_zone": data["time_zone"], "description": data["description"]}


class LayerForm(forms.Form):
    """A layer: rotation, ordered participants (repeated ``participants`` selects, blanks ignored, a person may
    appear twice) and restriction rows ``r<n>_days`` / ``r<n>_start`` / ``r<n>_end`` (a row with no day ticked
    and no times is unused)."""

    name = forms.CharField(max_length=100)
    priority = forms.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        help_text="Higher wins. Empty: above the current highest.",
    )
    rotation_kind = forms.ChoiceField(
        label="Rotation", choices=RotationKind.choices, initial=RotationKind.WEEKLY
    )
    shift_length = forms.IntegerField(
        min_value=1, initial=1, label="Shift length", help_text="Hours, days or weeks by rotation."
    )
    custom_unit = forms.ChoiceField(
        label="Custom unit",
        choices=LengthUnit.choices,
        initial=LengthUnit.DAYS,
        help_text="Custom rotations only.",
    )
    start = WallClockField(help_text="Local time in the schedule's zone: participant 1 is on call from then.")
    handoff_time = forms.TimeField(
        required=False,
        label="Handoff time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Day-based rotations. Empty: the start's time of day.",
    )
    participants = OrderedPeopleField(required=False, choices=())

    def __init__(
        self,
        *args: Any,
        schedule: Schedule,
        layer: Layer | None = None,
        slots: int = 4,
        restriction_rows: int = 3,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people = list(accounts.team_people(schedule.team))
        eligible = set(selectors.on_call_people(schedule.team_id).values_list("pk", flat=True))
        in_layer = {m.user_id for m in layer.members.all()} if layer is not None else set()
        choices = [
            (str(p.pk), p.display_name if p.pk in eligible else f"{p.display_name} (observer)")
            for p in self.people
        ]
        # People still in the rotation who have left the team or been deactivated keep their place (named as
        # such), so saving the form is refused naming them instead of quietly shifting everyone's turn.
        for person in departed_participants(layer, {p.pk for p in self.people}):
            self.people.append(person)
            gone = "deactivated" if not person.is_active else f"not in {schedule.team.name}"
            choices.append((str(person.pk), f"{person.display_name} ({gone})"))
        self.fields["participants"].choices = choices  # type: ignore[attr-defined]
        # Any of them is accepted (the service refuses observers naming the rule), but the pickers offer only
        # people who may be on call, whoever holds a place in this layer, and whoever was just submitted.
        self._offered = eligible | in_layer
        self.slots = min(slots, MAX_PARTICIPANTS + 2)
        self.restriction_rows = min(restriction_rows, MAX_RESTRICTIONS)
        for n in range(self.restriction_rows):
            self.fields[f"r{n}_days"] = forms.MultipleChoiceField(
                required=False, choices=DAY_CHOICES, widget=forms.CheckboxSelectMultiple, label="Days"
            )
            self.fields[f"r{n}_start"] = forms.TimeField(
                required=False, label="From", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )
            self.fields[f"r{n}_end"] = forms.TimeField(
                required=False, label="Until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )

    def restriction_fields(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"r{n}_days"], self[f"r{n}_start"], self[f"r{n}_end"]) for n in range(self.restriction_rows)
        ]

    def offered_choices(self) -> list[tuple[str, str]]:
        """The choices each participant picker shows (see ``__init__``)."""
        chosen = set(self.chosen_participants())
        return [
            (value, label)
            for value, label in self.fields["participants"].choices  # type: ignore[attr-defined]
            if int(value) in self._offered or value in chosen
        ]

    def chosen_participants(self) -> list[str]:
        """The submitted (or initial) participant ids, one per slot, in order, padded with blanks."""
        if isinstance(self.data, QueryDict):
            raw = self.data.getlist("participants")
        else:
            raw = self.data.get("participants", []) if self.is_bound else self.initial.get("participants", [])
        values = [str(v) for v in raw][: self.slots]
        return values + [""] * max(0, self.slots - len(values))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        by_id = {str(p.pk): p for p in self.people}
        data["participant_users"] = [by_id[v] for v in data.get("participants") or [] if v in by_id]
        if len(data["participant_users"]) > MAX_PARTICIPANTS:
            self.add_error("participants", f"a layer has at most {MAX_PARTICIPANTS} participants")
        rows = [restriction_row(key) for key in self._window_keys()]
        if any(row is None or row >= self.restriction_rows for row in rows):
            self.add_error(None, f"a layer has at most {MAX_RESTRICTIONS} restriction windows")
        windows: list[rotation.Restriction] = []
        for n in range(self.restriction_rows):
            days, start, end = data.get(f"r{n}_days"), data.get(f"r{n}_start"), data.get(f"r{n}_end")
            if not days and start is None and end is None:
                continue
            if not days:
                self.add_error(f"r{n}_days", "Tick at least one day for this window.")
            elif start is None or end is None:
                self.add_error(
                    f"r{n}_start" if start is None else f"r{n}_end", "Give both times of the window."
                )
            else:
                windows.append(rotation.Restriction(frozenset(int(d) for d in days), start, end))
        data["restriction_specs"] = windows
        return data

    def _window_keys(self) -> list[str]:
        """The submitted restriction-row names that carry a value (``r<n>_days``, ``r<n>_start``, ``r<n>_end``)."""
        if not isinstance(self.data, QueryDict):
            return []
        return [k for k in self.data if WINDOW_KEY.fullmatch(k) and any(self.data.getlist(k))]

    def layer_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields: dict[str, Any] = {
            "name": data["name"],
            "rotation_kind": data["rotation_kind"],
            "shift_length": data["shift_length"],
            "custom_unit": data["custom_unit"],
            "start": data["start"],
            "handoff_time": data["handoff_time"] or data["start"].time(),
        }
        if data.get("priority") is not None:
            fields["priority"] = data["priority"]
        return fields


def layer_initial(layer: Layer) -> dict[str, Any]:
    """A layer's current values as the form's initial data."""
    initial: dict[str, Any] = {
        "name": layer.name,
        "priority": layer.priority,
        "rotation_kind": layer.rotation_kind,
        "shift_length": layer.shift_length,
        "custom_unit": layer.custom_unit,
        "start": dt.datetime.combine(layer.starts_on, layer.starts_at),
        "handoff_time": layer.handoff_time,
        "participants": [str(m.user_id) for m in layer.members.order_by("position")],
    }
    for n, r in enumerate(layer.restrictions.order_by("id")):
        initial[f"r{n}_days"] = [str(d) for d in sorted(selectors.days_from_mask(r.days))]
        initial[f"r{n}_start"], initial[f"r{n}_end"] = r.start_time, r.end_time
    return initial
