"""A base union's roster as HR exports it; `bench.stack` sends it in the chunks `jinhui members
import` sends."""

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


def roster_csv(rows: int, start: int) -> str:
    """The whole roster as one CSV file, as HR exports it."""
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
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(roster(rows, start))
    return out.getvalue()
