"""The console: the incident page shows each clock live (elapsed, remaining, paused, breached) and polls the
panel; the compliance report page and its CSV; the admin site pages where organisation admins keep calendars
and definitions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.conftest import World
from tests.incidents_sla.conftest import at, declare, define, move
from warroom.accounts.models import User
from warroom.audit.models import AuditEvent
from warroom.incidents.models import BusinessCalendar, SlaDefinition

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def clock_html(page: str, kind: str) -> str:
    start = page.index(f'id="sla-{kind}"')
    return page[start : page.index("</dd>", start)]


def test_the_incident_page_shows_each_clock_live(world: World, client_for: ClientFor) -> None:
    define(priority=3, response_minutes=30, resolution_minutes=240)
    incident = declare(world, T0)
    move(incident, T0 + 10 * MIN, "in_progress")
    bob = client_for(world.bob)
    with at(T0 + 60 * MIN):
        page = bob.get(f"/incidents/{incident.ref}/").content.decode()
    assert 'id="sla"' in page and f'hx-get="/incidents/{incident.ref}/sla/"' in page
    response = clock_html(page, "response")
    assert 'data-status="met"' in response and "10m</span> of 30m used" in response
    resolution = clock_html(page, "resolution")
    assert 'data-status="running"' in resolution
    assert '<span class="sla-elapsed">1h</span> of 4h used' in resolution
    assert '<span class="sla-remaining">3h left</span>' in resolution
    assert "Due Mar 2, 13:00" in resolution and "24×7" in resolution

    incident = move(incident, T0 + 70 * MIN, "on_hold", hold_reason="awaiting_vendor")
    with at(T0 + 200 * MIN):
        panel = bob.get(f"/incidents/{incident.ref}/sla/").content.decode()
    assert panel.startswith('<section class="card" id="sla"')
    resolution = clock_html(panel, "resolution")
    assert 'data-status="paused"' in resolution and "Paused since Mar 2, 10:10" in resolution
    assert "1h 10m</span> of 4h used" in resolution  # the time on hold does not count

    incident = move(incident, T0 + 210 * MIN, "in_progress")
    with at(T0 + 600 * MIN):
        panel = bob.get(f"/incidents/{incident.ref}/sla/").content.decode()
    resolution = clock_html(panel, "resolution")
    assert 'data-status="breached"' in resolution and "Breached · running" in resolution
    assert '<strong class="sla-overdue">3h 40m over</strong>' in resolution  # 70 + 390 = 460 used of 240
    assert "Due Mar 2, 15:20" in resolution  # resumed 12:30 with 2h 50m left


def test_the_panel_is_scoped_and_absent_without_slas(world: World, client_for: ClientFor) -> None:
    incident = declare(world, T0)
    page = client_for(world.bob).get(f"/incidents/{incident.ref}/").content.decode()
    assert 'id="sla"' not in page
    define(priority=3, resolution_minutes=60)
    incident = declare(world, T0)
    assert client_for(world.charlie).get(f"/incidents/{incident.ref}/sla/").status_code == 404
    assert client_for(world.dave).get(f"/incidents/{incident.ref}/sla/").status_code == 200
    anonymous = Client().get(f"/incidents/{incident.ref}/sla/")
    assert anonymous.status_code == 302


def test_the_report_page_and_its_csv(world: World, client_for: ClientFor) -> None:
    define(priority=3, response_minutes=30, resolution_minutes=240)
    incident = declare(world, T0)
    move(incident, T0 + 10 * MIN, "resolved")
    declare(world, T0, team=world.team_b, services=[world.service_b], actor=world.charlie)
    alice = client_for(world.alice)
    with at(T0 + 120 * MIN):
        page = alice.get("/reports/sla/", {"start": "2026-03-01", "end": "2026-03-02"})
        csv = alice.get("/reports/sla.csv", {"start": "2026-03-01", "end": "2026-03-02"})
        default = alice.get("/reports/sla/")
        bad = alice.get("/reports/sla/", {"start": "2026-03-05", "end": "2026-03-01"})
        charlie = client_for(world.charlie).get("/reports/sla/", {"start": "2026-03-01", "end": "2026-03-02"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/reports/sla/"' in html  # the navigation link
    assert 'id="by-priority"' in html and 'id="by-team"' in html and 'id="by-service"' in html
    by_team = html.split('id="by-team"')[1].split("</table>")[0]
    assert "<strong>Team A</strong>" in by_team and "Team B" not in by_team
    assert "<strong>Checkout</strong>" in html and "100.0%" in html
    assert 'value="2026-03-01"' in html and 'value="2026-03-02"' in html
    assert 'href="/reports/sla.csv?start=2026-03-01&amp;end=2026-03-02"' in html
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert "total,all,All,resolution,1,0,0,100.0" in csv.content.decode()
    assert default.status_code == 200 and "Mar 2, 2026" in default.content.decode()
    assert 'value="2026-02-01"' in default.content.decode()  # the last 30 days, both ends shown
    assert bad.status_code == 400
    assert "<strong>Team B</strong>" in charlie.content.decode()
    assert "<strong>Team A</strong>" not in charlie.content.decode()


def test_org_admins_keep_calendars_and_definitions_in_the_admin(world: World, client_for: ClientFor) -> None:
    olivia = client_for(world.olivia)
    assert olivia.get("/admin/incidents/businesscalendar/add/").status_code == 200
    response = olivia.post(
        "/admin/incidents/businesscalendar/add/",
        {
            "name": "Glasgow office",
            "time_zone": "Europe/London",
            "working_hours": '{"mon": [["08:30", "16:30"]], "tue": [["08:30", "16:30"]]}',
            "holiday_country": "gb",
            "holiday_subdivision": "sct",
            "custom_holidays": "[]",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessCalendar.objects.get(name="Glasgow office")
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("GB", "SCT")
    assert calendar.working_hours["wed"] == []
    refused = olivia.post(
        "/admin/incidents/businesscalendar/add/",
        {"name": "Bad", "time_zone": "Nowhere/City", "working_hours": "{}", "custom_holidays": "[]"},
    )
    assert refused.status_code == 200 and "IANA" in refused.content.decode()
    response = olivia.post(
        "/admin/incidents/sladefinition/add/",
        {
            "name": "Scotland P2",
            "priority": 2,
            "resolution_minutes": 480,
            "calendar": calendar.pk,
            "pause_on": '["awaiting_vendor"]',
            "warning_thresholds": "[80]",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SlaDefinition.objects.get(name="Scotland P2").warning_thresholds == [80]
    assert set(AuditEvent.objects.filter(source="admin").values_list("action", flat=True)) == {
        "sla.calendar.create",
        "sla.definition.create",
    }
    # A calendar in use cannot be deleted.
    olivia.post(f"/admin/incidents/businesscalendar/{calendar.pk}/delete/", {"post": "yes"})
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    # Everyone else is turned away.
    for person in (world.alice, world.bob):
        response = client_for(person).get("/admin/incidents/sladefinition/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
