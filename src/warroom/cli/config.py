"""Where the ``warroom`` client finds its server and token.

In order: the ``--url``/``--token`` options, the ``WARROOM_URL``/``WARROOM_TOKEN`` environment variables, then
a TOML file (``$WARROOM_CONFIG``, else ``$XDG_CONFIG_HOME/warroom/config.toml``, else
``~/.config/warroom/config.toml``) with the keys ``url`` and ``token``::

    url = "https://warroom.example.com"
    token = "wr_at_..."

No Django here: the client runs without settings.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_PREFIX = "/api/v1"


class ConfigError(Exception):
    """The client cannot tell which server to talk to, or with which token."""


@dataclass(frozen=True)
class ClientConfig:
    url: str
    token: str

    @property
    def api_base(self) -> str:
        return self.url + API_PREFIX


def config_path() -> Path:
    explicit = os.environ.get("WARROOM_CONFIG", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base).expanduser() if base else Path.home() / ".config"
    return root / "warroom" / "config.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's settings; an absent file is empty unless ``WARROOM_CONFIG`` named it explicitly."""
    if not path.exists():
        if os.environ.get("WARROOM_CONFIG", "").strip():
            raise ConfigError(f"WARROOM_CONFIG points at {path}, which does not exist")
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    for key in ("url", "token"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{path}: {key} must be a string")
    return data


def normalise_url(url: str) -> str:
    """``https://host/`` or ``https://host/api/v1`` → ``https://host``."""
    url = url.strip().rstrip("/")
    url = url.removesuffix(API_PREFIX).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"the server URL must start with http:// or https:// (got {url!r})")
    return url


def resolve(url: str | None, token: str | None) -> ClientConfig:
    """Combine the options (which already include the environment) with the config file."""
    path = config_path()
    file: dict[str, Any] = {} if (url and token) else read_config_file(path)
    url = url or file.get("url") or ""
    token = token or file.get("token") or ""
    if not url:
        raise ConfigError(f'no server URL: pass --url, set WARROOM_URL, or put url = "..." in {path}')
    if not token:
        raise ConfigError(f'no API token: pass --token, set WARROOM_TOKEN, or put token = "..." in {path}')
    return ClientConfig(url=normalise_url(url), token=token.strip())
