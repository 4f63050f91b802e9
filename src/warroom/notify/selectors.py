"""Reads of contact methods, rules and messages, with the permission checks.

A person sees and manages their own. Admins and managers of a team (and organisation admins) may *see* the
contact methods and rules of the team's members, without secrets; anyone else who can see the person gets a
403, and someone who cannot see the person at all a 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from warroom.accounts import selectors as accounts
from warroom.accounts.models import MANAGING_ROLES, Membership, User
from warroom.lib.errors import NotFound, PermissionDenied
from warroom.notify.models import (
    ContactMethod,
    Message,
    NotificationRule,
    ShiftReminder,
    ShiftReminderSetting,
    WorkingHours,
)


def contact_methods_of(user: User) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user).order_by("created_at", "id")


def rules_of(user: User) -> QuerySet[NotificationRule]:
    return (
        NotificationRule.objects.filter(user=user)
        .select_related("contact_method")
        .order_by("urgency", "delay_minutes", "id")
    )


def working_hours_of(user: User) -> WorkingHours | None:
    """``user``'s working hours, or None when they have set none."""
    return WorkingHours.objects.filter(user=user).first()


def shift_reminder_of(user: User) -> ShiftReminderSetting:
    """``user``'s "Before my on-call shifts" setting; never set is off (an unsaved row, ``updated_at`` None)."""
    found = ShiftReminderSetting.objects.filter(user=user).first()
    return found or ShiftReminderSetting(user=user, minutes_before=ShiftReminder.OFF)


def people_wanting_shift_reminders() -> dict[int, int]:
    """Active people who asked to be reminded of their shifts: user id → minutes before."""
    return dict(
        ShiftReminderSetting.objects.filter(minutes_before__gt=0, user__is_active=True).values_list(
            "user_id", "minutes_before"
        )
    )


def groups_with_messages(groups: Iterable[str]) -> set[str]:
    """The producer groups among ``groups`` that have at least one outbox row, whatever its status."""
    wanted = [g for g in set(groups) if g]
    if not wanted:
        return set()
    return set(Message.objects.filter(group__in=wanted).order_by().values_list("group", flat=True).distinct())


def messages_of(user: User) -> QuerySet[Message]:
    return Message.objects.filter(user=user).order_by("-created_at", "-id")


def messages_in_group(group: str) -> QuerySet[Message]:
    """The notification log of one producer group (e.g. ``incident:42``): the caller checks it may see it."""
    return Message.objects.filter(group=group).select_related("user").order_by("due_at", "id")


def get_own_contact_method_or_404(user: User, *, method_id: int) -> ContactMethod:
    method = ContactMethod.objects.filter(user=user, pk=method_id).select_related("user").first()
    if method is None:
        raise NotFound(f"contact method {method_id} not found")
    return method


def get_own_rule_or_404(user: User, *, rule_id: int) -> NotificationRule:
    rule = (
        NotificationRule.objects.filter(user=user, pk=rule_id)
        .select_related("user", "contact_method")
        .first()
    )
    if rule is None:
        raise NotFound(f"notification rule {rule_id} not found")
    return rule


def can_see_contact_methods(viewer: User, person: User) -> bool:
    """Themselves, organisation admins, and admins or managers of a team ``person`` belongs to."""
    if viewer.pk == person.pk or viewer.is_org_admin:
        return True
    managed = {team_id for team_id, role in accounts.roles_by_team(viewer).items() if role in MANAGING_ROLES}
    return Membership.objects.filter(user=person, team_id__in=managed).exists()


def get_person_for_contact_view_or_404(viewer: User, *, key: int | str) -> User:
    """The person whose contact methods ``viewer`` asks for: 404 if ``viewer`` cannot see them at all, 403 if
    they can but do not manage a team of theirs."""
    person = accounts.get_user_for_user_or_404(viewer, key=key)
    if not can_see_contact_methods(viewer, person):
        raise PermissionDenied("only the admins and managers of a person's team see their contact methods")
    return person


def users_without_working_contact_method(user_ids: Iterable[int]) -> set[int]:
    """The ids among ``user_ids`` with no verified, enabled contact method that a high-urgency rule uses."""
    wanted = set(user_ids)
    reachable = set(
        NotificationRule.objects.filter(
            user_id__in=wanted,
            urgency="high",
            contact_method__verified_at__isnull=False,
            contact_method__disabled=False,
        ).values_list("user_id", flat=True)
    )
    return wanted - reachable
