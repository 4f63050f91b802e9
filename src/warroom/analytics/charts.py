"""Charts drawn on the server as SVG by pygal, shown as ``<img src="data:image/svg+xml;base64,...">``.

Why an image and not inline ``<svg>``: pygal writes its colours into a ``<style>`` element and a few ``style``
attributes, and adds a small ``<script>`` with its configuration. The console's Content Security Policy
(``style-src 'self'``, scripts only with a nonce) would refuse those inside the page. An SVG shown as an image is
its own document: its styles apply, no script in it ever runs, and ``img-src`` already allows ``data:``. We also
drop pygal's ``<script>`` elements and render with ``js=[]`` (no kozea CDN script).

Text is safe: pygal builds the SVG as an element tree, so labels and titles (team, service and integration
names, dedup keys) are escaped by the XML serialiser. Each chart carries a ``<title>`` and a ``<desc>``, the
``<img>`` an ``alt`` text, and the page shows the same figures in a table next to it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pygal
from pygal.style import Style

PALETTE = (
    "#3454d1",
    "#f97316",
    "#15803d",
    "#c2261b",
    "#7c3aed",
    "#0891b2",
    "#b45309",
    "#db2777",
    "#4b5563",
    "#65a30d",
)
#: at most this many series in a chart; the rest are summed as "Other"
MAX_SERIES = 8

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#394251",
    foreground_strong="#141a23",
    foreground_subtle="#6b7280",
    colors=PALETTE,
    font_family='ui-sans-serif, system-ui, "Segoe UI", Roboto, Arial, sans-serif',
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    title_font_size=19,
    value_font_size=12,
    tooltip_font_size=12,
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title, a sentence describing it (``alt`` text) and the SVG as a data URI."""

    key: str
    title: str
    description: str
    data_uri: str


def _crowded(labels: Sequence[object]) -> bool:
    """True when the x labels side by side would not fit the plot (~600 px, ~9 px a character at this size, at
    most 12 characters a label): they then slant and only every fourth is written. Thirteen weekly dates do not
    fit; seven weekday names do."""
    return len(labels) > 14 or sum(min(len(str(label)), 12) for label in labels) * 9 > 600


def _config(title: str, *, many_labels: bool, horizontal: bool = False) -> dict[str, object]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 720,
        "height": 380,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "truncate_legend": 28,
        "truncate_label": 24 if horizontal else 12,
        "x_label_rotation": 0 if horizontal else (35 if many_labels else 0),
        "show_minor_x_labels": not many_labels,
        "x_labels_major_every": 4 if many_labels else None,
        "print_values": False,
        "include_x_axis": True,
        "margin": 12,
        # pygal under-measures the legend below the plot and the last x label: leave them room
        "margin_bottom": 40,
        "margin_right": 48,
        "no_data_text": "No data in this period",
    }


def _without_scripts_with_desc(description: str) -> Callable[[Any], Any]:
    """An xml filter for pygal: drop every ``<script>`` and give the root a ``<desc>``."""

    def apply(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                    parent.remove(child)
        desc = root.makeelement("desc", {})
        desc.text = description  # escaped by the serialiser
        root.insert(0, desc)
        return root

    return apply


def _render(chart: Any, key: str, title: str, description: str) -> Chart:
    chart.add_xml_filter(_without_scripts_with_desc(description))
    svg: str = chart.render(is_unicode=True)
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Chart(
        key=key, title=title, description=description, data_uri=f"data:image/svg+xml;base64,{encoded}"
    )


def _fold(series: Sequence[tuple[str, Sequence[float | None]]]) -> list[tuple[str, list[float | None]]]:
    """At most :data:`MAX_SERIES` series: the rest become one "Other" series (their sums)."""
    items = [(name, list(values)) for name, values in series]
    if len(items) <= MAX_SERIES:
        return items
    head, tail = items[: MAX_SERIES - 1], items[MAX_SERIES - 1 :]
    other = [sum(v or 0 for v in column) for column in zip(*(values for _n, values in tail), strict=True)]
    return [*head, ("Other", list(other))]


def bar(
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    value_suffix: str = "",
) -> Chart:
    """A (stacked, or horizontal) bar chart of ``series`` over ``labels``."""
    kind = pygal.HorizontalBar if horizontal else (pygal.StackedBar if stacked else pygal.Bar)
    crowded = len(labels) > 14 if horizontal else _crowded(labels)  # a horizontal chart's labels are stacked
    chart = kind(**_config(title, many_labels=crowded, horizontal=horizontal))
    chart.value_formatter = lambda v: f"{v:g}{value_suffix}" if v is not None else "–"
    folded = _fold(series)
    if horizontal:  # pygal draws the first label at the bottom: reverse, so the list reads top down
        labels = list(reversed(labels))
        folded = [(name, list(reversed(values))) for name, values in folded]
    chart.x_labels = list(labels)
    for name, values in folded:
        chart.add(name, values)
    return _render(chart, key, title, description)


def line(
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    value_suffix: str = "",
) -> Chart:
    """A line chart (gaps where a value is None)."""
    chart = pygal.Line(**_config(title, many_labels=_crowded(labels)), allow_interruptions=True, dots_size=3)
    chart.value_formatter = lambda v: f"{v:g}{value_suffix}" if v is not None else "–"
    chart.x_labels = list(labels)
    for name, values in _fold(series):
        chart.add(name, values)
    return _render(chart, key, title, description)
