"""Console forms for integrations, maintenance windows and the alert list. They parse and shape input (text
into lists, JSON into objects); :mod:`warroom.alerts.services` decides what is allowed and names the field it
refuses, which is a field of these forms by the same name (:func:`labelled` puts the form's label in its place
before the message is shown)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.forms import BoundField
from django.forms.fields import BaseTemporalField

from warroom.alerts.models import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_SEVERITY_MAP,
    AlertStatus,
    EventStatus,
    Grouping,
    Integration,
    Kind,
    Recurrence,
    Severity,
)
from warroom.alerts.services import OPTION_KINDS, default_grouping
from warroom.catalog.models import Service
from warroom.lib import instants, jsontext, wallclock, zones

LEVELS = {1: "High", 2: "Medium", 3: "Low"}
PAIR_CHOICES = [
    (f"{impact}{urgency}", f"Impact {LEVELS[impact]} · urgency {LEVELS[urgency]}")
    for impact in (1, 2, 3)
    for urgency in (1, 2, 3)
]
SEVERITY_FIELDS = {severity: f"severity_{severity}" for severity in DEFAULT_SEVERITY_MAP}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


#: The kinds each kind-specific option applies to: the service's rule (:data:`services.OPTION_KINDS`), plus the
#: form's own "clear the secret" box, which goes with the secret.
FIELD_KINDS: dict[str, frozenset[str]] = {
    **{name: frozenset(kinds) for name, kinds in OPTION_KINDS.items()},
    "clear_signing_secret": frozenset(OPTION_KINDS["signing_secret"]),
}
#: The groupings an option applies to.
FIELD_GROUPINGS: dict[str, frozenset[str]] = {
    "window_minutes": frozenset({Grouping.WINDOW}),
    "group_fields": frozenset({Grouping.FIELDS}),
}
#: Options that are optional as a whole but required where they apply (no "(optional)" next to them).
REQUIRED_WHERE_SHOWN = frozenset({"heartbeat_interval_seconds", "group_fields"})
#: The integration form's fields in the order shown; True: the field spans the whole row.
LAYOUT: tuple[tuple[str, bool], ...] = (
    ("kind", False),
    ("name", False),
    ("heartbeat_interval_seconds", False),
    ("heartbeat_grace_seconds", False),
    ("email_dedup_pattern", False),
    ("email_resolve_pattern", False),
    ("field_mapping", True),
    ("signing_secret", False),
    ("clear_signing_secret", True),
    ("rate_limit_per_minute", False),
    ("grouping", False),
    ("window_minutes", False),
    ("group_fields", True),
    ("severity_critical", False),
    ("severity_error", False),
    ("severity_warning", False),
    ("severity_info", False),
    ("auto_resolve_incident", True),
)
OPTION_NAMES = (
    "name",
    "grouping",
    "group_fields",
    "window_minutes",
    "auto_resolve_incident",
    "rate_limit_per_minute",
    "field_mapping",
    "email_dedup_pattern",
    "email_resolve_pattern",
)


def _pair(value: list[int]) -> str:
    return f"{value[0]}{value[1]}"


def applies(name: str, *, kind: str | None, grouping: str | None) -> bool:
    """Whether the option ``name`` means anything for an integration of ``kind`` grouped by ``grouping`` (None:
    not known, so it may)."""
    kinds = FIELD_KINDS.get(name)
    if kinds is not None and kind is not None and kind not in kinds:
        return False
    groupings = FIELD_GROUPINGS.get(name)
    return groupings is None or grouping is None or grouping in groupings


@dataclass(frozen=True)
class Row:
    """One field of the integration form as the template lays it out. ``show_if`` is the ``data-show-if`` rule
    the console's script hides the field by (``kind=grafana webhook``, ``grouping=window``): without the script
    every field shows."""

    field: BoundField
    wide: bool
    show_if: str
    optional: bool


_FIELD_NAME = r"(?<![\w\[]){name}(?:\[(?P<inner>[^\]]*)\])?(?!\w)"


def labelled(message: str, form: forms.BaseForm) -> str:
    """``message`` with the API names of ``form``'s fields (``window_minutes``) replaced by their labels, quoted:
    a service error names fields as the API does, a person reads the form."""
    for name in sorted(form.fields, key=len, reverse=True):
        if "_" not in name:  # plain words (name, kind, grouping) read as words
            continue
        label = str(form.fields[name].label or name)

        def quote(match: re.Match[str], label: str = label) -> str:
            inner = match.group("inner")
            return f"“{label}”" + (f": {inner}" if inner else "")

        message = re.sub(_FIELD_NAME.format(name=re.escape(name)), quote, message)
    return message


class IntegrationForm(forms.Form):
    """An integration's options, for both "New integration" (``integration`` None: the kind is chosen) and
    "Edit" (the kind is fixed). Field names are the service's keyword arguments."""

    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.ALERTMANAGER)
    name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Prometheus prod"}),
        help_text="What sends to it.",
    )
    grouping = forms.ChoiceField(
        choices=Grouping.choices, initial=Grouping.ALERT, label="Group alerts into incidents"
    )
    group_fields = forms.CharField(
        required=False,
        label="Group by fields",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "alertname, cluster"}),
        help_text="For grouping by fields: label or detail names, separated by commas.",
    )
    window_minutes = forms.IntegerField(
        initial=10, label="Window (minutes)", help_text="For grouping by time window: 1 to 1440."
    )
    severity_critical = forms.ChoiceField(choices=PAIR_CHOICES, label="Critical alerts open incidents with")
    severity_error = forms.ChoiceField(choices=PAIR_CHOICES, label="Error alerts open incidents with")
    severity_warning = forms.ChoiceField(choices=PAIR_CHOICES, label="Warning alerts open incidents with")
    severity_info = forms.ChoiceField(choices=PAIR_CHOICES, label="Info alerts open incidents with")
    auto_resolve_incident = forms.BooleanField(
        required=False,
        initial=True,
        label="Resolve the incident when all its alerts resolve",
    )
    rate_limit_per_minute = forms.IntegerField(
        initial=DEFAULT_RATE_LIMIT, label="Rate limit (requests per minute per key)", help_text="0: no limit."
    )
    signing_secret = forms.CharField(
        required=False,
        max_length=256,
        label="Signing secret (HMAC-SHA256)",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text="Grafana and generic webhook: requests must be signed with it. Blank: not signed.",
    )
    clear_signing_secret = forms.BooleanField(required=False, label="Remove the signing secret")
    field_mapping = forms.CharField(
        required=False,
        label="Webhook: field mapping (JSON)",
        widget=forms.Textarea(
            attrs={"rows": 3, "class": "mono", "placeholder": '{"summary": "alert.title"}'}
        ),
        help_text="Where each alert field is in your JSON, as dotted paths.",
    )
    email_dedup_pattern = forms.CharField(
        required=False,
        max_length=500,
        label="Email: dedup pattern (regular expression)",
        help_text=(
            "Searched in the summary (the subject without its severity tag); its first group, or the whole match,"
            " is the dedup key. Blank: the summary, lower-cased."
        ),
    )
    email_resolve_pattern = forms.CharField(
        required=False,
        max_length=500,
        label="Email: resolve pattern (regular expression)",
        help_text="A mail whose summary matches it resolves its alert.",
    )
    heartbeat_interval_seconds = forms.IntegerField(
        required=False,
        initial=300,
        label="Heartbeat: expected every (seconds)",
        help_text="Required for a heartbeat: 60 or more.",
    )
    heartbeat_grace_seconds = forms.IntegerField(
        required=False, initial=60, label="Heartbeat: grace (seconds)", help_text="How late a ping may be."
    )

    def __init__(self, *args: Any, integration: Integration | None = None, **kwargs: Any) -> None:
        self.integration = integration
        if integration is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = integration_initial(integration)
        super().__init__(*args, **kwargs)
        for severity, name in SEVERITY_FIELDS.items():
            self.fields[name].initial = _pair(DEFAULT_SEVERITY_MAP[severity])
        if integration is not None:
            del self.fields["kind"]
            self.fields["signing_secret"].help_text = (
                "Blank keeps the current secret." if integration.signing_secret else "Blank: not signed."
            )
            if not integration.signing_secret:
                del self.fields["clear_signing_secret"]
            for name in list(self.fields):
                if not applies(name, kind=integration.kind, grouping=None):
                    del self.fields[name]
            if "heartbeat_interval_seconds" in self.fields:
                self.fields["heartbeat_interval_seconds"].required = True
        else:
            del self.fields["clear_signing_secret"]
            # the kind shown first groups by its upstream group key: a 50-alert group is one incident
            self.fields["grouping"].initial = default_grouping(str(self.fields["kind"].initial))
            self.fields["grouping"].help_text = (
                "Alertmanager and Grafana: usually by the upstream group key (one incident per notification "
                "group); others: one incident per alert, or a time window."
            )

    def chosen_kind(self) -> str:
        if self.integration is not None:
            return self.integration.kind
        return str(self.cleaned_data.get("kind", ""))

    def rows(self) -> list[Row]:
        """The fields in the order shown, with the rule that hides each where it does not apply."""
        rows = []
        for name, wide in LAYOUT:
            if name not in self.fields:
                continue
            rules = []
            kinds = FIELD_KINDS.get(name)
            if kinds is not None and "kind" in self.fields:
                rules.append("kind=" + " ".join(k for k in Kind.values if k in kinds))
            groupings = FIELD_GROUPINGS.get(name)
            if groupings is not None:
                rules.append("grouping=" + " ".join(g for g in Grouping.values if g in groupings))
            optional = not self.fields[name].required and name not in REQUIRED_WHERE_SHOWN
            rows.append(Row(self[name], wide, ";".join(rules), optional))
        return rows

    def clean(self) -> dict[str, Any]:
        """Drop the options that do not apply to the chosen kind and grouping (their values and any complaint
        about them: the console hides them); a heartbeat needs its interval."""
        data = super().clean() or {}
        kind = self.chosen_kind() or None
        grouping = data.get("grouping") if "grouping" not in self.errors else None
        for name in list(self.fields):
            if not applies(name, kind=kind or "", grouping=grouping):
                data.pop(name, None)
                self.errors.pop(name, None)
        interval = "heartbeat_interval_seconds"
        if kind == Kind.HEARTBEAT and data.get(interval) is None and interval not in self.errors:
            self.add_error(interval, "A heartbeat needs it: how often the job pings, 60 s or more.")
        return data

    def error_count(self) -> int:
        return sum(len(errors) for errors in self.errors.values())

    def clean_group_fields(self) -> list[str]:
        text = self.cleaned_data.get("group_fields") or ""
        return [part.strip() for part in text.split(",") if part.strip()]

    def clean_field_mapping(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("field_mapping") or "").strip()
        if not text:
            return {}
        try:
            value = jsontext.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('a JSON object such as {"summary": "alert.title"}')
        return value

    def options(self) -> dict[str, Any]:
        """The keyword arguments for ``create_integration``/``update_integration``."""
        data = self.cleaned_data
        values: dict[str, Any] = {name: data[name] for name in OPTION_NAMES if name in data}
        values["severity_map"] = {
            severity: [int(data[name][0]), int(data[name][1])] for severity, name in SEVERITY_FIELDS.items()
        }
        if data.get("clear_signing_secret"):
            values["signing_secret"] = ""
        elif "signing_secret" in data and (data["signing_secret"] or self.integration is None):
            values["signing_secret"] = data["signing_secret"]
        if self.chosen_kind() == Kind.HEARTBEAT:
            values["heartbeat_interval_seconds"] = data.get("heartbeat_interval_seconds")
            grace = data.get("heartbeat_grace_seconds")
            values["heartbeat_grace_seconds"] = 60 if grace is None else grace
        return values


def integration_initial(integration: Integration) -> dict[str, Any]:
    mapping = integration.severity_map or {}
    initial: dict[str, Any] = {
        "name": integration.name,
        "grouping": integration.grouping,
        "group_fields": ", ".join(integration.group_fields or []),
        "window_minutes": integration.window_minutes,
        "auto_resolve_incident": integration.auto_resolve_incident,
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "field_mapping": json.dumps(integration.field_mapping) if integration.field_mapping else "",
        "email_dedup_pattern": integration.email_dedup_pattern,
        "email_resolve_pattern": integration.email_resolve_pattern,
    }
    for severity, name in SEVERITY_FIELDS.items():
        initial[name] = _pair(mapping.get(severity) or DEFAULT_SEVERITY_MAP[severity])
    monitor = getattr(integration, "heartbeat", None) if integration.kind == Kind.HEARTBEAT else None
    if monitor is not None:
        initial["heartbeat_interval_seconds"] = monitor.interval_seconds
        initial["heartbeat_grace_seconds"] = monitor.grace_seconds
    return initial


class EventFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *EventStatus.choices], required=False)


class AlertFilterForm(forms.Form):
    """The alert list's filters (a GET form: nothing here is trusted beyond narrowing a visible list)."""

    q = forms.CharField(required=False, max_length=200)
    status = forms.ChoiceField(
        choices=[("", "Open (triggered or acknowledged)"), ("all", "Any status"), *AlertStatus.choices],
        required=False,
    )
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    service = forms.ChoiceField(required=False)
    integration = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    #: an incident's number (``INC0001042`` or ``1042``): its alerts (the incident page's "all alerts" link)
    incident = forms.CharField(required=False, max_length=32)

    def __init__(
        self, *args: Any, services: list[Service], integrations: list[Integration], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        service_field = self.fields["service"]
        assert isinstance(service_field, forms.ChoiceField)
        service_field.choices = [("", "Any service"), *((s.slug, s.name) for s in services)]
        integration_field = self.fields["integration"]
        assert isinstance(integration_field, forms.ChoiceField)
        integration_field.choices = [
            ("", "Any integration"),
            *((str(i.pk), f"{i.service.name} / {i.name}") for i in integrations),
        ]

    def value(self, name: str) -> Any:
        """The cleaned value, or None when the field is empty or was refused (a bad filter is ignored, and
        :meth:`problems` says so)."""
        if not hasattr(self, "cleaned_data") or name in self.errors:
            return None
        return self.cleaned_data.get(name) or None

    def problems(self) -> list[str]:
        """One sentence per refused filter, naming the value given and why it was ignored."""
        problems = []
        for name in self.fields:
            if name not in self.errors:
                continue
            given = str(self.data.get(name, ""))
            shown = given if len(given) <= 60 else given[:59] + "…"
            label = FILTER_LABELS.get(name, name)
            problems.append(f"Ignored the {label} filter “{shown}”: {FILTER_REASONS.get(name, 'not valid')}.")
        return problems


FILTER_LABELS = {"q": "search", "status": "status", "severity": "severity", "service": "service"}
NO_SUCH_INCIDENT = "no incident you can see has that number"
FILTER_REASONS = {
    "q": "search text is at most 200 characters",
    "status": "not a status; choose triggered, acknowledged, resolved or all",
    "severity": "not a severity; choose critical, error, warning or info",
    "service": "no service you can see has that slug",
    "integration": "no integration you can see has that number",
    "incident": NO_SUCH_INCIDENT,
}


class WallClockField(forms.DateTimeField):
    """A date and time as the wall clock reads it, naive: the form places it in the zone chosen next to it (the
    console's own zone, the user's, plays no part)."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        parsed = BaseTemporalField.to_python(self, value)
        return parsed if isinstance(parsed, datetime) else None


def _wall_clock_field(label: str, *, required: bool = True, help_text: str = "") -> WallClockField:
    return WallClockField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )


class WindowForm(forms.Form):
    """A maintenance window; times are wall-clock times in the window's own time zone (preselected: the user's),
    which is also the zone its repeats keep. A local time in a spring-forward gap moves to the change; in a
    repeated hour the start takes the first pass and the ends the last (the house rules, lib.wallclock).

    The form checks what a person gets wrong (the end before the start, an end of repeats on a one-off window)
    in their words; a refusal the service still raises names fields as the API does (``ends_at``), so
    :meth:`add_error` puts this form's labels in their place."""

    title = forms.CharField(
        max_length=200,
        label="Title",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Database upgrade"}),
        help_text="What the maintenance is; shown on suppressed alerts.",
    )
    starts_at = _wall_clock_field("Starts", help_text="Date and time in the chosen time zone.")
    ends_at = _wall_clock_field("Ends", help_text="After the start; at most 366 days later.")
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=(),
        required=False,
        help_text="The times above are in this zone; repeats keep its local time across daylight-saving changes.",
    )
    recurrence = forms.ChoiceField(
        choices=Recurrence.choices,
        initial=Recurrence.NONE,
        label="Repeats",
        help_text="Repeat the same hours every day or every week.",
    )
    repeat_until = _wall_clock_field(
        "Repeat until", required=False, help_text="For a repeating window only. Blank: repeats with no end."
    )

    def __init__(self, *args: Any, default_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if default_zone not in zones.names():
            default_zone = "UTC"
        choices = zones.choices()
        if default_zone not in {value for value, _label in choices}:
            choices = [(default_zone, default_zone), *choices]  # e.g. "EST", set through the API
        self.default_zone = default_zone
        self.fields["time_zone"].choices = choices  # type: ignore[attr-defined]
        self.fields["time_zone"].initial = default_zone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["time_zone"] = data.get("time_zone") or self.default_zone
        zone = ZoneInfo(data["time_zone"])
        for name, ambiguous in (("starts_at", "first"), ("ends_at", "last"), ("repeat_until", "last")):
            local = data.get(name)
            if isinstance(local, datetime) and not instants.local_in_range(local):
                self.add_error(
                    name, f"Give a date between {instants.EARLIEST.year} and {instants.LATEST.year}."
                )
                data[name] = None
            elif isinstance(local, datetime):
                data[name] = wallclock.local_to_utc(local, zone, ambiguous=ambiguous)
        starts, ends, until = data.get("starts_at"), data.get("ends_at"), data.get("repeat_until")
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends_at", "The end must be after the start.")
        if until is not None and data.get("recurrence") == Recurrence.NONE:
            self.add_error(
                "repeat_until", "Only for a repeating window: choose how it repeats, or leave this blank."
            )
        elif until is not None and starts is not None and until <= starts:
            self.add_error("repeat_until", "Repeats must end after the first start.")
        return data

    def add_error(self, field: str | None, error: Any) -> None:
        if isinstance(error, str):
            error = labelled(error, self)
        super().add_error(field, error)
