"""The single sign-on variables (WARROOM_OIDC_*, docs/sso.md), parsed strictly like every other WARROOM_* variable."""

from __future__ import annotations

import pytest

from warroom import config


def test_single_sign_on_is_off_until_an_issuer_is_set(env: pytest.MonkeyPatch) -> None:
    oidc = config.load().oidc
    assert not oidc.enabled and oidc.create_users is False
    env.setenv("WARROOM_OIDC_ISSUER", "https://login.example.com/realms/ops/")
    env.setenv("WARROOM_OIDC_CLIENT_ID", "warroom")
    env.setenv("WARROOM_OIDC_CLIENT_SECRET", "s3cret")
    env.setenv("WARROOM_OIDC_NAME", "Acme Login")
    env.setenv("WARROOM_OIDC_CREATE_USERS", "yes")
    env.setenv("WARROOM_OIDC_ALLOWED_DOMAINS", "example.com, @Corp.Example")
    oidc = config.load().oidc
    assert oidc.enabled and oidc.name == "Acme Login" and oidc.create_users
    assert oidc.end_session is False  # signing out stays local unless asked
    env.setenv("WARROOM_OIDC_END_SESSION", "true")
    oidc = config.load().oidc
    assert oidc.end_session is True
    assert oidc.metadata_url == "https://login.example.com/realms/ops/.well-known/openid-configuration"
    assert oidc.allowed_domains == ("example.com", "corp.example")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"WARROOM_OIDC_ISSUER": "https://login.example.com"}, "needs WARROOM_OIDC_CLIENT_ID"),
        ({"WARROOM_OIDC_CLIENT_ID": "warroom"}, "need WARROOM_OIDC_ISSUER"),
        ({"WARROOM_OIDC_PASSWORD_SIGNIN": "admins"}, "people must have a way in"),
        (
            {
                "WARROOM_OIDC_ISSUER": "https://login.example.com",
                "WARROOM_OIDC_CLIENT_ID": "w",
                "WARROOM_OIDC_CLIENT_SECRET": "s",
                "WARROOM_OIDC_PASSWORD_SIGNIN": "nobody",
            },
            "must be one of everyone, admins",
        ),
        (
            {
                "WARROOM_OIDC_ISSUER": "http://login.example.com",
                "WARROOM_OIDC_CLIENT_ID": "w",
                "WARROOM_OIDC_CLIENT_SECRET": "s",
            },
            "must be an https URL",
        ),
        (
            {
                "WARROOM_OIDC_ISSUER": "https://login.example.com",
                "WARROOM_OIDC_CLIENT_ID": "w",
                "WARROOM_OIDC_CLIENT_SECRET": "s",
                "WARROOM_OIDC_SCOPES": "email profile",
            },
            "must include openid",
        ),
        (
            {
                "WARROOM_OIDC_ISSUER": "https://login.example.com",
                "WARROOM_OIDC_CLIENT_ID": "w",
                "WARROOM_OIDC_CLIENT_SECRET": "s",
                "WARROOM_OIDC_ALLOWED_DOMAINS": "not a domain",
            },
            "not an email domain",
        ),
    ],
)
def test_single_sign_on_settings_that_cannot_work_are_refused(
    env: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(config.ConfigError, match=message):
        config.load()
