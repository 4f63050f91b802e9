"""The module registry. An app registers its engine modules in its own ``engine.py``::

    @registry.module("incidents.autoclose", order=100)
    def autoclose(now: datetime) -> int:
        ...

A module advances every due row in bounded batches, each batch in one transaction, and returns how many rows it
moved. It must be idempotent: a crash before commit is simply redone next cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.module_loading import autodiscover_modules

ModuleFunc = Callable[[datetime], int]


@dataclass(frozen=True)
class Module:
    name: str
    order: int
    func: ModuleFunc


_modules: dict[str, Module] = {}


def module(name: str, *, order: int = 100) -> Callable[[ModuleFunc], ModuleFunc]:
    """Register ``func`` as engine module ``name``; lower ``order`` runs first in a cycle."""

    def wrap(func: ModuleFunc) -> ModuleFunc:
        _modules[name] = Module(name=name, order=order, func=func)
        return func

    return wrap


def unregister(name: str) -> None:
    _modules.pop(name, None)


def discover() -> None:
    """Import every installed app's ``engine`` module so its modules register."""
    autodiscover_modules("engine")


def modules() -> list[Module]:
    """Registered modules in run order."""
    return sorted(_modules.values(), key=lambda m: (m.order, m.name))
