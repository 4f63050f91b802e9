from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean environment: no WARROOM_* variable but a data dir of our own."""
    for name in list(os.environ):
        if name.startswith("WARROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch
