"""Slugs (the names in URLs) of teams and services, derived from their names."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.text import slugify


def unique_slug(taken: QuerySet[Any], name: str, *, fallback: str, max_length: int = 100) -> str:
    """A slug for ``name`` that no row of ``taken`` has.

    ``slugify(name)``, or ``fallback`` when that is empty ("!!!"); one made only of digits gets ``fallback-`` in
    front, so that it never reads as an id in a URL. When another row has it, ``-2``, ``-3`` … is added: two names
    that differ only in punctuation ("Checkout" and "Checkout!") get two slugs, not a refusal.
    """
    base = slugify(name)[:max_length] or fallback
    if base.isdigit():
        base = f"{fallback}-{base}"[:max_length]
    slug, number = base, 1
    while taken.filter(slug=slug).exists():
        number += 1
        suffix = f"-{number}"
        slug = base[: max_length - len(suffix)].rstrip("-") + suffix
    return slug
