"""A base union's roster as HR sends it: CSV in the chunks `jinhui members import` sends."""

from __future__ import annotations

import csv
import io

from services.members.domain.identity import synthetic_id_number

UNION = "shanxi/taiyuan/xiaodian/bu-0001"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
FORMS = ["", "", "", "快递员", "外卖骑手", "网约车司机", "货车司机", "家政服务员"]


def roster(rows: int, start: int) -> list[list[str]]:
    return [
        [
            f"{SURNAMES[i % len(SURNAMES)]}{'明华英军芳强'[i % 6]}{i}",
            synthetic_id_number(start + i),
            f"139{i:08d}",
            "2020-05-01",
            FORMS[i % len(FORMS)],
            "是" if i % 3 == 0 else "否",
            "否",
            "否",
            f"A{i:06d}",
        ]
        for i in range(rows)
    ]


def chunk_bodies(lines: list[list[str]], size: int) -> list[str]:
    header = [
        "姓名",
        "身份证号",
        "手机号",
        "入会日期",
        "就业形态",
        "农民工",
        "少数民族",
        "烈属",
        "工号",
    ]
    bodies = []
    for i in range(0, len(lines), size):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(lines[i : i + size])
        bodies.append(out.getvalue())
    return bodies
