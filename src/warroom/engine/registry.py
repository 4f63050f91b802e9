"""The module registry. An app registers its engine modules in its own ``engine.py``::

    @registry.module("incidents.autoclose", order=100)
    def autoclose(now: datetime) -> int:
        ...

A module advances every due row in bounded batches, each batch in one transaction, and returns how many rows it
moved. It must be idempotent: a crash before commit is simply redone next cycle. A module whose pass stops before
it has done everything due returns :class:`More`, and the next cycle starts at once.

By default a module is *exclusive*: on PostgreSQL the loop runs it under an advisory lock, so one engine process
runs it at a time. A module whose every batch takes its rows ``FOR UPDATE SKIP LOCKED`` (and whose effects are
keyed so that a redo changes nothing) may declare ``exclusive=False``: every engine then runs it at once, each
on the rows the others have not locked (docs/adr/0006-non-exclusive-engine-modules.md).

A module whose pass is costly and need not run every few seconds declares ``every`` (say a minute): a cycle then
runs it only if no engine started it within that period (claimed by a compare-and-set on its state row, so one
engine of several takes each period), and otherwise leaves it out (:attr:`~warroom.engine.loop.CycleReport.not_due`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.module_loading import autodiscover_modules

ModuleFunc = Callable[[datetime], int]


class More(int):
    """What a module returns when it stopped with due work left (its pass is bounded: so many batches, so many
    seconds): the rows it moved. The loop then starts its next cycle at once instead of waiting out the interval,
    so the modules before it get their turn before it carries on (escalation does not wait behind a long sending
    pass)."""

    __slots__ = ()


@dataclass(frozen=True)
class Module:
    name: str
    order: int
    func: ModuleFunc
    #: True: one engine at a time (advisory lock). False: safe for several engines at once.
    exclusive: bool = True
    #: True: also run when the engine is woken between cycles (``warroom.engine.wake``), not only every interval.
    wake: bool = False
    #: Run at most once per this period (across all engines); None: every cycle.
    every: timedelta | None = None


_modules: dict[str, Module] = {}


def module(
    name: str,
    *,
    order: int = 100,
    exclusive: bool = True,
    wake: bool = False,
    every: timedelta | None = None,
) -> Callable[[ModuleFunc], ModuleFunc]:
    """Register ``func`` as engine module ``name``; lower ``order`` runs first in a cycle. ``exclusive=False``
    declares it safe for several engines at once (its batches use ``FOR UPDATE SKIP LOCKED``). ``wake=True``:
    it also runs, with the other such modules, as soon as a writer wakes the engine (``warroom.engine.wake``).
    ``every``: it runs at most once per that period, whatever the number of engines and cycles."""

    def wrap(func: ModuleFunc) -> ModuleFunc:
        _modules[name] = Module(
            name=name, order=order, func=func, exclusive=exclusive, wake=wake, every=every
        )
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
