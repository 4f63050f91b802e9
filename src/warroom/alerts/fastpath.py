"""The intake fast path: the WSGI application in front of Django, and the group commit behind it.

:class:`IntakeDispatcher` is what granian serves (``warroom.wsgi:application``). A request for a view marked as
an intake view (:func:`warroom.alerts.intake.intake_view`: ``/v2/enqueue``, ``/integrations/<kind>[/<key>]``,
``/v2/alerts``...) is handed straight to that view, without Django's middleware stack; every other request goes
to Django as before. The view is the very function Django would call, so parsing, validation, answers, rate
limits and signatures are the same code; only where the rows are committed differs: the dispatcher installs a
:class:`GroupCommitter` as the view's ``COMMITTER``. (Django's ``request_started``/``request_finished`` signals
are not sent: they manage the request thread's database connections, and on this path the request thread has
none; all database work is the committer's.)

The group committer is one thread per process with its own database connection. Requests queue their
``(key, decide)`` work; the thread takes everything queued (up to ``max_batch`` requests; it waits at most
``gather`` seconds for requests of this process that are still being parsed and for as many as were recently in
flight at once) and runs each request's ``decide`` with the key objects it has cached (``decide`` hands over its
rows instead of writing them). Then it commits the batch: on PostgreSQL, when every key is cached and the rows
are a few intake events, with one statement that checks the keys and inserts the rows of the requests whose key
is unchanged (:class:`_OneStatement`); otherwise in one transaction that reads every key of the batch with one
query, loads afresh and decides again where a key changed, inserts all rows with one statement per model, and
commits. Only then are the waiting requests woken with their outcome. If the commit fails, nothing of it is
stored and every request of it is answered 503 with ``Retry-After``: nothing answered 2xx is ever lost, and
nothing is half written.

Keys: the batch's one query reads each key's ``revoked_at`` with the versions of the rows ``decide`` depends on
(its integration, service and team: PostgreSQL's ``xmin``, which changes with every update of a row; on SQLite
the rows themselves). A key that is unknown or revoked is refused at once (404), exactly as
:func:`~warroom.alerts.services.authenticate_key` would. An active key is served from a per-process cache of the
model objects ``decide`` needs only when the versions just read are those the cached objects were loaded at;
otherwise ``authenticate_key`` loads it afresh (after the versions were read, so a cache entry is never newer
than its versions). So revocation and every change of the integration (signing secret, field mapping, rate,
kind) take effect with the next batch, and the look-up stays one small indexed query per batch.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from django.core.handlers.wsgi import WSGIRequest
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.urls import Resolver404, ResolverMatch, resolve

from warroom.alerts import intake
from warroom.alerts import urls as intake_urls
from warroom.alerts.models import IntakeEvent, IntegrationKey
from warroom.alerts.services import TOUCH_EVERY, authenticate_key
from warroom.engine import wake
from warroom.lib import bulk, clock, tokens

log = logging.getLogger("warroom.alerts.fastpath")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_BATCH = 128  # requests per group commit (an Alertmanager request may carry hundreds of alerts)
GATHER = 0.002  # seconds a batch may wait for requests of this process that are still being parsed
WAIT_TIMEOUT = 30.0  # seconds a request waits for its commit before it answers 503 (senders retry)
KEY_CACHE_MAX = 10_000
STATS_EVERY = 60.0  # seconds between the batching statistics in the log (GroupCommitter._count)


#: What the database raises for the values of some rows (a value out of range, a constraint): a request's
#: fault, not an outage. Django wraps its own cursors' errors; the one-statement commit's cursor is psycopg's.
REFUSED_DATA: tuple[type[Exception], ...] = (DataError, psycopg.DataError)
REFUSED_ROWS: tuple[type[Exception], ...] = (*REFUSED_DATA, IntegrityError, psycopg.IntegrityError)


class Unavailable(Exception):
    """The request's batch did not commit (or not in time): nothing of it is stored; the sender retries."""


# ---------------------------------------------------------------------------------------------------------------
# keys


@dataclass
class _CachedKey:
    versions: tuple[Any, ...]
    key: IntegrationKey


class KeyLookup:
    """Authenticates every key of a batch with one query (see the module docstring). Used by one thread."""

    def __init__(self) -> None:
        self._cache: dict[str, _CachedKey] = {}
        self._sql: dict[int, str] = {}

    def cached(self, digest: str) -> _CachedKey | None:
        """The key objects last loaded for ``digest`` and the row versions they were loaded at."""
        return self._cache.get(digest)

    def versions(self, digests: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """digest → (revoked_at, *versions) for the keys of ``digests`` that exist: one query."""
        return self._rows(sorted(set(digests)))

    def check(
        self, secret: str, digest: str, row: tuple[Any, ...] | None, now: datetime
    ) -> IntegrationKey | None:
        """The active key ``secret`` stands for, given its ``row`` as :meth:`versions` just read it (inside the
        caller's transaction): the cached objects if the versions are theirs, else loaded afresh."""
        if row is None or row[0] is not None:  # unknown, or revoked
            self._cache.pop(digest, None)
            return None
        versions = row[1:]
        cached = self._cache.get(digest)
        if cached is not None and cached.versions == versions:
            _touch(cached.key, now)
            return cached.key
        fresh = authenticate_key(secret)  # the full check; it touches last_used_at itself
        if fresh is None:
            self._cache.pop(digest, None)
            return None
        if len(self._cache) >= KEY_CACHE_MAX:
            self._cache.clear()
        self._cache[digest] = _CachedKey(versions, fresh)
        return fresh

    def _rows(self, digests: list[str]) -> dict[str, tuple[Any, ...]]:
        """digest → (revoked_at, *versions) for the keys that exist."""
        if not digests:
            return {}
        if bulk.postgres():
            sql = self._sql.get(0) or self._sql.setdefault(0, self._build_sql(0))
            # A server-side binding cursor: one statement for any number of keys, prepared after a few batches.
            with psycopg.Cursor(bulk.raw_connection(prepare=True)) as raw:
                raw.execute(sql, [digests])
                return {row[0]: tuple(row[1:]) for row in raw.fetchall()}
        sql = self._sql.get(len(digests)) or self._sql.setdefault(len(digests), self._build_sql(len(digests)))
        with connection.cursor() as cursor:
            cursor.execute(sql, digests)
            return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}

    def _build_sql(self, count: int) -> str:
        """``SELECT k.digest, k.revoked_at, <versions> FROM <key, integration, service, team> WHERE k.digest ...``.

        The versions are the integration's, service's and team's ``xmin`` on PostgreSQL (``= ANY(%s)``, ``count``
        0), their rows and the key's without ``last_used_at`` elsewhere (``IN`` with ``count`` placeholders). Of
        the key's row only ``revoked_at`` can change what the key may do; ``last_used_at`` changes every minute
        (the touch that changes it is ours)."""
        quote = connection.ops.quote_name
        postgres = bulk.postgres()
        chain = [("i", "integration"), ("s", "service"), ("t", "team")]
        model: type[models.Model] = IntegrationKey
        digest = quote(bulk.column(IntegrationKey._meta.get_field("digest")))
        columns = [f"k.{digest}", f"k.{quote(bulk.column(IntegrationKey._meta.get_field('revoked_at')))}"]
        joins = [f"{quote(IntegrationKey._meta.db_table)} k"]
        alias = "k"
        while True:
            if postgres:
                if model is not IntegrationKey:
                    columns.append(f"{alias}.xmin::text")
            else:
                columns += [
                    f"{alias}.{quote(bulk.column(f))}"
                    for f in model._meta.concrete_fields
                    if not (model is IntegrationKey and f.attname == "last_used_at")
                ]
            if not chain:
                break
            child, name = chain.pop(0)
            link = model._meta.get_field(name)
            target = link.related_model
            assert isinstance(link, models.ForeignKey) and isinstance(target, type)
            joins.append(
                f"JOIN {quote(target._meta.db_table)} {child} "
                f"ON {child}.{quote(bulk.column(target._meta.pk))} = {alias}.{quote(bulk.column(link))}"
            )
            model, alias = target, child
        where = f"k.{digest} = ANY(%s)" if postgres else f"k.{digest} IN ({', '.join(['%s'] * count)})"
        # Only model table and column names (quoted) and placeholders: no value is formatted into the SQL.
        return f"SELECT {', '.join(columns)} FROM {' '.join(joins)} WHERE {where}"  # noqa: S608


def _stale(key: IntegrationKey, now: datetime) -> bool:
    return key.last_used_at is None or key.last_used_at <= now - TOUCH_EVERY


def _touch(key: IntegrationKey, now: datetime) -> None:
    """Keep ``last_used_at`` within a minute, as :func:`~warroom.alerts.services.authenticate_key` does."""
    if _stale(key, now):
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_EVERY)
        IntegrationKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# ---------------------------------------------------------------------------------------------------------------
# the group commit


@dataclass(eq=False)
class _Request:
    secret: str
    key_field: str
    decide: intake.Decide
    done: threading.Lock = field(default_factory=threading.Lock)
    digest: str = ""
    key: IntegrationKey | None = None  # the key ``outcome`` and ``rows`` were decided with
    rows: intake.Rows = field(default_factory=list)
    outcome: intake.Outcome | None = None
    error: BaseException | None = None


class GroupCommitter:
    """An :data:`~warroom.alerts.intake.Committer` that commits concurrent requests together (module docstring).

    Call it from any thread; it starts its own thread on first use in each process (after granian forked the
    worker, never before). ``threaded=False`` commits each request at once in the caller's thread and
    transaction instead, through the same code (the test suite runs the intake tests so)."""

    def __init__(
        self,
        *,
        max_batch: int = MAX_BATCH,
        gather: float = GATHER,
        wait_timeout: float = WAIT_TIMEOUT,
        threaded: bool = True,
    ) -> None:
        self.max_batch = max_batch
        self.gather = gather
        self.wait_timeout = wait_timeout
        self.threaded = threaded
        self.keys = KeyLookup()
        self._one_statement = _OneStatement()
        self._wake = wake.Throttle(intake.PROCESS)  # used by the committing thread only
        self._cond = threading.Condition()
        self._pending: list[_Request | None] = []  # None: stop (see close)
        self._arriving = 0  # requests of this process between expect() and their submission
        self._local = threading.local()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._batches, self._requests, self._since = 0, 0, time.monotonic()
        self._committing = 0  # requests in the batch being committed
        self._peak, self._peak_before, self._peak_since = 0, 0, time.monotonic()

    # -- the request side

    def expect(self) -> None:
        """This thread is about to parse a request that will probably be submitted: a batch about to be taken
        may wait for it (briefly). Undone by the submission or by :meth:`expected_done`."""
        with self._cond:
            self._arriving += 1
        self._local.expected = True

    def expected_done(self) -> None:
        """The request announced by :meth:`expect` is answered (submitted or not)."""
        if getattr(self._local, "expected", False):
            self._local.expected = False
            with self._cond:
                self._arriving -= 1
                self._cond.notify()

    def __call__(self, secret: str, key_field: str, decide: intake.Decide) -> intake.Outcome:
        """Queue one request's work and wait until its batch has committed; raise :class:`Unavailable` if it
        did not."""
        request = _Request(secret, key_field, decide)
        request.done.acquire()
        if not self.threaded:
            self.commit([request])
        else:
            self._ensure_thread()
            expected = getattr(self._local, "expected", False)
            self._local.expected = False
            with self._cond:
                self._pending.append(request)
                if expected:
                    self._arriving -= 1
                self._note_in_flight(len(self._pending) + self._committing)
                self._cond.notify()
            if not request.done.acquire(timeout=self.wait_timeout):
                raise Unavailable("the intake database did not commit in time")
        if request.error is not None:
            raise request.error
        assert request.outcome is not None
        return request.outcome

    def _note_in_flight(self, count: int) -> None:
        """Remember the most requests in flight at once over the last second or so (under ``_cond``)."""
        now = time.monotonic()
        if now - self._peak_since >= 0.5:
            self._peak_before, self._peak, self._peak_since = self._peak, 0, now
        self._peak = max(self._peak, count)

    def close(self, timeout: float = 10.0) -> None:
        """Let the committing thread finish what is queued, close its connection and stop."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return
        with self._cond:
            self._pending.append(None)
            self._cond.notify()
        thread.join(timeout)

    # -- the committing thread

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._cond:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid():  # a forked child: the parent's state is not ours
                self._pending, self._arriving = [], 0
                self.keys = KeyLookup()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="warroom-intake-commit", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                batch = self._take()
                if batch:
                    self.commit(batch)
                elif self._wake.due() == 0:
                    self._wake.send()  # the last events of a burst: wake the engine for them too
                if len(batch) < self.max_batch and self._stopping():
                    return
        finally:
            _close_quietly()

    def _stopping(self) -> bool:
        with self._cond:
            if self._pending and self._pending[0] is None:
                self._pending.pop(0)
                return True
            return False

    def _take(self) -> list[_Request]:
        with self._cond:
            while not self._pending:
                owed = self._wake.due()
                if owed == 0:
                    return []  # nothing to commit, but the engine is owed a wake-up
                self._cond.wait(owed)
            # Wait (briefly) for the requests this process is parsing, and for as many as were recently in
            # flight at once: senders whose previous request was just answered are about to send the next.
            deadline = time.monotonic() + self.gather
            want = min(self.max_batch, max(self._peak, self._peak_before))
            while (self._arriving > 0 or len(self._pending) < want) and None not in self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or len(self._pending) >= self.max_batch:
                    break
                self._cond.wait(left)
            batch: list[_Request] = []
            while self._pending and self._pending[0] is not None and len(batch) < self.max_batch:
                request = self._pending.pop(0)
                assert request is not None
                batch.append(request)
            self._committing = len(batch)
            return batch

    def commit(self, batch: list[_Request]) -> None:
        """Commit ``batch`` in one transaction, then wake every request of it (with 503 if it failed).

        A batch whose rows the database refuses (:data:`REFUSED_ROWS`) is committed again one request at a time
        (nothing of the failed attempt is stored: it was one statement, or one transaction), so the request at
        fault fails alone (400, nothing stored) instead of every sender that shared its batch. Any other failure
        (the database unreachable, a full disk) fails the batch with 503: retrying each request would only wait
        on the same outage once per request."""
        try:
            try:
                self._commit(batch)
            except REFUSED_ROWS as exc:
                if len(batch) == 1:
                    self._failed(batch, exc)
                else:
                    log.warning(
                        "intake group commit of %d requests refused (%s: %s): committing them one by one",
                        len(batch),
                        type(exc).__name__,
                        exc,
                    )
                    for request in batch:
                        try:
                            self._commit([request])
                        except Exception as alone:
                            self._failed([request], alone)
            except Exception as exc:  # the database is unavailable: the whole batch is answered 503
                self._failed(batch, exc)
            if bulk.postgres() and any(
                intake.wakes_engine(model, rows)
                for request in batch
                if request.error is None
                for model, rows in request.rows
            ):
                self._wake.committed()
        except Exception as exc:  # waking the engine failed: the events are committed, it will find them
            log.warning("waking the engine after an intake commit failed: %s: %s", type(exc).__name__, exc)
        finally:
            with self._cond:
                self._committing = 0
            for request in batch:
                request.done.release()
            self._count(len(batch))

    def _failed(self, batch: list[_Request], exc: Exception) -> None:
        log.warning("intake group commit of %d requests failed: %s: %s", len(batch), type(exc).__name__, exc)
        # This one request's values: sending it again would not help, so it is a 400, not a 503.
        if len(batch) == 1 and isinstance(exc, REFUSED_DATA):
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            batch[0].outcome = intake.Outcome(400, [("body", f"the database refused the event: {reason}")])
            batch[0].error = None
            return
        if self.threaded:  # the connection is ours: start afresh with the next batch
            _close_quietly()
        for request in batch:
            request.outcome = None
            request.error = Unavailable(f"the events were not stored ({type(exc).__name__}); retry")

    def _count(self, size: int) -> None:
        """Log how well requests are batched, once a minute while there is traffic (INFO)."""
        self._batches += 1
        self._requests += size
        now = time.monotonic()
        if now - self._since >= STATS_EVERY:
            log.info(
                "intake group commit: %d requests in %d batches (%.1f per batch) in the last %.0f s",
                self._requests,
                self._batches,
                self._requests / self._batches,
                now - self._since,
            )
            self._batches, self._requests, self._since = 0, 0, now

    def _commit(self, batch: list[_Request]) -> None:
        """Decide each request with its cached key, then commit: in one statement when the batch allows it
        (PostgreSQL), else in a transaction that checks every key first."""
        now = clock.now()
        for request in batch:
            request.digest = tokens.digest(request.secret)
            cached = self.keys.cached(request.digest)
            if cached is not None:
                self._decide(request, cached.key)
        if bulk.postgres() and self._in_one_statement(batch, now):
            return
        self._in_a_transaction(batch, now)

    def _decide(self, request: _Request, key: IntegrationKey) -> None:
        request.key, request.rows, request.outcome, request.error = key, [], None, None
        token = intake.ROW_SINK.set(request.rows)
        try:
            request.outcome = request.decide(key)
        except Exception as exc:  # a bug in one request's handling fails that request only
            log.exception("intake request failed")
            request.error, request.rows = exc, []
        finally:
            intake.ROW_SINK.reset(token)

    def _in_a_transaction(self, batch: list[_Request], now: datetime) -> None:
        """Read every key's versions, decide again where a key is not the cached one any more (or was not
        cached), write every row and commit."""
        with transaction.atomic():
            rows = self.keys.versions(request.digest for request in batch)
            for request in batch:
                key = self.keys.check(request.secret, request.digest, rows.get(request.digest), now)
                if key is None:
                    request.key, request.rows, request.error = None, [], None
                    request.outcome = intake.unknown_key(request.key_field)
                elif key is not request.key:
                    self._decide(request, key)
            self._write(_by_model(batch))

    def _in_one_statement(self, batch: list[_Request], now: datetime) -> bool:
        """One statement that checks the versions of the batch's keys, inserts the rows of the requests whose
        key is unchanged and commits (it runs in autocommit mode); requests whose key changed are done again in
        a transaction. Only for a batch whose keys are all cached and touched within the minute, and whose rows
        are a few intake events; returns False (nothing done) for any other."""
        keys: dict[int, tuple[Any, ...]] = {}
        for request in batch:
            cached = self.keys.cached(request.digest)
            if request.key is None or cached is None or _stale(request.key, now):
                return False
            keys[request.key.pk] = cached.versions
        rows = _by_model(batch)
        events = rows.get(IntakeEvent, [])
        if set(rows) - {IntakeEvent} or not events or len(events) > bulk.MULTIROW_MAX:
            return False
        valid = self._one_statement.run(keys, events)
        changed = [request for request in batch if request.key is not None and request.key.pk not in valid]
        if changed:
            try:
                self._in_a_transaction(changed, now)
            except Exception as exc:  # the others' rows are committed: only these failed
                self._failed(changed, exc)
        return True

    def _write(self, rows: dict[type[models.Model], list[Any]]) -> None:
        """One statement per model for the whole batch (see :mod:`warroom.lib.bulk`)."""
        for model, written in rows.items():
            bulk.insert(model, written)


def _by_model(batch: list[_Request]) -> dict[type[models.Model], list[Any]]:
    rows: dict[type[models.Model], list[Any]] = {}
    for request in batch:
        for model, written in request.rows:
            rows.setdefault(model, []).extend(written)
    return rows


class _OneStatement:
    """PostgreSQL: ``WITH ok AS (<the keys whose rows still have the given versions>), ins AS (INSERT <the
    events of those keys>) SELECT id FROM ok``: one prepared statement whatever the number of rows, which travel
    as one binary array per column (``unnest``), as :func:`warroom.lib.bulk.insert_values` sends them."""

    def __init__(self) -> None:
        self._sql = ""
        self._fields: list[Any] = []
        self._key_column = -1
        self._preparers: list[Callable[[IntakeEvent], Any]] = []

    def _prepare(self, wrapper: Any) -> list[Callable[[IntakeEvent], Any]]:
        """Per column, how an event's value goes to the database (:func:`warroom.lib.bulk.preparer`: as
        ``bulk_create`` would, with its short cuts for plain values and JSON already encoded)."""
        if not self._preparers:
            self._preparers = [bulk.preparer(f, wrapper) for f in self._fields]
        return self._preparers

    def run(self, keys: dict[int, tuple[Any, ...]], events: list[IntakeEvent]) -> set[int]:
        """Insert ``events`` of the keys in ``keys`` (key id → versions) still at those versions and not
        revoked; returns the ids of those keys."""
        sql = self._sql or self._build()
        ids = list(keys)
        columns = list(zip(*(keys[key] for key in ids), strict=True))
        params: list[Any] = [ids, *(list(column) for column in columns)]
        wrapper = bulk.db()
        params += [[prepare(event) for event in events] for prepare in self._prepare(wrapper)]
        with psycopg.Cursor(bulk.raw_connection(prepare=True)) as raw:
            raw.execute(sql, params)
            return {row[0] for row in raw.fetchall()}

    def _build(self) -> str:
        quote = connection.ops.quote_name
        if not self._fields:
            self._fields = [
                f
                for f in IntakeEvent._meta.concrete_fields
                if not f.primary_key and not getattr(f, "generated", False)
            ]
            self._key_column = [f.attname for f in self._fields].index("key_id")
        key: Any = IntegrationKey._meta
        integration: Any = key.get_field("integration").related_model._meta
        service: Any = integration.get_field("service").related_model._meta
        team: Any = service.get_field("team").related_model._meta

        def name(opts: Any, field_name: str) -> str:
            return quote(bulk.column(opts.get_field(field_name)))

        def pk(opts: Any) -> str:
            return quote(bulk.column(opts.pk))

        tables = [
            f"{quote(key.db_table)} k",
            f"JOIN {quote(integration.db_table)} i ON i.{pk(integration)} = k.{name(key, 'integration')}",
            f"JOIN {quote(service.db_table)} s ON s.{pk(service)} = i.{name(integration, 'service')}",
            f"JOIN {quote(team.db_table)} t ON t.{pk(team)} = s.{name(service, 'team')}",
            "JOIN unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS v(id, ix, sx, tx)",
            f"ON v.id = k.{pk(key)} AND v.ix = i.xmin::text AND v.sx = s.xmin::text AND v.tx = t.xmin::text",
        ]
        revoked = name(key, "revoked_at")
        check = f"SELECT k.{pk(key)} AS id FROM {' '.join(tables)} WHERE k.{revoked} IS NULL"  # noqa: S608
        aliases = [f"c{index}" for index in range(len(self._fields))]
        arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in self._fields)
        columns = ", ".join(quote(bulk.column(f)) for f in self._fields)
        target = f"{quote(IntakeEvent._meta.db_table)} ({columns})"
        rows = f"unnest({arrays}) AS r({', '.join(aliases)})"
        picked = ", ".join("r." + alias for alias in aliases)
        keyed = f"r.{aliases[self._key_column]} IN (SELECT id FROM ok)"  # noqa: S608
        insert = f"INSERT INTO {target} SELECT {picked} FROM {rows} WHERE {keyed}"  # noqa: S608
        # Only model table and column names (quoted), types and placeholders: no value is formatted into the SQL.
        self._sql = f"WITH ok AS ({check}), ins AS ({insert}) SELECT id FROM ok"  # noqa: S608
        return self._sql


def _close_quietly() -> None:
    try:
        connection.close()
    except Exception:  # a broken connection may fail to close; the next batch opens a new one
        log.debug("closing the intake connection failed", exc_info=True)


# ---------------------------------------------------------------------------------------------------------------
# the dispatcher


#: a first path segment the intake shares with the REST API (``/api/v1/``): its intake URLs are matched whole
SHARED_FIRST = "api"


def _intake_prefixes() -> tuple[str, ...]:
    """The first path segments of the intake URLs (``/v2/``, ``/integrations/``), and the whole path of those
    under ``/api/`` (GoAlert's ``/api/v2/generic/incoming``), so REST API requests are never resolved here."""
    prefixes = set()
    for pattern in intake_urls.urlpatterns:
        text = str(pattern.pattern)
        first = text.split("/", 1)[0]
        if first == SHARED_FIRST:
            prefixes.add(f"/{text}")
        elif first:
            prefixes.add(f"/{first}/")
    return tuple(sorted(prefixes))


def _unavailable(message: str) -> HttpResponse:
    response = intake.json_response(
        {"status": "error", "message": message, "detail": message, "code": "unavailable", "errors": []},
        status=503,
    )
    response["Retry-After"] = "1"
    return response


def _server_error() -> HttpResponse:
    message = "the server failed to handle the request; nothing was stored"
    return intake.json_response(
        {"status": "error", "message": message, "detail": message, "code": "error"}, status=500
    )


class IntakeDispatcher:
    """The WSGI application granian serves: intake views with the group commit, everything else Django."""

    def __init__(self, django_app: WSGIApp, committer: intake.Committer | None = None) -> None:
        self.django_app = django_app
        self.committer: intake.Committer = committer if committer is not None else GroupCommitter()
        self.prefixes = _intake_prefixes()
        self._matches: dict[str, ResolverMatch] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.prefixes):
            return self.django_app(environ, start_response)
        response = self.handle(environ)
        if response is None:
            return self.django_app(environ, start_response)
        content = response.content
        if not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(content))
        start_response(f"{response.status_code} {response.reason_phrase}", [*response.items()])
        return [content]

    def _resolve(self, path: str) -> ResolverMatch | None:
        """The URL match of an intake view for ``path``, or None. Matches without arguments (no key in the path)
        are remembered: most intake traffic goes to a handful of such paths."""
        match = self._matches.get(path)
        if match is not None:
            return match
        try:
            match = resolve(path)
        except Resolver404:
            return None
        if not getattr(match.func, "intake_fast_path", False):
            return None
        if not match.args and not match.kwargs and len(self._matches) < 100:
            self._matches[path] = match
        return match

    def handle(self, environ: dict[str, Any]) -> HttpResponse | None:
        """The intake view's response to this request, or None when the path is not an intake view's."""
        request = WSGIRequest(environ)
        match = self._resolve(request.path_info)
        if match is None:
            return None
        committer = self.committer
        group = committer if isinstance(committer, GroupCommitter) else None
        if group is not None and request.method == "POST":
            group.expect()
        token = intake.COMMITTER.set(committer)
        try:
            response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        except Unavailable as exc:
            response = _unavailable(str(exc))
        except Exception:
            log.exception("intake %s %s failed", request.method, intake.redacted(request.path))
            response = _server_error()
        finally:
            intake.COMMITTER.reset(token)
            if group is not None:
                group.expected_done()
        if response.status_code >= 500:
            log.warning(
                "intake %s %s -> %d", request.method, intake.redacted(request.path), response.status_code
            )
        request.close()
        return response
