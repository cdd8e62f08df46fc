"""The demo's report, for a union chair: plain HTML with inline SVG charts (axes, values on the
bars), Chinese first, amounts in yuan with thousands separators; readable offline in any
browser, with fonts that render Chinese."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import as_file
from pathlib import Path

from shared.money import yuan_text

EMBEDDED = "Jinhui Noto Sans SC"
FONTS = (
    f'"{EMBEDDED}", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
    '"PingFang SC", "Microsoft YaHei", sans-serif'
)
LEVELS = {"deep": ("深度困难", "#7f1d1d"), "relative": ("相对困难", "#d97706"),
          "accident": ("意外致困", "#2563eb")}  # fmt: skip
MONTHS = [f"{m}月" for m in range(1, 13)]


# The notice's exact title, as its cover gives it.
NOTICE = "山西省总工会加大工会经费投入力度助力职工消费十项措施"


@dataclass(frozen=True)
class Measure:
    """One measure of the notice as the year used it."""

    clause: str
    title: str
    benefit: str
    cap_fen: int | None  # per member and year, when the policy sets one
    max_count: int | None
    used_fen: int  # issued and not reversed
    issued: int


@dataclass(frozen=True)
class UnionRule:
    title: str
    clause: str
    kind: str  # ceiling | floor
    limit_fen: int | None
    used_fen: int
    left_fen: int | None  # ceiling: what may still be spent; floor: what is still to spend


@dataclass(frozen=True)
class Refusal:
    clause: str
    title: str
    rule: str
    count: int
    reason: str  # one of the Chinese reasons given, as the member's union saw it


@dataclass
class Year:
    union: str
    year: int
    members: int
    union_name: str = ""  # the union's Chinese name, as the org tree gives it
    summary: list[tuple[str, str]] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    union_rules: list[UnionRule] = field(default_factory=list)
    monthly_fen: list[int] = field(default_factory=lambda: [0] * 12)
    hardship: dict[str, list[int]] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)


def _e(text: object) -> str:
    return html.escape(str(text))


def _money(fen: int | None) -> str:
    return "—" if fen is None else yuan_text(fen)


def _ticks(top: float, steps: int = 4) -> list[float]:
    """Round axis ticks from 0 to at least `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / steps
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(steps + 2) if i * step < top + step]


# Long on purpose: one SVG drawn top to bottom, mostly literal.
def column_chart(
    title: str,
    labels: Sequence[str],
    stacks: dict[str, tuple[str, str, list[float]]],
    unit: str,
    fmt: str = "{:,.0f}",
) -> str:
    """Columns per label, stacked by series (name → (legend, colour, values)); a y axis with
    ticks in `unit`, the total written on each column."""
    width, height, left, bottom, top_pad = 720, 300, 70, 36, 16
    totals = [sum(s[2][i] for s in stacks.values()) for i in range(len(labels))]
    ticks = _ticks(max(totals or [0]))
    scale = (height - bottom - top_pad) / (ticks[-1] or 1)
    col_w = (width - left - 10) / max(len(labels), 1)
    parts = [
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{height - bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        'stroke="#333"/>',
        f'<text x="{left - 8}" y="{top_pad - 4}" text-anchor="end">{_e(unit)}</text>',
    ]
    for t in ticks:
        y = height - bottom - t * scale
        parts.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{fmt.format(t)}</text>'
        )
    for i, label in enumerate(labels):
        x, y = left + i * col_w + 4, float(height - bottom)
        for legend, colour, values in stacks.values():
            h = values[i] * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w - 8:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{_e(legend)}: {fmt.format(values[i])}</title></rect>'
            )
        if totals[i]:
            parts.append(
                f'<text x="{x + (col_w - 8) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                f"{fmt.format(totals[i])}</text>"
            )
        parts.append(
            f'<text x="{x + (col_w - 8) / 2:.1f}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{_e(label)}</text>'
        )
    legend = "".join(
        f'<span class="key"><i style="background:{c}"></i>{_e(n)}</span>'
        for n, c, _ in stacks.values()
    )
    return (
        f"<figure><figcaption>{_e(title)}</figcaption>"
        f'<svg role="img" aria-label="{_e(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-size="12">{"".join(parts)}</svg>'
        f"<div>{legend}</div></figure>"
    )


def share_bars(rows: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars of a share in per cent, each labelled with its value."""
    width, bar_h, gap, label_w = 720, 20, 8, 230
    height = len(rows) * (bar_h + gap) + gap + 20
    parts = [f'<line x1="{label_w}" y1="0" x2="{label_w}" y2="{height - 20}" stroke="#333"/>']
    for pct in (0, 25, 50, 75, 100):
        x = label_w + (width - label_w - 60) * pct / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">{pct}%</text>'
        )
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = (width - label_w - 60) * min(value, 100) / 100
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#b8312f"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{value:.1f}%</text>'
        )
    return (
        f'<svg role="img" aria-label="上限使用率" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" font-size="12">{"".join(parts)}</svg>'
    )


def _measures(year: Year) -> str:
    rows, shares = [], []
    for m in year.measures:
        limit = m.cap_fen * year.members if m.cap_fen else None
        share = 100.0 * m.used_fen / limit if limit else None
        per_member = (
            _money(m.cap_fen) if m.cap_fen else (f"{m.max_count} 次" if m.max_count else "按标准")
        )
        rows.append(
            f"<tr><td>{_e(m.clause)}</td><td>{_e(m.title)}<br><small>{_e(m.benefit)}</small></td>"
            f"<td class=n>{per_member}</td><td class=n>{m.issued:,}</td>"
            f"<td class=n>{_money(m.used_fen)}</td>"
            f"<td class=n>{'—' if share is None else f'{share:.1f}%'}</td></tr>"
        )
        if share is not None:
            shares.append((m.title, share))
    return (
        "<h2>十项措施执行情况 <small>every measure: its limit and what was used</small></h2>"
        "<table><tr><th>条款</th><th>项目</th><th>每人每年上限</th><th>发放笔数</th>"
        "<th>已发放金额</th><th>占全体会员上限</th></tr>"
        + "".join(rows)
        + "</table>"
        + (share_bars(shares) if shares else "")
    )


def _union_rules(year: Year) -> str:
    if not year.union_rules:
        return ""
    rows = "".join(
        f"<tr><td>{_e(r.clause)}</td><td>{_e(r.title)}</td>"
        f"<td>{'上限（不得超过）' if r.kind == 'ceiling' else '下限（应至少支出）'}</td>"
        f"<td class=n>{_money(r.limit_fen)}</td><td class=n>{_money(r.used_fen)}</td>"
        f"<td class=n>{_money(r.left_fen)}</td></tr>"
        for r in year.union_rules
    )
    return (
        "<h2>工会层面规则 <small>union-level rules: culture and sports against dues and the "
        "4× top-up; the consumption-assistance share</small></h2>"
        "<table><tr><th>条款</th><th>规则</th><th>类型</th><th>额度</th><th>已支出</th>"
        "<th>尚可支出 / 尚需支出</th></tr>" + rows + "</table>"
    )


def _refusals(year: Year) -> str:
    if not year.refusals:
        return "<h2>未通过的申请 <small>refusals</small></h2><p>全年没有被拒绝的申请。</p>"
    rows = "".join(
        f"<tr><td>{_e(r.clause)}</td><td>{_e(r.title)}</td><td class=n>{r.count:,}</td>"
        f"<td>{_e(r.reason)}<br><small>{_e(r.rule)}</small></td></tr>"
        for r in year.refusals
    )
    return (
        "<h2>未通过的申请及原因 <small>refusals, explained by clause</small></h2>"
        "<table><tr><th>条款</th><th>项目</th><th>笔数</th><th>原因（示例）</th></tr>"
        + rows
        + "</table>"
    )


def write_report(path: Path, year: Year) -> Path:
    summary = "".join(f"<tr><th>{_e(k)}</th><td class=n>{_e(v)}</td></tr>" for k, v in year.summary)
    monthly = column_chart(
        "每月发放金额（元） monthly spending, yuan",
        MONTHS,
        {"issued": ("已发放", "#b8312f", [f / 100 for f in year.monthly_fen])},
        "元",
    )
    register = column_chart(
        "困难职工档案（户） hardship register by level, households at each month's end",
        MONTHS,
        {
            k: (LEVELS[k][0], LEVELS[k][1], [float(v) for v in vs])
            for k, vs in year.hardship.items()
        },
        "户",
    )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>晋惠 — {_e(year.union_name or year.union)} {year.year} 年度工会经费使用报告</title>
<style>
body{{font-family:{FONTS};max-width:820px;margin:2em auto;color:#222;line-height:1.5}}
h1{{color:#b8312f;font-size:1.6em}} h2{{margin-top:1.8em;font-size:1.2em}}
h2 small,td small{{color:#777;font-weight:normal;font-size:.8em}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ddd;
padding:4px 10px;text-align:left;vertical-align:top}} td.n{{text-align:right;
white-space:nowrap}} figure{{margin:1em 0}} figcaption{{font-weight:bold;margin-bottom:.3em}}
svg text{{font-family:{FONTS};fill:#333}} .key{{margin-right:1.2em}}
.key i{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}}
</style></head><body>
<h1>{_e(year.union_name or year.union)} {year.year} 年度工会经费使用报告</h1>
<p><small>{_e(year.union)}</small></p>
<p>依据《{NOTICE}》（晋工办发〔2025〕26号），
本报告列出全年每项措施的上限与实际使用、工会层面规则、每月支出、困难职工档案和未通过的申请。
会员 {year.members:,} 人；业务年度 {year.year}；本地演示环境以快进时钟运行。</p>
<h2>概览 <small>summary</small></h2><table>{summary}</table>
{_measures(year)}
{_union_rules(year)}
<h2>每月支出 <small>monthly spending</small></h2>{monthly}
<h2>困难职工档案 <small>hardship register</small></h2>{register}
{_refusals(year)}
</body></html>"""
    page = page.replace("<style>", f"<style>{font_face(page)}", 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def font_face(page: str) -> str:
    """The page's own characters of Noto Sans CJK SC (SIL Open Font License), as WOFF2 inside
    the page: a chair's laptop without a Chinese font shows Chinese, not empty boxes, and the
    file still opens offline. A few hundred characters make some tens of kilobytes."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from noto_cjk_sans_otc import FONT_PATH

    with as_file(FONT_PATH) as collection:
        font = TTFont(collection, fontNumber=_SC_FACE, lazy=True)
        options = subset.Options()
        options.flavor, options.layout_features, options.name_IDs = "woff2", ["*"], ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(set(html.unescape(page)))))
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff2"
        font.save(out)
    data = base64.b64encode(out.getvalue()).decode("ascii")
    source = f'url(data:font/woff2;base64,{data}) format("woff2")'
    return f'@font-face{{font-family:"{EMBEDDED}";src:{source}}}'


_SC_FACE = 2  # Noto Sans CJK SC within NotoSansCJK-Regular.ttc
