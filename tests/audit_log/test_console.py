"""The console's audit log page (``/settings/audit/``): organisation admins read and filter it and download it
as CSV; anyone else gets the 403 page and no link to it; bad filters are a 400 naming the field."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.audit_log.conftest import Log
from warroom.accounts.models import User

PAGE = "/settings/audit/"
EXPORT = "/settings/audit/export.csv"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_org_admin_reads_the_log_with_filters(log: Log) -> None:
    client = _client(log.world.olivia)

    page = client.get(PAGE).content.decode()
    assert 'href="/settings/audit/">Audit log</a>' in page
    assert "team.member.set" in page and "service.create" in page and "alice@example.com" in page

    filtered = client.get(PAGE, {"actor": "olivia@example.com", "action": "team."})
    text = filtered.content.decode()
    assert filtered.status_code == 200
    assert "team.create" in text and "service.create" not in text
    assert "1</strong> event" in text


def test_times_are_read_in_the_users_zone(log: Log) -> None:
    User.objects.filter(pk=log.world.olivia.pk).update(time_zone="Europe/Paris")
    client = _client(User.objects.get(pk=log.world.olivia.pk))
    # 2036-03-02 10:00 in Paris is 09:00 UTC: the team made at T2 is included, alice's service at T1 is not
    text = client.get(PAGE, {"since": "2036-03-02T10:00", "before": "2036-03-02T10:01"}).content.decode()
    assert "team.create" in text and "service.create" not in text and "team.member.set" not in text


def test_bad_filters_are_a_400_with_the_message_next_to_the_field(log: Log) -> None:
    client = _client(log.world.olivia)
    response = client.get(PAGE, {"since": "2036-03-03T00:00", "before": "2036-03-02T00:00"})
    assert response.status_code == 400
    assert "since: must be before the time given as before" in response.content.decode()
    assert client.get(PAGE, {"since": "soon"}).status_code == 400
    bad_csv = client.get(EXPORT, {"since": "soon"})
    assert bad_csv.status_code == 400 and bad_csv.content.decode().startswith("since:")


def test_the_csv_download_has_what_the_filters_match(log: Log) -> None:
    response = _client(log.world.olivia).get(EXPORT, {"actor": "alice@example.com"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["team.member.set", "service.create"]


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_anyone_else_gets_the_403_page_and_no_link(log: Log, who: str) -> None:
    client = _client(getattr(log.world, who))
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert "/settings/audit/" not in client.get("/settings/profile/").content.decode()


def test_signed_out_is_sent_to_sign_in(log: Log) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_team_admin_finds_the_log_in_the_menu(log: Log) -> None:
    page = _client(log.world.alice).get("/settings/profile/").content.decode()  # alice is Team A's admin
    assert 'href="/settings/audit/">Audit log</a>' in page
