"""The site's charts as inline SVG, drawn by pygal (bench/report.py and the README say why
pygal). pygal builds the SVG with ElementTree, so every label and title is escaped; no
JavaScript is embedded (js=[]), so the pages run under a CSP that forbids scripts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

FONTS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", '
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", sans-serif'
)
INBOUND, OUTBOUND = "#2b6cb0", "#dd6b20"
STYLE = Style(
    font_family=FONTS,
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#bbb",
    colors=(INBOUND, OUTBOUND, "#718096"),
)
_COMMON: dict[str, Any] = {
    "style": STYLE,
    "js": [],  # no script: pygal's tooltips need its JS from a CDN
    "disable_xml_declaration": True,
    "explicit_size": False,
    "print_values": False,
}


# pygal always embeds its tooltip config as an inline script (svg.py add_scripts), even with
# js=[]: it does nothing without pygal's JS, and the pages' CSP forbids scripts. ElementTree
# escapes '<' in text, so the first '</script>' ends it.
# Its comments (generator, links to pygal.org) go too: they add bytes to every row.
_SCRIPT = re.compile(r"<script[^>]*>.*?</script>|<!--.*?-->", re.DOTALL)


def _svg(chart: Any, sparkline: bool = False) -> str:
    out = chart.render_sparkline() if sparkline else chart.render()
    return _SCRIPT.sub("", out.decode() if isinstance(out, bytes) else str(out))


def sparkline(inbound: Sequence[int], outbound: Sequence[int]) -> str:
    """Mail each way per month: a small chart for a row of the overview."""
    chart = pygal.Line(width=180, height=36, show_dots=False, stroke_style={"width": 2},
                       title=None, **_COMMON)  # fmt: skip
    chart.add("received", list(inbound))
    chart.add("sent", list(outbound))
    return _svg(chart, sparkline=True)


def monthly(months: Sequence[str], inbound: Sequence[int], outbound: Sequence[int]) -> str:
    """Mail each way per month over the whole history."""
    chart = pygal.Line(width=900, height=300, title="Mail per month", x_label_rotation=-45,
                       show_minor_x_labels=False, legend_at_bottom=True, fill=True,
                       show_dots=len(months) <= 24, **_COMMON)  # fmt: skip
    chart.x_labels = list(months)
    chart.x_labels_major_every = max(1, len(months) // 12)
    chart.add("received", list(inbound))
    chart.add("sent", list(outbound))
    return _svg(chart)


def milestones(ref: str, labels: Sequence[str], planned: Sequence[int | None],
               actual: Sequence[int | None]) -> str:  # fmt: skip
    """One order's milestones: planned against actual, in days after confirmation."""
    chart = pygal.Line(width=900, height=260, title=f"{ref}: days after confirmation",
                       legend_at_bottom=True, x_label_rotation=-20, **_COMMON)  # fmt: skip
    chart.x_labels = list(labels)
    chart.add("planned", list(planned))
    chart.add("actual", list(actual))
    return _svg(chart)
