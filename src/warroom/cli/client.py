"""Client verbs: ``warroom incident ...``, ``warroom alert ...``, ``warroom ack`` and ``warroom oncall`` against a
Warroom server's REST API (``warroom alert send`` posts to the intake endpoints with an integration key instead).

Server and token come from ``--url``/``--token``, else ``WARROOM_URL``/``WARROOM_TOKEN``, else the config file
(see :mod:`warroom.cli.config`). Output is a table by default; ``--json`` prints the server's JSON for scripts.

Exit codes: 0 done · 1 the server refused (its message goes to stderr) · 2 the client could not talk to the
server (no URL or token, bad config, connection failure, a wrong command line).

No Django imports here: the client runs without settings.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import warroom
from warroom.cli.config import (
    ClientConfig,
    ConfigError,
    config_path,
    normalise_url,
    read_config_file,
    resolve,
)

incident_app = typer.Typer(help="Work with incidents on a Warroom server.", no_args_is_help=True)

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 2
TIMEOUT_SECONDS = 30.0

out = Console(highlight=False, soft_wrap=False)
# soft_wrap: an error is one line as the server wrote it, not cut at 80 columns (a pipe or CI log has no width)
err = Console(stderr=True, highlight=False, soft_wrap=True)

UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="WARROOM_URL", help="Server URL, e.g. https://warroom.example.com."),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="WARROOM_TOKEN", help="API token (wr_at_...).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the server's JSON instead of a table.")]
NoteOption = Annotated[str, typer.Option("--note", help="A note for the timeline, added with the change.")]
VersionOption = Annotated[
    int | None, typer.Option("--if-version", help="Refuse (409) if the incident changed since this version.")
]
RefArgument = Annotated[str, typer.Argument(help="The incident: INC0001042 or 1042.")]


# ---------------------------------------------------------------------------------------------------------------
# talking to the server


def fail(code: int, message: str) -> NoReturn:
    err.print(Text(f"error: {message}"))
    raise typer.Exit(code)


class ApiClient:
    """A thin httpx wrapper: JSON in, JSON out, server refusals and transport failures turned into exits."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.http = httpx.Client(
            base_url=config.api_base,
            headers={
                "Authorization": f"Bearer {config.token}",
                "Accept": "application/json",
                "User-Agent": f"warroom-cli/{warroom.__version__}",
                "X-Warroom-Client": "cli",
            },
            timeout=TIMEOUT_SECONDS,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: Any = None,
        options: dict[str, str] | None = None,
    ) -> Any:
        """``options`` maps the API's field names to the command's options (``opened_after`` → ``--since``), so
        a refusal names what the user typed."""
        try:
            response = self.http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            fail(EXIT_UNREACHABLE, f"cannot reach the Warroom server at {self.config.url}: {exc}")
        if response.status_code >= 400:
            fail(EXIT_REFUSED, _refusal(response, options or {}))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            fail(
                EXIT_UNREACHABLE,
                f"{self.config.url} answered {response.status_code} with something that is not JSON; "
                "is it a Warroom server?",
            )


def _refusal(response: httpx.Response, options: dict[str, str]) -> str:
    """The server's message, as it wrote it; errors about fields the command sets from its options name the
    option instead."""
    try:
        data = response.json()
    except ValueError:
        data = None
    errors = data.get("errors") if isinstance(data, dict) else None
    named = [e for e in errors or [] if isinstance(e, dict) and isinstance(e.get("message"), str)]
    if named and any(e.get("field") in options for e in named):
        labels = [options.get(str(e.get("field") or ""), str(e.get("field") or "")) for e in named]
        message = "; ".join(
            f"{label}: {e['message']}" if label else e["message"]
            for label, e in zip(labels, named, strict=True)
        )
    elif isinstance(data, dict) and isinstance(data.get("detail"), str):
        message = data["detail"]
    else:
        message = f"the server answered {response.status_code} {response.reason_phrase}"
    if response.status_code == 401:
        message += " (check --token, WARROOM_TOKEN or the config file)"
    return message


def connect(url: str | None, token: str | None) -> ApiClient:
    try:
        return ApiClient(resolve(url, token))
    except ConfigError as exc:
        fail(EXIT_UNREACHABLE, str(exc))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def detail_grid(rows: list[tuple[str, str]]) -> Table:
    """One object as label / value lines, labels in bold (the ``show`` verbs)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    return table


def print_page(
    page: dict[str, Any], *, as_json: bool, table: Callable[[dict[str, Any]], Any], none: str
) -> None:
    """A list answer: as JSON, or ``none`` when it is empty, or ``table(page)`` and, when the list goes on, how to
    see more."""
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        out.print(none)
        return
    out.print(table(page))
    shown = len(page["items"])
    if page["count"] > shown:
        out.print(Text(f"{shown} of {page['count']} shown; use --offset {page['offset'] + shown} for more."))


# ---------------------------------------------------------------------------------------------------------------
# rendering


def _age(value: str | None) -> str:
    """How long ago, compactly: 45s, 12m, 5h, 3d."""
    if not value:
        return "—"
    try:
        seconds = max(0, int((datetime.now(UTC) - datetime.fromisoformat(value)).total_seconds()))
    except ValueError:
        return value
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _when(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _person(value: dict[str, Any] | None) -> str:
    return value["name"] if value else "—"


def _incident_table(page: dict[str, Any]) -> Table:
    # Compact enough for an 80-column terminal: the title gets the room, the rest is cut with an ellipsis.
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, show_edge=False)
    table.add_column("Ref", no_wrap=True)
    table.add_column("P", no_wrap=True)
    table.add_column("State", no_wrap=True, max_width=11, overflow="ellipsis")
    table.add_column("Title", ratio=1)
    table.add_column("Team", no_wrap=True, max_width=9, overflow="ellipsis")
    table.add_column("Assignee", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("Age", no_wrap=True, justify="right")
    for item in page["items"]:
        title = (
            item["title"]
            + ("  [MAJOR]" if item["is_major"] else "")
            + ("  [private]" if item["is_private"] else "")
        )
        table.add_row(
            Text(item["ref"]),
            Text(f"P{item['priority']}"),
            Text(item["state_label"]),
            Text(title),
            Text(item["team"]["slug"]),
            Text(_person(item["assignee"])),
            Text(_age(item["opened_at"])),
        )
    return table


def _detail_table(incident: dict[str, Any]) -> Table:
    rows: list[tuple[str, str]] = [
        ("Incident", f"{incident['ref']}  {incident['title']}"),
        (
            "State",
            incident["state_label"]
            + (f" ({incident['hold_reason_label']})" if incident["hold_reason"] else ""),
        ),
        ("Priority", incident["priority_label"]),
        ("Impact / urgency", f"{incident['impact_label']} / {incident['urgency_label']}"),
        ("Team", incident["team"]["name"]),
        ("Assignee", _person(incident["assignee"])),
        ("Reporter", _person(incident["reporter"])),
        ("Services", ", ".join(s["name"] for s in incident["services"]) or "—"),
        (
            "Category",
            " / ".join(c["name"] for c in (incident["category"], incident["subcategory"]) if c) or "—",
        ),
        ("Major", "yes" if incident["is_major"] else "no"),
        ("Private", "yes" if incident["is_private"] else "no"),
        ("Opened", _when(incident["opened_at"])),
        ("Acknowledged", _when(incident["acknowledged_at"])),
        ("Resolved", _when(incident["resolved_at"])),
        ("Closed", _when(incident["closed_at"])),
        ("Version", str(incident["version"])),
    ]
    if incident["resolution_code"]:
        rows.append(("Resolution", f"{incident['resolution_code_label']}: {incident['resolution_notes']}"))
    if incident["parent"]:
        rows.append(("Parent", f"{incident['parent']['ref']}  {incident['parent']['title']}"))
    for label, key in (("Children", "children"), ("Related", "related")):
        if incident[key]:
            rows.append((label, ", ".join(i["ref"] for i in incident[key])))
    if incident["roles"]:
        rows.append(("Roles", "; ".join(f"{r['name']}: {r['user']['name']}" for r in incident["roles"])))
    if incident["watchers"]:
        rows.append(("Watchers", ", ".join(w["name"] for w in incident["watchers"])))
    if incident["allowed_transitions"]:
        rows.append(
            ("Next", ", ".join(f"{t['verb']} → {t['label']}" for t in incident["allowed_transitions"]))
        )
    return detail_grid(rows)


def _tasks_table(tasks: list[dict[str, Any]]) -> Table:
    table = Table(title="Tasks", title_justify="left", header_style="bold")
    table.add_column("#", no_wrap=True)
    table.add_column("Done", no_wrap=True)
    table.add_column("Task", ratio=1)
    table.add_column("Owner")
    for task in tasks:
        table.add_row(
            Text(str(task["id"])),
            Text("✓" if task["done"] else " "),
            Text(task["title"]),
            Text(_person(task["owner"])),
        )
    return table


def _timeline_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="Timeline", title_justify="left", header_style="bold")
    table.add_column("When", no_wrap=True)
    table.add_column("Who")
    table.add_column("Via", no_wrap=True)
    table.add_column("What", ratio=1)
    for entry in entries:
        table.add_row(
            Text(_when(entry["at"])),
            Text(_person(entry["actor"]) if entry["actor"] else "Warroom"),
            Text(entry["source"]),
            Text(entry["message"]),
        )
    return table


def _summary(incident: dict[str, Any], verb: str) -> None:
    out.print(
        Text(
            f"{verb} {incident['ref']}: {incident['title']} — {incident['state_label']}, {incident['priority_label']}"
        )
    )


def _nullable(value: str | None) -> str | None:
    """``none`` (any case) or an empty string on the command line clears a field."""
    return None if value is None or value.strip().lower() in ("", "none") else value


# ---------------------------------------------------------------------------------------------------------------
# commands


#: the options of ``incident list`` whose query parameter has another name
LIST_OPTIONS = {"opened_after": "--since", "opened_before": "--before", "q": "--query", "is_major": "--major"}


@incident_app.command("list")
def list_incidents(
    state: Annotated[
        list[str] | None,
        typer.Option("--state", "-s", help="new, in_progress, on_hold, resolved, closed, canceled."),
    ] = None,
    priority: Annotated[list[int] | None, typer.Option("--priority", "-p", help="1 (Critical) to 5.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team slug.")] = None,
    service: Annotated[str | None, typer.Option("--service", help="Service slug.")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help='Email, id, "me" or "none".')] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text or incident number.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only New, In Progress and On Hold.")] = False,
    major: Annotated[bool, typer.Option("--major", help="Only major incidents.")] = False,
    opened_after: Annotated[
        str | None, typer.Option("--since", help="Opened at or after (ISO-8601).")
    ] = None,
    opened_before: Annotated[str | None, typer.Option("--before", help="Opened before (ISO-8601).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many.")] = 0,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List incidents, newest first."""
    params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
    params += [("state", s) for s in state or []] + [("priority", p) for p in priority or []]
    for key, value in (
        ("team", team),
        ("service", service),
        ("assignee", assignee),
        ("q", query),
        ("opened_after", opened_after),
        ("opened_before", opened_before),
    ):
        if value:
            params.append((key, value))
    if open_only:
        params.append(("open", "true"))
    if major:
        params.append(("is_major", "true"))
    page = connect(url, token).request("GET", "/incidents", params=params, options=LIST_OPTIONS)
    print_page(page, as_json=as_json, table=_incident_table, none="No incidents match.")


@incident_app.command("show")
def show(
    ref: RefArgument,
    timeline: Annotated[
        bool, typer.Option("--timeline/--no-timeline", help="Also print the timeline.")
    ] = True,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show one incident with its roles, tasks and timeline."""
    api = connect(url, token)
    incident = api.request("GET", f"/incidents/{ref}")
    if as_json:
        print_json(incident)
        return
    out.print(_detail_table(incident))
    if incident["description"]:
        out.print()
        out.print(Text(incident["description"]))
    if incident["tasks"]:
        out.print()
        out.print(_tasks_table(incident["tasks"]))
    if timeline:
        entries = api.request("GET", f"/incidents/{incident['ref']}/timeline", params={"limit": 500})
        out.print()
        out.print(_timeline_table(entries["items"]))


@incident_app.command("declare")
def declare(
    title: Annotated[str, typer.Argument(help="What is wrong, in one line.")],
    team: Annotated[str | None, typer.Option("--team", help="Team slug (default: your only team).")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="Markdown.")] = "",
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Affected service slug (repeatable).")
    ] = None,
    impact: Annotated[int, typer.Option("--impact", help="1 High, 2 Medium, 3 Low.")] = 2,
    urgency: Annotated[int, typer.Option("--urgency", help="1 High, 2 Medium, 3 Low.")] = 2,
    category: Annotated[str | None, typer.Option("--category", help="Category name.")] = None,
    subcategory: Annotated[str | None, typer.Option("--subcategory", help="Subcategory name.")] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Email of a responder in the team.")
    ] = None,
    major: Annotated[bool, typer.Option("--major", help="Declare a major incident.")] = False,
    private: Annotated[
        bool, typer.Option("--private", help="Visible to participants and admins only.")
    ] = False,
    parent: Annotated[str | None, typer.Option("--parent", help="Parent incident ref.")] = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Declare a new incident."""
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "services": service or [],
        "impact": impact,
        "urgency": urgency,
        "is_major": major,
        "is_private": private,
    }
    for key, value in (
        ("team", team),
        ("category", category),
        ("subcategory", subcategory),
        ("assignee", assignee),
        ("parent", parent),
    ):
        if value:
            body[key] = value
    incident = connect(url, token).request("POST", "/incidents", body=body)
    if as_json:
        print_json(incident)
    else:
        _summary(incident, "Declared")


@incident_app.command("update")
def update(
    ref: RefArgument,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", help="New description.")] = None,
    impact: Annotated[int | None, typer.Option("--impact", help="1 High, 2 Medium, 3 Low.")] = None,
    urgency: Annotated[int | None, typer.Option("--urgency", help="1 High, 2 Medium, 3 Low.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Move to this team (slug).")] = None,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help='Email or id; "none" to unassign.')
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help='Category name; "none" to clear.')
    ] = None,
    subcategory: Annotated[str | None, typer.Option("--subcategory", help='Name; "none" to clear.')] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Replace the services (repeatable).")
    ] = None,
    parent: Annotated[str | None, typer.Option("--parent", help='Parent ref; "none" to clear.')] = None,
    major: Annotated[bool | None, typer.Option("--major/--not-major", help="Major incident flag.")] = None,
    private: Annotated[bool | None, typer.Option("--private/--public", help="Private flag.")] = None,
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Change fields of an incident; only the options given are changed."""
    body: dict[str, Any] = {}
    for key, value in (
        ("title", title),
        ("description", description),
        ("impact", impact),
        ("urgency", urgency),
        ("team", team),
        ("is_major", major),
        ("is_private", private),
    ):
        if value is not None:
            body[key] = value
    for key, text in (
        ("assignee", assignee),
        ("category", category),
        ("subcategory", subcategory),
        ("parent", parent),
    ):
        if text is not None:
            body[key] = _nullable(text)
    if service is not None:
        body["services"] = service
    if not body:
        fail(EXIT_UNREACHABLE, "nothing to change: give at least one option (see --help)")
    if version is not None:
        body["version"] = version
    incident = connect(url, token).request("PATCH", f"/incidents/{ref}", body=body)
    if as_json:
        print_json(incident)
    else:
        _summary(incident, "Updated")


@incident_app.command("note")
def note(
    ref: RefArgument,
    text: Annotated[str, typer.Argument(help="The note (markdown).")],
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Add a note to the incident's timeline."""
    entry = connect(url, token).request("POST", f"/incidents/{ref}/notes", body={"text": text})
    if as_json:
        print_json(entry)
    else:
        out.print(Text(f"Added a note to {ref} at {_when(entry['at'])}."))


def _transition(
    ref: str, to: str, *, url: str | None, token: str | None, as_json: bool, **fields: Any
) -> None:
    body = {key: value for key, value in fields.items() if value not in (None, "")}
    body["to"] = to
    incident = connect(url, token).request("POST", f"/incidents/{ref}/transition", body=body)
    if as_json:
        print_json(incident)
    else:
        out.print(Text(f"{incident['ref']} is now {incident['state_label']}."))


@incident_app.command("resolve")
def resolve_incident(
    ref: RefArgument,
    notes: Annotated[str, typer.Option("--notes", help="How it was resolved (required).")],
    code: Annotated[
        str,
        typer.Option(
            "--code",
            help="permanent_fix, workaround, not_reproducible, too_costly, resolved_by_caller, duplicate.",
        ),
    ] = "permanent_fix",
    note_text: NoteOption = "",
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Resolve an incident, with a resolution code and notes."""
    _transition(
        ref,
        "resolved",
        url=url,
        token=token,
        as_json=as_json,
        resolution_code=code,
        resolution_notes=notes,
        note=note_text,
        version=version,
    )


@incident_app.command("start")
def start(
    ref: RefArgument,
    note_text: NoteOption = "",
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Move to In Progress (from New, or back from On Hold)."""
    _transition(ref, "in_progress", url=url, token=token, as_json=as_json, note=note_text, version=version)


@incident_app.command("hold")
def hold(
    ref: RefArgument,
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="awaiting_caller, awaiting_change, awaiting_problem or awaiting_vendor."
        ),
    ],
    note_text: NoteOption = "",
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Put an incident on hold."""
    _transition(
        ref,
        "on_hold",
        url=url,
        token=token,
        as_json=as_json,
        hold_reason=reason,
        note=note_text,
        version=version,
    )


@incident_app.command("close")
def close(
    ref: RefArgument,
    note_text: NoteOption = "",
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Close a resolved incident."""
    _transition(ref, "closed", url=url, token=token, as_json=as_json, note=note_text, version=version)


@incident_app.command("cancel")
def cancel(
    ref: RefArgument,
    note_text: NoteOption = "",
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Cancel an open incident (declared by mistake, duplicate...)."""
    _transition(ref, "canceled", url=url, token=token, as_json=as_json, note=note_text, version=version)


@incident_app.command("merge")
def merge(
    ref: RefArgument,
    into: Annotated[str, typer.Option("--into", help="The incident that stays (e.g. INC0001042).")],
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Merge a duplicate into another open incident: its alerts, children and watchers move there, and it is
    canceled."""
    kept = connect(url, token).request("POST", f"/incidents/{ref}/merge", body={"into": into})
    if as_json:
        print_json(kept)
    else:
        out.print(Text(f"{ref} was merged into {kept['ref']} ({kept['title']})."))


@incident_app.command("reopen")
def reopen(
    ref: RefArgument,
    note_text: NoteOption = "",
    version: VersionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Reopen a resolved incident (back to In Progress)."""
    api = connect(url, token)
    incident = api.request("GET", f"/incidents/{ref}")
    if incident["state"] != "resolved":
        fail(
            EXIT_REFUSED,
            f"{incident['ref']} is {incident['state_label']}; only a Resolved incident can be reopened",
        )
    _transition(
        ref,
        "in_progress",
        url=url,
        token=token,
        as_json=as_json,
        note=note_text,
        version=incident["version"] if version is None else version,
    )


# ---------------------------------------------------------------------------------------------------------------
# paging: ``warroom ack`` and ``warroom oncall`` (top-level commands, see warroom.cli.main)


def ack_page(
    ref: RefArgument,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Acknowledge the page you got for an incident: paging stops (a New incident moves to In Progress)."""
    api = connect(url, token)
    escalation = api.request("POST", f"/incidents/{ref}/escalation/acknowledge")
    incident = api.request("GET", f"/incidents/{ref}")
    if as_json:
        print_json({"incident": incident, "escalation": escalation})
        return
    out.print(Text(f"{incident['ref']} acknowledged: paging stopped. It is {incident['state_label']}."))


def _on_call_table(schedules: list[dict[str, Any]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, show_edge=False)
    table.add_column("Schedule", ratio=1)
    table.add_column("Team", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("On call", ratio=1)
    table.add_column("Until", no_wrap=True)
    for entry in schedules:
        shifts = entry["on_call"]
        table.add_row(
            Text(entry["schedule"]["name"]),
            Text(entry["schedule"]["team"]),
            Text(", ".join(s["user"]["name"] for s in shifts) if shifts else "nobody"),
            Text(", ".join(s["end_local"][:16].replace("T", " ") for s in shifts) if shifts else "—"),
        )
    return table


def oncall_now(
    team: Annotated[str | None, typer.Option("--team", help="Only this team's schedules (slug).")] = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Who is on call now on every schedule you can see; "Until" is in each schedule's own time zone."""
    data = connect(url, token).request("GET", "/oncall/now", params={"team": team} if team else None)
    if as_json:
        print_json(data)
    elif not data["schedules"]:
        out.print(Text("No schedules you can see" + (f" in team {team}." if team else ".")))
    else:
        out.print(_on_call_table(data["schedules"]))


# ---------------------------------------------------------------------------------------------------------------
# alerts: ``warroom alert send|list|show|ack|resolve``

alert_app = typer.Typer(help="Send and work with alerts on a Warroom server.", no_args_is_help=True)

AlertArgument = Annotated[int, typer.Argument(help="The alert's number (its id).")]
SEVERITIES = ("critical", "error", "warning", "info")
SEND_KINDS = ("webhook", "pagerduty")
SEND_ACTIONS = ("trigger", "acknowledge", "resolve")


def server_url(url: str | None) -> str:
    """The server URL alone (``alert send`` authenticates with an integration key, not an API token)."""
    try:
        chosen = url or read_config_file(config_path()).get("url") or ""
        if not chosen:
            raise ConfigError(
                f'no server URL: pass --url, set WARROOM_URL, or put url = "..." in {config_path()}'
            )
        return normalise_url(chosen)
    except ConfigError as exc:
        fail(EXIT_UNREACHABLE, str(exc))


def _intake_refusal(response: httpx.Response) -> str:
    """The intake's refusal in either of its shapes: the REST one (``detail``, ``errors`` with fields) or
    PagerDuty's (``message``, ``errors`` as strings)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return f"the server answered {response.status_code} {response.reason_phrase}"
    errors = data.get("errors") or []
    details = [e.get("message", "") if isinstance(e, dict) else str(e) for e in errors]
    head = data.get("detail") or data.get("message") or f"{response.status_code} {response.reason_phrase}"
    extra = [d for d in details if d and d != head]
    return "; ".join([str(head), *extra])


def _send_body(
    kind: str, key: str, action: str, summary: str | None, severity: str, dedup_key: str | None, source: str
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(path, JSON body, headers) of one event in the integration's own format."""
    if kind == "pagerduty":
        body: dict[str, Any] = {"routing_key": key, "event_action": action}
        if action == "trigger":
            body["payload"] = {"summary": summary, "severity": severity, "source": source}
        if dedup_key:
            body["dedup_key"] = dedup_key
        return "/v2/enqueue", body, {}
    body = {"action": action, "severity": severity, "source": source}
    if summary:
        body["summary"] = summary
    if dedup_key:
        body["dedup_key"] = dedup_key
    return "/integrations/webhook", body, {"Authorization": f"Bearer {key}"}


@alert_app.command("send")
def send(
    key: Annotated[
        str,
        typer.Option(
            "--key",
            envvar="WARROOM_INTEGRATION_KEY",
            help="The integration key (wr_ik_...).",
            show_default=False,
        ),
    ],
    summary: Annotated[
        str | None, typer.Option("--summary", "-m", help="What is wrong (for trigger).")
    ] = None,
    severity: Annotated[
        str, typer.Option("--severity", help="critical, error, warning or info.")
    ] = "warning",
    dedup_key: Annotated[
        str | None, typer.Option("--dedup-key", help="Repeats with the same key add to one open alert.")
    ] = None,
    action: Annotated[str, typer.Option("--action", help="trigger, acknowledge or resolve.")] = "trigger",
    kind: Annotated[
        str, typer.Option("--kind", help="The integration's kind: webhook (generic JSON) or pagerduty.")
    ] = "webhook",
    source: Annotated[
        str | None, typer.Option("--source", help="The affected system (default: this host's name).")
    ] = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
) -> None:
    """Send an event to an integration (generic webhook or PagerDuty Events v2), as monitoring would."""
    for name, value, allowed in (
        ("--kind", kind, SEND_KINDS),
        ("--action", action, SEND_ACTIONS),
        ("--severity", severity, SEVERITIES),
    ):
        if value not in allowed:
            fail(EXIT_UNREACHABLE, f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    if action == "trigger" and not (summary or "").strip():
        fail(EXIT_UNREACHABLE, "--summary is required to trigger an alert")
    if action != "trigger" and not dedup_key:
        fail(EXIT_UNREACHABLE, f"--dedup-key is required to {action} an alert")
    path, body, headers = _send_body(
        kind,
        key.strip(),
        action,
        summary,
        severity,
        dedup_key,
        source or socket.gethostname() or "warroom-cli",
    )
    base = server_url(url)
    try:
        response = httpx.post(
            base + path,
            json=body,
            headers={**headers, "User-Agent": f"warroom-cli/{warroom.__version__}"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        fail(EXIT_UNREACHABLE, f"cannot reach the Warroom server at {base}: {exc}")
    if response.status_code >= 400:
        fail(EXIT_REFUSED, _intake_refusal(response))
    answer = response.json() if response.content else {}
    if as_json:
        print_json(answer)
        return
    out.print(Text(f"Accepted ({action}); dedup key {answer.get('dedup_key') or dedup_key or '—'}."))


def _alert_table(page: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, show_edge=False)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("Status", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("Sev", no_wrap=True, max_width=8, overflow="ellipsis")
    table.add_column("Summary", ratio=1)
    table.add_column("Service", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("Incident", no_wrap=True)
    table.add_column("×", no_wrap=True, justify="right")
    table.add_column("Last", no_wrap=True, justify="right")
    for item in page["items"]:
        summary = item["summary"] + ("  [suppressed]" if item["suppressed"] else "")
        table.add_row(
            Text(str(item["id"])),
            Text(item["status"]),
            Text(item["severity"]),
            Text(summary),
            Text(item["service"]["slug"]),
            Text(item["incident"]["ref"] if item["incident"] else "—"),
            Text(str(item["count"])),
            Text(_age(item["last_seen"])),
        )
    return table


def _alert_detail(alert: dict[str, Any]) -> Table:
    incident = alert["incident"]
    rows = [
        ("Alert", f"{alert['id']}  {alert['summary']}"),
        ("Status", alert["status"] + ("  (suppressed)" if alert["suppressed"] else "")),
        ("Severity", alert["severity"]),
        ("Service", alert["service"]["name"]),
        ("Integration", f"{alert['integration']['name']} ({alert['integration']['kind']})"),
        ("Dedup key", alert["dedup_key"]),
        ("Source", alert["source"] or "—"),
        (
            "Incident",
            f"{incident['ref']}  {incident['title']} ({incident['state_label']})" if incident else "—",
        ),
        ("Why", alert["group_reason"] or "—"),
        (
            "Seen",
            f"{alert['count']}× · first {_when(alert['first_seen'])} · last {_when(alert['last_seen'])}",
        ),
        ("Acknowledged", _when(alert["acknowledged_at"])),
        ("Resolved", _when(alert["resolved_at"])),
    ]
    if alert["suppressed_by"]:
        rows.append(("Suppressed by", alert["suppressed_by"]["title"]))
    return detail_grid(rows)


@alert_app.command("list")
def list_alerts(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help="triggered, acknowledged, resolved (repeatable)."),
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option("--severity", help="critical, error, warning, info (repeatable).")
    ] = None,
    service: Annotated[str | None, typer.Option("--service", help="Service slug.")] = None,
    integration: Annotated[int | None, typer.Option("--integration", help="Integration id.")] = None,
    incident: Annotated[str | None, typer.Option("--incident", help="Incident: INC0001042 or 1042.")] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Text in summary, dedup key or source.")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only triggered and acknowledged.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many.")] = 0,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List alerts, newest first."""
    params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
    params += [("status", s) for s in status or []] + [("severity", s) for s in severity or []]
    for name, value in (
        ("service", service),
        ("integration", integration),
        ("incident", incident),
        ("q", query),
    ):
        if value is not None and value != "":
            params.append((name, value))
    if open_only:
        params.append(("open", "true"))
    page = connect(url, token).request("GET", "/alerts", params=params)
    print_page(page, as_json=as_json, table=_alert_table, none="No alerts match.")


@alert_app.command("show")
def show_alert(
    alert_id: AlertArgument, as_json: JsonOption = False, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Show one alert: why it joined its incident, and its raw events (with --json)."""
    alert = connect(url, token).request("GET", f"/alerts/{alert_id}")
    if as_json:
        print_json(alert)
        return
    out.print(_alert_detail(alert))


def _alert_verb(alert_id: int, verb: str, *, url: str | None, token: str | None, as_json: bool) -> None:
    alert = connect(url, token).request("POST", f"/alerts/{alert_id}/{verb}")
    if as_json:
        print_json(alert)
        return
    message = f"Alert {alert['id']} is now {alert['status']}: {alert['summary']}"
    if verb == "resolve" and alert["incident"] and alert["incident"]["state"] == "resolved":
        message += f" ({alert['incident']['ref']} resolved too)"
    out.print(Text(message))


@alert_app.command("ack")
def ack_alert(
    alert_id: AlertArgument, as_json: JsonOption = False, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Acknowledge a triggered alert."""
    _alert_verb(alert_id, "acknowledge", url=url, token=token, as_json=as_json)


@alert_app.command("resolve")
def resolve_alert(
    alert_id: AlertArgument, as_json: JsonOption = False, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Resolve an alert; its incident resolves too when it was the last open alert (and auto-resolve is on)."""
    _alert_verb(alert_id, "resolve", url=url, token=token, as_json=as_json)


@alert_app.command("test")
def test_alert(
    integration: Annotated[int, typer.Option("--integration", help="The integration's id.")],
    severity: Annotated[
        str,
        typer.Option("--severity", help="critical, error, warning or info (the test incident's priority)."),
    ] = "critical",
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Send a test alert through an integration: it opens a test incident that pages whoever is on call, marked
    [TEST], needs no postmortem and counts in no report."""
    event = connect(url, token).request(
        "POST", f"/integrations/{integration}/test-alert", body={"severity": severity}
    )
    if as_json:
        print_json(event)
        return
    out.print(
        Text(
            f"Test alert sent through integration {integration} (event {event['id']}); the engine opens its test "
            "incident and pages whoever is on call."
        )
    )


# ---------------------------------------------------------------------------------------------------------------
# action items: ``warroom action-item list|done``

action_item_app = typer.Typer(help="Follow up on action items on a Warroom server.", no_args_is_help=True)

ItemArgument = Annotated[int, typer.Argument(help="The action item's number (its id).")]
ITEM_STATUSES = ("open", "in_progress", "done", "wont_do")


def _item_source(item: dict[str, Any]) -> str:
    if item["postmortem"]:
        return f"PM {item['postmortem']}"
    if item["problem"]:
        return str(item["problem"])
    return str(item["incident"]["ref"]) if item["incident"] else "—"


def _item_table(page: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, show_edge=False)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("Status", no_wrap=True, max_width=11, overflow="ellipsis")
    table.add_column("Due", no_wrap=True)
    table.add_column("Pri", no_wrap=True, max_width=6, overflow="ellipsis")
    table.add_column("Title", ratio=1)
    table.add_column("Owner", no_wrap=True, max_width=14, overflow="ellipsis")
    table.add_column("From", no_wrap=True, max_width=14, overflow="ellipsis")
    for item in page["items"]:
        due = item["due_date"] or "—"
        table.add_row(
            Text(str(item["id"])),
            Text(item["status_label"]),
            Text(f"{due} OVERDUE" if item["overdue"] else due),
            Text(item["priority_label"]),
            Text(item["title"]),
            Text(_person(item["owner"])),
            Text(_item_source(item)),
        )
    return table


@action_item_app.command("list")
def list_action_items(
    owner: Annotated[str | None, typer.Option("--owner", help='"me", "none", an email or an id.')] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", help="open, in_progress, done, wont_do (repeatable)."),
    ] = None,
    any_status: Annotated[
        bool, typer.Option("--all", help="Any status (default: open and in progress).")
    ] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open items past their due date (UTC).")
    ] = False,
    team: Annotated[str | None, typer.Option("--team", help="Team slug.")] = None,
    service: Annotated[str | None, typer.Option("--service", help="Service slug.")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text in title or description.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many.")] = 0,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List action items across the teams you can see, due soonest first."""
    for value in status or []:
        if value not in ITEM_STATUSES:
            fail(EXIT_UNREACHABLE, f"--status must be one of {', '.join(ITEM_STATUSES)} (got {value!r})")
    params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
    params += [("status", s) for s in status or []]
    if not status and not any_status:
        params.append(("open", "true"))
    if overdue:
        params.append(("overdue", "true"))
    filters: list[tuple[str, str | None]] = [
        ("owner", owner),
        ("team", team),
        ("service", service),
        ("q", query),
    ]
    params += [(name, value) for name, value in filters if value]
    page = connect(url, token).request("GET", "/action-items", params=params)
    print_page(page, as_json=as_json, table=_item_table, none="No action items match.")


@action_item_app.command("done")
def done_action_item(
    item_id: ItemArgument,
    wont_do: Annotated[bool, typer.Option("--wont-do", help="Close it as won't do instead.")] = False,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Mark an action item done (or won't do)."""
    status = "wont_do" if wont_do else "done"
    item = connect(url, token).request("PATCH", f"/action-items/{item_id}", body={"status": status})
    if as_json:
        print_json(item)
        return
    out.print(Text(f"Action item {item['id']} is now {item['status_label']}: {item['title']}"))
