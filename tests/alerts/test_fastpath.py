"""The intake fast path's own behaviour: what the dispatcher takes and what it leaves to Django, and the group
commit (requests of one batch answered only after its commit; a failed batch answers 503 to all its requests
and stores nothing; keys checked against the database with every batch). The answers themselves are the intake
tests' business: they all run through the fast path too (test_fastpath_parity.py)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import DataError, OperationalError, connection, connections

from tests.alerts.conftest import Hooked, make_integration, pd_trigger
from tests.conftest import World, make_world
from warroom.alerts import services
from warroom.alerts.fastpath import GroupCommitter, IntakeDispatcher, Unavailable, _Request
from warroom.alerts.models import IntakeEvent, Integration

Answer = tuple[int, dict[str, str], bytes]


def wsgi(app: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": (headers or {}).get("Content-Type", "application/json"),
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
        **{
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in (headers or {}).items()
            if name != "Content-Type"
        },
    }
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        started.update(status=int(status.split()[0]), headers=dict(response_headers))

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return started["status"], started["headers"], content


class DjangoStandIn:
    """Records what the dispatcher hands on to Django."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.paths.append(environ["PATH_INFO"])
        start_response("299 Django", [("Content-Type", "text/plain")])
        return [b"django"]


def test_the_dispatcher_takes_intake_views_and_leaves_every_other_path_to_django() -> None:
    django = DjangoStandIn()
    app = IntakeDispatcher(django, GroupCommitter(threaded=False))
    others = [
        ("GET", "/healthz"),
        ("GET", "/api/v1/incidents"),
        ("POST", "/api/v1/incidents"),
        ("GET", "/"),
        ("GET", "/static/web/app.css"),
        ("POST", "/v2/enqueue/"),  # no intake view has this path: Django decides (404 or a redirect)
        ("POST", "/v2/nothing"),
        ("GET", "/integrations/heartbeat/wr_ik_x"),  # the heartbeat views are Django's (not intake views)
        ("POST", "/integrations/heartbeat"),
    ]
    for method, path in others:
        assert wsgi(app, method, path)[0] == 299, path
    assert django.paths == [path for _, path in others]
    # Intake views answer themselves, here without touching the database: wrong media type, wrong method.
    wrong_type = {"Content-Type": "text/plain"}
    assert wsgi(app, "POST", "/v2/enqueue", b"x", wrong_type)[0] == 415
    assert wsgi(app, "GET", "/integrations/alertmanager/wr_ik_secret")[0] == 405
    assert wsgi(app, "GET", "/v2/alerts")[0] == 405
    assert len(django.paths) == len(others)


# ---------------------------------------------------------------------------------------------------------------
# the group commit, with its thread and its own database connection


class Holding(GroupCommitter):
    """Takes a batch only once ``size`` requests are queued (so a test knows what one batch holds), records the
    batches, and runs ``before_write`` inside the batch's transaction."""

    def __init__(self, size: int, before_write: Callable[[int], None] | None = None) -> None:
        super().__init__(gather=0)
        self.size = size
        self.before_write = before_write
        self.batches: list[int] = []

    def _take(self) -> list[_Request]:
        with self._cond:
            self._cond.wait_for(lambda: len(self._pending) >= self.size or None in self._pending, timeout=20)
        return super()._take()

    def commit(self, batch: list[_Request]) -> None:
        self.batches.append(len(batch))
        super().commit(batch)

    def _write(self, rows: dict[type, list[Any]]) -> None:
        if self.before_write is not None:
            self.before_write(len(self.batches))
        super()._write(rows)


@pytest.fixture
def committed_world(
    django_db_serialized_rollback: None, transactional_db: None
) -> Iterator[tuple[World, Hooked]]:
    world = make_world()
    yield world, make_integration(world, "pagerduty", rate_limit_per_minute=0)


def _concurrently(count: int, send: Callable[[int], Answer]) -> list[Answer]:
    answers: list[Answer | BaseException] = [RuntimeError("no answer")] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            answers[index] = send(index)
        except BaseException as exc:
            answers[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    failures = [answer for answer in answers if isinstance(answer, BaseException)]
    assert not failures, failures
    return [answer for answer in answers if not isinstance(answer, BaseException)]


def _stored(dedup_key: str) -> bool:
    """Whether the event is committed: read on a connection of this thread's own, outside any transaction."""
    return IntakeEvent.objects.filter(dedup_key=dedup_key).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_requests_are_committed_together_and_answered_only_after_the_commit(
    committed_world: tuple[World, Hooked],
) -> None:
    _, pd = committed_world
    committer = Holding(size=6)
    app = IntakeDispatcher(DjangoStandIn(), committer)

    def send(index: int) -> Answer:
        answer = wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, f"together/{index}"))
        # Answered 202: the event must already be visible to any other connection.
        assert answer[0] == 202 and _stored(f"together/{index}"), answer
        return answer

    try:
        answers = _concurrently(6, send)
    finally:
        committer.close()
    assert committer.batches == [6]
    assert [json.loads(body)["dedup_key"] for _, _, body in answers] == [f"together/{n}" for n in range(6)]
    assert all(headers["Content-Length"] == str(len(body)) for _, headers, body in answers)
    assert IntakeEvent.objects.filter(status="pending").count() == 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_that_fails_answers_503_to_all_its_requests_and_stores_none_of_them(
    committed_world: tuple[World, Hooked],
) -> None:
    _, pd = committed_world

    def fail_first(batch_number: int) -> None:
        if batch_number == 1:
            raise OperationalError("the disk is full")

    committer = Holding(size=4, before_write=fail_first)
    app = IntakeDispatcher(DjangoStandIn(), committer)
    try:
        answers = _concurrently(
            4, lambda n: wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, f"lost/{n}"))
        )
        assert [status for status, _, _ in answers] == [503] * 4
        assert all(headers["Retry-After"] == "1" for _, headers, _ in answers)
        assert all(json.loads(body)["code"] == "unavailable" for _, _, body in answers)
        assert not IntakeEvent.objects.exists()  # nothing half written
        # The next batch commits as usual (on a fresh connection).
        committer.size = 1
        status, _, _ = wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "after"))
        assert status == 202
    finally:
        committer.close()
    assert committer.batches == [4, 1]
    assert list(IntakeEvent.objects.values_list("dedup_key", flat=True)) == ["after"]


class Refusing(Holding):
    """The database refuses the rows of any transaction that holds the event ``poison``, as PostgreSQL refuses a
    value out of range (the tests turn the one-statement commit off, so every batch writes through here)."""

    def _write(self, rows: dict[type, list[Any]]) -> None:
        if any(getattr(row, "dedup_key", "") == "poison" for row in rows.get(IntakeEvent, [])):
            raise DataError("value out of range")
        super()._write(rows)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_whose_rows_the_database_refuses_fails_alone_and_its_batch_is_committed(
    committed_world: tuple[World, Hooked],
) -> None:
    """One sender's bad event must not fail the others that shared its batch: the batch is committed again one
    request at a time; the bad one gets a 400 that says why (sending it again would not help), the rest 202."""
    _, pd = committed_world
    committer = Refusing(size=4)
    committer._in_one_statement = lambda batch, now: False  # type: ignore[method-assign]  # every batch writes
    app = IntakeDispatcher(DjangoStandIn(), committer)
    keys = ["good/0", "good/1", "poison", "good/2"]
    try:
        answers = _concurrently(4, lambda n: wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, keys[n])))
    finally:
        committer.close()
    assert committer.batches == [4]
    by_key = dict(zip(keys, answers, strict=True))
    assert by_key["poison"][0] == 400
    assert "the database refused the event: value out of range" in json.loads(by_key["poison"][2])["errors"]
    assert [by_key[key][0] for key in keys if key != "poison"] == [202] * 3
    assert sorted(IntakeEvent.objects.values_list("dedup_key", flat=True)) == ["good/0", "good/1", "good/2"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lost_database_connection_fails_its_batch_with_503_and_the_next_batch_reconnects(
    committed_world: tuple[World, Hooked],
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("ends the committer's PostgreSQL session from the server side")
    _, pd = committed_world

    def drop_connection(batch_number: int) -> None:
        if batch_number == 1:
            pid = connection.connection.info.backend_pid  # the committer thread's own session
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            finally:
                other.close()

    committer = Holding(size=3, before_write=drop_connection)
    app = IntakeDispatcher(DjangoStandIn(), committer)
    try:
        answers = _concurrently(3, lambda n: wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, f"cut/{n}")))
        assert [status for status, _, _ in answers] == [503] * 3
        committer.size = 1
        assert wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "reconnected"))[0] == 202
    finally:
        committer.close()
    assert list(IntakeEvent.objects.values_list("dedup_key", flat=True)) == ["reconnected"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_single_statement_commit_answers_503_to_its_whole_batch(
    committed_world: tuple[World, Hooked],
) -> None:
    """PostgreSQL, keys cached: the batch is checked and inserted with one statement. If it fails, nothing of
    the batch is stored and all of it is answered 503."""
    if connection.vendor != "postgresql":
        pytest.skip("the single-statement commit is PostgreSQL's")
    _, pd = committed_world
    committer = Holding(size=1)
    app = IntakeDispatcher(DjangoStandIn(), committer)
    statement = committer._one_statement
    real_run = statement.run
    calls: list[int] = []

    def failing_once(keys: Any, events: Any) -> Any:
        calls.append(len(events))
        if len(calls) == 1:
            raise OperationalError("could not write to the WAL")
        return real_run(keys, events)

    try:
        assert wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "warm"))[0] == 202  # caches the key
        statement.run = failing_once  # type: ignore[method-assign]
        committer.size = 3
        answers = _concurrently(3, lambda n: wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, f"one/{n}")))
        assert [status for status, _, _ in answers] == [503] * 3
        committer.size = 1
        assert wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "again"))[0] == 202
    finally:
        committer.close()
    assert calls == [3, 1]
    assert sorted(IntakeEvent.objects.values_list("dedup_key", flat=True)) == ["again", "warm"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_revoked_key_is_refused_by_the_next_batch_although_it_was_cached(
    committed_world: tuple[World, Hooked],
) -> None:
    world, pd = committed_world
    committer = GroupCommitter()
    app = IntakeDispatcher(DjangoStandIn(), committer)
    try:
        assert wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "before"))[0] == 202
        assert wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "cached"))[0] == 202
        key = pd.integration.keys.get()
        services.revoke_integration_key(key=key, actor=world.alice, source="test")
        status, _, body = wsgi(app, "POST", "/v2/enqueue", pd_trigger(pd.key, "after"))
    finally:
        committer.close()
    assert status == 404 and json.loads(body)["message"] == "Unknown or revoked integration key"
    assert sorted(IntakeEvent.objects.values_list("dedup_key", flat=True)) == ["before", "cached"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_of_the_integration_applies_to_the_next_batch(committed_world: tuple[World, Hooked]) -> None:
    world, _ = committed_world
    hook = make_integration(world, "webhook", rate_limit_per_minute=0)
    committer = GroupCommitter()
    app = IntakeDispatcher(DjangoStandIn(), committer)
    body = {"summary": "Disk full", "dedup_key": "disk"}
    bearer = {"Authorization": f"Bearer {hook.key}"}
    try:
        assert wsgi(app, "POST", "/integrations/webhook", body, bearer)[0] == 202
        # Signing is switched on: the cached integration must not be used any more.
        Integration.objects.filter(pk=hook.integration.pk).update(signing_secret="s3cret-s3cret")
        status, _, answer = wsgi(app, "POST", "/integrations/webhook", body, bearer)
    finally:
        committer.close()
    assert status == 401, answer
    assert IntakeEvent.objects.filter(status="rejected", reason__startswith="HTTP 401").count() == 1


def test_a_committer_that_gives_up_answers_503() -> None:
    def unavailable(secret: str, key_field: str, decide: Any) -> Any:
        raise Unavailable("the intake database did not commit in time")

    app = IntakeDispatcher(DjangoStandIn(), unavailable)
    status, headers, body = wsgi(
        app, "POST", "/v2/enqueue", {"routing_key": "wr_ik_x", "event_action": "trigger"}
    )
    assert status == 503 and headers["Retry-After"] == "1"
    assert json.loads(body)["message"] == "the intake database did not commit in time"
