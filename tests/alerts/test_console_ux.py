"""What a person sees in the alert-intake console, with Django's test client: every successful POST redirects
(reloading repeats nothing), a new key shows exactly once on the page the POST redirects to (never in a URL),
a heartbeat's ping URL carries the real key then and is a template afterwards, a refused form lists its errors
on top by the form's labels, only the fields that apply are marked for each kind, acknowledge/resolve failures
come back to the alert with a message, long alert values are clamped in the heading, bad alert-list filters are
named, and the email setup text states the real dedup rule."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.alerts.conftest import CONSOLE_FORM, Hooked, cycle, make_integration, post
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts import snippets
from warroom.alerts.email import classify
from warroom.alerts.models import Alert, Integration, IntegrationKey

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
SECRET = re.compile(r"wr_ik_[A-Za-z0-9_\-]{20,}")
BASE = "http://127.0.0.1:8000"
FORM = {
    **CONSOLE_FORM,
    "heartbeat_interval_seconds": "300",
    "heartbeat_grace_seconds": "60",
}


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.WARROOM_BASE_URL = BASE
    settings.WARROOM_EMAIL_DOMAIN = "alerts.example.com"


def _list_url(world: World) -> str:
    return reverse("web:integration-list", args=[world.service_a.slug])


def _url(integration: Integration, name: str = "web:integration-detail") -> str:
    return reverse(name, args=[integration.service.slug, integration.pk])


def _create(client: Client, world: World, **fields: str) -> Any:
    return client.post(_list_url(world), {**FORM, **fields})


def _text(response: Any) -> str:
    return str(response.content.decode())


def _fire(hooked: Hooked, **body: object) -> Alert:
    payload = {"summary": "Queue depth above 10k", "severity": "error", "dedup_key": "queue/orders", **body}
    assert post("/integrations/webhook", payload, key=hooked.key).status_code == 202
    cycle()
    alert = Alert.objects.filter(integration=hooked.integration).order_by("-id").first()
    assert alert is not None
    return alert


def _summary(page: str) -> str:
    """The error summary on top of the form, as text."""
    match = re.search(r'<div class="alert alert-error error-summary".*?</div>', page, re.S)
    assert match is not None, "no error summary"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(0)))


def _field(page: str, name: str) -> str:
    """The ``<div class="field ...">`` that holds the input named ``name``."""
    for match in re.finditer(r'<div class="field[^"]*"[^>]*>.*?</div>', page, re.S):
        if f'name="{name}"' in match.group(0):
            return match.group(0)
    raise AssertionError(f"no field {name}")


# ---------------------------------------------------------------------------------------------------------------
# POST/redirect/GET, and the key exactly once


def test_create_redirects_and_the_key_shows_exactly_once(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    response = _create(alice, world)
    integration = Integration.objects.get()
    assert response.status_code == 302
    location = response["Location"]
    assert location == _url(integration)
    assert "wr_ik_" not in location and not SECRET.search(_text(response))
    # The session holds the key until the page shows it: sealed, never as it is.
    held = str(dict(alice.session.items()))
    assert "warroom.alerts.new_key" in held and "wr_ik_" not in held

    shown = alice.get(location)
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    page = _text(shown)
    found = SECRET.search(page)
    assert found is not None
    key = found.group(0)
    assert key.startswith(IntegrationKey.objects.get().prefix)
    assert f'id="key-secret" class="mono" type="text" value="{key}"' in page
    assert "Your new key" in page and f"Integration {integration.name} created" in page
    assert "warroom.alerts.new_key" not in dict(alice.session.items())  # taken out

    # Reloading the page (the browser re-GETs the URL it was redirected to): no second integration, no key.
    for _ in range(2):
        again = _text(alice.get(location))
        assert key not in again and "Your new key" not in again
        assert IntegrationKey.objects.get().prefix in again
    assert Integration.objects.count() == 1 and IntegrationKey.objects.count() == 1


def test_new_key_redirects_and_shows_once(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    alice = client_for(world.alice)
    response = alice.post(_url(hooked.integration, "web:integration-key-create"))
    assert response.status_code == 302 and response["Location"] == _url(hooked.integration)
    newest = IntegrationKey.objects.order_by("-id").first()
    assert newest is not None and IntegrationKey.objects.count() == 2
    page = _text(alice.get(response["Location"]))
    found = SECRET.search(page)
    assert found is not None and found.group(0).startswith(newest.prefix)
    assert page.count(found.group(0)) >= 3  # the copy box and the curl snippet
    assert found.group(0) not in _text(alice.get(response["Location"]))
    assert IntegrationKey.objects.count() == 2


def test_the_key_waits_for_its_own_integration_and_not_after_revocation(
    client_for: ClientFor, world: World
) -> None:
    first = make_integration(world, "webhook", name="first")
    second = make_integration(world, "webhook", name="second")
    alice = client_for(world.alice)
    alice.post(_url(first.integration, "web:integration-key-create"))
    assert "Your new key" not in _text(alice.get(_url(second.integration)))  # another integration's page
    assert "Your new key" in _text(alice.get(_url(first.integration)))

    alice.post(_url(first.integration, "web:integration-key-create"))
    newest = IntegrationKey.objects.order_by("-id").first()
    assert newest is not None
    revoke = reverse(
        "web:integration-key-revoke", args=[world.service_a.slug, first.integration.pk, newest.pk]
    )
    alice.post(revoke)
    assert "Your new key" not in _text(alice.get(_url(first.integration)))  # revoked meanwhile: not shown


def test_heartbeat_ping_url_has_the_real_key_once_then_is_a_template(
    client_for: ClientFor, world: World
) -> None:
    alice = client_for(world.alice)
    response = _create(alice, world, kind="heartbeat", name="Nightly backup", grouping="alert")
    assert response.status_code == 302
    page = _text(alice.get(response["Location"]))
    found = SECRET.search(page)
    assert found is not None
    ping_url = f"{BASE}/integrations/heartbeat/{found.group(0)}"
    assert f'id="endpoint-url" class="mono" type="text" value="{ping_url}"' in page
    assert 'data-copy="#endpoint-url"' in page
    assert Client().get(ping_url.removeprefix(BASE)).status_code == 200  # the copied URL works

    later = _text(alice.get(response["Location"]))
    assert found.group(0) not in later
    assert 'id="endpoint-url"' not in later and 'data-copy="#endpoint-url"' not in later
    assert 'id="endpoint-template"' in later
    assert f"{BASE}/integrations/heartbeat/<var>&lt;key&gt;</var>" in later
    assert "shown only once" in later


# ---------------------------------------------------------------------------------------------------------------
# errors on top, by label; only the fields that apply


def test_error_summary_names_fields_by_their_labels(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    response = _create(alice, world, kind="heartbeat", name="hb err", heartbeat_interval_seconds="10")
    assert response.status_code == 400
    page = _text(response)
    summary = _summary(page)
    assert "1 problem to fix" in summary
    assert "“Heartbeat: expected every (seconds)”" in summary and "60 to" in summary
    assert "heartbeat_interval_seconds" not in summary
    assert 'href="#id_heartbeat_interval_seconds"' in page  # the summary links to the field
    assert (
        "data-error-summary" in page
        and '<details class="action-pop align-right" id="new-integration" open>' in page
    )
    # The message next to the field reads the same.
    field = html.unescape(_field(page, "heartbeat_interval_seconds"))
    assert "“Heartbeat: expected every (seconds)”" in field and "has-error" in field

    window = _text(_create(alice, world, grouping="window", window_minutes="0"))
    assert "“Window (minutes)” is 1 to 1440" in html.unescape(window)
    assert "window_minutes is" not in window

    form_errors = _summary(_text(_create(alice, world, name="", window_minutes="x", grouping="window")))
    assert "Name: This field is required." in form_errors
    assert "Window (minutes): Enter a whole number." in form_errors
    assert "2 problems to fix" in form_errors

    no_interval = _create(alice, world, kind="heartbeat", heartbeat_interval_seconds="")
    assert no_interval.status_code == 400
    assert "Heartbeat: expected every (seconds): A heartbeat needs it" in _summary(_text(no_interval))
    assert not Integration.objects.exists()


def test_fields_are_marked_with_the_kinds_they_apply_to(client_for: ClientFor, world: World) -> None:
    page = _text(client_for(world.alice).get(_list_url(world)))
    # Without the script every field is there; the script hides by these rules.
    assert 'data-show-if="kind=heartbeat"' in _field(page, "heartbeat_interval_seconds")
    assert 'data-show-if="kind=heartbeat"' in _field(page, "heartbeat_grace_seconds")
    assert 'data-show-if="kind=email"' in _field(page, "email_dedup_pattern")
    assert 'data-show-if="kind=email"' in _field(page, "email_resolve_pattern")
    assert 'data-show-if="kind=webhook"' in _field(page, "field_mapping")
    assert 'data-show-if="kind=webhook grafana"' in _field(page, "signing_secret")
    assert 'data-show-if="kind=pagerduty alertmanager webhook grafana opsgenie goalert"' in _field(
        page, "rate_limit_per_minute"
    )
    assert 'data-show-if="grouping=window"' in _field(page, "window_minutes")
    assert 'data-show-if="grouping=fields"' in _field(page, "group_fields")
    for always in ("kind", "name", "grouping", "severity_critical", "auto_resolve_incident"):
        assert "data-show-if" not in _field(page, always)
    # Needed where it shows: not "(optional)".
    assert "(optional)" not in _field(page, "heartbeat_interval_seconds")
    assert "(optional)" not in _field(page, "group_fields")
    assert "(optional)" in _field(page, "heartbeat_grace_seconds")


def test_options_of_other_kinds_are_not_sent_or_checked(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    # Values left in fields the console hid for this kind: neither stored nor a reason to refuse.
    response = _create(
        alice,
        world,
        kind="email",
        name="Legacy mail",
        grouping="alert",
        window_minutes="0",
        rate_limit_per_minute="lots",
        signing_secret="leftover",
        field_mapping="{not json",
        heartbeat_interval_seconds="10",
    )
    assert response.status_code == 302, _text(response)
    integration = Integration.objects.get()
    assert (
        integration.kind == "email" and integration.signing_secret == "" and integration.field_mapping == {}
    )
    assert integration.window_minutes == 10


def test_edit_form_shows_only_what_the_kind_reads(client_for: ClientFor, world: World) -> None:
    alice = client_for(world.alice)
    heartbeat = make_integration(world, "heartbeat", heartbeat_interval_seconds=300)
    page = _text(alice.get(_url(heartbeat.integration)))
    edit = page[page.index('id="edit-integration"') :]
    assert 'name="heartbeat_interval_seconds"' in edit
    assert "(optional)" not in _field(edit, "heartbeat_interval_seconds")
    for absent in ("signing_secret", "rate_limit_per_minute", "field_mapping", "email_dedup_pattern", "kind"):
        assert f'name="{absent}"' not in edit, absent
    # The settings card does not list what the kind does not read either.
    settings_card = page[page.index('id="settings"') : page.index('id="edit-integration"')]
    assert "Rate limit" not in settings_card and "Signed" not in settings_card
    data = {k: v for k, v in FORM.items() if k not in ("kind", "rate_limit_per_minute")}
    data["heartbeat_interval_seconds"] = "600"
    assert alice.post(_url(heartbeat.integration, "web:integration-edit"), data).status_code == 302
    heartbeat.integration.refresh_from_db()
    assert heartbeat.integration.heartbeat.interval_seconds == 600
    blank = alice.post(
        _url(heartbeat.integration, "web:integration-edit"), {**data, "heartbeat_interval_seconds": ""}
    )
    assert blank.status_code == 400
    assert "Heartbeat: expected every (seconds): This field is required." in _summary(_text(blank))

    webhook = make_integration(world, "webhook")
    edit = _text(alice.get(_url(webhook.integration)))
    assert (
        'name="signing_secret"' in edit
        and 'name="field_mapping"' in edit
        and 'name="rate_limit_per_minute"' in edit
    )
    assert 'name="heartbeat_interval_seconds"' not in edit and 'name="email_dedup_pattern"' not in edit


# ---------------------------------------------------------------------------------------------------------------
# alerts: actions, long values, filters


def test_refused_acknowledge_and_resolve_come_back_to_the_alert(client_for: ClientFor, world: World) -> None:
    alert = _fire(make_integration(world, "webhook"))
    bob = client_for(world.bob)
    detail = reverse("web:alert-detail", args=[alert.pk])
    acknowledge = reverse("web:alert-acknowledge", args=[alert.pk])
    assert bob.post(acknowledge)["Location"] == detail
    twice = bob.post(acknowledge)
    assert twice.status_code == 302 and twice["Location"] == detail
    page = _text(bob.get(detail))
    assert f"Not acknowledged: alert {alert.pk} is already acknowledged." in page
    assert 'class="alert alert-error"' in page
    assert "already acknowledged" not in _text(bob.get(detail))  # a reload: the message was shown once

    assert bob.post(reverse("web:alert-resolve", args=[alert.pk]))["Location"] == detail
    again = bob.post(reverse("web:alert-resolve", args=[alert.pk]))
    assert again.status_code == 302 and again["Location"] == detail
    assert "Not resolved:" in _text(bob.get(detail))
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_long_summary_is_clamped_in_the_heading_and_long_values_are_whole(
    client_for: ClientFor, world: World
) -> None:
    summary = "Long word " + "word " * 210
    summary = summary[:1024]
    dedup_key = "sha256:" + "0123456789abcdef" * 4
    alert = _fire(make_integration(world, "webhook"), summary=summary, dedup_key=dedup_key)
    page = _text(client_for(world.bob).get(reverse("web:alert-detail", args=[alert.pk])))
    heading = re.search(r'<h1 class="wrap-anywhere" id="alert-heading" title="([^"]*)">([^<]*)</h1>', page)
    assert heading is not None
    assert html.unescape(heading.group(1)) == alert.summary  # the whole summary on hover
    shown = html.unescape(heading.group(2))
    assert len(shown) == 200 and shown.endswith("…") and alert.summary.startswith(shown[:-1])
    assert f'<p class="wrap-anywhere" id="full-summary">{alert.summary}</p>' in page  # and under Details
    assert f'<code id="dedup-key">{dedup_key}</code>' in page  # not cut
    assert '<div class="action-row keep-together" id="alert-actions">' in page
    assert f"<title>Alert {alert.pk} · {alert.summary[:59]}…" in page

    short = _fire(make_integration(world, "webhook", name="other"), summary="Disk full", dedup_key="d")
    short_page = _text(client_for(world.bob).get(reverse("web:alert-detail", args=[short.pk])))
    assert '<h1 class="wrap-anywhere" id="alert-heading">Disk full</h1>' in short_page
    assert 'id="full-summary"' not in short_page


def test_bad_alert_filters_are_named_and_the_rest_still_filter(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "webhook")
    _fire(hooked, summary="Queue depth above 10k", dedup_key="queue", severity="error")
    _fire(hooked, summary="Disk full on db-1", dedup_key="disk", severity="critical")
    bob = client_for(world.bob)
    listing = reverse("web:alert-list")

    page = html.unescape(_text(bob.get(listing, {"status": "bogus", "severity": "critical"})))
    assert "Ignored the status filter “bogus”: not a status" in page
    assert "Disk full on db-1" in page and "Queue depth above 10k" not in page  # severity still applies

    page = html.unescape(_text(bob.get(listing, {"service": "nope", "q": "queue"})))
    assert "Ignored the service filter “nope”: no service you can see has that slug." in page
    assert "Queue depth above 10k" in page and "Disk full" not in page

    page = html.unescape(_text(bob.get(listing, {"integration": "abc"})))
    assert "Ignored the integration filter “abc”: no integration you can see has that number." in page
    other_team = make_integration(world, "webhook", service=world.service_b)
    page = html.unescape(_text(bob.get(listing, {"integration": str(other_team.integration.pk)})))
    assert f"Ignored the integration filter “{other_team.integration.pk}”" in page

    partial = bob.get(
        listing, {"severity": "loud"}, headers={"HX-Request": "true", "HX-Target": "alert-results"}
    )
    assert "Ignored the severity filter “loud”" in html.unescape(_text(partial))
    clean = _text(bob.get(listing, {"severity": "error"}))
    assert "Ignored the" not in clean and 'id="filter-problems"' not in clean


# ---------------------------------------------------------------------------------------------------------------
# the email setup text


def test_email_setup_text_states_the_real_dedup_rule(client_for: ClientFor, world: World) -> None:
    hooked = make_integration(world, "email")
    text = snippets.snippets(hooked.integration)[0].text
    assert "whole subject" not in text
    assert "Dedup key ← the summary, lower-cased" in text
    assert "a leading severity tag removed" in text
    # It is what intake does: the summary (tag removed by the parser) lower-cased.
    assert classify("Disk FULL on db1", hooked.integration)[1] == "disk full on db1"

    hooked.integration.email_dedup_pattern = r"Host (\S+) is DOWN"
    hooked.integration.email_resolve_pattern = r"Host (\S+) is UP"
    both = snippets.snippets(hooked.integration)[0].text
    assert r"the first group (or the whole match) of Host (\S+) is DOWN" in both
    assert "without a match, the summary, lower-cased" in both
    assert r"Resolves  ← a mail whose summary matches Host (\S+) is UP" in both
    assert classify("Host web1 is UP", hooked.integration) == ("resolve", "web1")

    page = _text(client_for(world.alice).get(_url(hooked.integration)))
    assert "whole subject" not in page and "With a placeholder where the key goes" not in page
