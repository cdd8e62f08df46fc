"""Files finance officers open in Excel: CSV in UTF-8 with a byte-order mark, or a workbook
whose amounts are numbers and whose ids stay text (an employee number keeps its zeros)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Response


def csv_response(columns: list[str], rows: list[Any], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return Response(
        content="\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


Sheet = tuple[str, list[str], list[list[Any]]]  # title, header row, rows


def xlsx_response(filename: str, *sheets: Sheet) -> Response:
    """One sheet per (title, header, rows), headers frozen; a Decimal is money in yuan, shown
    with two decimals; a date is written as ISO text."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.worksheets[0])
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(columns)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([v.isoformat() if isinstance(v, date) else v for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, str):
                    cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return Response(
        content=out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
