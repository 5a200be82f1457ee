"""Chart geometry: suppressed values are drawn as nothing that has a size, and the text alternative
lists every value as the page prints it."""

from __future__ import annotations

from reporting.charts import HIDDEN_BAR_WIDTH, LABEL_WIDTH, bar_chart, line_chart
from reporting.tables import BARS, LINE, Cell, Row, Table


def table(kind: str, cells: list[tuple[str, str, Cell]]) -> Table:
    return Table(
        key="t",
        title="Vermittlungen",
        columns=("Monat", "Vermittlungen"),
        rows=tuple(Row(key, label, (cell,)) for key, label, cell in cells),
        chart=kind,
    )


def test_bars_scale_to_the_largest_value_and_hide_suppressed_ones() -> None:
    chart = bar_chart(
        table(
            BARS,
            [
                ("a", "Jobcenter", Cell("10", 10)),
                ("b", "Sozialamt", Cell("<5", None, suppressed=True)),
                ("c", "Jugendamt", Cell("0", 0)),
                ("d", "Eine sehr lange Bezeichnung einer Behörde im Landkreis", Cell("5", 5)),
            ],
        )
    )
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == 2 * widths[3] and widths[1] == 0 and widths[2] == 0
    assert chart.bars[1].display == "<5" and chart.bars[1].value_x == LABEL_WIDTH + HIDDEN_BAR_WIDTH + 6
    assert chart.bars[3].short_label.endswith("…") and len(chart.bars[3].short_label) <= 30
    assert chart.description == (
        "Vermittlungen. Jobcenter: 10; Sozialamt: <5; Jugendamt: 0; "
        "Eine sehr lange Bezeichnung einer Behörde im Landkreis: 5."
    )


def test_a_line_breaks_where_a_month_is_suppressed() -> None:
    chart = line_chart(
        table(
            LINE,
            [
                ("2025-01", "Januar 2025", Cell("6", 6)),
                ("2025-02", "Februar 2025", Cell("8", 8)),
                ("2025-03", "März 2025", Cell("<5", None, suppressed=True)),
                ("2025-04", "April 2025", Cell("7", 7)),
                ("2025-05", "Mai 2025", Cell("9", 9)),
            ],
        )
    )
    assert len(chart.segments) == 2
    assert [marker.suppressed for marker in chart.markers] == [False, False, True, False, False]
    # The axis ends at a round number above the largest value.
    assert [line.display for line in chart.gridlines] == ["0", "5", "10"]
    assert chart.markers[0].axis_label == "Jan 25"


def test_a_month_alone_between_hidden_ones_is_a_dot_without_a_line() -> None:
    chart = line_chart(
        table(
            LINE,
            [
                ("2025-01", "Januar 2025", Cell("<5", None, suppressed=True)),
                ("2025-02", "Februar 2025", Cell("8", 8)),
                ("2025-03", "März 2025", Cell("<5", None, suppressed=True)),
            ],
        )
    )
    assert chart.segments == ()
    assert [marker.suppressed for marker in chart.markers] == [True, False, True]


def test_long_periods_label_every_other_month() -> None:
    rows = [(f"2024-{month:02d}", f"M{month}", Cell("9", 9)) for month in range(1, 13)]
    rows += [(f"2025-{month:02d}", f"N{month}", Cell("9", 9)) for month in range(1, 13)]
    chart = line_chart(table(LINE, rows))
    assert sum(marker.show_label for marker in chart.markers) == 12
