"""A postmortem as one Markdown document (the export), built from the same pieces as the printable page.

Times are written in UTC. The document is plain CommonMark with pipe tables, so it pastes into a wiki, a Git
repository or an issue tracker as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from warroom.incidents.priority import Priority
from warroom.reviews import selectors
from warroom.reviews.facts import Facts, format_duration
from warroom.reviews.models import ActionItem, KeyEvent, Postmortem
from warroom.reviews.states import PostmortemStatus


def _utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


def _cell(text: str) -> str:
    """Text safe inside a pipe-table cell."""
    return " ".join(text.split()).replace("|", "\\|") or "—"


def fact_rows(facts: Facts) -> list[tuple[str, str]]:
    """(label, value) of the facts table, shared by the page, the print view and the export."""
    times, durations = facts.times, facts.durations
    return [
        ("Services", ", ".join(s.name for s in facts.services) or "—"),
        ("First alert", _utc(times.first_alert_at)),
        ("Declared", _utc(times.opened_at)),
        ("Acknowledged", _utc(times.acknowledged_at)),
        ("Mitigated", _utc(times.mitigated_at)),
        ("Resolved", _utc(times.resolved_at)),
        ("Time to detect", format_duration(durations.detect)),
        ("Time to acknowledge", format_duration(durations.acknowledge)),
        ("Time to mitigate", format_duration(durations.mitigate)),
        ("Time to resolve", format_duration(durations.resolve)),
        ("Impact duration", format_duration(durations.impact)),
        ("SLA", sla_text(facts)),
    ]


def sla_text(facts: Facts) -> str:
    if not facts.sla:
        return "not tracked"
    return "; ".join(f"{key.replace('_', ' ')}: {value}" for key, value in facts.sla.items())


def postmortem_markdown(
    postmortem: Postmortem, *, facts: Facts, events: Sequence[KeyEvent], action_items: Sequence[ActionItem]
) -> str:
    """The whole postmortem as Markdown. ``postmortem`` comes from :func:`selectors.postmortem_detail`."""
    incident = postmortem.incident
    status = PostmortemStatus(postmortem.status).label
    if postmortem.published_at is not None:
        published_by = postmortem.published_by.display_name if postmortem.published_by else "Warroom"
        status += f" on {_utc(postmortem.published_at)} by {published_by}"
    reviewers = [
        r.user.display_name + (" (approved)" if r.approved_at else "") for r in postmortem.reviewers.all()
    ]
    lines = [
        f"# Postmortem: {postmortem.title}",
        "",
        f"- **Incident:** {incident.ref} — {incident.title}",
        f"- **Priority:** {Priority(incident.priority).label}",
        f"- **Team:** {postmortem.team.name}",
        f"- **Status:** {status}",
        f"- **Author:** {postmortem.author.display_name if postmortem.author else 'Warroom (required by policy)'}",
        f"- **Reviewers:** {', '.join(reviewers) or '—'}",
    ]
    if len(facts.incidents) > 1:
        lines.append("- **Covers:** " + ", ".join(f"{i.ref} {i.title}" for i in facts.incidents[1:]))
    lines += ["", "## Facts", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {_cell(value)} |" for label, value in fact_rows(facts)]
    if facts.people:
        lines += ["", "### People and roles", ""]
        lines += [f"- {p.name} — {', '.join(p.roles)}" for p in facts.people]
    if facts.alerts:
        lines += ["", "### Alerts", ""]
        lines += [
            f"- {_utc(a.first_seen)} · {a.severity} · {a.service} · {a.summary}"
            + (f" (×{a.count})" if a.count > 1 else "")
            for a in facts.alerts
        ]
    for section in postmortem.sections.all():
        lines += ["", f"## {section.title}", "", section.body.strip() or "_Nothing written._"]
    lines += ["", "## Key events", ""]
    if events:
        lines += ["| Time (UTC) | Event |", "|---|---|"]
        lines += [f"| {_utc(e.at)} | {_cell(e.text)} |" for e in events]
    else:
        lines.append("_None picked._")
    lines += ["", "## 5 whys", ""]
    whys = list(postmortem.whys.all())
    if whys:
        for why in whys:
            question = f"**{why.question.strip()}** " if why.question.strip() else "**Why?** "
            lines.append(f"{why.position}. {question}{' '.join(why.answer.split())}")
    else:
        lines.append("_Not recorded._")
    lines += ["", "## Contributing factors", ""]
    factors = list(postmortem.factors.all())
    lines += [f"- **{f.category.name}** — {' '.join(f.description.split())}" for f in factors] or [
        "_None recorded._"
    ]
    lines += ["", "## Detection", "", postmortem.detection_notes.strip() or "_No notes._"]
    lines += ["", "## Response", "", postmortem.response_notes.strip() or "_No notes._"]
    lines += ["", "## Action items", ""]
    if action_items:
        for item in action_items:
            tick = "x" if not item.is_open else " "
            owner = item.owner.display_name if item.owner else "no owner"
            due = f", due {item.due_date:%Y-%m-%d}" if item.due_date else ""
            lines.append(
                f"- [{tick}] {item.title} — {owner}{due}, {item.get_priority_display()} priority "
                f"({item.get_status_display()})"
            )
    else:
        lines.append("_None._")
    amendments = list(postmortem.amendments.all())
    if amendments:
        lines += ["", "## Amendments", ""]
        for amendment in amendments:
            who = amendment.author.display_name if amendment.author else "Warroom"
            changed = ", ".join(sorted(amendment.changes))
            lines.append(f"- {_utc(amendment.at)}, {who}: {amendment.reason} (changed {changed})")
    return "\n".join(lines).rstrip() + "\n"


def export_filename(postmortem: Postmortem) -> str:
    return f"postmortem-{postmortem.incident.ref}.md"


def markdown_for(postmortem: Postmortem, *, action_items: Sequence[ActionItem]) -> str:
    """Load what the document needs and render it."""
    detail = selectors.postmortem_detail(postmortem)
    return postmortem_markdown(
        detail,
        facts=selectors.facts_of(detail),
        events=selectors.key_events(detail),
        action_items=action_items,
    )
