"""The setup snippets work as written: the curl examples' bodies, posted with the headers the snippet names,
are accepted by the intake; the YAML carries the endpoint and key where the senders read them."""

from __future__ import annotations

import html
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.alerts.conftest import CONSOLE_FORM, cycle, make_integration
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts import snippets
from warroom.alerts.models import Alert
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db

BASE = "http://warroom.example.com"
CURL = re.compile(r"curl -sS (?:-X POST )?'?(?P<url>[^'\s]+)'?(?P<headers>.*?)-d '(?P<body>.*?)'\n", re.S)
HEADER = re.compile(r"-H '([^:]+): ([^']+)'")
AMTOOL = Path("/usr/bin/amtool")  # Debian's prometheus-alertmanager (make test installs it)


@pytest.fixture(autouse=True)
def _urls(settings: object) -> None:
    settings.WARROOM_BASE_URL = BASE  # type: ignore[attr-defined]


def _run_curls(text: str) -> list[int]:
    """Post every curl command of ``text`` to the test server; their statuses."""
    statuses = []
    for match in CURL.finditer(text):
        path = match["url"].removeprefix(BASE)
        headers = dict(HEADER.findall(match["headers"]))
        headers.pop("Content-Type", None)
        body = json.loads(match["body"])
        response = Client().post(
            path, data=json.dumps(body), content_type="application/json", headers=headers
        )
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("kind", ["alertmanager", "webhook", "pagerduty", "opsgenie"])
def test_curl_examples_are_accepted(world: World, kind: str) -> None:
    hooked = make_integration(world, kind)
    blocks = snippets.snippets(hooked.integration, hooked.key)
    curl = next(s for s in blocks if s.slug == "curl")
    statuses = _run_curls(curl.text)
    assert statuses and all(status == 202 for status in statuses), (statuses, curl.text)
    cycle()
    assert Alert.objects.exists()
    if kind != "alertmanager":
        # trigger then resolve: the alert and its incident are resolved
        assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
        assert set(Incident.objects.values_list("state", flat=True)) == {"resolved"}


def test_yaml_snippets_carry_endpoint_and_key(world: World) -> None:
    am = make_integration(world, "alertmanager")
    text = snippets.snippets(am.integration, am.key)[0].text
    assert f'url: "{BASE}/integrations/alertmanager"' in text
    assert f'credentials: "{am.key}"' in text and "type: Bearer" in text and "send_resolved: true" in text
    grafana = make_integration(world, "grafana", signing_secret="grafana-secret")
    texts = "".join(s.text for s in snippets.snippets(grafana.integration, grafana.key))
    assert f'authorization_credentials: "{grafana.key}"' in texts and "hmacConfig" in texts
    assert "grafana-secret" not in texts  # the signing secret is never echoed
    pd = make_integration(world, "pagerduty")
    texts = "".join(s.text for s in snippets.snippets(pd.integration, pd.key))
    assert f'routing_key: "{pd.key}"' in texts and f"{BASE}/v2/enqueue" in texts
    og = make_integration(world, "opsgenie")
    texts = "".join(s.text for s in snippets.snippets(og.integration, og.key))
    assert f'api_key: "{og.key}"' in texts and f'api_url: "{BASE}/"' in texts and "GenieKey" in texts


def test_without_a_key_the_snippets_have_a_placeholder(world: World) -> None:
    hooked = make_integration(world, "webhook")
    texts = "".join(s.text for s in snippets.snippets(hooked.integration))
    assert hooked.key not in texts and snippets.KEY_PLACEHOLDER in texts


@pytest.mark.skipif(
    not AMTOOL.exists(), reason=f"{AMTOOL} is not installed (Debian package prometheus-alertmanager)"
)
@pytest.mark.parametrize(
    ("kind", "slug"),
    [
        ("alertmanager", "alertmanager"),
        ("pagerduty", "alertmanager-pagerduty"),
        ("opsgenie", "alertmanager-opsgenie"),
    ],
)
def test_alertmanager_snippets_are_files_amtool_accepts(
    world: World, tmp_path: Path, kind: str, slug: str
) -> None:
    """Each snippet headed ``# alertmanager.yml`` works as the whole file: Alertmanager needs a route to load it."""
    hooked = make_integration(world, kind)
    text = next(s.text for s in snippets.snippets(hooked.integration, hooked.key) if s.slug == slug)
    assert text.startswith("# alertmanager.yml\n")
    config = tmp_path / "alertmanager.yml"
    config.write_text(text)
    checked = subprocess.run(
        [str(AMTOOL), "check-config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("interval", "schedule"),
    [
        ("86400", "0 2 * * *"),
        ("900", "*/15 * * * *"),
        ("7200", "0 */2 * * *"),
        ("604800", "0 2 * * 1"),
        ("5400", "<schedule>"),  # every 90 minutes: cron cannot say it, so the line asks for the job's own
    ],
)
def test_heartbeat_cron_line_runs_the_job_at_the_monitor_interval(
    client_for: Callable[[User], Client], world: World, interval: str, schedule: str
) -> None:
    """The cron snippet shown with a new heartbeat key runs the job as often as the monitor expects a ping (it
    said every 5 minutes whatever the interval: a nightly backup pasted from it ran 288 times a day)."""
    alice = client_for(world.alice)
    fields = {"kind": "heartbeat", "name": "Nightly backup", "grouping": "alert"}
    response = alice.post(
        reverse("web:integration-list", args=[world.service_a.slug]),
        {**CONSOLE_FORM, **fields, "heartbeat_interval_seconds": interval, "heartbeat_grace_seconds": "60"},
    )
    assert response.status_code == 302
    page = html.unescape(alice.get(response["Location"]).content.decode())
    lines = re.findall(r"^(.*) /usr/local/bin/backup\.sh && curl -fsS", page, re.MULTILINE)
    assert lines == [schedule], lines
