"""What JSON can say that the databases cannot store: a NUL character (PostgreSQL refuses it in text and
``jsonb``) and an unpaired UTF-16 surrogate (not encodable as UTF-8). Both can only reach a parsed document
through a ``\\u`` escape: a strict UTF-8 decode refuses surrogates and ``json.loads`` a raw control character.
And numbers that are not finite: ``NaN`` and ``Infinity`` are not JSON, and ``1e400`` parses as infinity in
Python, which PostgreSQL's ``jsonb`` refuses (:func:`loads` refuses all three)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

# json.dumps writes a NUL character as \u0000; a backslash before it that is itself escaped (\\u0000) is text.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class Encoded(dict[str, Any]):
    """A JSON object together with its text as ``json.dumps(obj, ensure_ascii=False)`` writes it, made once and
    reused by whoever needs the text (the intake's size cap, the database insert, :mod:`warroom.lib.bulk`). It must
    not change once made: the text would no longer say what it holds."""

    __slots__ = ("text",)

    def __init__(self, data: dict[str, Any], text: str) -> None:
        super().__init__(data)
        self.text = text


def text_of(obj: dict[str, Any]) -> str:
    """``obj`` as JSON text (``ensure_ascii=False``), made again only if it is not :class:`Encoded`."""
    return obj.text if isinstance(obj, Encoded) else json.dumps(obj, ensure_ascii=False)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large to store")
    return value


def loads(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and numbers too large for a float (ValueError)."""
    return json.loads(text, parse_constant=_constant, parse_float=_finite)


def unstorable(text: str, data: Any) -> str:
    """Why ``data`` (parsed from the JSON ``text``) cannot be stored, or "" when it can."""
    if "\\u" not in text:
        return ""
    dumped = json.dumps(data, ensure_ascii=False)
    try:
        dumped.encode("utf-8")
    except UnicodeEncodeError:
        return "the body contains an unpaired UTF-16 surrogate escape"
    if _NUL_ESCAPE.search(dumped):
        return "the body contains a NUL character (\\u0000)"
    return ""
