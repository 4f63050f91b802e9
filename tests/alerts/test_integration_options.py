"""Which integration options a kind takes, what a refused option looks like, and bodies that are not objects.

* A regular expression that ``re.compile`` cannot build (a huge repeat count is an ``OverflowError``, not an
  ``re.error``) is a 400 naming the field, never a 500.
* An option the kind does not read (a signing secret on a kind that never checks signatures, a field mapping
  on anything but a webhook, email patterns on anything but email, a heartbeat's interval or grace on anything
  but a heartbeat) is a 400 naming it and the kinds it applies to; its empty value is accepted from every kind,
  so full objects and the console's one form for all kinds keep working; rows stored before the rule keep
  working and can be sent back unchanged.
* A ``PATCH`` body that is not a JSON object is a 422 naming ``body`` (it used to be a silent 200).

Every refusal is checked by re-reading the integration: nothing changed, nothing was audited."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.alerts.conftest import CONSOLE_FORM, Hooked, make_integration, pd_trigger, post
from tests.api.conftest import ApiClient, client_with_token, error
from tests.conftest import World
from warroom.accounts.models import User
from warroom.alerts import services
from warroom.alerts.models import Integration, Kind, MaintenanceWindow
from warroom.audit.models import AuditEvent
from warroom.demo import alerting as demo_alerting
from warroom.lib import clock
from warroom.lib.errors import ValidationFailed

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
HUGE_REPEATS = ["x{99999999999}", "x{1,99999999999}", "(a){4294967295}"]
BAD_PATTERNS = [*HUGE_REPEATS, "(", "x{2,1}", "(?<=a+)b"]
#: a non-empty value of each kind-specific option, and the kinds that take it
SPECIFIC = {
    "signing_secret": ("s3cret-s3cret", {"grafana", "webhook"}),
    "rate_limit_per_minute": (
        100,
        {"pagerduty", "alertmanager", "grafana", "opsgenie", "goalert", "webhook"},
    ),
    "field_mapping": ({"summary": "alert.title"}, {"webhook"}),
    "email_dedup_pattern": (r"Host (\S+)", {"email"}),
    "email_resolve_pattern": (r"^RESOLVED", {"email"}),
    "heartbeat_interval_seconds": (600, {"heartbeat"}),
    "heartbeat_grace_seconds": (120, {"heartbeat"}),
}
APPLIES = {
    "signing_secret": "signing_secret applies to grafana and webhook integrations only",
    "rate_limit_per_minute": "rate_limit_per_minute applies to pagerduty, alertmanager, webhook, grafana, "
    "opsgenie and goalert integrations only",
    "field_mapping": "field_mapping applies to webhook integrations only",
    "email_dedup_pattern": "email_dedup_pattern applies to email integrations only",
    "email_resolve_pattern": "email_resolve_pattern applies to email integrations only",
    "heartbeat_interval_seconds": "heartbeat_interval_seconds applies to heartbeat integrations only",
    "heartbeat_grace_seconds": "heartbeat_grace_seconds applies to heartbeat integrations only",
}
REFUSED = [
    (option, kind) for option, (_, kinds) in SPECIFIC.items() for kind in Kind.values if kind not in kinds
]
#: what each kind needs to be created at all
REQUIRED: dict[str, dict[str, Any]] = {"heartbeat": {"heartbeat_interval_seconds": 300}}


@pytest.fixture
def alice(world: World) -> ApiClient:
    return client_with_token(world.alice)


def _make(world: World, kind: str, **options: Any) -> Integration:
    return make_integration(world, kind, **{**REQUIRED.get(kind, {}), **options}).integration


def _field(response: Any) -> str:
    body = error(response)
    assert body["errors"], body
    field: str = body["errors"][0]["field"]
    return field


def _message(response: Any) -> str:
    message: str = error(response)["errors"][0]["message"]
    return message


def _state(integration: Integration) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    fresh = Integration.objects.get(pk=integration.pk)
    monitor = getattr(fresh, "heartbeat", None) if fresh.kind == Kind.HEARTBEAT else None
    return {
        "row": services._snapshot(fresh),
        "secret": fresh.signing_secret,
        "monitor": None if monitor is None else (monitor.interval_seconds, monitor.grace_seconds),
        "audited": AuditEvent.objects.filter(action="integration.update").count(),
    }


# ---------------------------------------------------------------------------------------------------------------
# 1. regular expressions that cannot be compiled


@pytest.mark.parametrize("field", ["email_dedup_pattern", "email_resolve_pattern"])
@pytest.mark.parametrize("pattern", BAD_PATTERNS)
def test_service_refuses_a_pattern_that_does_not_compile(world: World, field: str, pattern: str) -> None:
    with pytest.raises(ValidationFailed) as created:
        services.create_integration(
            service=world.service_a,
            kind="email",
            name="Mail",
            actor=world.alice,
            source="test",
            **{field: pattern},
        )
    assert created.value.field == field and "not a valid regular expression" in created.value.message
    assert not Integration.objects.exists()

    mail = _make(world, "email", email_dedup_pattern=r"job (\w+)", email_resolve_pattern=r"^OK")
    before = _state(mail)
    with pytest.raises(ValidationFailed) as updated:
        services.update_integration(integration=mail, actor=world.alice, source="test", **{field: pattern})
    assert updated.value.field == field
    assert _state(mail) == before


@pytest.mark.parametrize("pattern", HUGE_REPEATS)
def test_api_answers_a_huge_repeat_count_with_a_400_naming_the_field(
    alice: ApiClient, world: World, pattern: str
) -> None:
    mail = _make(world, "email", email_dedup_pattern=r"job (\w+)")
    before = _state(mail)
    for field in ("email_dedup_pattern", "email_resolve_pattern"):
        response = alice.patch(f"/integrations/{mail.pk}", {field: pattern})
        assert response.status_code == 400, response.content
        assert _field(response) == field
        assert "the repetition number is too large" in _message(response)
    assert _state(mail) == before
    assert alice.get(f"/integrations/{mail.pk}").json()["email_dedup_pattern"] == r"job (\w+)"

    created = alice.post(
        "/integrations",
        {"service": "checkout", "kind": "email", "name": "Mail 2", "email_resolve_pattern": pattern},
    )
    assert created.status_code == 400 and _field(created) == "email_resolve_pattern"
    assert Integration.objects.count() == 1


def test_console_new_integration_form_refuses_a_huge_repeat_count(
    client_for: ClientFor, world: World
) -> None:
    response = client_for(world.alice).post(
        reverse("web:integration-list", args=[world.service_a.slug]),
        _console_form("email", email_dedup_pattern="x{99999999999}"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    # the console may put the field's label in place of its API name
    assert "is not a valid regular expression: the repetition number is too large" in page
    assert not Integration.objects.exists()


# ---------------------------------------------------------------------------------------------------------------
# 2. options that do not apply to the kind: the service


@pytest.mark.parametrize(("option", "kind"), REFUSED)
def test_service_refuses_an_option_the_kind_does_not_read(world: World, option: str, kind: str) -> None:
    value = SPECIFIC[option][0]
    with pytest.raises(ValidationFailed) as created:
        services.create_integration(
            service=world.service_a,
            kind=kind,
            name="x",
            actor=world.alice,
            source="test",
            **{**REQUIRED.get(kind, {}), option: value},
        )
    assert created.value.field == option
    assert created.value.message.startswith(APPLIES[option]), created.value.message
    assert f"this is {'an' if kind[0] in 'aeiou' else 'a'} {kind} integration" in created.value.message
    assert not Integration.objects.exists()

    integration = _make(world, kind)
    before = _state(integration)
    with pytest.raises(ValidationFailed) as updated:
        services.update_integration(
            integration=integration, actor=world.alice, source="test", **{option: value}
        )
    assert updated.value.field == option and updated.value.message.startswith(APPLIES[option])
    assert _state(integration) == before


@pytest.mark.parametrize(
    ("option", "kind"), [(option, kind) for option, (_, kinds) in SPECIFIC.items() for kind in sorted(kinds)]
)
def test_service_takes_the_option_on_the_kinds_that_read_it(world: World, option: str, kind: str) -> None:
    value = SPECIFIC[option][0]
    integration = _make(world, kind, **{option: value})
    if option.startswith("heartbeat_"):
        monitor = Integration.objects.get(pk=integration.pk).heartbeat
        assert getattr(monitor, option.removeprefix("heartbeat_")) == value
    else:
        assert getattr(Integration.objects.get(pk=integration.pk), option) == value


EMPTY = {
    "signing_secret": "",
    "rate_limit_per_minute": 6000,
    "field_mapping": {},
    "email_dedup_pattern": "",
    "email_resolve_pattern": "",
    "heartbeat_grace_seconds": 60,
}


@pytest.mark.parametrize("kind", Kind.values)
def test_every_kind_takes_the_empty_values(world: World, kind: str) -> None:
    integration = _make(world, kind, **{**EMPTY, "field_mapping": None})
    changed = services.update_integration(
        integration=integration,
        actor=world.alice,
        source="test",
        name="renamed",
        **EMPTY,
        **({} if kind == "heartbeat" else {"heartbeat_interval_seconds": None}),
    )
    assert changed.name == "renamed"


def test_an_option_the_kind_reads_still_goes_through_its_own_checks(world: World) -> None:
    with pytest.raises(ValidationFailed) as info:
        _make(world, "webhook", field_mapping={"colour": "a.b"})
    assert info.value.field == "field_mapping" and "unknown field" in info.value.message
    with pytest.raises(ValidationFailed) as info:
        _make(world, "heartbeat", heartbeat_interval_seconds=None)
    assert info.value.field == "heartbeat_interval_seconds"


# ---------------------------------------------------------------------------------------------------------------
# 2. the kinds that verify signatures are the kinds that take a secret


def _unsigned_post(kind: str, key: str) -> int:
    if kind == "pagerduty":
        return post("/v2/enqueue", pd_trigger(key, dedup_key="d1")).status_code
    if kind == "alertmanager":
        group = {"version": "4", "groupKey": "g", "status": "firing", "alerts": []}
        return post("/integrations/alertmanager", group, key=key).status_code
    if kind == "opsgenie":
        return (
            Client()
            .post(
                "/v2/alerts",
                data=json.dumps({"message": "disk full"}),
                content_type="application/json",
                headers={"Authorization": f"GenieKey {key}"},
            )
            .status_code
        )
    if kind == "heartbeat":
        return Client().get(f"/integrations/heartbeat/{key}").status_code
    if kind == "goalert":
        return Client().generic("POST", f"/api/v2/generic/incoming?token={key}&summary=x").status_code
    if kind == "grafana":
        return post("/integrations/grafana", {"alerts": [], "status": "firing"}, key=key).status_code
    assert kind == "webhook"
    return post("/integrations/webhook", {"summary": "unsigned"}, key=key).status_code


def test_a_heartbeat_ping_is_not_rate_limited(world: World) -> None:
    """Why a rate limit is refused on a heartbeat (and on email, which has no key to count)."""
    hooked = make_integration(world, "heartbeat", heartbeat_interval_seconds=300)
    Integration.objects.filter(pk=hooked.integration.pk).update(rate_limit_per_minute=1)
    assert [Client().get(f"/integrations/heartbeat/{hooked.key}").status_code for _ in range(3)] == [200] * 3
    webhook = make_integration(world, "webhook", rate_limit_per_minute=1)
    statuses = [
        post("/integrations/webhook", {"summary": "x"}, key=webhook.key).status_code for _ in range(2)
    ]
    assert statuses == [202, 429]


@pytest.mark.parametrize("kind", [k for k in Kind.values if k != "email"])
def test_only_grafana_and_webhook_check_a_signature(world: World, kind: str) -> None:
    """Why the secret is refused elsewhere: a stored secret does nothing there (the row is made the old way)."""
    hooked = make_integration(world, kind, **REQUIRED.get(kind, {}))
    Integration.objects.filter(pk=hooked.integration.pk).update(signing_secret="s3cret-s3cret")
    status = _unsigned_post(kind, hooked.key)
    if kind in services.SIGNING_KINDS:
        assert status == 401
    else:
        assert status in (200, 202, 204), status  # GoAlert answers 204, as GoAlert does


def test_a_signed_webhook_still_works_end_to_end(alice: ApiClient, world: World) -> None:
    made = alice.post(
        "/integrations",
        {"service": "checkout", "kind": "webhook", "name": "Signed", "signing_secret": "s3cret"},
    )
    assert made.status_code == 201 and made.json()["signed"] is True
    key = made.json()["key"]["key"]
    body = json.dumps({"summary": "signed"}).encode()
    stamp = str(int(clock.now().timestamp()))
    digest = hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "Authorization": f"Bearer {key}",
        "X-Warroom-Timestamp": stamp,
        "X-Warroom-Signature": f"sha256={digest}",
    }
    signed = Client().post(
        "/integrations/webhook", data=body, content_type="application/json", headers=headers
    )
    assert signed.status_code == 202
    assert post("/integrations/webhook", {"summary": "unsigned"}, key=key).status_code == 401


# ---------------------------------------------------------------------------------------------------------------
# 2. through the API


@pytest.mark.parametrize(("option", "kind"), REFUSED)
def test_api_create_refuses_an_option_the_kind_does_not_read(
    alice: ApiClient, world: World, option: str, kind: str
) -> None:
    body = {
        "service": "checkout",
        "kind": kind,
        "name": "x",
        **REQUIRED.get(kind, {}),
        option: SPECIFIC[option][0],
    }
    response = alice.post("/integrations", body)
    assert response.status_code == 400, response.content
    assert _field(response) == option and _message(response).startswith(APPLIES[option])
    assert not Integration.objects.exists()


@pytest.mark.parametrize(("option", "kind"), REFUSED)
def test_api_patch_refuses_an_option_the_kind_does_not_read(
    alice: ApiClient, world: World, option: str, kind: str
) -> None:
    integration = _make(world, kind)
    before = _state(integration)
    shown = alice.get(f"/integrations/{integration.pk}").json()
    response = alice.patch(
        f"/integrations/{integration.pk}", {"name": "renamed", option: SPECIFIC[option][0]}
    )
    assert response.status_code == 400, response.content
    assert _field(response) == option and _message(response).startswith(APPLIES[option])
    assert _state(integration) == before
    assert alice.get(f"/integrations/{integration.pk}").json() == shown  # still "signed": false, same name


def test_the_reported_case_a_signing_secret_on_pagerduty(alice: ApiClient, world: World) -> None:
    integration = _make(world, "pagerduty")
    response = alice.patch(f"/integrations/{integration.pk}", {"signing_secret": "s3cret"})
    assert response.status_code == 400
    assert error(response)["errors"] == [
        {
            "field": "signing_secret",
            "message": "signing_secret applies to grafana and webhook integrations only "
            "(this is a pagerduty integration)",
        }
    ]
    assert alice.get(f"/integrations/{integration.pk}").json()["signed"] is False
    assert Integration.objects.get(pk=integration.pk).signing_secret == ""


@pytest.mark.parametrize("kind", Kind.values)
def test_api_takes_a_full_object_with_empty_options_for_every_kind(
    alice: ApiClient, world: World, kind: str
) -> None:
    full = {
        "service": "checkout",
        "kind": kind,
        "name": f"full {kind}",
        "grouping": "alert",
        "window_minutes": 10,
        "group_fields": [],
        "severity_map": None,
        "auto_resolve_incident": True,
        "signing_secret": "",
        "rate_limit_per_minute": 6000,
        "field_mapping": {},
        "email_dedup_pattern": "",
        "email_resolve_pattern": "",
        "heartbeat_interval_seconds": REQUIRED.get(kind, {}).get("heartbeat_interval_seconds"),
        "heartbeat_grace_seconds": 60,
        "create_key": True,
    }
    made = alice.post("/integrations", full)
    assert made.status_code == 201, made.content
    shown = made.json()
    assert shown["signed"] is False
    # what GET shows can be sent back as is (the read-only fields aside), with the options' empty values
    echo = {
        k: v
        for k, v in shown.items()
        if k
        in {"name", "grouping", "window_minutes", "group_fields", "severity_map", "auto_resolve_incident"}
        | {"rate_limit_per_minute", "field_mapping", "email_dedup_pattern", "email_resolve_pattern"}
    }
    if kind != "heartbeat":
        echo.update(heartbeat_interval_seconds=None, heartbeat_grace_seconds=60)
    patched = alice.patch(f"/integrations/{shown['id']}", {**echo, "signing_secret": "", "name": "echoed"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"] == "echoed"


def test_api_heartbeat_grace_is_refused_on_other_kinds_but_its_default_is_not(
    alice: ApiClient, world: World
) -> None:
    body = {"service": "checkout", "kind": "pagerduty", "name": "PD"}
    refused = alice.post("/integrations", {**body, "heartbeat_grace_seconds": 120})
    assert refused.status_code == 400 and _field(refused) == "heartbeat_grace_seconds"
    assert not Integration.objects.exists()
    assert alice.post("/integrations", {**body, "heartbeat_grace_seconds": 60}).status_code == 201
    beat = alice.post(
        "/integrations",
        {
            **body,
            "kind": "heartbeat",
            "name": "HB",
            "heartbeat_interval_seconds": 600,
            "heartbeat_grace_seconds": 120,
        },
    )
    assert beat.status_code == 201 and beat.json()["heartbeat"]["grace_seconds"] == 120
    changed = alice.patch(f"/integrations/{beat.json()['id']}", {"heartbeat_grace_seconds": 30})
    assert changed.status_code == 200 and changed.json()["heartbeat"]["grace_seconds"] == 30


# ---------------------------------------------------------------------------------------------------------------
# 2. rows stored before the rule


LEGACY = {
    "signing_secret": "old-secret",
    "field_mapping": {"summary": "title"},
    "email_dedup_pattern": r"Host (\S+)",
    "email_resolve_pattern": r"^OK",
}


@pytest.fixture
def legacy(world: World) -> Hooked:
    """A PagerDuty integration that got a webhook's, Grafana's and email's options before they were refused."""
    hooked = make_integration(world, "pagerduty")
    Integration.objects.filter(pk=hooked.integration.pk).update(**LEGACY)
    hooked.integration.refresh_from_db()
    return hooked


def test_a_legacy_row_keeps_taking_alerts_and_does_not_claim_to_be_signed(
    alice: ApiClient, legacy: Hooked
) -> None:
    assert post("/v2/enqueue", pd_trigger(legacy.key, dedup_key="disk")).status_code == 202
    shown = alice.get(f"/integrations/{legacy.integration.pk}").json()
    assert shown["signed"] is False  # a PagerDuty integration never checks a signature
    assert shown["field_mapping"] == LEGACY["field_mapping"]


def test_a_legacy_row_can_be_sent_back_unchanged_changed_elsewhere_and_cleared(
    alice: ApiClient, legacy: Hooked
) -> None:
    url = f"/integrations/{legacy.integration.pk}"
    shown = alice.get(url).json()
    same = {name: shown[name] for name in ("field_mapping", "email_dedup_pattern", "email_resolve_pattern")}
    renamed = alice.patch(url, {**same, "signing_secret": "old-secret", "name": "PD renamed"})
    assert renamed.status_code == 200, renamed.content
    assert Integration.objects.get(pk=legacy.integration.pk).field_mapping == LEGACY["field_mapping"]

    before = _state(legacy.integration)
    other = alice.patch(url, {"field_mapping": {"summary": "other.title"}})
    assert other.status_code == 400 and _field(other) == "field_mapping"
    assert _state(legacy.integration) == before

    cleared = alice.patch(
        url,
        {"signing_secret": "", "field_mapping": {}, "email_dedup_pattern": "", "email_resolve_pattern": ""},
    )
    assert cleared.status_code == 200, cleared.content
    row = Integration.objects.get(pk=legacy.integration.pk)
    assert (row.signing_secret, row.field_mapping, row.email_dedup_pattern, row.email_resolve_pattern) == (
        "",
        {},
        "",
        "",
    )


def test_a_legacy_row_can_be_edited_in_the_console(
    client_for: ClientFor, world: World, legacy: Hooked
) -> None:
    alice = client_for(world.alice)
    url = reverse("web:integration-edit", args=[world.service_a.slug, legacy.integration.pk])
    data = {
        **_console_form("pagerduty"),
        "name": "PD renamed",
        "field_mapping": json.dumps(LEGACY["field_mapping"]),  # the edit form shows the stored values
        "email_dedup_pattern": LEGACY["email_dedup_pattern"],
        "email_resolve_pattern": LEGACY["email_resolve_pattern"],
    }
    del data["kind"]
    response = alice.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Integration.objects.get(pk=legacy.integration.pk).name == "PD renamed"


# ---------------------------------------------------------------------------------------------------------------
# 2. the console, the CLI and the demo seed


def _console_form(kind: str, **fields: str) -> dict[str, str]:
    """What a browser posts from the New integration form: every field, the unused ones blank or initial."""
    data = {
        **CONSOLE_FORM,
        "kind": kind,
        "name": f"console {kind}",
        "grouping": "alert",
        "group_fields": "",
        "signing_secret": "",
        "field_mapping": "",
        "email_dedup_pattern": "",
        "email_resolve_pattern": "",
        "heartbeat_interval_seconds": "300",
        "heartbeat_grace_seconds": "60",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("kind", Kind.values)
def test_console_creates_and_edits_every_kind_with_the_one_form(
    client_for: ClientFor, world: World, kind: str
) -> None:
    alice = client_for(world.alice)
    created = alice.post(reverse("web:integration-list", args=[world.service_a.slug]), _console_form(kind))
    assert created.status_code in (201, 302), created.content.decode()[:2000]
    integration = Integration.objects.get()
    assert integration.kind == kind
    edit = reverse("web:integration-edit", args=[world.service_a.slug, integration.pk])
    page = alice.get(reverse("web:integration-detail", args=[world.service_a.slug, integration.pk]))
    assert page.status_code == 200
    data = {**_console_form(kind), "name": "edited"}
    del data["kind"]
    if kind != "heartbeat":
        del data["heartbeat_interval_seconds"], data["heartbeat_grace_seconds"]
    edited = alice.post(edit, data)
    assert edited.status_code == 302, edited.content.decode()[:2000]
    assert Integration.objects.get().name == "edited"


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("pagerduty", "signing_secret", "s3cret"),
        ("alertmanager", "field_mapping", '{"summary": "a.b"}'),
        ("grafana", "email_resolve_pattern", "^OK"),
    ],
)
def test_console_never_stores_an_option_the_kind_does_not_read(
    client_for: ClientFor, world: World, kind: str, field: str, value: str
) -> None:
    """The console hides the fields a kind does not read and drops them if posted anyway; should a form send one,
    the service's refusal is shown on the page. Either way nothing of it is stored."""
    alice = client_for(world.alice)
    response = alice.post(
        reverse("web:integration-list", args=[world.service_a.slug]), _console_form(kind, **{field: value})
    )
    if response.status_code == 400:
        assert APPLIES[field].partition(" ")[2] in response.content.decode()  # "applies to ... only"
        assert not Integration.objects.exists()
    else:
        assert response.status_code in (201, 302)
        assert not services._snapshot(Integration.objects.get())["signed"] or field != "signing_secret"
        assert Integration.objects.get().signing_secret == ""
        Integration.objects.all().delete()
    assert not Integration.objects.filter(field_mapping__has_key="summary").exists()

    integration = _make(world, kind)
    before = _state(integration)
    data = {**_console_form(kind), field: value}
    del data["kind"], data["heartbeat_interval_seconds"], data["heartbeat_grace_seconds"]
    edited = alice.post(reverse("web:integration-edit", args=[world.service_a.slug, integration.pk]), data)
    if edited.status_code == 400:
        assert APPLIES[field].partition(" ")[2] in edited.content.decode()
        assert _state(integration) == before
    else:
        assert edited.status_code == 302
        after = Integration.objects.get(pk=integration.pk)
        assert getattr(after, field) == getattr(integration, field)


def test_cli_integration_create_still_works_for_other_kinds(world: World) -> None:
    """``warroom integration create`` always passes ``--grace`` (60 unless given) to the management command."""
    call_command(
        "warroom_integration", "--service", world.service_a.slug, "--kind", "pagerduty", "--name", "PD"
    )
    assert Integration.objects.get().kind == "pagerduty"
    with pytest.raises(CommandError, match="heartbeat_grace_seconds applies to heartbeat integrations only"):
        call_command(
            "warroom_integration",
            "--service",
            world.service_a.slug,
            "--kind",
            "webhook",
            "--name",
            "W",
            "--grace",
            "5",
        )
    assert Integration.objects.count() == 1


def test_the_demo_seeds_integration_options_are_all_accepted(world: World) -> None:
    for spec in demo_alerting.INTEGRATIONS:
        services.create_integration(
            service=world.service_a,
            kind=spec.kind,
            name=spec.name,
            actor=world.alice,
            source="test",
            **spec.options,
        )
    assert Integration.objects.count() == len(demo_alerting.INTEGRATIONS)


# ---------------------------------------------------------------------------------------------------------------
# 3. a body that is not a JSON object; 4. what is a 400 and what a 422


@pytest.mark.parametrize("body", ["[1, 2]", '"x"', "5", "true", "null", "[]"])
def test_patch_with_a_body_that_is_not_an_object_is_a_422_naming_the_body(
    alice: ApiClient, world: World, body: str
) -> None:
    integration = _make(world, "webhook")
    before = _state(integration)
    response = alice.patch(f"/integrations/{integration.pk}", raw=body)
    assert response.status_code == 422, response.content
    assert error(response)["errors"] == [{"field": "body", "message": "the body must be a JSON object"}]
    assert _state(integration) == before

    created = alice.post("/integrations", raw=body)
    assert created.status_code == 422 and _field(created) == "body"
    assert Integration.objects.count() == 1


def test_maintenance_window_bodies_must_be_objects_too(alice: ApiClient, world: World) -> None:
    made = alice.post(
        f"/services/{world.service_a.slug}/maintenance",
        {"title": "Upgrade", "starts_at": "2026-03-02T09:00:00Z", "ends_at": "2026-03-02T10:00:00Z"},
    )
    assert made.status_code == 201
    url = f"/services/{world.service_a.slug}/maintenance/{made.json()['id']}"
    response = alice.patch(url, raw="[1, 2]")
    assert response.status_code == 422 and _field(response) == "body"
    assert MaintenanceWindow.objects.get().title == "Upgrade"
    assert alice.post(f"/services/{world.service_a.slug}/maintenance", raw='"x"').status_code == 422


def test_an_empty_object_still_changes_nothing_and_answers_200(alice: ApiClient, world: World) -> None:
    integration = _make(world, "webhook")
    response = alice.patch(f"/integrations/{integration.pk}", {})
    assert response.status_code == 200 and response.json()["name"] == "webhook main"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"window_minutes": 0}, 400),  # the right type, refused by the rules
        ({"window_minutes": 1441}, 400),
        ({"window_minutes": None}, 400),
        ({"grouping": "sometimes"}, 400),
        ({"severity_map": {"panic": [1, 1]}}, 400),
        ({"email_dedup_pattern": "("}, 400),
        ({"window_minutes": "ten"}, 422),  # a type the schema cannot read
        ({"group_fields": "alertname"}, 422),
        ({"severity_map": "high"}, 422),
        ({"auto_resolve_incident": "perhaps"}, 422),
    ],
)
def test_patch_answers_400_for_a_refused_value_and_422_for_a_wrong_type(
    alice: ApiClient, world: World, change: dict[str, Any], status: int
) -> None:
    """What docs/api.md says about ``PATCH /integrations/{id}``."""
    integration = _make(world, "webhook" if "email_dedup_pattern" not in change else "email")
    before = _state(integration)
    response = alice.patch(f"/integrations/{integration.pk}", change)
    assert response.status_code == status, response.content
    assert _field(response) == next(iter(change))
    assert _state(integration) == before
