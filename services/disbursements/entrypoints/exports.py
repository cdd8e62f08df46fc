"""Files finance officers open in Excel: CSV in UTF-8 with a byte-order mark."""

from __future__ import annotations

import csv
import io
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
