"""Client verbs for workflows: ``warroom workflow list|show`` (read-only; workflows are written in the console or
through ``/api/v1/workflows``). Server, token, output and exit codes as for every client verb
(:mod:`warroom.cli.client`).

No Django imports here: the client runs without settings.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from warroom.cli.client import (
    JsonOption,
    TokenOption,
    UrlOption,
    _when,
    connect,
    detail_grid,
    out,
    print_json,
    print_page,
)

workflow_app = typer.Typer(help="Read a team's workflows on a Warroom server.", no_args_is_help=True)

WorkflowArgument = Annotated[int, typer.Argument(help="The workflow's number (its id).")]

#: how the trigger reads in a table
TRIGGERS = {
    "declared": "declared",
    "priority": "priority changes",
    "major": "becomes major",
    "resolved": "resolved",
    "acknowledged": "acknowledged",
    "closed": "closed",
}


def _conditions(workflow: dict[str, Any]) -> str:
    parts = []
    if workflow["priorities"]:
        parts.append(", ".join(f"P{p}" for p in workflow["priorities"]))
    if workflow["services"]:
        parts.append(", ".join(s["name"] for s in workflow["services"]))
    return "; ".join(parts) or "any incident"


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


def _actions(workflow: dict[str, Any]) -> str:
    parts = []
    if workflow["tasks"]:
        parts.append(_count(len(workflow["tasks"]), "task"))
    if workflow["roles"]:
        parts.append(_count(len(workflow["roles"]), "role"))
    if workflow["notify_users"]:
        parts.append(f"notify {len(workflow['notify_users'])} ({workflow['notify_urgency']})")
    elif workflow["message"]:
        parts.append("timeline note")
    if workflow.get("webhook_url"):  # an older server has no webhooks
        parts.append("webhook")
    return ", ".join(parts) or "—"


def _workflow_table(page: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", collapse_padding=True, show_edge=False)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("Team", no_wrap=True, max_width=12, overflow="ellipsis")
    table.add_column("Name", ratio=2)
    table.add_column("When", no_wrap=True)
    table.add_column("On", no_wrap=True)
    table.add_column("If", ratio=1)
    table.add_column("Does", ratio=1)
    for item in page["items"]:
        table.add_row(
            Text(str(item["id"])),
            Text(item["team"]["slug"]),
            Text(item["name"]),
            Text(TRIGGERS.get(item["trigger"], item["trigger"])),
            Text("yes" if item["enabled"] else "no"),
            Text(_conditions(item)),
            Text(_actions(item)),
        )
    return table


def _holder(workflow: dict[str, Any], slug: str) -> str:
    """Who a role action names: the name the server gives (an older server gives only the id)."""
    person = workflow.get("role_holders", {}).get(slug)
    return str(person["name"]) if person else f"user {workflow['roles'][slug]}"


def _call(call: dict[str, Any] | None) -> str:
    """A webhook call's outcome: ``sent``, ``pending``, ``failed after 8 attempts: …``."""
    if not call:
        return "—"
    text = str(call["status"])
    if call["status"] == "failed":
        text += f" after {call['attempts']} attempt{'' if call['attempts'] == 1 else 's'}"
    return f"{text}: {call['last_error']}" if call["last_error"] else text


def _detail(workflow: dict[str, Any]) -> Table:
    rows = [
        ("Workflow", f"{workflow['id']}  {workflow['name']}"),
        ("Team", workflow["team"]["name"]),
        ("Enabled", "yes" if workflow["enabled"] else "no (never runs)"),
        ("When", f"an incident {TRIGGERS.get(workflow['trigger'], workflow['trigger'])}"),
        ("Priorities", ", ".join(f"P{p}" for p in workflow["priorities"]) or "any"),
        ("Services", ", ".join(s["name"] for s in workflow["services"]) or "any"),
        ("Tasks", "; ".join(workflow["tasks"]) or "—"),
        (
            "Roles",
            "; ".join(f"{slug} → {_holder(workflow, slug)}" for slug in workflow["roles"]) or "—",
        ),
        (
            "Notify",
            f"{', '.join(u['name'] for u in workflow['notify_users'])} ({workflow['notify_urgency']} urgency)"
            if workflow["notify_users"]
            else "—",
        ),
        ("Message", workflow["message"] or "—"),
        ("Webhook", workflow.get("webhook_url") or "—"),
        ("Last test call", _call(workflow.get("last_test_call"))),
        ("Created", _when(workflow["created_at"])),
        ("Changed", _when(workflow["updated_at"])),
    ]
    return detail_grid(rows)


def _runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Recent runs", title_justify="left", header_style="bold")
    table.add_column("When", no_wrap=True)
    table.add_column("Incident", no_wrap=True)
    table.add_column("Done", ratio=1)
    table.add_column("Not done", ratio=1)
    for run in runs:
        failed = list(run["failed"])
        call = run.get("webhook")  # the webhook call's outcome, when it went wrong
        if call and call["last_error"]:
            failed.append(f"webhook {_call(call)}")
        table.add_row(
            Text(_when(run["at"])),
            Text(run["incident"]["ref"]),
            Text("; ".join(run["done"]) or "—"),
            Text("; ".join(failed) or "—"),
        )
    return table


@workflow_app.command("list")
def list_workflows(
    team: Annotated[str | None, typer.Option("--team", help="Team slug.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-500).")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many.")] = 0,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """List the workflows of your teams, by team and name."""
    params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
    if team:
        params.append(("team", team))
    page = connect(url, token).request("GET", "/workflows", params=params)
    print_page(page, as_json=as_json, table=_workflow_table, none="No workflows match.")


@workflow_app.command("show")
def show_workflow(
    workflow_id: WorkflowArgument,
    runs: Annotated[
        int, typer.Option("--runs", help="Show this many recent runs (0: none).", min=0, max=500)
    ] = 10,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show one workflow: its trigger, conditions and actions, and what its recent runs did."""
    api = connect(url, token)
    workflow = api.request("GET", f"/workflows/{workflow_id}")
    if as_json:
        print_json(workflow)
        return
    out.print(_detail(workflow))
    if runs:
        page = api.request("GET", f"/workflows/{workflow_id}/runs", params={"limit": runs})
        out.print()
        if page["items"]:
            out.print(_runs_table(page["items"]))
        else:
            out.print("It has not run yet.")
