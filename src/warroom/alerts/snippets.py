"""Where each kind of integration sends, and copy-ready setup snippets for the sender's own configuration.

The snippets are rendered with the real endpoint (built from ``settings.WARROOM_BASE_URL``) and, right after a
key is made, the real key: that is the only moment Warroom knows it. Without a key they show a ``wr_ik_...``
placeholder. A Grafana signing secret is never written into a snippet (it is a secret of its own); the snippet
marks where it goes.

Pure functions of their inputs: no database access.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from warroom.alerts.models import DEDUP_KEY_MAX, Integration, Kind

KEY_PLACEHOLDER = "wr_ik_..."

#: Where each kind posts, relative to the base URL (email and heartbeat are built in :func:`endpoint`).
PATHS: dict[str, str] = {
    Kind.PAGERDUTY: "/v2/enqueue",
    Kind.ALERTMANAGER: "/integrations/alertmanager",
    Kind.GRAFANA: "/integrations/grafana",
    Kind.WEBHOOK: "/integrations/webhook",
    Kind.OPSGENIE: "/v2/alerts",
    Kind.HEARTBEAT: "/integrations/heartbeat",
    Kind.GOALERT: "/api/v2/generic/incoming",
}

#: How the key travels, per kind.
KEY_HINTS: dict[str, str] = {
    Kind.PAGERDUTY: "the key goes in the JSON body as routing_key",
    Kind.ALERTMANAGER: "Authorization: Bearer <key> (or the key appended to the URL path)",
    Kind.GRAFANA: "Authorization: Bearer <key> (or the key appended to the URL path)",
    Kind.WEBHOOK: "Authorization: Bearer <key> (or the key appended to the URL path)",
    Kind.OPSGENIE: "Authorization: GenieKey <key>",
    Kind.HEARTBEAT: "the key is the last part of the ping URL (or Authorization: Bearer <key>)",
    Kind.EMAIL: "no key: the address is the credential, keep it private",
    Kind.GOALERT: "token=<key> in the query string or the body, as GoAlert's generic API",
}


@dataclass(frozen=True)
class Snippet:
    """One block to copy: ``slug`` makes its HTML id, ``intro`` says where it goes."""

    slug: str
    title: str
    intro: str
    text: str

    @property
    def rows(self) -> int:
        """Lines, for the height of the box it is shown in."""
        return max(2, self.text.rstrip("\n").count("\n") + 1)


def base_url() -> str:
    return str(settings.WARROOM_BASE_URL).rstrip("/")


def endpoint(integration: Integration, secret: str | None = None) -> str:
    """The URL (or, for email, the address) the sender sends to. A heartbeat's ping URL ends with its key:
    without ``secret`` it ends with a placeholder."""
    if integration.kind == Kind.EMAIL:
        return f"{integration.email_address or '?'}@{settings.WARROOM_EMAIL_DOMAIN}"
    path = PATHS.get(integration.kind, "")
    if integration.kind == Kind.HEARTBEAT:
        return f"{base_url()}{path}/{secret or KEY_PLACEHOLDER}"
    return base_url() + path


def ping_url_prefix(integration: Integration) -> str:
    """A heartbeat's ping URL up to where its key goes (the key itself is known only when it is made)."""
    return f"{base_url()}{PATHS[Kind.HEARTBEAT]}/"


def key_hint(integration: Integration) -> str:
    return KEY_HINTS.get(integration.kind, "")


def _q(value: str) -> str:
    """A double-quoted scalar, valid in YAML and JSON alike."""
    return json.dumps(value)


def _alertmanager(url: str, key: str) -> list[Snippet]:
    config = f"""# alertmanager.yml
route:
  receiver: warroom
  group_by: [alertname, cluster]
receivers:
  - name: warroom
    webhook_configs:
      - url: {_q(url)}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {_q(key)}
"""
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="WarroomTest"}',
        "status": "firing",
        "receiver": "warroom",
        "groupLabels": {"alertname": "WarroomTest"},
        "commonLabels": {"alertname": "WarroomTest", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "WarroomTest", "severity": "warning", "instance": "test-1"},
                "annotations": {"summary": "Test alert from curl"},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": "warroom-test",
            }
        ],
    }
    return [
        Snippet(
            "alertmanager",
            "Alertmanager receiver",
            "Add the receiver to alertmanager.yml (send_resolved resolves alerts and incidents).",
            config,
        ),
        Snippet(
            "curl",
            "Test with curl",
            "Posts one firing alert, as Alertmanager would.",
            _curl_bearer(url, key, body, indent=2),
        ),
    ]


def _curl_bearer(url: str, key: str, body: Mapping[str, object], *, indent: int | None = None) -> str:
    return (
        f"curl -sS {url} \\\n"
        f"  -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body, indent=indent)}'\n"
    )


def _grafana(url: str, key: str, signed: bool) -> list[Snippet]:
    hmac = (
        "          hmacConfig:\n"
        '            secret: "<the integration\'s signing secret>"\n'
        "            header: X-Grafana-Alerting-Signature\n"
        "            timestampHeader: X-Grafana-Alerting-Signature-Timestamp\n"
        if signed
        else "          # hmacConfig: only when the integration has a signing secret\n"
    )
    config = f"""# provisioning/alerting/warroom.yaml
apiVersion: 1
contactPoints:
  - orgId: 1
    name: Warroom
    receivers:
      - uid: warroom
        type: webhook
        settings:
          url: {_q(url)}
          httpMethod: POST
          authorization_scheme: Bearer
          authorization_credentials: {_q(key)}
{hmac}"""
    ui = (
        "Alerting → Contact points → + Add contact point → Integration: Webhook\n"
        f"  URL:                              {url}\n"
        "  HTTP method:                      POST\n"
        "  Authorization header scheme:      Bearer\n"
        f"  Authorization header credentials: {key}\n"
        + (
            "  HMAC signature → Secret:          the integration's signing secret\n"
            "  HMAC signature → Timestamp header: X-Grafana-Alerting-Signature-Timestamp\n"
            if signed
            else ""
        )
    )
    return [
        Snippet("grafana-ui", "Grafana contact point (UI)", "In Grafana, add a webhook contact point.", ui),
        Snippet("grafana", "Grafana contact point (provisioning)", "Or provision it as a file.", config),
    ]


def _pagerduty(url: str, key: str) -> list[Snippet]:
    host = base_url()
    tools = (
        "Anything that speaks PagerDuty Events API v2: keep its PagerDuty settings and change two values.\n"
        f"  Integration key / routing key: {key}\n"
        f"  Events API URL:                {url}\n"
        f"  (host:                         {host}  instead of https://events.pagerduty.com)\n"
    )
    alertmanager = f"""# alertmanager.yml
route:
  receiver: warroom
receivers:
  - name: warroom
    pagerduty_configs:
      - url: {_q(url)}
        routing_key: {_q(key)}
        severity: '{{{{ or .CommonLabels.severity "warning" }}}}'
"""
    trigger = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "srv01/disk",
        "payload": {"summary": "Disk at 99% on srv01", "source": "srv01", "severity": "critical"},
    }
    resolve = {"routing_key": key, "event_action": "resolve", "dedup_key": "srv01/disk"}
    curl = (
        f"curl -sS {url} -H 'Content-Type: application/json' \\\n  -d '{json.dumps(trigger)}'\n"
        f"curl -sS {url} -H 'Content-Type: application/json' \\\n  -d '{json.dumps(resolve)}'\n"
    )
    return [
        Snippet("pagerduty", "PagerDuty-speaking tools", "Zabbix, Datadog, Nagios, SDKs ...", tools),
        Snippet(
            "alertmanager-pagerduty", "Alertmanager (pagerduty_configs)", "One alert per group.", alertmanager
        ),
        Snippet("curl", "Test with curl", "Trigger, then resolve, an alert.", curl),
    ]


def _webhook(url: str, key: str) -> list[Snippet]:
    trigger = {
        "summary": "Queue depth above 10k",
        "severity": "error",
        "dedup_key": "queue/orders",
        "source": "rabbitmq-1",
        "details": {"depth": 12000},
    }
    resolve = {"action": "resolve", "dedup_key": "queue/orders"}
    curl = _curl_bearer(url, key, trigger) + _curl_bearer(url, key, resolve)
    return [Snippet("curl", "Send with curl", "Trigger, then resolve, an alert.", curl)]


def _opsgenie(url: str, key: str) -> list[Snippet]:
    host = base_url()
    alertmanager = f"""# alertmanager.yml
route:
  receiver: warroom
receivers:
  - name: warroom
    opsgenie_configs:
      - api_key: {_q(key)}
        api_url: {_q(host + "/")}
        send_resolved: true
"""
    tools = (
        "Anything that speaks the Opsgenie Alert API: change the API URL and the key.\n"
        f"  API URL: {host}  (instead of https://api.opsgenie.com)\n"
        f"  API key: {key}   (sent as Authorization: GenieKey <key>)\n"
        f"  Grafana Opsgenie contact point → Alert API URL: {url}\n"
    )
    body = {"message": "Disk at 99% on srv01", "alias": "srv01-disk", "priority": "P1"}
    curl = (
        f"curl -sS {url} \\\n"
        f"  -H 'Authorization: GenieKey {key}' -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body)}'\n"
        f"curl -sS -X POST '{url}/srv01-disk/close?identifierType=alias' \\\n"
        f"  -H 'Authorization: GenieKey {key}' -H 'Content-Type: application/json' -d '{{}}'\n"
    )
    return [
        Snippet(
            "opsgenie", "Opsgenie-speaking tools", "Keep the Opsgenie settings; change two values.", tools
        ),
        Snippet(
            "alertmanager-opsgenie",
            "Alertmanager (opsgenie_configs)",
            "Alertmanager appends v2/alerts.",
            alertmanager,
        ),
        Snippet("curl", "Test with curl", "Create, then close, an alert (by alias).", curl),
    ]


def cron_schedule(interval_seconds: int) -> str | None:
    """The crontab schedule that runs a job every ``interval_seconds``, when cron can say it exactly (every N
    minutes or hours that divide an hour or a day, daily, weekly); else ``None``."""
    minutes, rest = divmod(interval_seconds, 60)
    hours, odd_minutes = divmod(minutes, 60)
    if rest or not minutes:
        return None
    if minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if odd_minutes:
        return None
    if hours < 24 and 24 % hours == 0:
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    return {24: "0 2 * * *", 7 * 24: "0 2 * * 1"}.get(hours)


def _heartbeat(url: str, interval_seconds: int | None) -> list[Snippet]:
    schedule = cron_schedule(interval_seconds) if interval_seconds else None
    every = f"every {interval_seconds} s, as the monitor expects" if interval_seconds else "on its schedule"
    if schedule is None:
        schedule = "<schedule>"
        every += ": put the job's own schedule in place of <schedule>"
    cron = (
        f"# crontab: run the job {every}, then ping (only when the job succeeded)\n"
        f"{schedule} /usr/local/bin/backup.sh && curl -fsS -m 10 --retry 3 {url} >/dev/null\n"
    )
    curl = (
        f"curl -fsS {url}                                   # alive\n"
        f"curl -fsS -X POST --data-binary @job.log {url}/fail   # failed: alert at once\n"
    )
    return [
        Snippet("cron", "Ping from cron", "Ping after each successful run.", cron),
        Snippet("curl", "Ping with curl", "A ping resolves a missed-heartbeat alert.", curl),
    ]


def _email(address: str, integration: Integration) -> list[Snippet]:
    """What becomes of a mail, by the rules of :func:`warroom.alerts.email.classify` (docs/integrations/email.md)."""
    dedup, resolve = integration.email_dedup_pattern, integration.email_resolve_pattern
    rules = [
        f"Send alert mail to {address}",
        "Summary   ← the subject, spaces collapsed, a leading severity tag removed",
        "Severity  ← the X-Warroom-Severity header, else the subject's leading tag",
        "            [critical] [error] [warning] [info], else warning",
    ]
    if dedup:
        rules += [
            f"Dedup key ← the first group (or the whole match) of {dedup}",
            "            in the summary; without a match, the summary, lower-cased",
        ]
    else:
        rules += [
            "Dedup key ← the summary, lower-cased",
            '            ("Disk full on db1" and "disk  full on DB1" are one alert)',
        ]
    if resolve:
        rules += [
            f"Resolves  ← a mail whose summary matches {resolve};",
            "            its dedup key"
            + (" (when the dedup pattern does not match)" if dedup else "")
            + ": the resolve pattern's",
            "            first group, else the summary with the match cut out, lower-cased",
        ]
    rules.append(f"Dedup keys longer than {DEDUP_KEY_MAX} characters are kept as sha256:<hex>")
    return [
        Snippet("email", "Email", "Point the sender's notification address here.", "\n".join(rules) + "\n")
    ]


def _goalert(url: str, key: str) -> list[Snippet]:
    tools = (
        "Anything that calls GoAlert's generic API: change the host, keep the path, use the new key.\n"
        f"  URL: {url}?token={key}\n"
        "  Fields (query string, form or JSON): summary, details, dedup, action=close, meta=key=value\n"
    )
    curl = (
        f"curl -sS -X POST '{url}?token={key}&summary=Disk%20at%2099%25%20on%20srv01&dedup=srv01-disk'\n"
        f"curl -sS -X POST '{url}?token={key}&dedup=srv01-disk&action=close'\n"
        f"curl -sS -X POST '{url}' -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps({'token': key, 'summary': 'Disk at 99% on srv01', 'meta': {'host': 'srv01'}})}'\n"
    )
    return [
        Snippet("goalert", "GoAlert-speaking tools", "Replace the GoAlert host; the path stays.", tools),
        Snippet("curl", "curl", "Raise and close an alert by hand.", curl),
    ]


def snippets(
    integration: Integration, secret: str | None = None, *, heartbeat_interval: int | None = None
) -> list[Snippet]:
    """The setup snippets for ``integration``, with ``secret`` where the key goes (a placeholder without). A
    heartbeat's cron line runs at ``heartbeat_interval`` (its monitor's interval, in seconds)."""
    key = secret or KEY_PLACEHOLDER
    url = endpoint(integration, secret)
    match integration.kind:
        case Kind.ALERTMANAGER:
            return _alertmanager(url, key)
        case Kind.GRAFANA:
            return _grafana(url, key, bool(integration.signing_secret))
        case Kind.PAGERDUTY:
            return _pagerduty(url, key)
        case Kind.WEBHOOK:
            return _webhook(url, key)
        case Kind.OPSGENIE:
            return _opsgenie(url, key)
        case Kind.HEARTBEAT:
            return _heartbeat(url, heartbeat_interval)
        case Kind.EMAIL:
            return _email(url, integration)
        case Kind.GOALERT:
            return _goalert(url, key)
    return []
