"""Spreadsheet files that open safely: CSV for any spreadsheet, XLSX for Excel and LibreOffice.

CSV. A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be
read as a formula by Excel or LibreOffice (CSV injection); such a cell gets a leading apostrophe,
which the spreadsheets show as text. Numbers are written plain, with the active language's decimal
separator and no thousands separator, so that a German spreadsheet reads ``1234,5`` as a number;
they are ours, not typed by anyone, so they skip the guard (``-3`` stays a number). The file is
UTF-8 with a byte-order mark and semicolons, what German spreadsheet settings expect. Rows are
streamed, so a long export never sits in memory.

XLSX. Every text is written as a string cell and every number as a number cell, and the workbook
is told never to turn strings into formulas, links or numbers: a text can start with ``=`` and
stays text, without the apostrophe CSV needs. Sheet names are made valid for Excel, which refuses
the whole file otherwise.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.formats import get_format

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DELIMITER = ";"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_LENGTH = 31  # Excel's limit, counted in UTF-16 code units
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
RESERVED_SHEET_NAMES = ("history",)  # Excel keeps it for its change tracking


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def plain_number(value: int | float | Decimal, decimal_separator: str) -> str:
    """``1234.5`` as ``1234,5`` for German: no grouping, no exponent, the shortest exact digits."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return format(Decimal(str(value)), "f").replace(".", decimal_separator)


def _csv_cell(value: Any, decimal_separator: str) -> str:
    if is_number(value):
        return plain_number(value, decimal_separator)
    return safe_cell(value)


class _Echo:
    """A file-like object whose write hands the line back, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], decimal_separator: str | None = None
) -> Iterator[str]:
    """The file's text, line by line; an empty row is an empty line. Without ``decimal_separator``,
    the active language's, read when the first line is asked for."""
    separator = decimal_separator or str(get_format("DECIMAL_SEPARATOR"))
    writer = csv.writer(_Echo(), delimiter=DELIMITER)
    yield "\ufeff"
    yield writer.writerow([_csv_cell(cell, separator) for cell in header])
    for row in rows:
        yield writer.writerow([_csv_cell(cell, separator) for cell in row])


def _attachment(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"


def csv_response(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    # The separator is taken now: the body is streamed after the view has returned.
    lines = csv_lines(header, rows, str(get_format("DECIMAL_SEPARATOR")))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    _attachment(response, filename)
    return response


# XLSX ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One worksheet: optional lines above the table (a title, what the numbers are about), then
    the table's header in bold and its rows."""

    name: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    preamble: Sequence[Sequence[Any]] = ()


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, length: int) -> str:
    while _utf16_length(text) > length:
        text = text[:-1]
    return text


def sheet_names(names: Iterable[str]) -> list[str]:
    """Names Excel accepts, in order: none of ``[]:*?/\\``, no apostrophe at either end, at most 31
    characters, and unique ignoring case (a repeated name gets " (2)", " (3)", ...)."""
    taken: set[str] = set()
    found = []
    for name in names:
        base = SHEET_NAME_FORBIDDEN.sub("-", " ".join(str(name).split())).strip("' ") or "Sheet"
        candidate, number = _cut(base, SHEET_NAME_LENGTH).strip("' "), 1
        while not candidate or candidate.lower() in taken or candidate.lower() in RESERVED_SHEET_NAMES:
            number += 1
            suffix = f" ({number})"
            candidate = _cut(base, SHEET_NAME_LENGTH - len(suffix)).rstrip("' ") + suffix
        taken.add(candidate.lower())
        found.append(candidate)
    return found


def _write_row(worksheet: Any, row_number: int, cells: Iterable[Any], cell_format: Any = None) -> None:
    for column, value in enumerate(cells):
        if value is None:
            continue
        if is_number(value) and math.isfinite(value):
            worksheet.write_number(row_number, column, float(value), cell_format)
        else:
            worksheet.write_string(row_number, column, str(value), cell_format)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    bold = workbook.add_format({"bold": True})
    sheets = list(sheets)
    for sheet, name in zip(sheets, sheet_names(sheet.name for sheet in sheets), strict=True):
        worksheet = workbook.add_worksheet(name)
        row_number = 0
        for line in sheet.preamble:
            _write_row(worksheet, row_number, line)
            row_number += 1
        _write_row(worksheet, row_number, sheet.header, bold)
        for row in sheet.rows:
            row_number += 1
            _write_row(worksheet, row_number, row)
        worksheet.set_column(0, 0, 40)
        worksheet.set_column(1, max(len(sheet.header) - 1, 1), 16)
    workbook.close()
    return buffer.getvalue()


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    _attachment(response, filename)
    return response
