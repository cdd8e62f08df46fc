"""Files finance officers open in Excel: CSV in UTF-8 with a byte-order mark, or a workbook
whose amounts are numbers and whose ids stay text (an employee number keeps its zeros)."""

from __future__ import annotations

import csv
import io
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


def xlsx_response(columns: list[str], rows: list[list[Any]], filename: str, sheet: str) -> Response:
    """One sheet, headers frozen; a Decimal is money in yuan, shown with two decimals."""
    from openpyxl import Workbook

    book = Workbook()
    lines = book.active
    assert lines is not None
    lines.title = sheet
    lines.append(columns)
    lines.freeze_panes = "A2"
    for row in rows:
        lines.append(row)
        for cell in lines[lines.max_row]:
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
