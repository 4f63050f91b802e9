"""Acknowledge and resolve from where the page lands: SMS replies (Twilio's inbound webhook) and Slack buttons.

A reply is a short command, case and spaces ignored:

* ``123a``, ``a 123``, ``ack 123`` acknowledge incident 123; ``a`` or ``ack`` alone acknowledges the latest
  open incident the person was paged for;
* ``123r``, ``r 123``, ``resolve 123`` resolve it (resolution code "Solved (permanently)", as the CLI's
  default; the timeline says it came from a reply);
* ``help`` or anything else answers with this list.

Who is acting is read from the channel: the sending phone number must be a verified SMS contact method of exactly
one active person; the Slack member must be a verified Slack contact method's member id (``U…``). A person may
acknowledge an incident they were paged for even without edit rights on it (as from an email link); resolving
needs edit rights. An incident the person may not see is answered as unknown, never named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from warroom.accounts.models import User
from warroom.incidents import selectors as incident_selectors
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.incidents.states import OPEN_STATES, ResolutionCode, State
from warroom.lib.errors import NotFound, ServiceError, ValidationFailed
from warroom.notify.models import ContactMethod
from warroom.paging import services as paging
from warroom.paging.models import Page

USAGE = (
    "Reply <number>a to acknowledge, <number>r to resolve (e.g. 42a), or a to acknowledge your latest page."
)

_FORMS = (
    re.compile(r"^(?P<number>\d{1,12})\s*(?P<verb>a|ack|r|res|resolve)$"),
    re.compile(r"^(?P<verb>a|ack|acknowledge|r|res|resolve)\s*(?P<number>\d{1,12})?$"),
)
_CHANNEL_NAMES = {"sms": "an SMS", "slack": "a Slack"}
_VERBS = {
    "a": "ack",
    "ack": "ack",
    "acknowledge": "ack",
    "r": "resolve",
    "res": "resolve",
    "resolve": "resolve",
}


@dataclass(frozen=True)
class Command:
    #: ``ack`` or ``resolve``
    action: str
    #: the incident number, or None for "my latest page"
    number: int | None


def parse_command(text: str) -> Command:
    """The command in a reply; :class:`ValidationFailed` (with the usage) for anything else."""
    cleaned = " ".join((text or "").strip().lower().replace("#", " ").split())
    cleaned = re.sub(r"^inc0*", "", cleaned)
    for form in _FORMS:
        match = form.match(cleaned)
        if match:
            number = match.group("number")
            return Command(_VERBS[match.group("verb")], int(number) if number else None)
    raise ValidationFailed(USAGE, field="body")


def person_for_contact(kind: str, value: str) -> User:
    """The one active person with a verified contact method ``kind`` whose address is ``value``."""
    owners = {
        method.user
        for method in ContactMethod.objects.select_related("user").filter(
            kind=kind, value=value, verified_at__isnull=False, disabled=False, user__is_active=True
        )
    }
    if len(owners) != 1:
        what = "nobody" if not owners else "more than one person"
        raise NotFound(f"this {kind} address belongs to {what} in Warroom", field="from")
    return owners.pop()


def _target(user: User, command: Command) -> Incident:
    if command.number is None:
        page = (
            Page.objects.filter(user=user, incident__state__in=OPEN_STATES)
            .select_related("incident")
            .order_by("-at", "-id")
            .first()
        )
        if page is None:
            raise NotFound("you have no open incident to acknowledge", field="body")
        return page.incident
    incident = Incident.objects.filter(number=command.number).first()
    paged = incident is not None and Page.objects.filter(incident=incident, user=user).exists()
    if incident is None or not (paged or incident_selectors.visible_incidents(user).filter(pk=incident.pk)):
        raise NotFound(f"no incident {command.number}", field="body")
    return incident


def run_command(*, user: User, command: Command, source: str) -> str:
    """Carry out ``command`` as ``user``; the answer to send back. Raises :class:`ServiceError` (its message is
    the answer) when it cannot."""
    incident = _target(user, command)
    label = f"{incident.ref} {incident.title}"
    if command.action == "ack":
        done = paging.acknowledgement_of(incident)
        if done is not None:
            return f"{label} was acknowledged already by {done.describe(user.time_zone)}."
        paging.acknowledge_page(incident=incident, actor=user, source=source)
        return f"Acknowledged {label}."
    if not incident_selectors.can_edit(user, incident):
        raise ServiceError(f"you may not resolve {incident.ref}; acknowledge it or open it in Warroom")
    incidents.transition_incident(
        incident=incident,
        actor=user,
        source=source,
        to=State.RESOLVED,
        resolution_code=ResolutionCode.PERMANENT_FIX,
        resolution_notes=f"Resolved by {user.display_name} from {_CHANNEL_NAMES.get(source, source)} reply.",
        note=f"Resolved from {_CHANNEL_NAMES.get(source, source)} reply",
    )
    return f"Resolved {label}."


def answer(*, user: User, text: str, source: str) -> str:
    """Parse and run a reply; always an answer to send back (the error's message when it fails)."""
    try:
        return run_command(user=user, command=parse_command(text), source=source)
    except ServiceError as exc:
        return exc.message
