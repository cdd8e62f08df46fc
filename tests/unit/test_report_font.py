"""The demo report carries the glyphs it uses: without a Chinese font installed a browser
showed empty boxes."""

from __future__ import annotations

from jinhui.demo.report import EMBEDDED, font_face
from tests.support import embedded_characters


def test_the_embedded_font_has_every_character_of_the_page_and_few_more() -> None:
    page = "<h1>小店区物流园工会联合会 2026 年度工会经费使用报告</h1><p>1,234.50 元</p>"
    face = font_face(page)
    assert face.startswith(f'@font-face{{font-family:"{EMBEDDED}";src:url(data:font/woff2')
    have = embedded_characters(face)
    assert {c for c in page if not c.isspace()} <= have
    assert "晋" not in have  # a subset: only what the page shows
