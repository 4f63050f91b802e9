"""The status page REST API: a page built and run through /api/v1/status-pages, team scoping (another team's
page is a 404), rights (responders read, admins change: 403) and bad input (400/422 naming the field)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.api.conftest import Clients, error
from tests.comms_pages.conftest import Site
from tests.conftest import World
from tests.notify.receivers import Inbox
from warroom.alerts.models import MaintenanceWindow
from warroom.comms.models import Component, StatusPage
from warroom.lib import clock

pytestmark = pytest.mark.django_db


def test_build_a_page_through_the_api(api: Clients, world: World) -> None:
    created = api.alice.post(
        "/status-pages",
        {
            "team": "team-a",
            "name": "Acme Cloud",
            "visibility": "secret_link",
            "brand_color": "#0a7c55",
            "footer_links": [{"label": "Support", "url": "https://acme.example.com/help"}],
        },
    )
    assert created.status_code == 201, created.content
    page = created.json()
    assert page["slug"] == "acme-cloud" and page["secret_link"].startswith("http")
    key = page["secret_link"].split("?key=")[1]
    assert Client().get(f"/status/acme-cloud/?key={key}").status_code == 200
    assert api.alice.get("/status-pages/acme-cloud").json()["secret_link"] is None  # shown once

    group = api.alice.post("/status-pages/acme-cloud/groups", {"name": "Core"}).json()
    component = api.alice.post(
        "/status-pages/acme-cloud/components",
        {"name": "Checkout", "group": group["id"], "services": ["checkout"]},
    )
    assert component.status_code == 201, component.content
    body = component.json()
    assert (
        body["services"] == ["checkout"] and body["status_mode"] == "derived" and body["group"] == group["id"]
    )
    manual = api.alice.post(
        f"/status-pages/acme-cloud/components/{body['id']}/status", {"status": "partial_outage"}
    ).json()
    assert manual["status"] == "partial_outage" and manual["status_mode"] == "manual"
    moved = api.alice.patch(f"/status-pages/acme-cloud/components/{body['id']}", {"group": None}).json()
    assert moved["group"] is None

    start = clock.now() + timedelta(days=1)
    maintenance = api.alice.post(
        "/status-pages/acme-cloud/maintenance",
        {
            "title": "DB upgrade",
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=1)).isoformat(),
            "components": [body["id"]],
        },
    )
    assert maintenance.status_code == 201, maintenance.content
    m = maintenance.json()
    assert m["state"] == "scheduled" and len(m["alert_windows"]) == 1
    cancelled = api.alice.post(f"/status-pages/acme-cloud/maintenance/{m['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled" and not MaintenanceWindow.objects.exists()
    again = api.alice.post(f"/status-pages/acme-cloud/maintenance/{m['id']}/cancel")
    assert again.status_code == 409 and error(again)["errors"][0]["field"] == "state"

    listed = api.bob.get("/status-pages").json()
    assert [p["slug"] for p in listed["items"]] == ["acme-cloud"]
    assert api.alice.delete("/status-pages/acme-cloud").status_code == 204
    assert not StatusPage.objects.exists()


def test_team_scoping_and_rights(api: Clients, world: World, site: Site) -> None:
    assert api.charlie.get("/status-pages/acme").status_code == 404
    assert api.charlie.post("/status-pages/acme/groups", {"name": "X"}).status_code == 404
    assert api.charlie.get("/status-pages").json()["items"] == []
    assert api.bob.get("/status-pages/acme").status_code == 200  # a responder of team A reads
    refused = api.bob.post("/status-pages/acme/groups", {"name": "X"})
    assert refused.status_code == 403
    assert api.olivia.post("/status-pages/acme/groups", {"name": "X"}).status_code == 201
    assert api.charlie.post("/status-pages", {"team": "team-a", "name": "Mine"}).status_code == 404


def test_bad_input_is_a_clear_4xx(api: Clients, world: World, site: Site) -> None:
    cases = [
        ("/status-pages", {"team": "team-a", "name": "X", "brand_color": "blue"}, 400, "brand_color"),
        ("/status-pages", {"team": "team-a", "name": "X", "visibility": "hidden"}, 400, "visibility"),
        (
            "/status-pages",
            {"team": "team-a", "name": "X", "logo_url": "http://x.example/l.png"},
            400,
            "logo_url",
        ),
        ("/status-pages", {"team": "team-a", "name": "Acme", "slug": "acme"}, 409, "slug"),
        ("/status-pages", {"team": "team-a", "name": "X", "slug": "no spaces"}, 400, "slug"),
        ("/status-pages", {"team": "team-a", "name": "X", "history_days": 400}, 400, "history_days"),
        ("/status-pages/acme/components", {"name": "Z", "services": ["nope"]}, 400, "services"),
        ("/status-pages/acme/components", {"name": "Z", "group": 999999}, 400, "group"),
        ("/status-pages/acme/components", {"name": "Z", "status_mode": "auto"}, 400, "status_mode"),
        ("/status-pages/acme/components", {"name": "Checkout"}, 409, "name"),
        ("/status-pages/acme/groups", {"name": "Core"}, 409, "name"),
        ("/status-pages/acme/groups", {"name": "  "}, 400, "name"),
    ]
    for path, body, status, field in cases:
        response = api.alice.post(path, body)
        assert response.status_code == status, (body, response.content)
        assert error(response)["errors"][0]["field"] == field, body
    start = clock.now() + timedelta(days=1)
    unknown = api.alice.post(
        "/status-pages/acme/maintenance",
        {
            "title": "x",
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=1)).isoformat(),
            "components": [999999],
        },
    )
    assert unknown.status_code == 400 and error(unknown)["errors"][0]["field"] == "components"
    assert "999999" in error(unknown)["detail"]
    bad_status = api.alice.post(f"/status-pages/acme/components/{site.cdn.pk}/status", {"status": "fine"})
    assert bad_status.status_code == 400 and error(bad_status)["errors"][0]["field"] == "status"
    missing = api.alice.post("/status-pages/acme/components", {"description": "no name"})
    assert missing.status_code == 422 and error(missing)["errors"][0]["field"] == "name"
    assert api.alice.get("/status-pages/acme/components/999999").status_code == 404
    assert Component.objects.filter(page=site.page).count() == 3  # nothing half-written


def test_subscribers_are_listed_and_removed(api: Clients, world: World, site: Site, smtp: Inbox) -> None:
    Client().post("/status/acme/subscribe/", {"kind": "email", "email": "pat@example.com"})
    listed = api.alice.get("/status-pages/acme/subscribers").json()
    assert [(s["address"], s["confirmed"]) for s in listed["items"]] == [("pat@example.com", False)]
    refused = api.bob.get("/status-pages/acme/subscribers")  # a responder of the team: not a page manager
    assert refused.status_code == 403 and "managers" in refused.json()["detail"]
    assert api.bob.delete(f"/status-pages/acme/subscribers/{listed['items'][0]['id']}").status_code == 403
    assert api.alice.delete(f"/status-pages/acme/subscribers/{listed['items'][0]['id']}").status_code == 204
    assert api.alice.get("/status-pages/acme/subscribers").json()["count"] == 0
