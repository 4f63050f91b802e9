"""Template context shared by every console page."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

import warroom
from warroom.accounts import selectors as accounts
from warroom.audit import selectors as audit


def globals_(request: HttpRequest) -> dict[str, Any]:
    return {
        "warroom_version": warroom.__version__,
        "warroom_base_url": settings.WARROOM_BASE_URL,
        # Called only where a page asks (the menu): team admins read their teams' audit rows too.
        "may_read_audit": lambda: request.user.is_authenticated and audit.may_read(request.user),
        # "+ Declare" shows only to someone who may declare for at least one team (an observer may not); asked
        # at most once per page however many buttons ask.
        "may_declare": cache(
            lambda: request.user.is_authenticated and accounts.actionable_teams(request.user).exists()
        ),
    }
