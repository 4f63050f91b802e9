"""Keys and tokens never reach the log, whatever logs them."""

from __future__ import annotations

import io
import logging
import sys

from warroom.lib.logredact import RedactSecrets, redact


def test_redact_cuts_keys_and_tokens_to_their_prefix() -> None:
    assert (
        redact("GET /integrations/heartbeat/wr_ik_AbC-12_x/ 404")
        == "GET /integrations/heartbeat/wr_ik_…/ 404"
    )
    assert redact("token wr_at_zzz used") == "token wr_at_… used"
    assert redact("nothing secret") == "nothing secret"


def test_the_filter_rewrites_formatted_messages_and_tracebacks() -> None:
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x/wr_ik_s3cr3t",), None
    )
    RedactSecrets().filter(record)
    assert record.getMessage() == "Not Found: /x/wr_ik_…"
    try:
        raise ValueError("bad key wr_ik_s3cr3t")
    except ValueError:
        failing = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    RedactSecrets().filter(failing)
    assert "s3cr3t" not in (failing.exc_text or "")


def test_the_console_handler_of_the_project_redacts() -> None:
    console = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecrets) for f in h.filters)
    )
    assert isinstance(console, logging.StreamHandler)
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        logging.getLogger("django.request").warning(
            "Not Found: %s", "/integrations/heartbeat/wr_ik_s3cr3tvalue/x/"
        )
    finally:
        console.setStream(previous)
    assert "Not Found: /integrations/heartbeat/wr_ik_…/x/" in stream.getvalue()
    assert "s3cr3tvalue" not in stream.getvalue()
