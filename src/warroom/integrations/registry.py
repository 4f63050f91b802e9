"""Every notification channel by kind. ``notify`` looks channels up here and nowhere else."""

from __future__ import annotations

from warroom.integrations.base import Channel
from warroom.integrations.email.channel import EmailChannel
from warroom.integrations.ntfy.channel import NtfyChannel
from warroom.integrations.slack.channel import SlackChannel
from warroom.integrations.teams.channel import TeamsChannel
from warroom.integrations.twilio.channel import SmsChannel, VoiceChannel
from warroom.integrations.webhook.channel import WebhookChannel

_channels: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Add (or replace) the channel for ``channel.kind``."""
    _channels[channel.kind] = channel
    return channel


def get(kind: str) -> Channel:
    """The channel for ``kind``; raises ``LookupError`` for an unknown kind."""
    try:
        return _channels[kind]
    except KeyError:
        raise LookupError(f"no notification channel {kind!r}") from None


def channels() -> list[Channel]:
    """All channels, in registration order."""
    return list(_channels.values())


def kinds() -> list[str]:
    return list(_channels)


for _channel in (
    EmailChannel(),
    SmsChannel(),
    VoiceChannel(),
    SlackChannel(),
    TeamsChannel(),
    NtfyChannel(),
    WebhookChannel(),
):
    register(_channel)
