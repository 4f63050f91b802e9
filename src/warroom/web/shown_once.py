"""A secret shown once, after a redirect: the POST that made it (a key, an API token) keeps it sealed
(:mod:`warroom.lib.sealed`) in the session, never in a URL, and redirects; the page it redirects to takes it out
and shows it (``Cache-Control: no-store``). So a reload of that page shows nothing new and makes nothing twice
(POST/redirect/GET), and the secret is not left anywhere in plain text."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.http import HttpRequest

from warroom.lib import sealed

TTL = 600  # seconds a secret waits for its page


@dataclass(frozen=True)
class Held:
    owner: int  # what the page is about (an integration's id, a user's id)
    ref: int  # the row the secret belongs to (a key's or token's id), to check it is still valid
    secret: str


def hold(request: HttpRequest, slot: str, held: Held) -> None:
    """Keep ``held`` for the next page that takes ``slot`` (a newer secret replaces an older one)."""
    request.session[slot] = {"owner": held.owner, "ref": held.ref, "sealed": sealed.seal(held.secret)}


def take(request: HttpRequest, slot: str, *, owner: int) -> Held | None:
    """The secret held in ``slot`` for ``owner``, taken out of the session; None when there is none, it is for
    another owner (left for its page), or it waited longer than :data:`TTL`."""
    kept = request.session.get(slot)
    if not isinstance(kept, dict) or kept.get("owner") != owner:
        return None
    del request.session[slot]
    ref = kept.get("ref")
    try:
        secret = sealed.ring().decrypt(str(kept.get("sealed")).encode("ascii"), ttl=TTL).decode()
    except (InvalidToken, UnicodeError):
        return None
    if not isinstance(ref, int):
        return None
    return Held(owner, ref, secret)
