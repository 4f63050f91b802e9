"""Template context shared by every console page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

import warroom
from warroom.audit import selectors as audit


def globals_(request: HttpRequest) -> dict[str, Any]:
    return {
        "warroom_version": warroom.__version__,
        "warroom_base_url": settings.WARROOM_BASE_URL,
        # Called only where a page asks (the menu): team admins read their teams' audit rows too.
        "may_read_audit": lambda: request.user.is_authenticated and audit.may_read(request.user),
    }
