"""Template context shared by every console page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

import warroom


def globals_(request: HttpRequest) -> dict[str, Any]:
    return {"warroom_version": warroom.__version__, "warroom_base_url": settings.WARROOM_BASE_URL}
