"""How the client finds its server and token (no server needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warroom.cli import config
from warroom.cli.config import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("WARROOM_CONFIG", "XDG_CONFIG_HOME", "WARROOM_URL", "WARROOM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.config_path() == tmp_path / ".config" / "warroom" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config.config_path() == tmp_path / "xdg" / "warroom" / "config.toml"
    monkeypatch.setenv("WARROOM_CONFIG", str(tmp_path / "mine.toml"))
    assert config.config_path() == tmp_path / "mine.toml"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://warroom.example.com/", "https://warroom.example.com"),
        ("https://warroom.example.com/api/v1/", "https://warroom.example.com"),
        (" https://x.example.com/sub/path ", "https://x.example.com/sub/path"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert config.normalise_url(given) == expected


def test_url_needs_a_scheme() -> None:
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        config.normalise_url("warroom.example.com")


def test_options_win_then_file_fills_in(tmp_path: Path) -> None:
    path = tmp_path / ".config" / "warroom" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('url = "https://file.example.com"\ntoken = "wr_at_file"\n')
    assert config.resolve(None, None) == config.ClientConfig("https://file.example.com", "wr_at_file")
    assert config.resolve("http://opt.example.com", None).token == "wr_at_file"
    assert config.resolve(None, "wr_at_opt") == config.ClientConfig("https://file.example.com", "wr_at_opt")
    assert config.resolve(None, None).api_base == "https://file.example.com/api/v1"


def test_missing_settings_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no server URL"):
        config.resolve(None, "wr_at_x")
    with pytest.raises(ConfigError, match="no API token"):
        config.resolve("http://x.example.com", None)


def test_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    monkeypatch.setenv("WARROOM_CONFIG", str(path))
    with pytest.raises(ConfigError, match="does not exist"):
        config.resolve(None, None)
    path.write_text("url = [1, 2]\n")
    with pytest.raises(ConfigError, match="url must be a string"):
        config.resolve(None, None)
    path.write_text("this is not toml")
    with pytest.raises(ConfigError, match="cannot read"):
        config.resolve(None, None)


def test_client_module_does_not_import_django() -> None:
    """The client runs without settings: importing it must not pull Django in."""
    code = (
        "import sys, warroom.cli.client; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
