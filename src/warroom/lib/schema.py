"""The base of the API's request bodies.

A body that carries a field the endpoint does not know is refused (422 naming the field) instead of having the
field silently ignored: a typo such as ``delay_minuts`` would otherwise leave the setting as it was and answer
success. Booleans are not numbers here either (``"delay_minutes": true`` is refused, not read as 1), also where
a number is one choice among others (an id or a slug, ``str | int``) and inside a list or a mapping of numbers.
Numbers written as text (``"5"``) are still read, as pydantic reads them: they say what they mean, where ``true``
for a count or an id does not. The other way round, a field that takes only a boolean takes only ``true`` and
``false`` (pydantic would read ``1``, ``"yes"`` or ``"off"``). A body that is not a JSON object is refused too (a PATCH of ``[1, 2]`` would
otherwise read as "nothing sent" and answer 200). A date, a date-time or a time of day is never read from a number
(a 400 naming the field, :mod:`warroom.lib.apitypes`), also in a field typed plainly ``datetime``.

Query parameters are not bodies: their schemas stay plain ``ninja.Schema`` so that a parameter an endpoint does
not know (``?_=1700000000`` to bust a cache) is ignored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, get_args, get_origin

from ninja import Schema
from pydantic import ConfigDict, ModelWrapValidatorHandler, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from warroom.lib.apitypes import number_refusal, options_of

NUMBER_TYPES = (int, float, Decimal)
SEQUENCE_TYPES = (list, tuple, set, frozenset)


class InputSchema(Schema):
    """Base of every request body schema: unknown fields are refused (``extra="forbid"``, which also puts
    ``additionalProperties: false`` in the OpenAPI document), a JSON ``true``/``false`` is not accepted where a
    number is expected, and the body must be a JSON object."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _json_object(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # Ninja's schemas also read attributes of any object (to render ORM rows): refuse anything else first.
        if not isinstance(data, dict | cls):
            raise PydanticCustomError("object_type", "must be a JSON object")
        return handler(data)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and boolean_for_number(field.annotation, value):
            raise PydanticCustomError("bool_not_number", "a number is expected here, not true or false")
        if field is not None and other_for_boolean(field.annotation, value):
            raise PydanticCustomError("bool_expected", "true or false is expected here")
        refusal = number_refusal(field.annotation, value) if field is not None else None
        if refusal is not None:
            raise refusal
        return value


def boolean_for_number(annotation: Any, value: Any) -> bool:
    """Whether ``value`` (parsed JSON) holds ``true`` or ``false`` where ``annotation`` takes a number and no
    boolean: directly (``int``, ``int | None``, ``str | int``), or as an item of a list or a value of a mapping
    of such (``list[int]``, ``dict[str, int]``). Nested schemas check their own fields."""
    options = options_of(annotation)
    if isinstance(value, bool):
        return any(_is_number(o) for o in options) and not any(o in (bool, Any, object) for o in options)
    for option in options:
        origin, args = get_origin(option), get_args(option)
        if isinstance(value, list) and origin in SEQUENCE_TYPES and args:
            items, item_type = value, args[0]
        elif isinstance(value, dict) and origin is dict and len(args) == 2:
            items, item_type = list(value.values()), args[1]
        else:
            continue
        if any(boolean_for_number(item_type, item) for item in items):
            return True
    return False


def other_for_boolean(annotation: Any, value: Any) -> bool:
    """Whether ``value`` is not ``true``/``false`` (nor ``null`` where allowed) where ``annotation`` takes only a
    boolean: pydantic would read ``1``, ``"yes"`` or ``"off"`` as one, and ``"is_private": "no"`` must not make an
    incident private or not by a guess."""
    options = options_of(annotation)
    if bool not in options or any(o not in (bool, type(None)) for o in options):
        return False
    return not isinstance(value, bool) and not (value is None and type(None) in options)


def _is_number(option: Any) -> bool:
    if get_origin(option) is Literal:
        return any(isinstance(a, NUMBER_TYPES) and not isinstance(a, bool) for a in get_args(option))
    return isinstance(option, type) and issubclass(option, NUMBER_TYPES) and not issubclass(option, bool)
