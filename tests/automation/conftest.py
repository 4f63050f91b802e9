"""Fixtures of the workflow tests: the comms tests' HTTPS receiver on 127.0.0.1 (a workflow's webhook must be
https) and what it needs."""

from tests.comms.conftest import certificate, https_receiver  # noqa: F401 (fixtures)
from tests.notify.conftest import loopback_allowed  # noqa: F401 (fixture)
