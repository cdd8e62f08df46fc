"""`jinhui demo` lives through a year to the end and writes a readable report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def test_a_small_demo_year_runs_to_the_end_and_reports(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jinhui.cli",
            "demo",
            "--members",
            "20",
            "--no-open",
            "--out",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "disbursements issued" in done.stdout
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3
    for title in ("Cap use by benefit", "Rejections by clause", "Hardship register by level"):
        assert title in page
    assert "7.holiday" in page  # the over-generous National Day plan was refused by clause
    issued = re.search(r"disbursements issued</th><td>(\d+)", page)
    assert issued and int(issued.group(1)) > 20
