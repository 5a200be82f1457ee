"""CSV and XLSX exports of the dashboard's tables, against the hand-built county: suppressed cells
as "<5" and "–" only, an agency's own numbers in full, numbers a German spreadsheet reads, text that
never turns into a formula, and a clear 400 or a 404 where there is nothing to export."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.text import slugify

from agencies import services as agency_services
from agencies.models import User
from hub.exports import plain_number, safe_cell, sheet_names
from reporting.exports import TableChoiceForm
from reporting.figures import HIDDEN, SMALL, dashboard
from reporting.filters import FigureFilterForm
from reporting.tables import TABLE_KEYS, Table, tables
from tests.conftest import World
from tests.reporting.county import Q1, County

pytestmark = pytest.mark.django_db

QUARTER = {"start": Q1.start.isoformat(), "end": Q1.end.isoformat()}
FORMULA = '=HYPERLINK("http://x")'
SERVED = TABLE_KEYS.index("people_served.by_agency")


def export(user: User | None, name: str, pk: int, query: dict[str, str] | None = None, language: str = "de") -> Any:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(reverse(name, args=[pk]), {**QUARTER, **(query or {})}, headers={"Accept-Language": language})


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def sections(rows: list[list[str]]) -> tuple[list[list[str]], dict[str, list[list[str]]]]:
    """The heading, and each table by its title: {title: [header, *rows]}."""
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    heading, *found = blocks
    return heading, {block[0][0]: block[1:] for block in found}


def workbook(response: Any) -> Any:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.content))


def by_label(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {row[0]: row[1:] for row in rows[1:]}


def de(message: str) -> str:
    with translation.override("de"):
        return translation.gettext(message)


def stem() -> str:
    """The file name's first word: "kennzahlen" once translated."""
    with translation.override("de"):
        return slugify(translation.pgettext("export file name", "figures"))


def german_tables(world: World, user: User, target: Any) -> list[Table]:
    with translation.override("de"):
        return tables(dashboard(user, target, Q1))


# CSV ------------------------------------------------------------------------------------------


def test_the_round_tables_csv_has_every_table_and_only_suppressed_displays(county: County) -> None:
    world = county.world
    response = export(world.bob, "reporting-workspace-csv", world.workspace.pk)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"].startswith("private, no-store")
    filename = f"{stem()}-{slugify(world.workspace.name)}-2025-01-01-2025-03-31.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'

    heading, found = sections(csv_rows(response))
    assert heading[0] == [de("Round table"), world.workspace.name]
    assert heading[1] == [de("Period"), "01.01.2025 – 31.03.2025"]
    assert any("<5" in line[0] and "–" in line[0] for line in heading), heading

    expected = german_tables(world, world.bob, world.workspace)
    assert len(expected) == len(TABLE_KEYS)
    assert list(found) == [table.title for table in expected]
    # The social office's two persons are "<5", the jobcenter's five "–" (or 7 - 5 would tell).
    served = by_label(found[expected[SERVED].title])
    assert served == {"Jobcenter": ["–"], "Sozialamt": ["<5"], "Jugendamt": ["0"]}
    # Every cell of every table: a suppressed one prints its display, never its number.
    for table in expected:
        rows = by_label(found[table.title])
        for row in table.rows:
            for written, cell in zip(rows[row.label], row.cells, strict=True):
                if cell.suppressed:
                    assert written in (SMALL, HIDDEN)
                elif cell.value is not None:
                    assert written == plain_number(cell.value, ",")
                else:
                    assert written == cell.display


def test_the_csv_writes_numbers_with_the_languages_decimal_separator(county: County) -> None:
    world = county.world
    _heading, found = sections(csv_rows(export(world.alice, "reporting-workspace-csv", world.workspace.pk)))
    overview = by_label(found[de("All figures")])
    # Seven open files for three caseworkers: 2,3 for a German spreadsheet; seven persons served.
    assert overview[de("Caseload per caseworker")][0] == "2,3"
    assert overview[de("People served")][0] == "7"

    response = export(world.alice, "reporting-workspace-csv", world.workspace.pk, language="en")
    _heading, found = sections(csv_rows(response))
    assert by_label(found["All figures"])["Caseload per caseworker"][0] == "2.3"


def test_plain_numbers_have_no_grouping_and_no_exponent() -> None:
    assert plain_number(1234567, ",") == "1234567"
    assert plain_number(1234.5, ",") == "1234,5"
    assert plain_number(1e20, ",") == "100000000000000000000"
    assert plain_number(2.0, ".") == "2.0"


def test_one_table_only(county: County) -> None:
    world = county.world
    response = export(world.cora, "reporting-workspace-csv", world.workspace.pk, {"table": "referrals.by_status"})
    assert response["Content-Disposition"].endswith('-2025-01-01-2025-03-31-referrals-by_status.csv"')
    _heading, found = sections(csv_rows(response))
    by_status = german_tables(world, world.cora, world.workspace)[TABLE_KEYS.index("referrals.by_status")]
    assert list(found) == [by_status.title]
    rows = found[by_status.title]
    assert len(rows) == 1 + len(by_status.rows)  # the header, every status but draft
    assert {row[1] for row in rows[1:]} <= {SMALL, HIDDEN, "0"}


def test_the_agency_filter_is_named_in_the_heading_and_the_file_name(county: County) -> None:
    world = county.world
    response = export(
        world.alice, "reporting-workspace-csv", world.workspace.pk, {"agency": str(world.social_office.pk)}
    )
    assert response["Content-Disposition"].endswith('-2025-01-01-2025-03-31-sozialamt.csv"')
    heading, _found = sections(csv_rows(response))
    assert [de("Agency filter"), "Sozialamt"] in heading


def test_an_agencys_own_csv_hides_nothing(county: County) -> None:
    world = county.world
    response = export(world.alice, "reporting-agency-csv", world.jobcenter.pk)
    filename = f"{stem()}-jobcenter-2025-01-01-2025-03-31.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    heading, found = sections(csv_rows(response))
    assert heading[0] == [de("Agency"), world.jobcenter.display_name]
    assert not any("<5" in cell for line in heading for cell in line)
    expected = german_tables(world, world.alice, world.jobcenter)
    assert by_label(found[expected[SERVED].title]) == {"Jobcenter": ["5"]}
    assert all(cell != SMALL for rows in found.values() for row in rows for cell in row)


def test_csv_text_never_starts_a_formula(county: County) -> None:
    world = county.world
    trap = agency_services.agency_create(actor=None, name=FORMULA, short_name="", kind="other")
    agency_services.workspace_add_agency(actor=world.cora, workspace=world.workspace, agency=trap)
    agency_services.workspace_update(actor=world.cora, workspace=world.workspace, name="@SUM(A1) Runder Tisch")
    rows = csv_rows(export(world.alice, "reporting-workspace-csv", world.workspace.pk))
    heading, found = sections(rows)
    assert heading[0][1] == "'@SUM(A1) Runder Tisch"
    served = by_label(found[german_tables(world, world.alice, world.workspace)[SERVED].title])
    assert served[safe_cell(FORMULA)] == ["0"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# XLSX -----------------------------------------------------------------------------------------


def test_the_round_tables_workbook_has_a_sheet_per_table_with_text_for_suppressed_cells(county: County) -> None:
    world = county.world
    response = export(world.carol, "reporting-workspace-xlsx", world.workspace.pk)
    assert response["Cache-Control"].startswith("private, no-store")
    assert response["Content-Disposition"].endswith('-2025-01-01-2025-03-31.xlsx"')
    book = workbook(response)
    expected = german_tables(world, world.carol, world.workspace)
    assert len(book.sheetnames) == len(set(book.sheetnames)) == len(TABLE_KEYS)
    assert book.sheetnames[0] == de("All figures")
    # A long title keeps the series' name, which tells a figure's tables apart.
    referrals = book.sheetnames[TABLE_KEYS.index("referrals.by_status")]
    assert referrals.endswith(", " + expected[TABLE_KEYS.index("referrals.by_status")].columns[0])
    assert all(len(name) <= 31 for name in book.sheetnames)

    for sheet, table in zip(book.worksheets, expected, strict=True):
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[0][:2] == [de("Round table"), world.workspace.name]
        start = values.index([table.title, *[None] * (len(values[0]) - 1)])
        header, *rows = values[start + 1 :]
        assert tuple(header[: len(table.columns)]) == table.columns
        assert len(rows) == len(table.rows)
        for written, row in zip(sheet.iter_rows(min_row=start + 3), table.rows, strict=True):
            assert written[0].value == row.label
            for cell, expected_cell in zip(written[1 : 1 + len(row.cells)], row.cells, strict=True):
                if expected_cell.suppressed:
                    assert (cell.data_type, cell.value) in {("s", SMALL), ("s", HIDDEN)}
                elif expected_cell.value is not None:
                    assert cell.data_type == "n" and cell.value == expected_cell.value

    served = book.worksheets[SERVED]
    cells = {row[0].value: row[1] for row in served.iter_rows() if row[0].value in ("Jobcenter", "Sozialamt")}
    assert (cells["Jobcenter"].value, cells["Sozialamt"].value) == (HIDDEN, SMALL)
    overview = {row[0].value: row[1] for row in book.worksheets[0].iter_rows()}
    caseload = next(cell for label, cell in overview.items() if label == expected[0].rows[1].label)
    assert (caseload.data_type, caseload.value) == ("n", 2.3)


def test_one_table_is_one_sheet(county: County) -> None:
    world = county.world
    response = export(world.alice, "reporting-workspace-xlsx", world.workspace.pk, {"table": "overview"})
    assert response["Content-Disposition"].endswith('-2025-01-01-2025-03-31-overview.xlsx"')
    assert workbook(response).sheetnames == [de("All figures")]


def test_an_agencys_own_workbook_hides_nothing(county: County) -> None:
    world = county.world
    book = workbook(export(world.rita, "reporting-agency-xlsx", world.jobcenter.pk))
    served = {row[0].value: row[1] for row in book.worksheets[SERVED].iter_rows()}
    assert (served["Jobcenter"].data_type, served["Jobcenter"].value) == ("n", 5)
    assert not any(
        cell == SMALL for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    )


def test_workbook_text_stays_text(county: County) -> None:
    world = county.world
    trap = agency_services.agency_create(actor=None, name=FORMULA, short_name="", kind="other")
    agency_services.workspace_add_agency(actor=world.cora, workspace=world.workspace, agency=trap)
    book = workbook(export(world.alice, "reporting-workspace-xlsx", world.workspace.pk))
    served = {row[0].value: row[0] for row in book.worksheets[SERVED].iter_rows()}
    assert served[FORMULA].data_type == "s"
    assert all(cell.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row)


def test_sheet_names_are_valid_for_excel() -> None:
    names = sheet_names(["Zuweisungen: nach Status", "a" * 40, "a" * 40, "A" * 31, "[x]/*?\\", "'", "History", ""])
    assert names[0] == "Zuweisungen- nach Status"
    assert names[1] == "a" * 31 and names[2] == "a" * 27 + " (2)" and names[3] == "A" * 27 + " (3)"
    assert names[4] == "-x-----"
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in names)
    assert len({name.lower() for name in names}) == len(names)


# Bad input and strangers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [
        ("reporting-workspace-csv", {"table": "nonsense"}, "table"),
        ("reporting-workspace-xlsx", {"start": "2025-13-01"}, "start"),
        ("reporting-workspace-csv", {"start": "2025-03-01", "end": "2025-01-01"}, "end"),
        ("reporting-workspace-xlsx", {"agency": "999999"}, "agency"),
        ("reporting-workspace-csv", {"preset": "forever"}, "preset"),
    ],
)
def test_bad_input_answers_400_naming_the_field(county: County, name: str, query: dict[str, str], field: str) -> None:
    world = county.world
    response = export(world.alice, name, world.workspace.pk, query)
    assert response.status_code == 400
    assert "reporting/export_invalid.html" in [template.name for template in response.templates]
    form_field = {**FigureFilterForm.base_fields, **TableChoiceForm.base_fields}[field]
    with translation.override("de"):
        label = str(form_field.label)
    assert f"{label}: " in html.unescape(response.content.decode())


def test_the_agency_filter_offers_only_the_round_tables_agencies(county: County) -> None:
    world = county.world
    response = export(world.alice, "reporting-workspace-csv", world.workspace.pk, {"agency": str(world.immigration.pk)})
    assert response.status_code == 400


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_strangers_get_404_and_anonymous_visitors_the_login(county: County, suffix: str) -> None:
    world = county.world
    assert export(world.olga, f"reporting-workspace-{suffix}", world.workspace.pk).status_code == 404
    assert export(world.olga, f"reporting-agency-{suffix}", world.jobcenter.pk).status_code == 404
    assert export(world.bob, f"reporting-agency-{suffix}", world.jobcenter.pk).status_code == 404
    # The stranger learns nothing from the query string either: still 404, not 400.
    bad = {"table": "nonsense"}
    assert export(world.olga, f"reporting-workspace-{suffix}", world.workspace.pk, bad).status_code == 404
    assert export(world.alice, f"reporting-workspace-{suffix}", 999999).status_code == 404
    response = export(None, f"reporting-workspace-{suffix}", world.workspace.pk)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
