"""The intake tests of tests/alerts, run a second time through the intake fast path.

Every test function of the modules below is collected here again (named ``test_fastpath__<module>__<name>``) and
runs with its HTTP requests sent to :class:`~warroom.alerts.fastpath.IntakeDispatcher` instead of Django's
handler: the WSGI environ goes to the dispatcher, which calls the intake view directly with the group committer
as its ``COMMITTER``. The committer commits each request in the test's own transaction (``threaded=False``; its
thread, with a connection of its own, cannot see the test's uncommitted rows) but through the same key look-up,
``decide`` and row writing as in production. Requests for anything else still go to Django. So every answer,
status code, body and stored row the intake tests check is checked for the fast path too."""

from __future__ import annotations

import functools
import types
from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client

from tests.alerts import (
    conftest,
    test_alertmanager,
    test_bad_input,
    test_goalert,
    test_grafana,
    test_intake_edges,
    test_intake_features,
    test_keys,
    test_opsgenie,
    test_pagerduty,
    test_webhook_and_grouping,
)
from warroom.alerts.fastpath import GroupCommitter, IntakeDispatcher

MODULES = [
    test_pagerduty,
    test_alertmanager,
    test_bad_input,
    test_goalert,
    test_grafana,
    test_intake_edges,
    test_intake_features,
    test_keys,
    test_opsgenie,
    test_webhook_and_grouping,
]
USES_CLIENT = [conftest, *(module for module in MODULES if hasattr(module, "Client"))]


class FastPathClient(Client):
    """Django's test client, but intake requests are answered by the intake fast path."""

    dispatcher: IntakeDispatcher
    answered = 0

    def request(self, **request: Any) -> Any:
        environ = self._base_environ(**request)
        # As Django's test handler does: the test's transaction must survive request_started/finished.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.dispatcher.handle(environ)
            if response is not None:
                response.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        if response is None:
            return super().request(**request)
        FastPathClient.answered += 1
        response.client = self
        response.request = request
        response.templates = []
        response.context = None
        response.json = functools.partial(self._parse_json, response)
        return response


@pytest.fixture(autouse=True)
def _through_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> Any:
    dispatcher = IntakeDispatcher(lambda environ, start: [], GroupCommitter(threaded=False))
    monkeypatch.setattr(FastPathClient, "dispatcher", dispatcher, raising=False)
    for module in USES_CLIENT:
        monkeypatch.setattr(module, "Client", FastPathClient)
    yield


def _collect() -> None:
    here = globals()
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        for name, value in vars(module).items():
            if name.startswith("test_") and isinstance(value, types.FunctionType):
                here[f"test_fastpath__{short}__{name.removeprefix('test_')}"] = value
            elif (
                hasattr(value, "_fixture_function_marker")
                or type(value).__name__ == "FixtureFunctionDefinition"
            ):
                here.setdefault(name, value)  # the module's own fixtures


_collect()


def test_the_intake_tests_are_collected_and_answered_by_the_fast_path(pd: conftest.Hooked) -> None:
    assert sum(name.startswith("test_fastpath__") for name in globals()) >= 60
    before = FastPathClient.answered
    assert conftest.post("/v2/enqueue", conftest.pd_trigger(pd.key, "parity/1")).status_code == 202
    assert FastPathClient.answered == before + 1
