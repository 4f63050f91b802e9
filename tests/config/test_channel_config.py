"""The notification channels' variables: WARROOM_SMTP_*, WARROOM_TWILIO_*, WARROOM_SLACK_* and
WARROOM_HTTP_ALLOW_PRIVATE, parsed strictly like every other WARROOM_* variable."""

from __future__ import annotations

import pytest

from warroom import config
from warroom.config import ConfigError

SID = "AC" + "0123456789abcdef" * 2


@pytest.fixture
def env(env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The clean environment (tests/config/conftest.py) with a secret key."""
    env.setenv("WARROOM_SECRET_KEY", "k" * 30 + "-0123456789abcdefghijklmnopqrstuvwxyz")
    return env


def test_defaults_mean_not_configured(env: pytest.MonkeyPatch) -> None:
    cfg = config.load()
    assert cfg.smtp == config.Smtp(host="", port=587, user="", password="", security="starttls", timeout=10.0)
    assert cfg.twilio == config.Twilio(
        account_sid="", auth_token="", from_="", base_url="https://api.twilio.com"
    )
    assert cfg.slack == config.Slack(bot_token="", api_url="https://slack.com/api")
    assert cfg.http_allow_private == ()


def test_everything_set(env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "WARROOM_SMTP_HOST": "smtp.example.com",
        "WARROOM_SMTP_SECURITY": "TLS",
        "WARROOM_SMTP_USER": "warroom",
        "WARROOM_SMTP_PASSWORD": "hunter2",
        "WARROOM_SMTP_TIMEOUT": "20",
        "WARROOM_TWILIO_ACCOUNT_SID": SID,
        "WARROOM_TWILIO_AUTH_TOKEN": "token",
        "WARROOM_TWILIO_FROM": "+15005550006",
        "WARROOM_TWILIO_BASE_URL": "http://127.0.0.1:8099/",
        "WARROOM_SLACK_BOT_TOKEN": "xoxb-1-2-abc",
        "WARROOM_SLACK_API_URL": "https://slack.example.com/api",
        "WARROOM_HTTP_ALLOW_PRIVATE": "10.20.0.0/16, fd00::/8,192.168.1.7",
    }.items():
        env.setenv(name, value)
    cfg = config.load()
    assert cfg.smtp == config.Smtp(
        host="smtp.example.com", port=465, user="warroom", password="hunter2", security="tls", timeout=20.0
    )
    assert cfg.twilio.account_sid == SID and cfg.twilio.base_url == "http://127.0.0.1:8099"
    assert cfg.slack.bot_token == "xoxb-1-2-abc"
    assert cfg.http_allow_private == ("10.20.0.0/16", "fd00::/8", "192.168.1.7/32")


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("none", 25)])
def test_smtp_port_follows_security(env: pytest.MonkeyPatch, security: str, port: int) -> None:
    env.setenv("WARROOM_SMTP_SECURITY", security)
    assert config.load().smtp.port == port
    env.setenv("WARROOM_SMTP_PORT", "2525")
    assert config.load().smtp.port == 2525


def test_a_messaging_service_may_send(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_TWILIO_ACCOUNT_SID", SID)
    env.setenv("WARROOM_TWILIO_AUTH_TOKEN", "token")
    env.setenv("WARROOM_TWILIO_FROM", "MG" + "a" * 32)
    assert config.load().twilio.from_.startswith("MG")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"WARROOM_SMTP_HOST": "smtp example.com"}, "WARROOM_SMTP_HOST"),
        ({"WARROOM_SMTP_PORT": "0"}, "WARROOM_SMTP_PORT"),
        ({"WARROOM_SMTP_PORT": "smtp"}, "WARROOM_SMTP_PORT"),
        ({"WARROOM_SMTP_SECURITY": "ssl3"}, "WARROOM_SMTP_SECURITY"),
        ({"WARROOM_SMTP_USER": "warroom"}, "WARROOM_SMTP_PASSWORD"),
        ({"WARROOM_SMTP_TIMEOUT": "0"}, "WARROOM_SMTP_TIMEOUT"),
        ({"WARROOM_TWILIO_ACCOUNT_SID": SID}, "WARROOM_TWILIO_AUTH_TOKEN"),
        (
            {
                "WARROOM_TWILIO_ACCOUNT_SID": "AC123",
                "WARROOM_TWILIO_AUTH_TOKEN": "t",
                "WARROOM_TWILIO_FROM": "+15005550006",
            },
            "WARROOM_TWILIO_ACCOUNT_SID",
        ),
        (
            {
                "WARROOM_TWILIO_ACCOUNT_SID": SID,
                "WARROOM_TWILIO_AUTH_TOKEN": "t",
                "WARROOM_TWILIO_FROM": "555-0100",
            },
            "WARROOM_TWILIO_FROM",
        ),
        ({"WARROOM_TWILIO_BASE_URL": "api.twilio.com"}, "WARROOM_TWILIO_BASE_URL"),
        ({"WARROOM_SLACK_BOT_TOKEN": "abc"}, "WARROOM_SLACK_BOT_TOKEN"),
        ({"WARROOM_SLACK_API_URL": "slack.com/api"}, "WARROOM_SLACK_API_URL"),
        ({"WARROOM_HTTP_ALLOW_PRIVATE": "10.0.0.0/8,intranet"}, "WARROOM_HTTP_ALLOW_PRIVATE"),
        ({"WARROOM_HTTP_ALLOW_PRIVATE": "10.0.0.0/33"}, "WARROOM_HTTP_ALLOW_PRIVATE"),
    ],
)
def test_malformed_values_are_refused_naming_the_variable(
    env: pytest.MonkeyPatch, values: dict[str, str], named: str
) -> None:
    for name, value in values.items():
        env.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        config.load()


def test_a_refused_twilio_setting_does_not_echo_the_token(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_TWILIO_ACCOUNT_SID", SID)
    env.setenv("WARROOM_TWILIO_AUTH_TOKEN", "hunter2-token")
    env.setenv("WARROOM_TWILIO_FROM", "nope")
    with pytest.raises(ConfigError) as caught:
        config.load()
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        "WARROOM_SMTP_HOST",
        "WARROOM_SMTP_PORT",
        "WARROOM_SMTP_USER",
        "WARROOM_SMTP_PASSWORD",
        "WARROOM_SMTP_SECURITY",
        "WARROOM_SMTP_TIMEOUT",
        "WARROOM_TWILIO_ACCOUNT_SID",
        "WARROOM_TWILIO_AUTH_TOKEN",
        "WARROOM_TWILIO_FROM",
        "WARROOM_TWILIO_BASE_URL",
        "WARROOM_SLACK_BOT_TOKEN",
        "WARROOM_SLACK_API_URL",
        "WARROOM_HTTP_ALLOW_PRIVATE",
    ],
)
def test_a_blank_variable_means_its_default(env: pytest.MonkeyPatch, name: str) -> None:
    expected = config.load()
    env.setenv(name, "  ")
    assert config.load() == expected
