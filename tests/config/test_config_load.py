"""``config.load()``: every WARROOM_* variable parsed, every malformed value refused with a message that names
the variable, and the embedded secret key generated once (mode 0600) and reused."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from warroom import config
from warroom.config import ConfigError


def test_defaults(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = config.load()
    data = (tmp_path / "data").resolve()
    assert cfg.data_dir == data
    assert cfg.database_url == f"sqlite:///{data / 'warroom.sqlite3'}"
    assert cfg.is_sqlite and not cfg.is_https
    assert cfg.secret_key_generated and len(cfg.secret_key) >= 50
    assert cfg.debug is False
    assert cfg.base_url == "http://127.0.0.1:8000"
    assert sorted(cfg.allowed_hosts) == ["127.0.0.1", "localhost"]
    assert cfg.csrf_trusted_origins == ["http://127.0.0.1:8000"]
    assert cfg.engine_interval == 2.0
    assert cfg.autoclose_days == 7
    assert cfg.log_level == "INFO"
    assert cfg.email_from == "warroom@localhost"


def test_data_dir_default_is_data_under_the_working_directory(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.delenv("WARROOM_DATA_DIR")
    env.chdir(tmp_path)
    assert config.load().data_dir == (tmp_path / "data").resolve()


@pytest.mark.parametrize(
    ("name", "raw", "attribute", "expected"),
    [
        (
            "WARROOM_DATABASE_URL",
            "postgres://wr:pw@db.internal:5432/warroom",
            "database_url",
            "postgres://wr:pw@db.internal:5432/warroom",
        ),
        ("WARROOM_DATABASE_URL", "postgresql:///warroom", "database_url", "postgresql:///warroom"),
        (
            "WARROOM_DATABASE_URL",
            "sqlite:////srv/warroom/db.sqlite3",
            "database_url",
            "sqlite:////srv/warroom/db.sqlite3",
        ),
        ("WARROOM_SECRET_KEY", "  k" * 30, "secret_key", ("  k" * 30).strip()),
        ("WARROOM_DEBUG", "true", "debug", True),
        ("WARROOM_DEBUG", "ON", "debug", True),
        ("WARROOM_DEBUG", "0", "debug", False),
        (
            "WARROOM_ALLOWED_HOSTS",
            "warroom.example.com, .example.org ,",
            "allowed_hosts",
            ["warroom.example.com", ".example.org"],
        ),
        ("WARROOM_BASE_URL", "https://warroom.example.com/", "base_url", "https://warroom.example.com"),
        ("WARROOM_BASE_URL", "http://[::1]:9000", "base_url", "http://[::1]:9000"),
        (
            "WARROOM_CSRF_TRUSTED_ORIGINS",
            "https://warroom.example.com,https://*.example.org",
            "csrf_trusted_origins",
            ["https://warroom.example.com", "https://*.example.org"],
        ),
        ("WARROOM_ENGINE_INTERVAL", "0.5", "engine_interval", 0.5),
        ("WARROOM_ENGINE_INTERVAL", "60", "engine_interval", 60.0),
        ("WARROOM_AUTOCLOSE_DAYS", "0", "autoclose_days", 0),
        ("WARROOM_AUTOCLOSE_DAYS", " 30 ", "autoclose_days", 30),
        ("WARROOM_INTAKE_RETENTION_DAYS", "90", "intake_retention_days", 90),
        ("WARROOM_EMAIL_DOMAIN", "Alerts.Example.com", "email_domain", "alerts.example.com"),
        ("WARROOM_EMAIL_DOMAIN", "[192.0.2.1]", "email_domain", "[192.0.2.1]"),
        ("WARROOM_EMAIL_DOMAIN", "[ipv6:2001:db8::1]", "email_domain", "[IPv6:2001:db8::1]"),
        ("WARROOM_LOG_LEVEL", "debug", "log_level", "DEBUG"),
        (
            "WARROOM_EMAIL_FROM",
            "Warroom <warroom@example.com>",
            "email_from",
            "Warroom <warroom@example.com>",
        ),
    ],
)
def test_each_variable_is_parsed(
    env: pytest.MonkeyPatch, name: str, raw: str, attribute: str, expected: object
) -> None:
    env.setenv(name, raw)
    assert getattr(config.load(), attribute) == expected


def test_base_url_sets_default_hosts_origins_and_https(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_BASE_URL", "https://warroom.example.com:8443/")
    cfg = config.load()
    assert "warroom.example.com" in cfg.allowed_hosts
    assert cfg.csrf_trusted_origins == ["https://warroom.example.com:8443"]
    assert cfg.is_https


@pytest.mark.parametrize(
    ("base_url", "domain"),
    [
        ("https://warroom.example.com", "warroom.example.com"),
        ("http://127.0.0.1:8000", "[127.0.0.1]"),
        ("http://[::1]:9000", "[IPv6:::1]"),
    ],
)
def test_the_mail_domain_defaults_to_the_base_url_host_as_mail_spells_it(
    env: pytest.MonkeyPatch, base_url: str, domain: str
) -> None:
    """``alerts@127.0.0.1`` is no address a mail server takes; ``alerts@[127.0.0.1]`` is."""
    env.setenv("WARROOM_BASE_URL", base_url)
    assert config.load().email_domain == domain


def test_postgres_url_is_not_sqlite(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_DATABASE_URL", "postgres://db/warroom")
    assert not config.load().is_sqlite


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("WARROOM_DATABASE_URL", "mysql://db/warroom"),
        ("WARROOM_DATABASE_URL", "postgres"),
        ("WARROOM_DATABASE_URL", "postgres://"),
        ("WARROOM_DATABASE_URL", "sqlite://"),
        ("WARROOM_DATABASE_URL", "/var/lib/warroom.sqlite3"),
        ("WARROOM_DEBUG", "maybe"),
        ("WARROOM_DEBUG", "2"),
        ("WARROOM_BASE_URL", "warroom.example.com"),
        ("WARROOM_BASE_URL", "ftp://warroom.example.com"),
        ("WARROOM_BASE_URL", "https://"),
        ("WARROOM_BASE_URL", "https://warroom.example.com:99999"),
        ("WARROOM_BASE_URL", "https://warroom.example.com:port"),
        ("WARROOM_BASE_URL", "https://warroom.example.com/?next=/"),
        ("WARROOM_CSRF_TRUSTED_ORIGINS", "warroom.example.com"),
        ("WARROOM_CSRF_TRUSTED_ORIGINS", "https://warroom.example.com/console"),
        ("WARROOM_ENGINE_INTERVAL", "fast"),
        ("WARROOM_ENGINE_INTERVAL", "0"),
        ("WARROOM_ENGINE_INTERVAL", "61"),
        ("WARROOM_ENGINE_INTERVAL", "nan"),
        ("WARROOM_AUTOCLOSE_DAYS", "seven"),
        ("WARROOM_AUTOCLOSE_DAYS", "1.5"),
        ("WARROOM_AUTOCLOSE_DAYS", "-1"),
        ("WARROOM_AUTOCLOSE_DAYS", "3651"),
        ("WARROOM_INTAKE_RETENTION_DAYS", "0"),
        ("WARROOM_EMAIL_DOMAIN", "alerts example.com"),
        ("WARROOM_EMAIL_DOMAIN", "-bad-.example.com"),
        ("WARROOM_EMAIL_DOMAIN", "192.0.2.1"),
        ("WARROOM_EMAIL_DOMAIN", "[192.0.2.300]"),
        ("WARROOM_LOG_LEVEL", "LOUD"),
        ("WARROOM_EMAIL_FROM", "warroom"),
        ("WARROOM_EMAIL_FROM", "Warroom <>"),
    ],
)
def test_each_malformed_value_is_refused_naming_the_variable(
    env: pytest.MonkeyPatch, name: str, raw: str
) -> None:
    env.setenv(name, raw)
    with pytest.raises(ConfigError, match=name):
        config.load()


def test_a_refused_database_url_does_not_echo_its_password(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_DATABASE_URL", "mysql://warroom:hunter2-secret@db/warroom")
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert "hunter2-secret" not in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "WARROOM_DATA_DIR",
        "WARROOM_DATABASE_URL",
        "WARROOM_SECRET_KEY",
        "WARROOM_DEBUG",
        "WARROOM_ALLOWED_HOSTS",
        "WARROOM_BASE_URL",
        "WARROOM_CSRF_TRUSTED_ORIGINS",
        "WARROOM_ENGINE_INTERVAL",
        "WARROOM_AUTOCLOSE_DAYS",
        "WARROOM_INTAKE_RETENTION_DAYS",
        "WARROOM_EMAIL_DOMAIN",
        "WARROOM_LOG_LEVEL",
        "WARROOM_EMAIL_FROM",
    ],
)
def test_a_blank_variable_means_its_default(env: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    """``WARROOM_X=`` (as the Makefile writes to unset one) behaves exactly like leaving it unset."""
    env.chdir(tmp_path)
    if name == "WARROOM_DATA_DIR":
        env.delenv(name)
    expected = config.load()
    env.setenv(name, "  ")
    assert config.load() == expected


# -- the embedded secret key ------------------------------------------------------------------------------------


def test_secret_key_is_generated_once_with_mode_0600_and_reused(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = config.load()
    path = first.data_dir / "secret_key"
    assert first.secret_key_generated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first.secret_key
    second = config.load()
    assert second.secret_key == first.secret_key
    assert [p.name for p in first.data_dir.iterdir()] == ["secret_key"], "no temporary file left behind"


def test_an_explicit_secret_key_wins_and_nothing_is_written(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_SECRET_KEY", "s" * 25 + "ecret-key-from-the-environment-0123456789")
    cfg = config.load()
    assert not cfg.secret_key_generated
    assert cfg.secret_key.startswith("sssss")
    assert not (cfg.data_dir / "secret_key").exists()


def test_a_damaged_secret_key_file_is_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError, match="shorter than 50"):
        config.load()


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    keys: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        try:
            keys.append(config.load_or_create_secret(data))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(keys)) == 1 and len(keys) == 8
    assert sorted(p.name for p in data.iterdir()) == ["secret_key"]
