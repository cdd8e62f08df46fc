"""What a relief payment is for. The register publishes a code, never free text (a caseworker's
words could name an illness); caseworkers may write the Chinese name, which becomes its code."""

from __future__ import annotations

import re

PURPOSES = {
    "medical": "医疗费用",
    "education": "子女教育",
    "living": "基本生活",
    "housing": "住房",
    "accident": "意外事故",
    "fire_damage": "火灾损失",
    "disaster": "自然灾害",
    "funeral": "丧葬",
    "heating": "冬季取暖",
    "other": "其他",
}
_BY_NAME = {name: code for code, name in PURPOSES.items()}
_CODE = re.compile(r"^[a-z_]{3,40}$")


def purpose_code(text: str) -> str:
    """The code of a purpose given as a code (`medical`, or a union's own) or as its Chinese
    name (医疗费用)."""
    value = text.strip()
    if value in _BY_NAME:
        return _BY_NAME[value]
    if _CODE.match(value):
        return value
    accepted = "、".join(PURPOSES.values())
    raise ValueError(
        f"用途请填：{accepted}，或 3–40 位小写字母代码 "
        f"(purpose: one of these names, or a code of 3-40 letters a-z and _, e.g. medical)"
    )
