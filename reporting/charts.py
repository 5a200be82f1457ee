"""Charts of a dashboard's tables, drawn as SVG by the templates from the geometry computed here.

No chart library: bars and lines are a few rectangles and a polyline, and drawing them on the
server keeps the page readable without JavaScript, printable, and free of third-party code. Every
chart has a text alternative that lists all its values (``description``) and its table beside it;
a suppressed value is drawn as an empty, outlined bar or a gap in the line, labelled with its
display ("<5", "–"), never with a number.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.utils import formats

from reporting.tables import BARS, LINE, Table

WIDTH = 640
LABEL_WIDTH = 220
VALUE_WIDTH = 56
BAR_HEIGHT = 22
BAR_GAP = 10
LONGEST_LABEL = 30
HIDDEN_BAR_WIDTH = 24  # the outlined box that stands for a suppressed value
LINE_HEIGHT = 220
LINE_MARGIN_LEFT = 56
LINE_MARGIN_RIGHT = 28
LINE_MARGIN_TOP = 24
LINE_MARGIN_BOTTOM = 40


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    display: str
    suppressed: bool
    y: float
    width: float
    text_y: float
    value_x: float


@dataclass(frozen=True)
class Marker:
    label: str
    axis_label: str
    display: str
    suppressed: bool
    x: float
    y: float
    label_y: float
    show_label: bool


@dataclass(frozen=True)
class Gridline:
    y: float
    display: str


@dataclass(frozen=True)
class Chart:
    kind: str
    width: int
    height: int
    description: str
    bars: tuple[Bar, ...] = ()
    markers: tuple[Marker, ...] = ()
    segments: tuple[str, ...] = ()  # polyline point lists, broken where a value is suppressed
    gridlines: tuple[Gridline, ...] = ()
    plot_left: int = 0
    plot_right: int = 0
    axis_y: float = 0


def _shorten(label: str) -> str:
    return label if len(label) <= LONGEST_LABEL else label[: LONGEST_LABEL - 1].rstrip() + "…"


def _describe(table: Table) -> str:
    values = "; ".join(f"{row.label}: {row.cells[0].display}" for row in table.rows)
    return f"{table.title}. {values}." if values else table.title


def _nice_ceiling(value: float) -> float:
    """A round upper end for the axis: 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _number(value: float) -> str:
    return formats.number_format(value, 0 if float(value).is_integer() else 1)


def _month_label(key: str) -> str:
    """ "Jan 25" for the key "2025-01": the axis has room for short months only."""
    try:
        month = datetime.date.fromisoformat(f"{key}-01")
    except ValueError:
        return ""
    return formats.date_format(month, "M y")


def bar_chart(table: Table) -> Chart:
    values = [row.cells[0].value or 0 for row in table.rows]
    top = max(values, default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, row in enumerate(table.rows):
        cell = row.cells[0]
        y = BAR_GAP + index * (BAR_HEIGHT + BAR_GAP)
        width = 0.0 if cell.suppressed or not cell.value else max(plot * cell.value / top, 2)
        bars.append(
            Bar(
                label=row.label,
                short_label=_shorten(row.label),
                display=cell.display,
                suppressed=cell.suppressed,
                y=y,
                width=round(width, 1),
                text_y=y + BAR_HEIGHT * 0.7,
                value_x=LABEL_WIDTH + (HIDDEN_BAR_WIDTH if cell.suppressed else width) + 6,
            )
        )
    height = BAR_GAP + len(bars) * (BAR_HEIGHT + BAR_GAP)
    return Chart(
        kind=BARS,
        width=WIDTH,
        height=max(height, BAR_HEIGHT + 2 * BAR_GAP),
        description=_describe(table),
        bars=tuple(bars),
        plot_left=LABEL_WIDTH,
    )


def line_chart(table: Table) -> Chart:
    rows = table.rows
    values = [row.cells[0].value for row in rows]
    top = _nice_ceiling(max((v for v in values if v is not None), default=0))
    bottom = LINE_HEIGHT - LINE_MARGIN_BOTTOM
    plot_height = bottom - LINE_MARGIN_TOP
    plot_width = WIDTH - LINE_MARGIN_LEFT - LINE_MARGIN_RIGHT
    step = plot_width / max(len(rows) - 1, 1)
    # A label under every month would overlap beyond a year; every second or third month then.
    label_every = max(1, math.ceil(len(rows) / 12))
    markers: list[Marker] = []
    segments: list[str] = []
    current: list[str] = []
    for index, row in enumerate(rows):
        cell = row.cells[0]
        x = LINE_MARGIN_LEFT + (index * step if len(rows) > 1 else plot_width / 2)
        y = bottom if cell.value is None else bottom - plot_height * cell.value / top
        markers.append(
            Marker(
                label=row.label,
                axis_label=_month_label(row.key) or row.label,
                display=cell.display,
                suppressed=cell.suppressed,
                x=round(x, 1),
                y=round(y, 1),
                label_y=bottom + 18,
                show_label=index % label_every == 0,
            )
        )
        if cell.suppressed:
            if current:
                segments.append(" ".join(current))
            current = []
        else:
            current.append(f"{x:.1f},{y:.1f}")
    if current:
        segments.append(" ".join(current))
    gridlines = tuple(
        Gridline(y=round(bottom - plot_height * share, 1), display=_number(top * share)) for share in (0, 0.5, 1)
    )
    return Chart(
        kind=LINE,
        width=WIDTH,
        height=LINE_HEIGHT,
        description=_describe(table),
        markers=tuple(markers),
        segments=tuple(segment for segment in segments if " " in segment),
        gridlines=gridlines,
        plot_left=LINE_MARGIN_LEFT,
        plot_right=WIDTH - LINE_MARGIN_RIGHT,
        axis_y=bottom,
    )


def chart_of(table: Table) -> Chart | None:
    if table.chart == BARS:
        return bar_chart(table)
    if table.chart == LINE:
        return line_chart(table)
    return None
