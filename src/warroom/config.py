"""Strict parsing of Warroom's environment variables.

Every setting Warroom reads from the environment goes through this module, so a typo or a bad value fails at
start-up with a message that names the variable, instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 10**9) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float = 1e9) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str) -> str:
    raw = env_str(name, default)
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"{name} must be an absolute http(s) URL such as https://warroom.example.com, not {raw!r}"
        )
    return raw.rstrip("/")


def load_or_create_secret(data_dir: Path) -> str:
    """Return the secret key kept in the data dir, creating it (mode 0600) on first use."""
    path = data_dir / "secret_key"
    if path.exists():
        value = path.read_text().strip()
        if len(value) < 50:
            raise ConfigError(f"{path} holds a secret key shorter than 50 characters; delete it or fix it")
        return value
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(64)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


@dataclass(frozen=True)
class Config:
    """The parsed environment."""

    data_dir: Path
    database_url: str
    secret_key: str
    secret_key_generated: bool
    debug: bool
    allowed_hosts: list[str]
    base_url: str
    csrf_trusted_origins: list[str]
    engine_interval: float
    autoclose_days: int
    log_level: str
    email_from: str

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")


def load() -> Config:
    """Read and validate every WARROOM_* variable."""
    data_dir = Path(env_str("WARROOM_DATA_DIR", str(Path.cwd() / "data"))).expanduser().resolve()
    database_url = env_str("WARROOM_DATABASE_URL") or f"sqlite:///{data_dir / 'warroom.sqlite3'}"
    scheme = database_url.split(":", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"WARROOM_DATABASE_URL must start with sqlite:/// or postgres://, not {scheme!r}")
    secret = env_str("WARROOM_SECRET_KEY")
    generated = False
    if not secret:
        secret = load_or_create_secret(data_dir)
        generated = True
    base_url = env_url("WARROOM_BASE_URL", "http://127.0.0.1:8000")
    host = urlsplit(base_url).hostname or "127.0.0.1"
    allowed = env_list("WARROOM_ALLOWED_HOSTS", sorted({host, "127.0.0.1", "localhost"}))
    origin = f"{urlsplit(base_url).scheme}://{urlsplit(base_url).netloc}"
    level = env_str("WARROOM_LOG_LEVEL", "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"WARROOM_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}")
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret,
        secret_key_generated=generated,
        debug=env_bool("WARROOM_DEBUG", False),
        allowed_hosts=allowed,
        base_url=base_url,
        csrf_trusted_origins=env_list("WARROOM_CSRF_TRUSTED_ORIGINS", [origin]),
        engine_interval=env_float("WARROOM_ENGINE_INTERVAL", 2.0, minimum=0.1, maximum=60.0),
        autoclose_days=env_int("WARROOM_AUTOCLOSE_DAYS", 7, minimum=0, maximum=3650),
        log_level=level,
        email_from=env_str("WARROOM_EMAIL_FROM", "warroom@localhost"),
    )
