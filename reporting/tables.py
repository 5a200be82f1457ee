"""A dashboard as tables: what the page shows beside each chart and what every export writes.

Tables carry the figures' ``display`` (suppression applied) next to the value a spreadsheet may
sum; a suppressed cell has no value at all, so no export and no chart can print it by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from reporting.figures import Dashboard, Figure, Point, Series

BARS = "bars"
LINE = "line"

# The tables a dashboard has, in page order: (figure, series) and how its chart is drawn. The
# overview table (every headline figure) comes first.
SERIES_TABLES: tuple[tuple[str, str, str], ...] = (
    ("people_served", "by_agency", BARS),
    ("caseload", "by_agency", BARS),
    ("referrals", "by_month", LINE),
    ("referrals", "by_status", BARS),
    ("referrals", "by_receiving_agency", BARS),
    ("measures_started", "by_kind", BARS),
    ("measures_completed", "by_kind", BARS),
    ("outcomes", "by_kind", BARS),
    ("action_items_open", "by_agency", BARS),
    ("action_items_overdue", "by_agency", BARS),
)
OVERVIEW = "overview"


@dataclass(frozen=True)
class Cell:
    display: str
    value: int | float | None  # None where suppressed or where there is no value
    suppressed: bool = False


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]  # the first column names the rows
    rows: tuple[Row, ...]
    chart: str | None = None
    figure: str = ""

    @property
    def has_values(self) -> bool:
        return any(cell.value for row in self.rows for cell in row.cells)


def cell(item: Figure | Point) -> Cell:
    value = None if item.suppressed else item.value
    return Cell(display=item.display, value=value, suppressed=item.suppressed)


def overview_table(dashboard: Dashboard) -> Table:
    rows: list[Row] = []
    for figure in dashboard.figures.values():
        rows.append(Row(figure.key, figure.label, (cell(figure), Cell(figure.unit, None))))
        for extra in figure.extra:
            label = f"{figure.label}: {extra.label}"
            rows.append(Row(extra.key, label, (cell(extra), Cell(extra.unit, None))))
    return Table(key=OVERVIEW, title=_("All figures"), columns=(_("Figure"), _("Value"), _("Unit")), rows=tuple(rows))


def series_table(figure: Figure, series: Series, chart: str) -> Table:
    return Table(
        key=f"{figure.key}.{series.key}",
        title=f"{figure.label}: {series.label}",
        columns=(series.label, figure.unit),
        rows=tuple(Row(point.key, point.label, (cell(point),)) for point in series.points),
        chart=chart,
        figure=figure.key,
    )


def tables(dashboard: Dashboard) -> list[Table]:
    """Every table of the dashboard: the overview, then one per series, in page order."""
    found = [overview_table(dashboard)]
    for figure_key, series_key, chart in SERIES_TABLES:
        figure = dashboard.figures.get(figure_key)
        if figure is not None:
            found.append(series_table(figure, figure.get_series(series_key), chart))
    return found


TABLE_KEYS = (OVERVIEW, *(f"{figure}.{series}" for figure, series, _chart in SERIES_TABLES))
