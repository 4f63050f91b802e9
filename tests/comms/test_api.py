"""The REST API of updates, templates and subscriptions: permissions (another team's incident is a 404, an
observer may read but not post), bad input as clear 4xx naming the field, webhook secrets shown once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import Clients, declare, error
from tests.comms.conftest import deliver, https_url
from tests.conftest import World
from tests.notify.receivers import Inbox, Receiver
from warroom.audit.models import AuditEvent
from warroom.comms.models import Component, ComponentStatus, Delivery, StatusPage, StatusUpdate, Subscription
from warroom.comms.signals import update_posted
from warroom.incidents.models import Incident, TimelineEntry
from warroom.lib import clock


def component(world: World, name: str = "API") -> Component:
    now = clock.now()
    page, _ = StatusPage.objects.get_or_create(
        slug="acme",
        defaults={"team": world.team_a, "name": "Acme status", "created_at": now, "updated_at": now},
    )
    return Component.objects.create(page=page, name=name, status_changed_at=now, created_at=now)


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": "investigating",
        "message": "Looking into it.",
        "audience": "internal",
    }
    values.update(overrides)
    return values


# -- updates ------------------------------------------------------------------------------------------------------


def test_a_responder_posts_an_update_and_everyone_on_the_team_reads_it(
    api: Clients, incident: Incident, world: World
) -> None:
    seen: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    update_posted.connect(listener)
    try:
        response = api.bob.post(f"/incidents/{incident.ref}/updates", body(status="identified"))
    finally:
        update_posted.disconnect(listener)
    assert response.status_code == 201, response.content
    posted = response.json()
    assert posted["status"] == "identified" and posted["audience"] == "internal"
    assert posted["author"]["email"] == "bob@example.com"
    assert posted["deliveries"] == {"total": 0, "sent": 0, "pending": 0, "failed": 0}
    assert [s["update"].pk for s in seen] == [posted["id"]] and seen[0]["at"] is not None
    listed = api.dave.get(f"/incidents/{incident.ref}/updates").json()  # an observer reads
    assert [u["id"] for u in listed["items"]] == [posted["id"]]
    entry = TimelineEntry.objects.filter(incident=incident, field="status_update").get()
    assert entry.message.startswith("**Update posted: Identified, internal**")
    assert "Looking into it." in entry.message
    assert AuditEvent.objects.filter(action="comms.update.post", object_id=str(posted["id"])).exists()


def test_posting_resolved_does_not_resolve_the_incident(api: Clients, incident: Incident) -> None:
    response = api.alice.post(f"/incidents/{incident.ref}/updates", body(status="resolved"))
    assert response.status_code == 201
    assert api.alice.get(f"/incidents/{incident.ref}").json()["state"] == incident.state == "new"


def test_another_team_gets_404_for_everything_about_an_incident(api: Clients, incident: Incident) -> None:
    update = api.alice.post(f"/incidents/{incident.ref}/updates", body()).json()
    client = api.charlie
    for response in (
        client.get(f"/incidents/{incident.ref}/updates"),
        client.post(f"/incidents/{incident.ref}/updates", body()),
        client.get(f"/incidents/{incident.ref}/updates/{update['id']}"),
        client.get(f"/incidents/{incident.ref}/updates/{update['id']}/deliveries"),
        client.get(f"/incidents/{incident.ref}/update-templates"),
        client.post(
            "/me/subscriptions", {"kind": "email", "address": "c@example.com", "incident": incident.ref}
        ),
    ):
        assert response.status_code == 404, response.content
        assert error(response)["code"] == "not_found"
    assert StatusUpdate.objects.count() == 1


def test_an_observer_may_read_but_not_post(api: Clients, incident: Incident) -> None:
    response = api.dave.post(f"/incidents/{incident.ref}/updates", body())
    assert response.status_code == 403
    assert "not post updates" in error(response)["detail"]
    assert StatusUpdate.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "panicking"}, "status"),
        ({"audience": "everyone"}, "audience"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 10_001}, "message"),
        ({"components": [99999]}, "components"),
        ({"component_status": "on_fire"}, "component_status"),
        ({"component_status": "major_outage"}, "component_status"),
    ],
)
def test_bad_updates_are_refused_naming_the_field(
    api: Clients, incident: Incident, overrides: dict[str, Any], field: str
) -> None:
    response = api.alice.post(f"/incidents/{incident.ref}/updates", body(**overrides))
    assert response.status_code == 400, response.content
    assert error(response)["errors"][0]["field"] == field
    assert StatusUpdate.objects.count() == 0
    assert not TimelineEntry.objects.filter(field="status_update").exists()


def test_a_malformed_body_is_a_422_naming_the_field(api: Clients, incident: Incident) -> None:
    response = api.alice.post(f"/incidents/{incident.ref}/updates", body(components="API"))
    assert response.status_code == 422
    assert error(response)["errors"][0]["field"].startswith("components")


def test_components_are_linked_and_named_in_the_update(
    api: Clients, incident: Incident, world: World
) -> None:
    api_component, web = component(world, "API"), component(world, "Website")
    response = api.alice.post(
        f"/incidents/{incident.ref}/updates",
        body(components=[api_component.pk, web.pk], component_status=ComponentStatus.PARTIAL_OUTAGE),
    )
    assert response.status_code == 201, response.content
    names = [c["name"] for c in response.json()["components"]]
    assert sorted(names) == ["API", "Website"]
    assert response.json()["component_status"] == "partial_outage"


def test_a_private_incident_cannot_have_public_updates(api: Clients, world: World) -> None:
    secret = declare(world, title="Breach", is_private=True)
    response = api.alice.post(f"/incidents/{secret.ref}/updates", body(audience="public"))
    assert response.status_code == 400
    assert error(response)["errors"][0]["field"] == "audience"
    assert api.bob.get(f"/incidents/{secret.ref}/updates").status_code == 404  # bob cannot see it at all


def test_deliveries_of_an_update_are_listed_with_their_state(
    api: Clients, incident: Incident, smtp: Inbox, frozen: datetime
) -> None:
    api.bob.post(
        "/me/subscriptions", {"kind": "email", "address": "ops@example.com", "incident": incident.ref}
    )
    update = api.alice.post(f"/incidents/{incident.ref}/updates", body()).json()
    deliveries = api.dave.get(f"/incidents/{incident.ref}/updates/{update['id']}/deliveries").json()
    assert [(d["address"], d["status"]) for d in deliveries["items"]] == [("ops@example.com", "pending")]
    deliver()
    row = api.alice.get(f"/incidents/{incident.ref}/updates/{update['id']}/deliveries").json()["items"][0]
    assert row["status"] == "sent" and row["attempts"] == 1 and row["delivery_id"].startswith("wrd_")
    counts = api.alice.get(f"/incidents/{incident.ref}/updates/{update['id']}").json()["deliveries"]
    assert counts == {"total": 1, "sent": 1, "pending": 0, "failed": 0}
    assert api.alice.get(f"/incidents/{incident.ref}/updates/999999/deliveries").status_code == 404


# -- templates ----------------------------------------------------------------------------------------------------


def test_built_in_defaults_then_team_templates_pre_fill_each_status(api: Clients, incident: Incident) -> None:
    defaults = api.bob.get(f"/incidents/{incident.ref}/update-templates").json()
    assert [t["status"] for t in defaults] == ["investigating", "identified", "monitoring", "resolved"]
    assert {t["origin"] for t in defaults} == {"built-in"}
    assert defaults[0]["key"] == "builtin:investigating" and "investigating" in defaults[0]["body"]
    made = api.alice.post(
        "/update-templates",
        {"team": "team-a", "status": "investigating", "name": "Payments", "body": "Payments are degraded."},
    )
    assert made.status_code == 201, made.content
    org = api.olivia.post(
        "/update-templates",
        {"team": None, "status": "monitoring", "name": "Org", "body": "Watching closely."},
    )
    assert org.status_code == 201, org.content
    choices = api.bob.get(f"/incidents/{incident.ref}/update-templates").json()
    by_status = {(t["status"], t["origin"]): t["body"] for t in choices}
    assert by_status[("investigating", "team")] == "Payments are degraded."
    assert ("investigating", "built-in") not in by_status
    assert by_status[("monitoring", "organisation")] == "Watching closely."
    assert by_status[("identified", "built-in")]


def test_templates_are_managed_by_team_admins_and_seen_by_their_team_only(api: Clients) -> None:
    made = api.alice.post(
        "/update-templates", {"team": "team-a", "status": "resolved", "name": "Done", "body": "All good."}
    ).json()
    path = f"/update-templates/{made['id']}"
    assert api.bob.patch(path, {"body": "Nope"}).status_code == 403
    assert api.charlie.get(path).status_code == 404
    assert api.charlie.patch(path, {"body": "Nope"}).status_code == 404
    assert api.charlie.delete(path).status_code == 404
    assert [t["id"] for t in api.bob.get("/update-templates").json()["items"]] == [made["id"]]
    assert api.charlie.get("/update-templates").json()["items"] == []
    assert (
        api.alice.post(
            "/update-templates", {"team": None, "status": "resolved", "name": "X", "body": "Y"}
        ).status_code
        == 403
    )
    changed = api.alice.patch(path, {"body": "All good now."})
    assert changed.status_code == 200 and changed.json()["body"] == "All good now."
    assert api.alice.delete(path).status_code == 204
    assert api.alice.get(path).status_code == 404


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"team": "team-a", "status": "bogus", "name": "N", "body": "B"}, 400, "status"),
        ({"team": "team-a", "status": "resolved", "name": "", "body": "B"}, 400, "name"),
        ({"team": "team-a", "status": "resolved", "name": "N", "body": " "}, 400, "body"),
        ({"team": "no-such-team", "status": "resolved", "name": "N", "body": "B"}, 400, "team"),
        ({"team": "team-a", "status": "resolved", "name": "Dup", "body": "B"}, 409, "name"),
    ],
)
def test_bad_templates_are_refused(api: Clients, payload: dict[str, Any], status: int, field: str) -> None:
    api.alice.post("/update-templates", {"team": "team-a", "status": "resolved", "name": "Dup", "body": "B"})
    response = api.alice.post("/update-templates", payload)
    assert response.status_code == status, response.content
    assert error(response)["errors"][0]["field"] == field


# -- subscriptions ------------------------------------------------------------------------------------------------


def test_subscribe_list_and_delete(
    api: Clients, incident: Incident, smtp: Inbox, https_receiver: Receiver
) -> None:
    email = api.bob.post(
        "/me/subscriptions", {"kind": "email", "address": "Bob@Example.COM", "service": "checkout"}
    )
    assert email.status_code == 201, email.content
    assert email.json()["address"] == "Bob@example.com"
    assert email.json()["target"] == {"type": "service", "id": incident.services.get().pk, "name": "Checkout"}
    assert email.json()["signing_secret"] is None
    hook = api.bob.post(
        "/me/subscriptions",
        {"kind": "webhook", "address": https_url(https_receiver), "incident": incident.ref},
    )
    assert hook.status_code == 201, hook.content
    secret = hook.json()["signing_secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    listed = api.bob.get("/me/subscriptions").json()
    assert {s["id"] for s in listed["items"]} == {email.json()["id"], hook.json()["id"]}
    assert (
        secret not in str(listed)
        and secret not in api.bob.get(f"/me/subscriptions/{hook.json()['id']}").content.decode()
    )
    assert api.alice.get("/me/subscriptions").json()["items"] == []
    assert api.alice.delete(f"/me/subscriptions/{hook.json()['id']}").status_code == 404
    assert api.bob.delete(f"/me/subscriptions/{hook.json()['id']}").status_code == 204
    assert Subscription.objects.count() == 1
    audit = AuditEvent.objects.filter(action__startswith="comms.subscription").values_list("after", "before")
    assert secret not in str(list(audit))


@pytest.mark.parametrize(
    ("payload", "status", "field", "says"),
    [
        ({"kind": "email", "address": "not-an-email", "team": "team-a"}, 400, "address", "not an email"),
        (
            {"kind": "webhook", "address": "http://hooks.example.com/x", "team": "team-a"},
            400,
            "address",
            "https",
        ),
        (
            {"kind": "webhook", "address": "https://10.0.0.8/hook", "team": "team-a"},
            400,
            "address",
            "private",
        ),
        (
            {"kind": "webhook", "address": "https://127.0.0.1/hook", "team": "team-a"},
            400,
            "address",
            "loopback",
        ),
        (
            {"kind": "webhook", "address": "https://u:p@hooks.example.com/", "team": "team-a"},
            400,
            "address",
            "",
        ),
        ({"kind": "sms", "address": "+15005550006", "team": "team-a"}, 400, "kind", "email, webhook"),
        ({"kind": "email", "address": "a@example.com"}, 400, "target", "exactly one"),
        (
            {"kind": "email", "address": "a@example.com", "team": "team-a", "service": "checkout"},
            400,
            "target",
            "",
        ),
        ({"kind": "email", "address": "a@example.com", "service": "no-such"}, 404, "service", "not found"),
        ({"kind": "email", "address": "a@example.com", "service": "billing"}, 404, "service", "not found"),
        ({"kind": "email", "address": "a@example.com", "team": "team-b"}, 404, "team", "not found"),
        (
            {"kind": "email", "address": "a@example.com", "incident": "INC9999999"},
            404,
            "incident",
            "not found",
        ),
        ({"kind": "email", "address": "a@example.com", "team": "team-a"}, 409, "address", "already follows"),
    ],
)
def test_bad_subscriptions_are_refused_clearly(
    api: Clients, smtp: Inbox, payload: dict[str, Any], status: int, field: str, says: str
) -> None:
    api.bob.post("/me/subscriptions", {"kind": "email", "address": "a@example.com", "team": "team-a"})
    response = api.bob.post("/me/subscriptions", payload)
    assert response.status_code == status, response.content
    problem = error(response)
    assert problem["errors"][0]["field"] == field
    assert says in problem["detail"]
    assert Subscription.objects.count() == 1


def test_email_subscriptions_need_a_mail_server(api: Clients, settings: Any) -> None:
    settings.MAILERS = {k: v for k, v in settings.MAILERS.items() if k != "notifications"}
    response = api.bob.post(
        "/me/subscriptions", {"kind": "email", "address": "a@example.com", "team": "team-a"}
    )
    assert response.status_code == 400
    assert error(response)["errors"][0]["field"] == "kind"


def test_the_api_subscription_receives_updates_posted_through_the_api(
    api: Clients, incident: Incident, smtp: Inbox, frozen: datetime
) -> None:
    api.bob.post("/me/subscriptions", {"kind": "email", "address": "ops@example.com", "team": "team-a"})
    api.bob.post(f"/incidents/{incident.ref}/updates", body(message="Rolling back the deploy."))
    deliver()
    assert "Rolling back the deploy." in smtp.emails[0].get_payload(decode=True).decode()
    assert Delivery.objects.get().status == "sent"


def test_the_routes_are_in_the_openapi_document(world: World) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/incidents/{ref}/updates"])
    assert "get" in paths["/api/v1/incidents/{ref}/updates/{update_id}/deliveries"]
    assert {"get", "post"} <= set(paths["/api/v1/me/subscriptions"])
    assert {"get", "delete"} <= set(paths["/api/v1/me/subscriptions/{subscription_id}"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/update-templates/{template_id}"])
