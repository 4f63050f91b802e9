"""Reading a row id out of text a user typed (a path segment, a query parameter, a form field).

``str.isdigit`` is the wrong test for that: it is true for superscripts and other Unicode digits (``"¹"``), which
``int()`` then refuses, and for numbers beyond the 64-bit ids both databases use, which the database refuses.
Either way the request ended in a 500 instead of "not found".
"""

from __future__ import annotations

import re

#: ids are positive 64-bit integers: at most 18 ASCII digits always fit
_ID = re.compile(r"[0-9]{1,18}")


def as_id(text: object) -> int | None:
    """The id ``text`` spells (ASCII digits only, small enough for a 64-bit id), or None when it is not one:
    a caller then looks the text up as a name, slug or email, or answers not found."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 <= text < 10**18 else None
    if not isinstance(text, str) or not _ID.fullmatch(text):
        return None
    return int(text)


def is_id(text: object) -> bool:
    """Whether ``text`` is an id as :func:`as_id` reads one."""
    return as_id(text) is not None
