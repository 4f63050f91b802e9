"""``HEAD`` on the API answers as ``GET`` would, with no body: a probe that checks a URL it may read is not told
the method is not allowed."""

from __future__ import annotations

from tests.api.conftest import ApiClient, Clients
from tests.conftest import World
from warroom.incidents.models import Incident


def test_head_answers_like_get_without_a_body(api: Clients, world: World) -> None:
    got = api.alice.get("/incidents")
    head = api.alice.call("HEAD", "/incidents")

    assert head.status_code == 200, head.content
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"] == "application/json; charset=utf-8"
    assert int(head["Content-Length"]) == len(got.content)


def test_head_is_refused_as_get_would_be(api: Clients, world: World) -> None:
    assert ApiClient(None).call("HEAD", "/incidents").status_code == 401
    assert api.charlie.call("HEAD", "/incidents/INC9999999").status_code == 404
    assert api.alice.call("HEAD", "/no-such-thing").status_code == 404


def test_head_on_a_route_that_only_changes_things_is_not_allowed(api: Clients, world: World) -> None:
    before = Incident.objects.count()
    response = api.alice.call("HEAD", "/incidents/INC0000001/escalation/escalate-now")
    assert response.status_code == 405
    assert Incident.objects.count() == before


def test_head_on_the_csv_export(api: Clients, world: World) -> None:
    head = api.olivia.call("HEAD", "/audit.csv")
    assert head.status_code == 200 and head["Content-Type"].startswith("text/csv")
    assert b"".join(head.streaming_content) == b""
