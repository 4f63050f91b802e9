"""A logging filter that keeps secrets out of every log line: integration keys (``wr_ik_…``) and API tokens
(``wr_at_…``) are cut to their prefix. Intake routes already log with the key redacted; this also covers what
Django logs on its own (a 404 for a mistyped intake path, a 500's traceback)."""

from __future__ import annotations

import logging
import re

SECRET = re.compile(r"\b(wr_(?:ik|at))_[A-Za-z0-9_\-]+")


def redact(text: str) -> str:
    return SECRET.sub(r"\1_…", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "wr_" in message:
            record.msg = redact(message)
            record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if "wr_" in text:
                record.exc_text = redact(text)
        return True
