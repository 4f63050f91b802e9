"""GoAlert's generic API, drop-in (docs/integrations/goalert.md): requests exactly as GoAlert's own docs show them
(fields in the query string, a form or a JSON body, the body winning), its default dedup (summary and details),
``action=close``, ``meta``, and its answers (204, or JSON when asked)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.alerts.conftest import Hooked, cycle, make_integration
from tests.conftest import World
from warroom.alerts import snippets
from warroom.alerts.models import Alert, AlertStatus, IntakeEvent
from warroom.incidents.models import Incident

pytestmark = pytest.mark.django_db

URL = "/api/v2/generic/incoming"


@pytest.fixture
def goalert(world: World) -> Hooked:
    return make_integration(world, "goalert")


def incoming(
    query: dict[str, str] | None = None,
    *,
    form: dict[str, str] | None = None,
    json_body: object = None,
    accept: str = "",
) -> HttpResponse:
    path = f"{URL}?{urlencode(query, doseq=True)}" if query else URL
    headers = {"Accept": accept} if accept else {}
    if form is not None:
        return Client().post(
            path,
            data=urlencode(form, doseq=True),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    if json_body is not None:
        return Client().post(
            path, data=json.dumps(json_body), content_type="application/json", headers=headers
        )
    return Client().generic("POST", path, data=b"", content_type="", headers=headers)  # as curl -XPOST


def test_the_curl_lines_of_goalerts_docs_raise_and_close_an_alert(goalert: Hooked) -> None:
    # curl -XPOST https://<host>/api/v2/generic/incoming?token=key-here&summary=test&dedup=disk-check
    raised = incoming({"token": goalert.key, "summary": "test", "dedup": "disk-check"})
    assert raised.status_code == 204 and raised.content == b""
    cycle()
    alert = Alert.objects.get()
    assert (alert.summary, alert.dedup_key, alert.status) == ("test", "disk-check", AlertStatus.TRIGGERED)
    assert Incident.objects.get().title == "test"
    # curl -XPOST https://<host>/api/v2/generic/incoming?token=key-here&summary=test&action=close (with its dedup)
    closed = incoming({"token": goalert.key, "summary": "test", "dedup": "disk-check", "action": "close"})
    assert closed.status_code == 204
    cycle()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_without_a_dedup_the_same_summary_and_details_update_one_alert(goalert: Hooked) -> None:
    for _ in range(2):
        incoming({"token": goalert.key, "summary": "Disk full", "details": "srv01 /var"})
    incoming({"token": goalert.key, "summary": "Disk full", "details": "srv02 /var"})
    cycle()
    counts = sorted(Alert.objects.values_list("count", flat=True))
    assert counts == [1, 2]
    # closing names the alert the same way
    incoming({"token": goalert.key, "summary": "Disk full", "details": "srv01 /var", "action": "close"})
    cycle()
    assert Alert.objects.filter(status=AlertStatus.RESOLVED).count() == 1


def test_a_form_or_json_body_works_and_wins_over_the_query_string(goalert: Hooked) -> None:
    form = incoming(
        {"token": goalert.key, "summary": "from the query"},
        form={"summary": "from the form", "meta": ["host=srv01", "dc=eu"]},
    )
    assert form.status_code == 204
    body = {
        "token": goalert.key,
        "summary": "from JSON",
        "details": "**markdown**",
        "meta": {"host": "srv02"},
    }
    assert incoming(json_body=body).status_code == 204
    cycle()
    alerts = {a.summary: a for a in Alert.objects.all()}
    assert set(alerts) == {"from the form", "from JSON"}
    assert alerts["from the form"].details == {"meta": {"host": "srv01", "dc": "eu"}}
    assert alerts["from JSON"].details == {"details": "**markdown**", "meta": {"host": "srv02"}}


def test_a_multipart_form_as_curl_dash_f_sends_it_works_too(goalert: Hooked) -> None:
    # curl -F token=... -F summary=... -F meta=host=srv03 https://<host>/api/v2/generic/incoming
    answer = Client().post(
        URL,
        data={"token": goalert.key, "summary": "from curl -F", "meta": ["host=srv03"], "dedup": "multi"},
    )  # Django's test client sends a dict as multipart/form-data, as curl -F does
    assert answer.status_code == 204, answer.content
    cycle()
    alert = Alert.objects.get()
    assert (alert.summary, alert.dedup_key, alert.details) == (
        "from curl -F",
        "multi",
        {"meta": {"host": "srv03"}},
    )


def test_a_form_that_is_not_utf8_is_refused_and_logged_with_its_bytes(goalert: Hooked) -> None:
    answer = Client().post(
        f"{URL}?token={goalert.key}",
        data=b"summary=caf\xe9",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"] == "the body is not valid UTF-8 (byte 11)"
    logged = IntakeEvent.objects.get()
    assert logged.status == "rejected" and logged.payload == {"raw": "summary=caf\ufffd"}


def test_asked_for_json_the_answer_names_the_dedup_key(goalert: Hooked) -> None:
    answer = incoming(
        {"token": goalert.key, "summary": "test", "dedup": "disk-check"}, accept="application/json"
    )
    assert answer.status_code == 202
    assert answer.json() == {"status": "accepted", "dedup": "disk-check"}


@pytest.mark.parametrize(
    ("query", "status", "field", "message"),
    [
        ({"summary": "no key"}, 401, "token", "send the key as token=<key>"),
        (
            {"token": "wr_ik_not-a-key", "summary": "x"},
            404,
            "token",
            "token is not an active integration key",
        ),
        ({"summary": ""}, 400, "summary", "summary is required"),
        ({"summary": "x", "action": "resolve"}, 400, "action", "action must be close, or left out"),
        (
            {"summary": "x", "meta": "no-equals-sign"},
            400,
            "meta",
            "meta in the query string must be key=value",
        ),
    ],
)
def test_bad_calls_get_their_4xx_and_nothing_is_written(
    goalert: Hooked, query: dict[str, str], status: int, field: str, message: str
) -> None:
    if "token" not in query and status != 401:
        query = {"token": goalert.key, **query}
    answer = incoming(query)
    assert answer.status_code == status, answer.content
    assert answer.json()["errors"][0]["field"] == field and message in answer.json()["errors"][0]["message"]
    cycle()
    assert not Alert.objects.exists()
    assert IntakeEvent.objects.exclude(status="rejected").count() == 0


def test_a_body_of_another_type_is_a_415(goalert: Hooked) -> None:
    answer = Client().post(f"{URL}?token={goalert.key}", data="summary=x", content_type="text/plain")
    assert answer.status_code == 415
    assert "application/x-www-form-urlencoded" in answer.json()["errors"][0]["message"]


def test_another_kinds_key_is_refused(world: World) -> None:
    pagerduty = make_integration(world, "pagerduty")
    answer = incoming({"token": pagerduty.key, "summary": "x"})
    assert answer.status_code == 400 and not Alert.objects.exists()
    assert answer.json()["errors"] == [
        {"field": "token", "message": "this key belongs to a PagerDuty Events API v2 integration"}
    ]


def test_the_rest_api_beside_it_is_untouched(goalert: Hooked, client_for: object, world: World) -> None:
    api = client_for(world.alice)  # type: ignore[operator]
    assert api.get("/api/v1/me").status_code == 200
    assert Client().get(URL).status_code == 405


def test_the_integration_pages_curl_lines_work_as_written(goalert: Hooked, settings: object) -> None:
    settings.WARROOM_BASE_URL = "http://warroom.example.com"  # type: ignore[attr-defined]
    text = next(s for s in snippets.snippets(goalert.integration, goalert.key) if s.slug == "curl").text
    commands = text.replace("\\\n", " ").strip().splitlines()
    assert len(commands) == 3
    for command in commands:
        url = re.search(r"-X POST '([^']+)'", command)[1].removeprefix("http://warroom.example.com")  # type: ignore[index]
        body = re.search(r"-d '(.+)'", command)
        if body:
            answer = Client().post(url, data=body[1], content_type="application/json")
        else:
            answer = Client().generic("POST", url, data=b"", content_type="")
        assert answer.status_code == 204, (command, answer.content)
    cycle()
    # the first line raised srv01-disk, the second closed it; the JSON one raised its own (dedup: its summary)
    assert dict(Alert.objects.values_list("dedup_key", "status")) == {
        "srv01-disk": AlertStatus.RESOLVED,
        "Disk at 99% on srv01": AlertStatus.TRIGGERED,
    }
