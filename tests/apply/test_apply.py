"""`warroom apply` (docs/apply.md): a set-up kept as YAML is planned, applied through the services in one
transaction, audited with source ``cli``, and a second apply of the same file changes nothing."""

from __future__ import annotations

from io import StringIO
from textwrap import dedent

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import World
from warroom import configfile
from warroom.accounts.models import Membership, Team
from warroom.audit.models import AuditEvent
from warroom.automation.models import Workflow
from warroom.catalog.models import Service
from warroom.oncall import selectors as oncall_selectors
from warroom.oncall import services as oncall
from warroom.oncall.models import EscalationPolicy, Schedule, ServicePolicy

FULL = dedent(
    """\
    teams:
      - name: Platform
        description: Kubernetes and the databases
        sso_group: platform-oncall
        members:
          alice@example.com: admin
          bob@example.com: responder
    services:
      - name: Payments
        team: platform
        tier: 1
        description: Takes the money
        runbook_url: https://runbooks.example.com/payments
        escalation_policy: Platform primary
    escalation_policies:
      - name: Platform primary
        team: Platform
        repeat: 2
        steps:
          - delay_minutes: 5
            targets: [{user: alice@example.com}, {schedule: Team A on call}]
          - delay_minutes: 10
            targets: [{team: Platform}]
    workflows:
      - name: P1 playbook
        team: Platform
        trigger: declared
        priorities: [1]
        services: [Payments]
        tasks: [Open the bridge call]
        roles: {incident-commander: alice@example.com}
        notify: [bob@example.com]
        urgency: high
        message: A P1 is open.
    """
)


@pytest.fixture
def on_call(world: World) -> Schedule:
    return oncall.create_schedule(
        team=world.team_a, name="Team A on call", time_zone="Europe/London", actor=None, source="system"
    )


def _apply(text: str, *, dry_run: bool = False) -> list[str]:
    return configfile.apply_text(text, dry_run=dry_run).lines


def _errors(text: str) -> list[str]:
    with pytest.raises(configfile.ApplyFailed) as failed:
        configfile.apply_text(text)
    return failed.value.errors


def _state() -> tuple[int, ...]:
    """Counts of everything an apply may write."""
    return (
        Team.objects.count(),
        Membership.objects.count(),
        Service.objects.count(),
        EscalationPolicy.objects.count(),
        ServicePolicy.objects.count(),
        Workflow.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_new_set_up_is_created_audited_and_a_second_apply_writes_nothing(
    world: World, on_call: Schedule
) -> None:
    audited_before = AuditEvent.objects.count()
    assert _apply(FULL) == [
        "+ create team Platform",
        "+ create policy Platform primary",
        "+ create service Payments",
        "+ create workflow P1 playbook",
    ]
    team = Team.objects.get(name="Platform")
    assert (team.slug, team.description, team.sso_group) == (
        "platform",
        "Kubernetes and the databases",
        "platform-oncall",
    )
    assert dict(Membership.objects.filter(team=team).values_list("user__email", "role")) == {
        "alice@example.com": "admin",
        "bob@example.com": "responder",
    }
    policy = EscalationPolicy.objects.get(team=team, name="Platform primary")
    assert policy.repeat == 2
    steps = oncall_selectors.steps_of(policy)
    assert [
        (s.delay_minutes, [(t.kind, t.user or t.schedule or t.team) for t in s.targets.all()]) for s in steps
    ] == [
        (5, [("user", world.alice), ("schedule", on_call)]),
        (10, [("team", team)]),
    ]
    service = Service.objects.get(name="Payments")
    assert (service.team, service.tier, service.runbook_url) == (
        team,
        1,
        "https://runbooks.example.com/payments",
    )
    assert ServicePolicy.objects.get(service=service).policy == policy
    flow = Workflow.objects.get(team=team, name="P1 playbook")
    assert (flow.trigger, flow.priorities, flow.tasks, flow.message) == (
        "declared",
        [1],
        ["Open the bridge call"],
        "A P1 is open.",
    )
    assert list(flow.services.all()) == [service]
    assert flow.roles == {"incident-commander": world.alice.pk}
    assert list(flow.notify_users.all()) == [world.bob]

    written = AuditEvent.objects.filter(pk__gt=0).order_by("pk")[audited_before:]
    assert {(e.source, e.actor_id) for e in written} == {("cli", None)}
    assert {e.action for e in written} >= {
        "team.create",
        "team.sso_group",
        "team.member.set",
        "policy.create",
        "service.create",
        "service.set_policy",
        "workflow.create",
    }

    state = _state()
    assert _apply(FULL) == [
        "= unchanged team Platform",
        "= unchanged policy Platform primary",
        "= unchanged service Payments",
        "= unchanged workflow P1 playbook",
    ]
    assert _state() == state, "the second apply wrote nothing, not even an audit row"


def test_what_differs_is_updated_and_named_and_the_rest_is_left_alone(
    world: World, on_call: Schedule
) -> None:
    _apply(FULL)
    changed = (
        FULL.replace(
            "bob@example.com: responder", "bob@example.com: manager\n      charlie@example.com: observer"
        )
        .replace("tier: 1", "tier: 2")
        .replace("payments\n", "payments-v2\n")
        .replace("repeat: 2", "repeat: 1")
        .replace("delay_minutes: 10", "delay_minutes: 15")
        .replace("trigger: declared", "trigger: major")
        .replace("tasks: [Open the bridge call]", "tasks: [Open the bridge call, Page support]")
    )
    audited = AuditEvent.objects.count()
    assert _apply(changed) == [
        "~ update team Platform (member bob@example.com responder → manager, +member charlie@example.com observer)",
        "~ update policy Platform primary (repeat 2 → 1, steps)",
        "~ update service Payments (tier 1 → 2, runbook_url)",
        "~ update workflow P1 playbook (trigger declared → major, tasks)",
    ]
    assert AuditEvent.objects.count() - audited == 5  # two members, a policy, a service, a workflow
    team = Team.objects.get(name="Platform")
    assert Membership.objects.get(team=team, user=world.bob).role == "manager"
    service = Service.objects.get(name="Payments")
    assert (service.tier, service.runbook_url) == (2, "https://runbooks.example.com/payments-v2")
    assert [s.delay_minutes for s in oncall_selectors.steps_of(EscalationPolicy.objects.get(team=team))] == [
        5,
        15,
    ]
    assert Workflow.objects.get(team=team).tasks == ["Open the bridge call", "Page support"]

    # A file that names only part of the set-up changes nothing else: dave stays in Team A (members not listed
    # are left in), Billing (not in the file) keeps its tier, the policy keeps its steps (left out).
    partial = dedent(
        """\
        teams:
          - name: team-a
            members: {bob@example.com: manager}
        services:
          - {name: checkout, team: Team A, tier: 2}
        escalation_policies:
          - {name: platform PRIMARY, team: Platform, repeat: 1}
        """
    )
    assert _apply(partial) == [
        "~ update team Team A (member bob@example.com responder → manager)",
        "= unchanged policy Platform primary",
        "~ update service Checkout (tier 1 → 2)",
    ]
    assert Membership.objects.get(team=world.team_a, user=world.dave).role == "observer"
    assert Service.objects.get(pk=world.service_b.pk).tier == 2
    assert Service.objects.get(pk=world.service_a.pk).name == "Checkout", "apply never renames"
    assert len(oncall_selectors.steps_of(EscalationPolicy.objects.get(team=team))) == 2


def test_an_existing_service_moves_team_and_gets_a_policy(world: World) -> None:
    text = dedent(
        """\
        escalation_policies:
          - name: B primary
            team: Team B
            steps: [{delay_minutes: 5, targets: [{user: charlie@example.com}]}]
        services:
          - {name: Checkout, team: team-b, escalation_policy: B primary}
        """
    )
    assert _apply(text) == [
        "+ create policy B primary",
        "~ update service Checkout (team Team A → Team B, escalation_policy (none) → B primary)",
    ]
    service = Service.objects.get(pk=world.service_a.pk)
    assert service.team == world.team_b
    assert ServicePolicy.objects.get(service=service).policy.name == "B primary"
    assert _apply(text) == ["= unchanged policy B primary", "= unchanged service Checkout"]


def test_a_dry_run_prints_the_same_plan_and_writes_nothing(world: World, on_call: Schedule) -> None:
    state = _state()
    dry = configfile.apply_text(FULL, dry_run=True)
    assert _state() == state
    assert configfile.summary(dry) == "dry run: 4 to create, 0 to update, 0 unchanged; nothing was changed"
    real = configfile.apply_text(FULL)
    assert real.lines == dry.lines
    assert configfile.summary(real) == "applied: 4 created, 0 updated, 0 unchanged"
    assert configfile.summary(configfile.apply_text(FULL)) == "nothing to change (4 unchanged)"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "teams: [name: x\n",
            "not valid YAML: line 2, column 1: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "- name: Platform\n",
            "the file must be a mapping with teams, services, escalation_policies, workflows",
        ),
        (
            "",
            "the file must be a mapping with teams, services, escalation_policies, workflows (any of them), not nothing",
        ),
        (
            "team: []\n",
            "team: unknown top-level key (the file may have teams, services, escalation_policies, workflows)",
        ),
        ("teams: {name: x}\n", "teams: must be a list, not a mapping"),
        (
            "teams: [{name: Ops, owner: alice}]\n",
            'teams["Ops"]: unknown field "owner" (fields: name, description, sso_group, members)',
        ),
        ("teams: [{description: no name}]\n", "teams[0].name: must be text, not nothing"),
        (
            "teams: [{name: Ops}, {name: Ops, members: {bob@example.com: boss}}]\n",
            'teams["Ops"].members["bob@example.com"]: role must be one of admin, manager, responder, observer',
        ),
        (
            "teams: [{name: Ops}, {name: ops}]\n",
            'teams["ops"]: team "ops" is already in the file at teams["Ops"]',
        ),
        (
            "services: [{name: Web, team: Team A, tier: 9}]\n",
            'services["Web"].tier: must be a whole number from 1 to 4, not the number 9',
        ),
        (
            "services: [{name: Web, team: Team A, tier: true}]\n",
            'services["Web"].tier: must be a whole number from 1 to 4, not true (a yes/no)',
        ),
        (
            "services: [{name: Web, team: Team A, runbook_url: 'ftp://x'}]\n",
            'services["Web"].runbook_url: "ftp://x" is not an http(s) URL',
        ),
        (
            "escalation_policies: [{name: P, team: Team A, steps: [{delay_minutes: 0, targets: [{user: bob@example.com}]}]}]\n",
            'escalation_policies["P"].steps[0].delay_minutes: must be a whole number from 1 to 1440, not the number 0',
        ),
        (
            "escalation_policies: [{name: P, team: Team A, steps: [{delay_minutes: 5, targets: [{pager: x}]}]}]\n",
            'escalation_policies["P"].steps[0].targets[0]: unknown target kind "pager" (one of user, schedule, team)',
        ),
        (
            "workflows: [{name: W, team: Team A, trigger: opened, tasks: [x]}]\n",
            'workflows["W"].trigger: trigger must be one of declared, acknowledged, priority, major, resolved, closed',
        ),
        (
            "workflows: [{name: W, team: Team A, priorities: [0], tasks: [x], trigger: declared}]\n",
            'workflows["W"].priorities[0]: must be a whole number from 1 to 5, not the number 0',
        ),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused_with_its_place(world: World, text: str, error: str) -> None:
    state = _state()
    errors = _errors(text)
    assert any(e.startswith(error) for e in errors), errors
    assert _state() == state


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "services: [{name: Web, team: payments}]\n",
            'services["Web"].team: no team "payments" (not in the file, not in the database)',
        ),
        (
            "teams: [{name: Team A, members: {erin@example.com: responder}}]\n",
            'teams["Team A"].members["erin@example.com"]: no person with email "erin@example.com" '
            "(create them with `warroom user create`)",
        ),
        (
            "escalation_policies: [{name: P, team: Team A, steps: [{delay_minutes: 5, targets: [{schedule: Nights}]}]}]\n",
            'escalation_policies["P"].steps[0].targets[0]: no schedule "Nights" (schedules are made in the console',
        ),
        (
            "escalation_policies: [{name: P, team: Team A, steps: [{delay_minutes: 5, targets: [{team: Team C}]}]}]\n",
            'escalation_policies["P"].steps[0].targets[0]: no team "Team C" (not in the file, not in the database)',
        ),
        (
            "escalation_policies: [{name: P, team: Team B}]\nservices: [{name: Web, team: Team A, escalation_policy: P}]\n",
            'services["Web"].escalation_policy: no policy "P" of team Team A (not in the file, not in the database)',
        ),
        (
            "workflows: [{name: W, team: Team A, tasks: [x]}]\n",
            'workflows["W"].trigger: a new workflow needs a trigger (declared, acknowledged, priority, major, resolved, closed)',
        ),
        (
            "workflows: [{name: W, team: Team A, trigger: declared, services: [Billing], tasks: [x]}]\n",
            'workflows["W"].services[0]: Billing is not a service of Team A',
        ),
        (
            "workflows: [{name: W, team: Team A, trigger: declared, notify: [charlie@example.com], message: hi}]\n",
            'workflows["W"].notify[0]: charlie@example.com is not a member of Team A',
        ),
        (
            "workflows: [{name: W, team: Team A, trigger: declared, roles: {captain: alice@example.com}}]\n",
            'workflows["W"].roles["captain"]: no role "captain" (one of ',
        ),
    ],
)
def test_a_reference_to_nothing_is_refused_with_its_place(world: World, text: str, error: str) -> None:
    state = _state()
    errors = _errors(text)
    assert any(e.startswith(error) for e in errors), errors
    assert _state() == state


def test_every_error_of_the_file_is_reported_at_once(world: World) -> None:
    errors = _errors(
        dedent(
            """\
            services:
              - {name: Web, team: payments}
              - {name: Api, team: Team A, escalation_policy: Nope}
            """
        )
    )
    assert errors == [
        'services["Web"].team: no team "payments" (not in the file, not in the database)',
        'services["Api"].escalation_policy: no policy "Nope" of team Team A (not in the file, not in the database)',
    ]


def test_a_refusal_by_a_service_in_the_last_object_leaves_the_database_unchanged(
    world: World, on_call: Schedule
) -> None:
    # notify without a message: the file's shape and references are right; the workflow service refuses it
    broken = FULL.replace("    message: A P1 is open.\n", "")
    state = _state()
    assert _errors(broken) == [
        'workflows["P1 playbook"].message: say what to tell the people notified (message)'
    ]
    assert _state() == state
    assert not Team.objects.filter(name="Platform").exists()


def test_an_observer_paged_by_a_policy_is_refused_at_its_step(world: World) -> None:
    text = "escalation_policies: [{name: P, team: Team A, steps: [{delay_minutes: 5, targets: [{user: dave@example.com}]}]}]\n"
    (error,) = _errors(text)
    assert error.startswith('escalation_policies["P"].steps[0].targets[0]: Dave Observer')
    assert not EscalationPolicy.objects.filter(name="P").exists()


def test_the_command_prints_the_plan_and_refuses_with_exit_code_1(
    world: World, on_call: Schedule, tmp_path
) -> None:
    path = tmp_path / "warroom.yaml"
    path.write_text(FULL, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("warroom_apply", "--dry-run", str(path), stdout=out, stderr=err)
    assert out.getvalue().splitlines()[0] == "+ create team Platform"
    assert "nothing was changed" in err.getvalue()
    assert not Team.objects.filter(name="Platform").exists()

    path.write_text("services: [{name: Web, team: payments}]\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("warroom_apply", str(path), stdout=StringIO(), stderr=err)
    assert refused.value.returncode == 1
    assert str(refused.value) == f"{path}: 1 error; nothing was applied"
    assert (
        err.getvalue()
        == 'error: services["Web"].team: no team "payments" (not in the file, not in the database)\n'
    )

    with pytest.raises(CommandError, match="cannot read it"):
        call_command("warroom_apply", str(tmp_path / "missing.yaml"), stdout=StringIO(), stderr=StringIO())
    path.write_bytes(b"teams: [{name: \xff}]\n")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        call_command("warroom_apply", str(path), stdout=StringIO(), stderr=StringIO())


def test_a_teams_description_follows_the_file(world: World) -> None:
    plan = configfile.apply_text("teams: [{name: Team A, description: Checkout and payments}]\n")
    assert plan.lines == ["~ update team Team A (description)"]
    world.team_a.refresh_from_db()
    assert world.team_a.description == "Checkout and payments"
    assert AuditEvent.objects.get(action="team.update").after == {"description": "Checkout and payments"}
    again = configfile.apply_text("teams: [{name: Team A, description: Checkout and payments}]\n")
    assert again.lines == ["= unchanged team Team A"]


HOOKED = dedent(
    """\
    workflows:
      - name: Tell the ticket bot
        team: Team A
        trigger: declared
        webhook_url: https://hooks.example.com/warroom/T0K3N
    """
)


def test_a_workflows_webhook_follows_the_file_and_its_new_secret_is_printed_once(world: World) -> None:
    dry = configfile.apply_text(HOOKED, dry_run=True)
    assert dry.lines == [
        "+ create workflow Tell the ticket bot",
        "    its webhook would get a new signing secret, shown when applied",
    ]
    assert not Workflow.objects.exists()
    plan = configfile.apply_text(HOOKED)
    workflow = Workflow.objects.get()
    secret = workflow.webhook_secret["signing_secret"]
    assert plan.lines == [
        "+ create workflow Tell the ticket bot",
        f"    its webhook's new signing secret (shown only now): {secret}",
    ]
    assert configfile.summary(plan) == "applied: 1 created, 0 updated, 0 unchanged"
    # again: nothing changes, the secret stays and is not printed
    assert configfile.apply_text(HOOKED).lines == ["= unchanged workflow Tell the ticket bot"]
    # a file that does not name the webhook leaves it as it is; a new URL keeps the secret and is not shown
    quiet = "workflows: [{name: Tell the ticket bot, team: Team A, message: Filed.}]\n"
    assert configfile.apply_text(quiet).lines == ["~ update workflow Tell the ticket bot (message)"]
    moved = HOOKED.replace("T0K3N", "N3W")
    assert configfile.apply_text(moved).lines == ["~ update workflow Tell the ticket bot (webhook_url)"]
    workflow.refresh_from_db()
    assert workflow.webhook_url.endswith("/N3W") and workflow.webhook_secret["signing_secret"] == secret
    refused = HOOKED.replace("https://", "http://")
    with pytest.raises(configfile.ApplyFailed) as failed:
        configfile.apply_text(refused)
    assert str(failed.value).endswith(
        'workflows["Tell the ticket bot"].webhook_url: a webhook URL must start with https://'
    )
