"""The signed-in person's "Notifications" page: their contact methods (add, verify with a code, disable,
test, delete), their notification rules per urgency, and their recent notifications.

Everything goes through :mod:`warroom.notify.services` with ``source="web"``; a person only ever sees and
changes their own (another person's contact method or rule is a 404). Secrets are never shown back: the page
shows each method's elided ``display``; a webhook's generated signing secret is shown once, in the answer to the
POST that created it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from warroom.integrations import registry
from warroom.lib.errors import ServiceError
from warroom.notify import selectors, services, throttle
from warroom.notify.forms import ContactMethodForm, RuleForm, ShiftReminderForm, VerifyForm, WorkingHoursForm
from warroom.notify.models import NotificationRule, Urgency, WorkingHours
from warroom.notify.working_hours import describe
from warroom.web.console import SOURCE, AuthedRequest, console_view, form_error

RECENT_MESSAGES = 20


def _page(
    request: AuthedRequest,
    *,
    status: int = 200,
    method_form: ContactMethodForm | None = None,
    rule_form: RuleForm | None = None,
    verify_form: VerifyForm | None = None,
    verify_method: int | None = None,
    reveal: dict[str, str] | None = None,
    hours_form: WorkingHoursForm | None = None,
    shift_form: ShiftReminderForm | None = None,
    rule_edit: tuple[int, RuleForm] | None = None,
) -> HttpResponse:
    user = request.user
    hours = selectors.working_hours_of(user)
    shift_reminder = selectors.shift_reminder_of(user)
    window = services.window_of(hours) if hours is not None else None
    methods = list(selectors.contact_methods_of(user))
    rules = list(selectors.rules_of(user))
    usable = [m for m in methods if m.is_usable]
    # the working high-urgency rules: removing the last one (or disabling its method) leaves pages nowhere to go
    working_high = [r for r in rules if r.urgency == Urgency.HIGH and r.contact_method.is_usable]
    for m in methods:
        # a channel this server cannot send through (email without WARROOM_SMTP_HOST, SMS without Twilio)
        m.unsendable = not registry.get(m.kind).configured()  # type: ignore[attr-defined]
        # what deleting or disabling it takes with it, said before it happens
        m.rule_count = sum(1 for r in rules if r.contact_method_id == m.pk)  # type: ignore[attr-defined]
        m.last_usable = usable == [m]  # type: ignore[attr-defined]
        m.paged_for = _urgencies_words({r.urgency for r in rules if r.contact_method_id == m.pk})  # type: ignore[attr-defined]
        m.last_high = bool(working_high) and all(r.contact_method_id == m.pk for r in working_high)  # type: ignore[attr-defined]
    for r in rules:
        r.last_high = working_high == [r]  # type: ignore[attr-defined]
        # its "Change…" form: the one refused just now (shown open with its errors), else the rule as it is
        r.edit_form = (  # type: ignore[attr-defined]
            rule_edit[1] if rule_edit is not None and rule_edit[0] == r.pk else _rule_edit_form(r)
        )
    ladders = [
        {"urgency": value, "label": label, "rules": [r for r in rules if r.urgency == value]}
        for value, label in Urgency.choices
    ]
    context: dict[str, Any] = {
        "methods": methods,
        "ladders": ladders,
        "unreachable": user.pk in selectors.users_without_working_contact_method([user.pk]),
        "method_form": method_form or ContactMethodForm(),
        "rule_form": rule_form or RuleForm(user=user),
        "verify_form": verify_form,
        "verify_method": verify_method,
        "hours": hours,
        "hours_window": window,
        "hours_summary": describe(window) if window is not None else "",
        "hours_form": hours_form or _hours_form(hours),
        "shift_reminder": shift_reminder,
        "shift_form": shift_form
        or ShiftReminderForm(initial={"minutes_before": shift_reminder.minutes_before}),
        "low_rules": [r for r in rules if r.urgency == Urgency.LOW and r.contact_method.is_usable],
        "reveal": reveal or {},
        "channels": [
            {
                "label": c.label,
                "help": c.address_help,
                "configured": c.configured(),
                "throttle": throttle.describe(c.kind),
            }
            for c in registry.channels()
        ],
        "recent": list(selectors.messages_of(user).select_related("contact_method")[:RECENT_MESSAGES]),
    }
    response = render(request, "notify/settings.html", context, status=status)
    if reveal:
        response["Cache-Control"] = "no-store"
    return response


def _rule_prefix(rule: NotificationRule) -> str:
    """Each rule's form has fields of its own on the page (``rule-<id>-delay_minutes`` ...)."""
    return f"rule-{rule.pk}"


def _rule_edit_form(rule: NotificationRule) -> RuleForm:
    return RuleForm(
        user=rule.user,
        prefix=_rule_prefix(rule),
        initial={
            "urgency": rule.urgency,
            "delay_minutes": rule.delay_minutes,
            "contact_method": rule.contact_method_id,
            "working_hours_only": rule.working_hours_only,
        },
    )


def _urgencies_words(urgencies: set[str]) -> str:
    """What a method's rules page for: "high-urgency", "low-urgency", "high- or low-urgency", or "" (none)."""
    words = [f"{u}-" for u in (Urgency.HIGH, Urgency.LOW) if u in urgencies]
    return f"{' or '.join(words)}urgency" if words else ""


def _hours_form(hours: WorkingHours | None) -> WorkingHoursForm:
    if hours is None:
        return WorkingHoursForm(initial={"time_zone": "UTC"})
    days = [str(d) for d in range(7) if hours.days & (1 << d)]
    return WorkingHoursForm(
        initial={"time_zone": hours.time_zone, "days": days, "start": hours.start, "end": hours.end}
    )


@console_view
@require_GET
def notification_settings(request: AuthedRequest) -> HttpResponse:
    return _page(request)


@console_view
@require_POST
def method_create(request: AuthedRequest) -> HttpResponse:
    """Add a contact method (unverified) and send it a code; a webhook's signing secret is shown this once."""
    form = ContactMethodForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, method_form=form)
    data = form.cleaned_data
    try:
        created = services.create_contact_method(
            user=request.user,
            kind=data["kind"],
            name=data["name"],
            address=data["address"],
            token=data["token"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _page(request, status=form_error(form, exc), method_form=form)
    messages.success(
        request, f"{created.method.name} added. We sent it a code: enter it below to start using it."
    )
    if created.reveal:
        return _page(request, status=201, reveal=created.reveal)
    return redirect("notify-settings")


def _method(request: AuthedRequest, method_id: int) -> Any:
    return selectors.get_own_contact_method_or_404(request.user, method_id=method_id)


@console_view
@require_POST
def method_send_code(request: AuthedRequest, method_id: int) -> HttpResponse:
    method = _method(request, method_id)
    services.send_verification(method=method, actor=request.user, source=SOURCE)
    messages.success(request, f"A new code is on its way to {method.name}.")
    return redirect("notify-settings")


@console_view
@require_POST
def method_verify(request: AuthedRequest, method_id: int) -> HttpResponse:
    method = _method(request, method_id)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, verify_form=form, verify_method=method.pk)
    try:
        services.verify_contact_method(
            method=method, code=form.cleaned_data["code"], actor=request.user, source=SOURCE
        )
    except ServiceError as exc:
        return _page(request, status=form_error(form, exc), verify_form=form, verify_method=method.pk)
    messages.success(request, f"{method.name} is verified.")
    return redirect("notify-settings")


class _DisableForm(forms.Form):
    disabled = forms.BooleanField(required=False)


@console_view
@require_POST
def method_disable(request: AuthedRequest, method_id: int) -> HttpResponse:
    """Disable (``disabled=1``) or enable again (``disabled=0``)."""
    method = _method(request, method_id)
    form = _DisableForm(request.POST)
    disabled = form.is_valid() and form.cleaned_data["disabled"]
    services.update_contact_method(method=method, actor=request.user, source=SOURCE, disabled=disabled)
    messages.success(request, f"{method.name} {'disabled' if disabled else 'enabled'}.")
    return redirect("notify-settings")


@console_view
@require_POST
def method_test(request: AuthedRequest, method_id: int) -> HttpResponse:
    method = _method(request, method_id)
    services.send_test(method=method, actor=request.user, source=SOURCE)
    channel = registry.get(method.kind)
    if channel.configured():
        messages.success(request, f"A test message is on its way to {method.name}.")
    else:
        messages.warning(
            request,
            f"{channel.label} is not set up on this server, so the test cannot reach {method.name}"
            " (see Recent notifications): an administrator sets it up (docs/notifications.md).",
        )
    return redirect("notify-settings")


@console_view
@require_POST
def method_delete(request: AuthedRequest, method_id: int) -> HttpResponse:
    method = _method(request, method_id)
    services.delete_contact_method(method=method, actor=request.user, source=SOURCE)
    messages.success(request, f"{method.name} deleted, with its rules.")
    return redirect("notify-settings")


@console_view
@require_POST
def rule_create(request: AuthedRequest) -> HttpResponse:
    form = RuleForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, status=400, rule_form=form)
    data = form.cleaned_data
    try:
        services.create_rule(
            user=request.user,
            contact_method=data["contact_method"],
            urgency=data["urgency"],
            delay_minutes=data["delay_minutes"],
            working_hours_only=data["working_hours_only"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _page(request, status=form_error(form, exc), rule_form=form)
    messages.success(request, "Rule added.")
    return redirect("notify-settings")


@console_view
@require_POST
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    """Change a rule in place: its urgency, delay, contact method and working-hours hold."""
    rule = selectors.get_own_rule_or_404(request.user, rule_id=rule_id)
    form = RuleForm(request.POST, user=request.user, prefix=_rule_prefix(rule))
    if not form.is_valid():
        return _page(request, status=400, rule_edit=(rule.pk, form))
    data = form.cleaned_data
    try:
        services.update_rule(
            rule=rule,
            actor=request.user,
            source=SOURCE,
            contact_method=data["contact_method"],
            urgency=data["urgency"],
            delay_minutes=data["delay_minutes"],
            working_hours_only=data["working_hours_only"],
        )
    except ServiceError as exc:
        return _page(request, status=form_error(form, exc), rule_edit=(rule.pk, form))
    messages.success(request, "Rule changed.")
    return redirect("notify-settings")


@console_view
@require_POST
def rule_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_own_rule_or_404(request.user, rule_id=rule_id)
    services.delete_rule(rule=rule, actor=request.user, source=SOURCE)
    messages.success(request, "Rule removed.")
    return redirect("notify-settings")


@console_view
@require_POST
def working_hours_save(request: AuthedRequest) -> HttpResponse:
    """Set (or replace) the person's working hours."""
    form = WorkingHoursForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, hours_form=form)
    data = form.cleaned_data
    try:
        services.set_working_hours(
            user=request.user,
            time_zone=data["time_zone"],
            days=[int(d) for d in data["days"]],
            start=data["start"],
            end=data["end"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _page(request, status=form_error(form, exc), hours_form=form)
    messages.success(request, "Working hours saved.")
    return redirect("notify-settings")


@console_view
@require_POST
def working_hours_clear(request: AuthedRequest) -> HttpResponse:
    services.clear_working_hours(user=request.user, actor=request.user, source=SOURCE)
    messages.success(request, "Working hours removed: low-urgency rules notify at once.")
    return redirect("notify-settings")


@console_view
@require_POST
def shift_reminder_save(request: AuthedRequest) -> HttpResponse:
    """Set "Before my on-call shifts" (off, or how long before)."""
    form = ShiftReminderForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, shift_form=form)
    try:
        setting = services.set_shift_reminder(
            user=request.user,
            minutes_before=form.cleaned_data["minutes_before"],
            actor=request.user,
            source=SOURCE,
        )
    except ServiceError as exc:
        return _page(request, status=form_error(form, exc), shift_form=form)
    if setting.minutes_before:
        messages.success(
            request, f"Shift reminders: {setting.get_minutes_before_display()} each of your on-call shifts."
        )
    else:
        messages.success(request, "Shift reminders turned off.")
    return redirect("notify-settings")
