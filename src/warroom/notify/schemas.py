"""Schemas of the notifications API. Secrets (webhook URLs, tokens, signing secrets) are write-only: no output
schema has a field for them, except a generated signing secret shown once in the creation answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from warroom.integrations import registry
from warroom.lib.apitypes import UNKNOWN_CHOICE, WallClockTime
from warroom.lib.schema import InputSchema
from warroom.notify import throttle, working_hours
from warroom.notify.models import (
    ContactMethod,
    Message,
    NotificationRule,
    ShiftReminder,
    ShiftReminderSetting,
    WorkingHours,
)


class ContactMethodOut(Schema):
    id: int
    kind: str
    name: str
    display: str = Field(description="The address as it may be shown: secret parts are elided.")
    verified: bool
    verified_at: datetime | None
    disabled: bool
    disabled_reason: str
    delivery: str = Field(description="at_most_once (SMS, voice) or at_least_once.")
    throttle: str = Field(description="How many notifications may start per time window.")
    created_at: datetime


class ContactMethodCreatedOut(ContactMethodOut):
    signing_secret: str | None = Field(
        None, description="Webhooks: the generated signing secret. Shown only this once."
    )


class ContactMethodIn(InputSchema):
    kind: str = Field(description="email, sms, voice, slack, teams, ntfy or webhook.")
    name: str = Field(description="Your label, such as 'Work phone'.")
    address: str = Field(
        description="Email address; phone number (+14155550100); Slack webhook URL or channel id; Teams "
        "workflow URL; ntfy topic URL; webhook URL."
    )
    token: str = Field(
        "", description="ntfy: access token. Webhook: your own signing secret (else generated)."
    )
    send_code: bool = Field(True, description="Send a verification code right away.")


class ContactMethodPatch(InputSchema):
    name: str | None = None
    disabled: bool | None = None
    address: str | None = Field(None, description="A new address: the method must be verified again.")
    token: str | None = None


class VerifyIn(InputSchema):
    code: str


class RuleOut(Schema):
    id: int
    contact_method: int
    contact_method_name: str
    kind: str
    urgency: str
    delay_minutes: int
    working_hours_only: bool
    created_at: datetime


class RuleIn(InputSchema):
    contact_method: int
    urgency: str = Field(description="high or low.")
    delay_minutes: int = Field(0, description="Minutes after the page starts, 0 to 1440.")
    working_hours_only: bool = Field(
        False, description="Low urgency only: wait for your working hours (/me/working-hours), if set."
    )


class RulePatch(InputSchema):
    contact_method: int | None = None
    urgency: str | None = None
    delay_minutes: int | None = None
    working_hours_only: bool | None = None


class WorkingHoursIn(InputSchema):
    time_zone: str = Field(description="An IANA time zone, e.g. Europe/Berlin.")
    days: list[str | int] = Field(
        description="Working days: mon … sun, weekdays, weekend, everyday, or 0 (Monday) … 6 (Sunday)."
    )
    start: WallClockTime = Field(
        description="Local time in time_zone the working day starts: HH:MM (or HH:MM:SS)."
    )
    end: WallClockTime = Field(
        description="Local time in time_zone it ends, HH:MM (or HH:MM:SS); at or before start runs past midnight."
    )


class WorkingHoursOut(Schema):
    time_zone: str
    days: list[str] = Field(description="mon … sun.")
    start: WallClockTime = Field(description="Local time in time_zone, HH:MM:SS.")
    end: WallClockTime = Field(description="Local time in time_zone, HH:MM:SS.")
    description: str = Field(description="e.g. 'Mon–Fri 09:00–18:00 (Europe/Berlin)'.")
    updated_at: datetime


#: the API's words for the "Before my on-call shifts" choices, by minutes
SHIFT_REMINDER_KEYS: dict[int, str] = {
    ShiftReminder.OFF: "off",
    ShiftReminder.MINUTES_15: "15m",
    ShiftReminder.HOUR_1: "1h",
    ShiftReminder.HOURS_4: "4h",
    ShiftReminder.DAY_1: "1d",
}
SHIFT_REMINDER_MINUTES = {key: minutes for minutes, key in SHIFT_REMINDER_KEYS.items()}


def _shift_reminder_choice(value: Any) -> Any:
    """One of the keys, as is; anything else (another word, a number of minutes) is refused with a 400 naming
    the field and the choices."""
    if isinstance(value, str) and value.strip() in SHIFT_REMINDER_MINUTES:
        return value.strip()
    allowed = ", ".join(SHIFT_REMINDER_MINUTES)
    raise PydanticCustomError(UNKNOWN_CHOICE, "not one of {allowed}", {"allowed": allowed})


ShiftReminderChoice = Annotated[
    Literal["off", "15m", "1h", "4h", "1d"], BeforeValidator(_shift_reminder_choice)
]


class ShiftReminderIn(InputSchema):
    before: ShiftReminderChoice = Field(
        description="How long before each of your on-call shifts you are reminded of it: off, 15m, 1h, 4h or 1d."
    )


class ShiftReminderOut(Schema):
    before: str = Field(description="off, 15m, 1h, 4h or 1d.")
    minutes_before: int = Field(description="The same in minutes: 0 (off), 15, 60, 240 or 1440.")
    description: str = Field(description="e.g. '1 hour before'.")
    updated_at: datetime | None = Field(description="When you last changed it; null when never set.")


class MessageOut(Schema):
    id: int
    kind: str
    target: str
    category: str
    urgency: str
    subject: str
    status: str
    failure: str
    note: str
    last_error: str
    attempts: int
    bundle_count: int
    bundled_into: int | None
    delivery_id: str
    due_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime


class ChannelOut(Schema):
    kind: str
    label: str
    configured: bool
    delivery: str
    throttle: str
    address_help: str


def contact_method_json(method: ContactMethod) -> dict[str, Any]:
    return {
        "id": method.pk,
        "kind": method.kind,
        "name": method.name,
        "display": method.display,
        "verified": method.verified_at is not None,
        "verified_at": method.verified_at,
        "disabled": method.disabled,
        "disabled_reason": method.disabled_reason,
        "delivery": registry.get(method.kind).delivery.value,
        "throttle": throttle.describe(method.kind),
        "created_at": method.created_at,
    }


def rule_json(rule: NotificationRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "contact_method": rule.contact_method_id,
        "contact_method_name": rule.contact_method.name,
        "kind": rule.contact_method.kind,
        "urgency": rule.urgency,
        "delay_minutes": rule.delay_minutes,
        "working_hours_only": rule.working_hours_only,
        "created_at": rule.created_at,
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "target": message.target,
        "category": message.category,
        "urgency": message.urgency,
        "subject": message.subject,
        "status": message.status,
        "failure": message.failure,
        "note": message.note,
        "last_error": message.last_error,
        "attempts": message.attempts,
        "bundle_count": message.bundle_count,
        "bundled_into": message.bundled_into_id,
        "delivery_id": message.delivery_id,
        "due_at": message.due_at,
        "next_attempt_at": message.next_attempt_at,
        "sent_at": message.sent_at,
        "created_at": message.created_at,
    }


def working_hours_json(hours: WorkingHours) -> dict[str, Any]:
    days = working_hours.days_from_mask(hours.days)
    zone = working_hours.zone_or_none(hours.time_zone)
    window = working_hours.Window(zone=zone, days=days, start=hours.start, end=hours.end) if zone else None
    return {
        "time_zone": hours.time_zone,
        "days": [working_hours.WEEKDAYS[d] for d in sorted(days)],
        "start": hours.start,
        "end": hours.end,
        "description": working_hours.describe(window) if window else hours.time_zone,
        "updated_at": hours.updated_at,
    }


def shift_reminder_json(setting: ShiftReminderSetting) -> dict[str, Any]:
    minutes = setting.minutes_before
    return {
        "before": SHIFT_REMINDER_KEYS[minutes],
        "minutes_before": minutes,
        "description": ShiftReminder(minutes).label,
        "updated_at": setting.updated_at,
    }
