"""The demo's HTML report: plain HTML with inline SVG charts, readable offline in any browser."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from shared.money import format_yuan


def bar_chart(title: str, rows: Sequence[tuple[str, float]], unit: str, width: int = 640) -> str:
    """Horizontal bars, one per row, labelled with their value."""
    if not rows:
        return f"<h2>{html.escape(title)}</h2><p>Nothing to show.</p>"
    top = max(v for _, v in rows) or 1.0
    bar_h, gap, label_w = 22, 8, 220
    height = len(rows) * (bar_h + gap) + gap
    parts = []
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = (width - label_w - 120) * value / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#b8312f"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{value:,.0f} {html.escape(unit)}</text>'
        )
    return (
        f"<h2>{html.escape(title)}</h2>"
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">{"".join(parts)}</svg>'
    )


def series_chart(title: str, series: dict[str, list[int]], labels: list[str]) -> str:
    """Stacked monthly columns (hardship register by level over the year)."""
    width, height, pad = 640, 260, 40
    colours = {"deep": "#7f1d1d", "relative": "#d97706", "accident": "#2563eb"}
    totals = [sum(s[i] for s in series.values()) for i in range(len(labels))]
    top = max(totals or [1]) or 1
    col_w = (width - 2 * pad) / max(len(labels), 1)
    parts = []
    for i, label in enumerate(labels):
        y: float = height - pad
        for level, values in series.items():
            h = (height - 2 * pad) * values[i] / top
            y -= h
            parts.append(
                f'<rect x="{pad + i * col_w + 4:.1f}" y="{y:.1f}" width="{col_w - 8:.1f}" '
                f'height="{h:.1f}" fill="{colours.get(level, "#555")}"><title>{level}: '
                f"{values[i]}</title></rect>"
            )
        parts.append(
            f'<text x="{pad + i * col_w + col_w / 2:.1f}" y="{height - pad + 16}" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
    legend = " ".join(
        f'<span style="color:{colours.get(k, "#555")}">■ {html.escape(k)}</span>' for k in series
    )
    return (
        f"<h2>{html.escape(title)}</h2><p>{legend}</p>"
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">{"".join(parts)}</svg>'
    )


def write_report(
    path: Path,
    *,
    union: str,
    year: int,
    members: int,
    summary: list[tuple[str, str]],
    cap_use: list[tuple[str, float]],
    rejections: list[tuple[str, float]],
    hardship: dict[str, list[int]],
    issued: list[tuple[str, int]],
) -> Path:
    months = [f"{m}月" for m in range(1, 13)]
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary
    )
    spent = "".join(
        f"<tr><td>{html.escape(b)}</td><td>¥{format_yuan(f)}</td></tr>" for b, f in issued
    )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>晋惠 Jinhui — {year} demo report</title>
<style>body{{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:4px 12px;
text-align:left}}h1{{color:#b8312f}}</style></head><body>
<h1>晋惠 Jinhui — a year of {html.escape(union)}</h1>
<p>{members} members, business year {year}, simulated on the local stack with a fast clock.</p>
<h2>Summary</h2><table>{rows}</table>
{bar_chart("Cap use by benefit (share of the members' yearly caps used)", cap_use, "%")}
{bar_chart("Rejections by clause", rejections, "")}
{series_chart("Hardship register by level, month by month", hardship, months)}
<h2>Issued, by benefit</h2><table><tr><th>benefit</th><th>issued</th></tr>{spent}</table>
</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
