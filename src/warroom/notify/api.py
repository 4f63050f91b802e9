"""REST routes for a person's contact methods, notification rules and notification log (``/me/...``), and the
read-only view team admins have of their members' contact methods (``/users/{id}/...``)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from warroom.accounts.schemas import Page, Paging, caller, lookup, paginate, source_of, user_key
from warroom.integrations import registry
from warroom.lib.errors import NotFound
from warroom.notify import selectors, services, throttle
from warroom.notify.models import ContactMethod
from warroom.notify.schemas import (
    SHIFT_REMINDER_MINUTES,
    ChannelOut,
    ContactMethodCreatedOut,
    ContactMethodIn,
    ContactMethodOut,
    ContactMethodPatch,
    MessageOut,
    RuleIn,
    RuleOut,
    RulePatch,
    ShiftReminderIn,
    ShiftReminderOut,
    VerifyIn,
    WorkingHoursIn,
    WorkingHoursOut,
    contact_method_json,
    message_json,
    rule_json,
    shift_reminder_json,
    working_hours_json,
)

router = Router(tags=["notifications"])


def _own_method(user: Any, method_id: int, *, field: str) -> ContactMethod:
    return lookup(field, partial(selectors.get_own_contact_method_or_404, user, method_id=method_id))


@router.get("/notification-channels", response=list[ChannelOut], summary="List notification channels")
def list_channels(request: HttpRequest) -> list[dict[str, Any]]:
    """The kinds of contact method, whether this server can send through each, and their delivery policy."""
    caller(request)
    return [
        {
            "kind": c.kind,
            "label": c.label,
            "configured": c.configured(),
            "delivery": c.delivery.value,
            "throttle": throttle.describe(c.kind),
            "address_help": c.address_help,
        }
        for c in registry.channels()
    ]


# -- contact methods ---------------------------------------------------------------------------------------------


@router.get("/me/contact-methods", response=list[ContactMethodOut], summary="List your contact methods")
def list_contact_methods(request: HttpRequest) -> list[dict[str, Any]]:
    return [contact_method_json(m) for m in selectors.contact_methods_of(caller(request))]


@router.post("/me/contact-methods", response={201: ContactMethodCreatedOut}, summary="Add a contact method")
def create_contact_method(request: HttpRequest, payload: ContactMethodIn) -> Status[dict[str, Any]]:
    """Added unverified; a verification code is sent to it unless ``send_code`` is false. A webhook's generated
    signing secret is in this answer only."""
    user = caller(request)
    created = services.create_contact_method(
        user=user,
        kind=payload.kind,
        name=payload.name,
        address=payload.address,
        token=payload.token,
        send_code=payload.send_code,
        actor=user,
        source=source_of(request),
    )
    return Status(201, {**contact_method_json(created.method), **created.reveal})


@router.get("/me/contact-methods/{method_id}", response=ContactMethodOut, summary="Get a contact method")
def get_contact_method(request: HttpRequest, method_id: int) -> dict[str, Any]:
    user = caller(request)
    return contact_method_json(selectors.get_own_contact_method_or_404(user, method_id=method_id))


@router.patch(
    "/me/contact-methods/{method_id}", response=ContactMethodCreatedOut, summary="Change a contact method"
)
def update_contact_method(
    request: HttpRequest, method_id: int, payload: ContactMethodPatch
) -> dict[str, Any]:
    """Rename, disable (``disabled: true``) or enable it, or give a new ``address`` (verification again)."""
    user = caller(request)
    method = selectors.get_own_contact_method_or_404(user, method_id=method_id)
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    updated = services.update_contact_method(method=method, actor=user, source=source_of(request), **sent)
    return {**contact_method_json(updated.method), **updated.reveal}


@router.delete("/me/contact-methods/{method_id}", response={204: None}, summary="Delete a contact method")
def delete_contact_method(request: HttpRequest, method_id: int) -> Status[None]:
    """Its rules go with it; its pending messages are cancelled."""
    user = caller(request)
    method = selectors.get_own_contact_method_or_404(user, method_id=method_id)
    services.delete_contact_method(method=method, actor=user, source=source_of(request))
    return Status(204, None)


@router.post(
    "/me/contact-methods/{method_id}/send-verification",
    response={202: MessageOut},
    summary="Send a verification code",
)
def send_verification(request: HttpRequest, method_id: int) -> Status[dict[str, Any]]:
    """A new 6-digit code, valid 15 minutes, 5 tries; at most one per minute (429 otherwise)."""
    user = caller(request)
    method = selectors.get_own_contact_method_or_404(user, method_id=method_id)
    message = services.send_verification(method=method, actor=user, source=source_of(request))
    return Status(202, message_json(message))


@router.post(
    "/me/contact-methods/{method_id}/verify", response=ContactMethodOut, summary="Verify a contact method"
)
def verify_contact_method(request: HttpRequest, method_id: int, payload: VerifyIn) -> dict[str, Any]:
    user = caller(request)
    method = selectors.get_own_contact_method_or_404(user, method_id=method_id)
    verified = services.verify_contact_method(
        method=method, code=payload.code, actor=user, source=source_of(request)
    )
    return contact_method_json(verified)


@router.post(
    "/me/contact-methods/{method_id}/test", response={202: MessageOut}, summary="Send a test message"
)
def send_test(request: HttpRequest, method_id: int) -> Status[dict[str, Any]]:
    user = caller(request)
    method = selectors.get_own_contact_method_or_404(user, method_id=method_id)
    return Status(202, message_json(services.send_test(method=method, actor=user, source=source_of(request))))


# -- rules -------------------------------------------------------------------------------------------------------


@router.get("/me/notification-rules", response=list[RuleOut], summary="List your notification rules")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return [rule_json(r) for r in selectors.rules_of(caller(request))]


@router.post("/me/notification-rules", response={201: RuleOut}, summary="Add a notification rule")
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    user = caller(request)
    method = _own_method(user, payload.contact_method, field="contact_method")
    rule = services.create_rule(
        user=user,
        contact_method=method,
        urgency=payload.urgency,
        delay_minutes=payload.delay_minutes,
        working_hours_only=payload.working_hours_only,
        actor=user,
        source=source_of(request),
    )
    return Status(201, rule_json(rule))


@router.patch("/me/notification-rules/{rule_id}", response=RuleOut, summary="Change a notification rule")
def update_rule(request: HttpRequest, rule_id: int, payload: RulePatch) -> dict[str, Any]:
    user = caller(request)
    rule = selectors.get_own_rule_or_404(user, rule_id=rule_id)
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if "contact_method" in sent:
        sent["contact_method"] = _own_method(user, sent["contact_method"], field="contact_method")
    return rule_json(services.update_rule(rule=rule, actor=user, source=source_of(request), **sent))


@router.delete("/me/notification-rules/{rule_id}", response={204: None}, summary="Delete a notification rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    user = caller(request)
    rule = selectors.get_own_rule_or_404(user, rule_id=rule_id)
    services.delete_rule(rule=rule, actor=user, source=source_of(request))
    return Status(204, None)


# -- working hours -----------------------------------------------------------------------------------------------


@router.get("/me/working-hours", response=WorkingHoursOut, summary="Get your working hours")
def get_working_hours(request: HttpRequest) -> dict[str, Any]:
    """404 when you have set none (then low-urgency rules marked ``working_hours_only`` notify at once)."""
    hours = selectors.working_hours_of(caller(request))
    if hours is None:
        raise NotFound("you have not set working hours")
    return working_hours_json(hours)


@router.put("/me/working-hours", response=WorkingHoursOut, summary="Set your working hours")
def set_working_hours(request: HttpRequest, payload: WorkingHoursIn) -> dict[str, Any]:
    """One weekly window in your time zone, e.g. ``{"time_zone": "Europe/Berlin", "days": ["weekdays"],
    "start": "09:00", "end": "18:00"}``. Low-urgency rules marked ``working_hours_only`` wait for it."""
    user = caller(request)
    hours = services.set_working_hours(
        user=user,
        time_zone=payload.time_zone,
        days=payload.days,
        start=payload.start,
        end=payload.end,
        actor=user,
        source=source_of(request),
    )
    return working_hours_json(hours)


@router.delete("/me/working-hours", response={204: None}, summary="Remove your working hours")
def clear_working_hours(request: HttpRequest) -> Status[None]:
    user = caller(request)
    services.clear_working_hours(user=user, actor=user, source=source_of(request))
    return Status(204, None)


# -- shift reminders --------------------------------------------------------------------------------------------


@router.get("/me/shift-reminders", response=ShiftReminderOut, summary="Get your shift reminder setting")
def get_shift_reminders(request: HttpRequest) -> dict[str, Any]:
    """How long before each of your on-call shifts Warroom reminds you of it (``off`` unless you set it)."""
    return shift_reminder_json(selectors.shift_reminder_of(caller(request)))


@router.put("/me/shift-reminders", response=ShiftReminderOut, summary="Set your shift reminder setting")
def set_shift_reminders(request: HttpRequest, payload: ShiftReminderIn) -> dict[str, Any]:
    """``{"before": "1h"}``: a low-urgency notification 1 hour before each of your on-call shifts (``off``,
    ``15m``, ``1h``, ``4h`` or ``1d``), through your low-urgency notification rules."""
    user = caller(request)
    setting = services.set_shift_reminder(
        user=user,
        minutes_before=SHIFT_REMINDER_MINUTES[payload.before],
        actor=user,
        source=source_of(request),
    )
    return shift_reminder_json(setting)


# -- the log -----------------------------------------------------------------------------------------------------


@router.get("/me/notifications", response=Page[MessageOut], summary="Your notification log")
def list_messages(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Messages to you, newest first: pending (with why they wait), sent, failed (with the error), bundled."""
    return paginate(selectors.messages_of(caller(request)), paging, message_json)


# -- someone else's, read-only -----------------------------------------------------------------------------------


@router.get(
    "/users/{user_id}/contact-methods",
    response=list[ContactMethodOut],
    summary="List a person's contact methods",
)
def list_user_contact_methods(request: HttpRequest, user_id: str) -> list[dict[str, Any]]:
    """For the admins and managers of the person's teams (and organisation admins); no secrets."""
    person = selectors.get_person_for_contact_view_or_404(caller(request), key=user_key(user_id))
    return [contact_method_json(m) for m in selectors.contact_methods_of(person)]


@router.get(
    "/users/{user_id}/notification-rules",
    response=list[RuleOut],
    summary="List a person's notification rules",
)
def list_user_rules(request: HttpRequest, user_id: str) -> list[dict[str, Any]]:
    person = selectors.get_person_for_contact_view_or_404(caller(request), key=user_key(user_id))
    return [rule_json(r) for r in selectors.rules_of(person)]
