"""Pure helpers for grouping by chosen fields or labels."""

from __future__ import annotations

from typing import Any

from warroom.alerts.intake import stored_group_key

MISSING = "∅"


def field_value(name: str, summary: str, source: str, severity: str, details: dict[str, Any]) -> str:
    """The value of ``name`` for an alert: a label (Alertmanager, Grafana), a top-level detail field, or one of
    summary/source/severity. A dotted name walks into details (``annotations.team``). Missing: ``∅``."""
    builtin = {"summary": summary, "source": source, "severity": severity}
    if name in builtin:
        return builtin[name]
    labels = details.get("labels")
    if isinstance(labels, dict) and name in labels:
        return str(labels[name])
    value: Any = details
    for part in name.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    if isinstance(value, dict | list):
        return MISSING
    return str(value)


def fields_group_key(
    names: list[str], summary: str, source: str, severity: str, details: dict[str, Any]
) -> tuple[str, str]:
    """(stored group key, readable description) for grouping by ``names``."""
    pairs = [f"{name}={field_value(name, summary, source, severity, details)}" for name in names]
    readable = ", ".join(pairs)
    return stored_group_key("fields:" + "\x1f".join(pairs)), readable
