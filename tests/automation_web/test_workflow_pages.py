"""Workflows in the web console (docs/automation.md): the list of the workflows of one's teams, "New workflow",
each workflow's page (its form, its recent runs, "Delete…").

alice (admin of Team A) creates, edits and deletes Team A's workflows; refused input comes back next to the field
it is about, with a 4xx and nothing written; bob (responder in A) reads them (no form, and a POST is the 403
page); charlie (Team B) gets a 404 on Team A's workflow; olivia (organisation admin) picks the team first.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.web.conftest import ClientFor
from warroom.accounts import services as accounts
from warroom.audit.models import AuditEvent
from warroom.automation import runner
from warroom.automation import services as automation
from warroom.automation.models import Workflow
from warroom.automation.services import WorkflowSpec
from warroom.incidents import services as incidents
from warroom.incidents.models import Incident
from warroom.lib import clock

LIST = reverse("web:workflow-list")
NEW = reverse("web:workflow-new")
COMMANDER = "role_incident-commander"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _detail_url(workflow: Workflow) -> str:
    return reverse("web:workflow-detail", args=[workflow.pk])


def _delete_url(workflow: Workflow) -> str:
    return reverse("web:workflow-delete", args=[workflow.pk])


def _page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def _field_errors(page: str, name: str) -> list[str]:
    """The error messages shown inside the form field that holds the input named ``name``."""
    for chunk in re.split(r'<(?:div|fieldset) class="field', page)[1:]:
        if f'name="{name}"' in chunk:
            chunk = chunk.split('class="field', 1)[0]
            return [html.unescape(e) for e in re.findall(r'<p class="error" role="alert">(.*?)</p>', chunk)]
    raise AssertionError(f"no field {name!r} on the page")


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def _form_data(world: World, **changes: Any) -> dict[str, Any]:
    """The "New workflow" form as alice fills it in: a P1 playbook for Checkout."""
    data: dict[str, Any] = {
        "team": world.team_a.pk,
        "name": "P1 playbook",
        "enabled": "on",
        "trigger": "declared",
        "priorities": ["1"],
        "services": [world.service_a.pk],
        "tasks": "Open a bridge call\r\n\r\n  Tell customer support  \r\n",
        COMMANDER: world.alice.pk,
        "notify_users": [world.bob.pk],
        "notify_urgency": "high",
        "message": "A P1 is open on Checkout: join the bridge.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _playbook(world: World, **changes: Any) -> Workflow:
    spec = WorkflowSpec(
        name="P1 playbook",
        trigger="declared",
        priorities=[1],
        services=[world.service_a.pk],
        tasks=["Open a bridge call", "Tell customer support"],
        roles={"incident-commander": world.alice.pk},
        notify_users=[world.bob.pk],
        message="A P1 is open on Checkout: join the bridge.",
    )
    for name, value in changes.items():
        setattr(spec, name, value)
    return automation.create_workflow(team=world.team_a, spec=spec, actor=world.alice, source="test")


def _snapshot() -> tuple[Any, ...]:
    """Everything a workflow write touches."""
    return (
        list(Workflow.objects.order_by("pk").values()),
        list(Workflow.services.through.objects.order_by("pk").values_list("workflow_id", "service_id")),
        list(Workflow.notify_users.through.objects.order_by("pk").values_list("workflow_id", "user_id")),
        AuditEvent.objects.filter(action__startswith="workflow.").count(),
    )


@pytest.fixture
def alice(client_for: ClientFor, world: World) -> Client:
    return client_for(world.alice)


@pytest.fixture
def bob(client_for: ClientFor, world: World) -> Client:
    return client_for(world.bob)


# --------------------------------------------------------------------------------------------------- create


def test_alice_creates_a_workflow_and_finds_it_in_the_list(alice: Client, world: World) -> None:
    page = _page(alice.get(LIST))
    assert f'href="{LIST}"' in page and ">Workflows</a>" in page  # the nav link
    assert "No workflows yet." in page
    assert f'href="{NEW}"' in page  # "New workflow"

    response = alice.post(NEW, _form_data(world), follow=True)
    workflow = Workflow.objects.get()
    assert response.redirect_chain == [(_detail_url(workflow), 302)]
    assert "P1 playbook created: it runs when an incident is declared." in response.content.decode()

    assert workflow.team == world.team_a
    assert workflow.enabled and workflow.trigger == "declared"
    assert workflow.priorities == [1]
    assert list(workflow.services.all()) == [world.service_a]
    assert workflow.tasks == ["Open a bridge call", "Tell customer support"]  # blank lines and spaces dropped
    assert workflow.roles == {"incident-commander": world.alice.pk}
    assert list(workflow.notify_users.all()) == [world.bob]
    assert workflow.notify_urgency == "high"
    assert workflow.message == "A P1 is open on Checkout: join the bridge."
    event = AuditEvent.objects.get(action="workflow.create")
    assert event.actor == world.alice and event.source == "web"

    rows = _section(_page(alice.get(LIST)), "workflows")
    assert f'href="{_detail_url(workflow)}">P1 playbook</a>' in rows
    assert "Team A" in rows
    assert "An incident is declared" in rows
    assert "P1 · Checkout" in rows
    assert (
        "2 tasks · Incident Commander → Alice Admin · Notify Bob Responder (high urgency)"
        in html.unescape(rows)
    )
    assert "Enabled" in rows and "Never" in rows


def test_the_new_form_offers_the_teams_services_and_people(alice: Client, world: World) -> None:
    page = _page(alice.get(NEW))
    # alice manages one team: it is chosen already, and the form offers what is Team A's only
    assert re.search(rf'<option value="{world.team_a.pk}" selected>Team A</option>', page)
    assert "Team B" not in page
    team_fields = page[page.index('id="team-fields"') :]
    assert ">Checkout</option>" in team_fields and "Billing" not in team_fields
    commander = page[page.index(f'name="{COMMANDER}"') :]
    commander = commander[: commander.index("</select>")]
    assert [html.unescape(n) for n in re.findall(r"<option[^>]*>([^<]*)</option>", commander)] == [
        "Nobody",
        "Alice Admin",
        "Bob Responder",
        "Dave Observer",
    ]
    for role in ("Communications Lead", "Scribe", "Subject Matter Expert"):
        assert re.search(rf'<label for="id_role_[a-z-]+">{role} <span class="muted">\(optional\)', page), role
    for p in range(1, 6):
        assert f"P{p}</label>" in page
    assert "Charlie" not in page


def test_olivia_picks_the_team_first(client_for: ClientFor, world: World) -> None:
    olivia = client_for(world.olivia)
    page = _page(olivia.get(NEW))
    assert "Choose the team first" in page
    assert f'<option value="{world.team_b.pk}">Team B</option>' in page
    # the team select fetches the form again for the team picked (htmx swaps in #team-fields)
    assert f'hx-get="{NEW}"' in page and 'hx-select="#team-fields"' in page
    page = _page(olivia.get(NEW, {"team": world.team_b.pk}))
    team_fields = page[page.index('id="team-fields"') :]
    assert ">Billing</option>" in team_fields and "Checkout" not in team_fields
    assert "Charlie Other" in team_fields and "Alice Admin" not in team_fields

    response = olivia.post(
        NEW,
        _form_data(
            world,
            team=world.team_b.pk,
            services=[world.service_b.pk],
            notify_users=[world.charlie.pk],
            **{COMMANDER: None},
        ),
    )
    assert response.status_code == 302
    workflow = Workflow.objects.get()
    assert workflow.team == world.team_b and list(workflow.notify_users.all()) == [world.charlie]


# --------------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("changes", "field", "status", "message"),
    [
        (
            {"tasks": "", COMMANDER: "", "notify_users": None, "message": ""},
            "tasks",
            400,
            "a workflow needs something to do: tasks, roles, people to notify, a message or a webhook",
        ),
        ({"message": "  "}, "message", 400, "say what to tell the people notified (message)"),
        ({"name": "x" * 101}, "name", 400, "a workflow's name is at most 100 characters"),
        ({"tasks": "\n".join(f"Task {i}" for i in range(21))}, "tasks", 400, "at most 20 tasks"),
        ({"message": "m" * 2001}, "message", 400, "Message is at most 2000 characters"),
        ({"name": "  "}, "name", 400, "This field is required."),
        (
            {"trigger": "deployed"},
            "trigger",
            400,
            "Select a valid choice. deployed is not one of the available choices.",
        ),
        (
            {"priorities": ["6"]},
            "priorities",
            400,
            "Select a valid choice. 6 is not one of the available choices.",
        ),
    ],
)
def test_refused_input_is_shown_on_its_field_and_nothing_is_written(
    alice: Client, world: World, changes: dict[str, Any], field: str, status: int, message: str
) -> None:
    before = _snapshot()
    page = _page(alice.post(NEW, _form_data(world, **changes)), status)
    assert _field_errors(page, field) == [message]
    assert 'name="name" value="' in page  # the form is back, with what was typed
    assert _snapshot() == before


def test_another_teams_service_or_person_is_refused_on_its_field(alice: Client, world: World) -> None:
    before = _snapshot()
    page = _page(alice.post(NEW, _form_data(world, services=[world.service_b.pk])), 400)
    assert _field_errors(page, "services") == [
        f"Select a valid choice. {world.service_b.pk} is not one of the available choices."
    ]
    page = _page(alice.post(NEW, _form_data(world, **{COMMANDER: world.charlie.pk})), 400)
    assert _field_errors(page, COMMANDER) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    page = _page(alice.post(NEW, _form_data(world, team=world.team_b.pk)), 400)  # a team she does not manage
    assert _field_errors(page, "team") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert _snapshot() == before


def test_a_second_workflow_of_the_same_name_is_a_409_on_the_name(alice: Client, world: World) -> None:
    _playbook(world)
    before = _snapshot()
    page = _page(alice.post(NEW, _form_data(world)), 409)
    assert _field_errors(page, "name") == ["Team A already has a workflow named 'P1 playbook'"]
    assert _snapshot() == before


# --------------------------------------------------------------------------------------------------- edit


def test_alice_edits_a_workflow(alice: Client, world: World) -> None:
    workflow = _playbook(world)
    page = _page(alice.get(_detail_url(workflow)))
    form = _section(page, "workflow-form")
    assert 'name="team"' not in form  # a workflow stays with its team
    assert 'value="P1 playbook"' in form
    assert "Open a bridge call\nTell customer support</textarea>" in form
    assert re.search(rf'<option value="{world.alice.pk}" selected>Alice Admin</option>', form)
    assert re.search(rf'value="{world.bob.pk}"[^>]*checked', form) or re.search(
        rf'checked[^>]*value="{world.bob.pk}"', form
    )

    data = _form_data(
        world, name="P1 and P2 playbook", enabled=None, priorities=["1", "2"], **{COMMANDER: ""}
    )
    del data["team"]
    response = alice.post(_detail_url(workflow), data, follow=True)
    assert response.redirect_chain == [(_detail_url(workflow), 302)]
    assert "P1 and P2 playbook saved." in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.name == "P1 and P2 playbook"
    assert not workflow.enabled
    assert workflow.priorities == [1, 2]
    assert workflow.roles == {}
    assert AuditEvent.objects.get(action="workflow.update").actor == world.alice
    row = _section(_page(alice.get(LIST)), "workflows")
    assert "Disabled" in row and "P1, P2 · Checkout" in row


def test_a_refused_edit_keeps_the_input_and_changes_nothing(alice: Client, world: World) -> None:
    workflow = _playbook(world)
    _playbook(world, name="Other")
    before = _snapshot()
    data = _form_data(world, name="Other", tasks="Call the vendor")
    del data["team"]
    page = _page(alice.post(_detail_url(workflow), data), 409)
    assert _field_errors(page, "name") == ["Team A already has a workflow named 'Other'"]
    assert "Call the vendor</textarea>" in page
    data = _form_data(world, message="")
    page = _page(alice.post(_detail_url(workflow), data), 400)
    assert _field_errors(page, "message") == ["say what to tell the people notified (message)"]
    assert _snapshot() == before


def test_the_edit_page_says_when_a_person_named_has_left_the_team(alice: Client, world: World) -> None:
    workflow = _playbook(world, roles={"incident-commander": world.bob.pk})
    accounts.remove_membership(team=world.team_a, user=world.bob, actor=None, source="test")
    page = html.unescape(_page(alice.get(_detail_url(workflow))))
    assert "Bob Responder is no longer an active member of Team A: saving leaves this role to nobody." in page
    assert "Bob Responder is no longer an active member of Team A: saving leaves them out." in page


# --------------------------------------------------------------------------------------------------- delete


def test_alice_deletes_a_workflow_after_being_asked(alice: Client, world: World) -> None:
    workflow = _playbook(world)
    page = _page(alice.get(_detail_url(workflow)))
    ask = page[
        page.index('id="delete-workflow"') : page.index("</details>", page.index('id="delete-workflow"'))
    ]
    assert "<summary" in ask and 'method="post"' in ask and f'action="{_delete_url(workflow)}"' in ask
    assert "Delete P1 playbook? It stops running" in html.unescape(ask)

    assert alice.get(_delete_url(workflow)).status_code == 405  # GET never changes anything
    response = alice.post(_delete_url(workflow), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "P1 playbook deleted from Team A." in response.content.decode()
    assert not Workflow.objects.exists()
    assert AuditEvent.objects.get(action="workflow.delete").actor == world.alice
    assert _page(alice.get(_detail_url(workflow)), 404)


# --------------------------------------------------------------------------------------------------- who may


def test_bob_reads_a_workflow_but_may_not_change_it(bob: Client, world: World) -> None:
    workflow = _playbook(world)
    listing = _page(bob.get(LIST))
    assert "P1 playbook" in listing
    assert f'href="{NEW}"' not in listing  # no "New workflow"

    page = _page(bob.get(_detail_url(workflow)))
    assert 'id="workflow-form"' not in page and "Save workflow" not in page
    assert 'id="delete-workflow"' not in page
    summary = html.unescape(_section(page, "workflow-summary"))
    assert "Only Team A's admins and managers change it." in summary
    for line in (
        "An incident is declared",
        "P1 · Checkout",
        "Task: Open a bridge call",
        "Task: Tell customer support",
        "Incident Commander → Alice Admin",
        "Notify Bob Responder (high urgency)",
        "A P1 is open on Checkout: join the bridge.",
    ):
        assert line in summary, line

    before = _snapshot()
    data = _form_data(world, name="Mine now")
    del data["team"]
    page = _page(bob.post(_detail_url(workflow), data), 403)
    assert "only the admins and managers of Team A change its workflows" in page
    assert _page(bob.post(_delete_url(workflow)), 403)
    assert _page(bob.get(NEW), 403)
    assert _page(bob.post(NEW, _form_data(world)), 403)
    assert _snapshot() == before


def test_charlie_gets_a_404_on_team_as_workflow(client_for: ClientFor, world: World) -> None:
    workflow = _playbook(world)
    charlie = client_for(world.charlie)
    assert "P1 playbook" not in _page(charlie.get(LIST))
    before = _snapshot()
    data = _form_data(world)
    del data["team"]
    _page(charlie.get(_detail_url(workflow)), 404)
    _page(charlie.post(_detail_url(workflow), data), 404)
    _page(charlie.post(_delete_url(workflow)), 404)
    _page(charlie.get(reverse("web:workflow-detail", args=[workflow.pk + 1000])), 404)
    assert _snapshot() == before


def test_signed_out_visitors_are_sent_to_sign_in(world: World) -> None:
    response = Client().get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --------------------------------------------------------------------------------------------------- runs


def _run_on(world: World, playbook: dict[str, Any], **declare: Any) -> tuple[Workflow, Incident]:
    """Team A's playbook (with ``playbook`` changes), then a P1 declared on Checkout, and the runner's pass."""
    with clock.frozen(T0):
        runner.run(clock.now())  # the runner's first pass: it starts looking from now
        workflow = _playbook(world, **playbook)
        clock.advance(timedelta(seconds=5))
        incident = incidents.declare_incident(
            actor=world.alice,
            source="test",
            title="Checkout returns 502",
            team=world.team_a,
            services=[world.service_a],
            impact=1,
            urgency=1,
            **declare,
        )
        clock.advance(timedelta(seconds=5))
        assert runner.run(clock.now()) == 1
    return workflow, incident


def test_the_edit_page_lists_the_recent_runs_with_what_was_done_and_not(alice: Client, world: World) -> None:
    workflow, incident = _run_on(world, {})
    runs = html.unescape(_section(_page(alice.get(_detail_url(workflow))), "workflow-runs"))
    assert f'href="{reverse("web:incident-detail", args=[incident.ref])}">{incident.ref}</a>' in runs
    assert "Checkout returns 502" in runs
    assert "task “Open a bridge call”" in runs and "task “Tell customer support”" in runs
    done, failed = runs.split('class="run-done"')[1].split('class="run-failed"')
    assert "Incident Commander → Alice Admin" in done
    assert "notify Bob Responder: " in failed  # bob has no contact method: not done
    row = _section(_page(alice.get(LIST)), "workflows")
    assert "Never" not in row


def test_a_run_on_an_incident_bob_may_not_see_is_left_out(alice: Client, bob: Client, world: World) -> None:
    workflow, incident = _run_on(world, {"notify_users": [], "message": ""}, is_private=True)
    assert incident.ref in _section(_page(alice.get(_detail_url(workflow))), "workflow-runs")  # a team admin
    runs = _section(_page(bob.get(_detail_url(workflow))), "workflow-runs")
    assert incident.ref not in runs and "Checkout returns 502" not in runs
    assert "No runs to show yet." in runs
    assert "Never" in _section(_page(bob.get(LIST)), "workflows")
    assert "Never" not in _section(_page(alice.get(LIST)), "workflows")


# --------------------------------------------------------------------------------------------------- webhook

HOOK = "https://hooks.example.com/warroom/T0K3N"


def test_a_webhooks_signing_secret_is_shown_once_on_the_page_that_made_it(
    alice: Client, bob: Client, world: World
) -> None:
    page = _page(alice.post(NEW, _form_data(world, webhook_url=HOOK)), 201)
    workflow = Workflow.objects.get()
    secret = workflow.webhook_secret["signing_secret"]
    reveal = _section(page, "reveal")
    assert "never show it again" in reveal and f'value="{secret}"' in reveal
    # the next visit shows where it goes, never the secret
    again = _page(alice.get(_detail_url(workflow)))
    assert secret not in again and 'id="reveal"' not in again
    assert f'value="{HOOK}"' in again  # the editor's form
    assert "Call the webhook https://hooks.example.com/…" in html.unescape(
        _page(bob.get(_detail_url(workflow)))
    )
    assert HOOK not in _page(bob.get(_detail_url(workflow)))  # a responder sees scheme and host only
    # saving without touching the secret keeps it, and shows nothing
    data = _form_data(world, webhook_url=HOOK + "/v2")
    del data["team"]
    response = alice.post(_detail_url(workflow), data)
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert (workflow.webhook_url, workflow.webhook_secret["signing_secret"]) == (HOOK + "/v2", secret)


def test_a_webhook_that_cannot_be_called_is_shown_on_its_field(alice: Client, world: World) -> None:
    page = _page(alice.post(NEW, _form_data(world, webhook_url="http://hooks.example.com/x")), 400)
    assert _field_errors(page, "webhook_url") == ["a webhook URL must start with https://"]
    page = _page(alice.post(NEW, _form_data(world, webhook_url=HOOK, webhook_secret="short")), 400)
    assert _field_errors(page, "webhook_secret") == [
        "a signing secret is 16 to 200 characters; leave it out to have one made"
    ]
    assert not Workflow.objects.exists()


def test_the_runs_show_how_each_webhook_call_went(alice: Client, world: World) -> None:
    workflow, _ = _run_on(world, {"webhook_url": HOOK})
    runs = _section(_page(alice.get(_detail_url(workflow))), "workflow-runs")
    assert ">Webhook</th>" in runs and ">Pending</span>" in runs
    assert "webhook to https://hooks.example.com/… queued" in html.unescape(runs)


def test_a_test_call_from_the_workflows_page(alice: Client, bob: Client, world: World) -> None:
    workflow = _playbook(world, webhook_url=HOOK)
    test_url = reverse("web:workflow-webhook-test", args=[workflow.pk])
    section = _section(_page(alice.get(_detail_url(workflow))), "webhook-test")
    assert "No test call yet." in section and f'action="{test_url}"' in section
    response = alice.post(test_url, follow=True)
    assert response.redirect_chain == [(_detail_url(workflow), 302)]
    page = response.content.decode()
    assert "Test call queued" in page
    assert "Last test call: <span" in _section(page, "webhook-test") and ">Pending</span>" in page
    # a responder sees the result, not the button; a POST is refused
    theirs = _section(_page(bob.get(_detail_url(workflow))), "webhook-test")
    assert "Last test call" in theirs and test_url not in theirs
    assert bob.post(test_url).status_code == 403
    workflow.refresh_from_db()
    assert workflow.last_test_call is not None and workflow.last_test_call.status == "pending"
