"""The engine loop: every cycle runs each registered module in a fixed order.

On PostgreSQL each exclusive module (the default) runs under a session-level advisory lock, so when several
``warroom engine`` processes share one database it runs in one of them at a time; the others skip it this cycle.
A module registered with ``exclusive=False`` (``paging.escalate``, ``notify.send``) takes no advisory lock: every
engine runs it at once and they share its rows through ``FOR UPDATE SKIP LOCKED`` (ADR 0006).
On SQLite exactly one engine runs (inside ``warroom serve``).

A cycle waits for the next one until ``interval`` seconds after its start, unless a module returned
:class:`~warroom.engine.registry.More` (it stopped with due work left): then the next cycle starts at once, and the
modules before it in the order run first (``paging.escalate`` between two sending passes of ``notify.send``).

A module registered with ``every`` runs in a cycle only if no engine started it within that period: the cycle
claims the period by moving the ``last_started_at`` of the module's state row forward with a compare-and-set
(``_claim``), so of several engines one takes each period. Otherwise it is listed in ``not_due``.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import close_old_connections, connection
from django.db.models import F, Q
from django.urls import get_resolver

from warroom.engine import registry, wake
from warroom.engine.models import ModuleState
from warroom.lib import clock

log = logging.getLogger("warroom.engine")


@dataclass
class CycleReport:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    #: modules that stopped with due work left (returned :class:`~warroom.engine.registry.More`)
    more: list[str] = field(default_factory=list)
    #: modules with ``every`` that some engine started less than that period ago: left out this cycle
    not_due: list[str] = field(default_factory=list)


def _lock_key(name: str) -> int:
    return zlib.crc32(f"warroom.engine:{name}".encode()) & 0x7FFFFFFF


def _try_module_lock(name: str) -> bool:
    """Take the module's advisory lock (PostgreSQL); always True on SQLite, where one engine runs."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(name)])
        row = cursor.fetchone()
    return bool(row and row[0])


def _release_module_lock(name: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(name)])


def _record(name: str, **values: Any) -> None:
    """Update the module's state row; create it the first time (one query per run once it exists)."""
    if not ModuleState.objects.filter(name=name).update(**values):
        ModuleState.objects.get_or_create(name=name)
        ModuleState.objects.filter(name=name).update(**values)


def _claim(mod: registry.Module, started: datetime) -> bool:
    """Whether ``mod`` runs now: always without ``every``; with it, only if its last start is at least ``every``
    ago (or more than ``every`` ahead of ``started``: a clock set back, not the skew between two engines' clocks),
    which then moves to ``started`` in the same statement, so of several engines one takes each period.

    Not due is one statement, a write that changes nothing (as the record of an idle module is one write a
    cycle); due is two (the look that finds it due, the claim)."""
    if mod.every is None:
        return True
    state = ModuleState.objects.filter(name=mod.name)
    resting = Q(last_started_at__gt=started - mod.every, last_started_at__lte=started + mod.every)
    if state.filter(resting).update(last_started_at=F("last_started_at")):
        return False
    if state.exclude(resting).update(last_started_at=started):
        return True
    # no row yet (the module never ran), or another engine claimed the period between the two statements
    _state, created = ModuleState.objects.get_or_create(name=mod.name, defaults={"last_started_at": started})
    return created


def _run_module(mod: registry.Module, report: CycleReport, *, record_idle: bool = True) -> None:
    """Run ``mod`` once and record it in its ``ModuleState`` row (a run that moved nothing only if
    ``record_idle``: wake-up cycles skip that write, full cycles keep the row current)."""
    started = clock.now()
    locked = mod.exclusive
    if locked and not _try_module_lock(mod.name):
        report.skipped.append(mod.name)
        return
    try:
        if not _claim(mod, started):
            report.not_due.append(mod.name)
            return
        moved = mod.func(started)
    except Exception as exc:
        log.exception("engine module %s failed", mod.name)
        report.failed[mod.name] = f"{type(exc).__name__}: {exc}"
        _record(
            mod.name,
            last_started_at=started,
            last_error=report.failed[mod.name][:2000],
            last_error_at=clock.now(),
        )
        return
    finally:
        if locked:
            _release_module_lock(mod.name)
    report.ran.append(mod.name)
    report.items[mod.name] = int(moved)
    if isinstance(moved, registry.More):
        report.more.append(mod.name)
    if not moved and not record_idle:
        return
    _record(
        mod.name,
        last_started_at=started,
        last_finished_at=clock.now(),
        runs=F("runs") + 1,
        items=F("items") + int(moved),
    )


def run_cycle(*, woken: Collection[str] = ()) -> CycleReport:
    """Run every registered module once; or, for a wake-up naming the modules ``woken``, the modules registered
    with ``wake=True`` from the first one named, each next one only if it is named or the one before it moved
    something (a run that moved nothing is then not written to its state row). A failing module is logged and
    recorded; the others still run."""
    report = CycleReport()
    if not woken:
        for mod in registry.modules():
            _run_module(mod, report)
        return report
    carried = False
    for mod in registry.modules():
        if mod.wake and (carried or mod.name in woken):
            _run_module(mod, report, record_idle=False)
            carried = bool(report.items.get(mod.name)) or mod.name in report.failed
    return report


#: Seconds a wake-up waits for others to join it before its cycle (docs/adr/0009-writers-wake-the-engine.md).
WAKE_GATHER = 0.2


class Engine:
    """Runs a cycle of every module each ``interval`` seconds until stopped; in between, a wake-up
    (:mod:`warroom.engine.wake`) runs the modules registered with ``wake=True`` at once."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self.cycles = 0
        self.listener = wake.Listener()

    def stop(self) -> None:
        self._stop.set()

    def run_forever(self) -> None:
        with wake.suppressed():  # what a cycle creates is handled in this cycle or the next
            self._run()

    def _run(self) -> None:
        registry.discover()
        # Import the URL configuration now (seconds: it loads every API schema) rather than in the middle of the
        # first escalation step, which builds acknowledge links with reverse().
        get_resolver().url_patterns  # noqa: B018
        log.info("engine started: %s", ", ".join(m.name for m in registry.modules()) or "no modules")
        waking = {mod.name for mod in registry.modules() if mod.wake}
        full_at = time.monotonic()  # when the next cycle of every module is due
        woken: set[str] = set()
        while not self._stop.is_set():
            began = time.monotonic()
            full = not woken or began >= full_at
            if full:
                full_at = began + self.interval
            close_old_connections()
            more: list[str] = []
            try:
                report = run_cycle(woken=() if full else woken)
                more = report.more
                if report.failed:
                    log.warning("engine cycle had failures: %s", report.failed)
            except Exception:
                log.exception("engine cycle failed")
            self.cycles += 1
            if more:  # a module left due work: go on at once (with every module if one of the others did)
                woken = set(more) if all(name in waking for name in more) else set()
                continue
            # A wake-up waits a moment for others to join it, so a stream of events is taken in a few batches a
            # second rather than one small batch per notification.
            woken = self.listener.wait(max(0.0, full_at - time.monotonic()), self._stop, then=WAKE_GATHER)
        self.listener.close()
        connection.close()
        log.info("engine stopped after %d cycles", self.cycles)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="warroom-engine", daemon=True)
        thread.start()
        return thread
