"""`jinhui members …` and `jinhui orgs …`: roster import and org tree loading over the API."""

from __future__ import annotations

import csv
import io
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from services.members.adapters.orgs import read_tree_file
from shared.auth import Role, issue_token
from shared.settings import ServiceSettings

members_app = typer.Typer(help="The member registry.")
orgs_app = typer.Typer(help="The union org tree.")
console = Console(width=None if sys.stdout.isatty() else 120)
DEFAULT_URL = os.environ.get("JINHUI_MEMBERS_URL", "http://127.0.0.1:8001")
CHUNK = 500

UrlOption = Annotated[str, typer.Option("--url", help="The members service")]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="JINHUI_TOKEN",
        help="Bearer token; in a dev environment one is minted when none is given",
    ),
]


def _token(token: str | None, role: Role, org: str) -> str:
    if token:
        return token
    settings = ServiceSettings()
    if settings.environment != "dev":
        raise typer.BadParameter("give --token (or JINHUI_TOKEN) outside a dev environment")
    return issue_token(settings, subject="jinhui-cli", roles=[role], org=org)


def chunks(text: str) -> list[tuple[int, str]]:
    """The CSV split into bodies of CHUNK rows, each with the header and its first row number."""
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not lines:
        raise typer.BadParameter("the file is empty")
    # Blank rows stay: the service skips them but counts them, so row numbers match the sheet.
    header, rows = lines[0], lines[1:]
    bodies = []
    for start in range(0, len(rows), CHUNK):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows[start : start + CHUNK])
        bodies.append((start + 1, out.getvalue()))
    return bodies


@members_app.command("import")
def import_roster(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, UTF-8")],
    union: Annotated[str, typer.Option("--union", help="Org path of the base union")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    report: Annotated[
        Path | None, typer.Option(help="Where to write the per-row report (CSV)")
    ] = None,
) -> None:
    """Import a base union's roster: every row is created, already a member, or rejected."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise typer.BadParameter("the file is not UTF-8: save it as 'CSV UTF-8'") from None
    bodies = chunks(text)
    headers = {
        "Authorization": f"Bearer {_token(token, Role.HR_INTEGRATION, union)}",
        "Content-Type": "text/csv; charset=utf-8",
    }
    results: list[dict[str, object]] = []
    total = sum(body.count("\n") - 1 for _, body in bodies)
    with (
        httpx.Client(base_url=url, timeout=300) as client,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task(f"importing {file.name}", total=total)
        for first_row, body in bodies:
            response = client.post(
                "/v1/members/imports",
                params={"union": union, "first_row": first_row},
                content=body.encode(),
                headers=headers,
            )
            if response.status_code != 200:
                problem = response.json() if response.content else {}
                console.print(f"[red]import stopped: {problem.get('detail', response.text)}")
                raise typer.Exit(1)
            rows = response.json()["rows"]
            results.extend(rows)
            progress.advance(task, len(rows))
    _report(file, report, results)


REPORT_COLUMNS = {  # Chinese first, the API's field beside it
    "row": "表格行号/row",
    "employee_number": "工号/employee_number",
    "name": "姓名/name",
    "status": "结果/status",
    "member_id": "会员编号/member_id",
    "reason": "原因/reason",
}
OUTCOMES = {"created": "已登记", "already_member": "已是会员", "rejected": "未导入"}


def _report(file: Path, target: Path | None, results: list[dict[str, object]]) -> None:
    target = target or file.with_suffix(".report.csv")
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REPORT_COLUMNS.values())
        for r in results:
            status = str(r["status"])
            cells = {**r, "status": f"{OUTCOMES.get(status, status)} {status}"}
            writer.writerow([cells.get(k) or "" for k in REPORT_COLUMNS])
    counts = Counter(str(r["status"]) for r in results)
    table = Table(title=f"名册导入 roster import: {file.name}")
    table.add_column("结果 outcome")
    table.add_column("行数 rows", justify="right")
    for status in ("created", "already_member", "rejected"):
        table.add_row(f"{OUTCOMES[status]} {status}", str(counts.get(status, 0)))
    console.print(table)
    for r in [r for r in results if r["status"] == "rejected"][:10]:
        who = " ".join(str(r[k]) for k in ("employee_number", "name") if r.get(k))
        console.print(f"  第 {r['row']} 行 (row) {who}: {r['reason']}")
    console.print(f"逐行报告 per-row report: {target}")


@orgs_app.command("load")
def load_tree(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML: units: [...]")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Add or rename the units of an org tree file (admin)."""
    units = read_tree_file(file)
    root = min((u.path for u in units), key=len).split("/")[0]
    response = httpx.put(
        f"{url}/v1/orgs",
        json={"units": [u.model_dump(mode="json") for u in units]},
        headers={"Authorization": f"Bearer {_token(token, Role.ADMIN, root)}"},
        timeout=60,
    )
    if response.status_code != 200:
        console.print(f"[red]{response.json().get('detail', response.text)}")
        raise typer.Exit(1)
    console.print(f"{response.json()['written']} units written")
