"""``WARROOM_METRICS_TOKEN``: blank means /metrics answers loopback callers only; a token must be long enough."""

from __future__ import annotations

import pytest

from warroom import config
from warroom.config import ConfigError


def test_unset_means_no_token(env: pytest.MonkeyPatch) -> None:
    assert config.load().metrics_token == ""


def test_a_token_is_read(env: pytest.MonkeyPatch) -> None:
    env.setenv("WARROOM_METRICS_TOKEN", "  scrape-me-0123456789abcdef  ")
    assert config.load().metrics_token == "scrape-me-0123456789abcdef"


@pytest.mark.parametrize("raw", ["short", "has a space in it 0123456789"])
def test_a_weak_or_malformed_token_is_refused_naming_the_variable(env: pytest.MonkeyPatch, raw: str) -> None:
    env.setenv("WARROOM_METRICS_TOKEN", raw)
    with pytest.raises(ConfigError, match="WARROOM_METRICS_TOKEN"):
        config.load()
