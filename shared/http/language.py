"""Chinese for Chinese users: what a problem says, in the caller's language.

Union staff read Chinese, so Chinese is the default; a caller whose `Accept-Language` prefers
English gets English. A Chinese detail keeps the specific English text beside it in brackets
(“中文（English）”), so nothing the service knows is lost in translation; machine codes (`rule`,
`field`, `clause`) never change.
"""

from __future__ import annotations

import re
from typing import Any, Literal

Language = Literal["zh", "en"]
_TAG = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")

TITLES: dict[str, tuple[str, str]] = {
    "invalid-input": ("请求内容有误", "The request is not valid"),
    "rule-violated": ("不符合规定", "A business rule was violated"),
    "not-found": ("未找到，或不在您所在的组织范围内", "Not found"),
    "conflict": ("与当前状态冲突", "Conflict with the current state"),
    "concurrency-conflict": ("数据已被他人修改，请重试", "Changed by someone else: retry"),
    "forbidden": ("无权执行此操作", "Not allowed"),
    "unauthenticated": ("未登录或令牌无效", "Not authenticated"),
    "service-unavailable": ("服务暂时不可用", "Service temporarily unavailable"),
    "internal": ("内部错误", "Internal error"),
    "payload-too-large": ("请求内容过大", "Payload too large"),
    "unsupported-media-type": ("不支持该内容类型", "Unsupported media type"),
    "http-404": ("未找到该地址", "Not Found"),
    "http-405": ("不支持该请求方法", "Method Not Allowed"),
}

# What each rule means, in Chinese: the sentence a caseworker or finance officer reads first.
RULES_ZH: dict[str, str] = {
    "auth.org": "该组织不在您所在的工会组织范围内",
    "auth.role": "您的角色不能执行此操作",
    "batch.benefit-needs-details": "该福利项目需要逐人填写明细，不能批量发放",
    "benefit.workflow-only": "该项目只能经其审批流程发放（困难帮扶：困难职工档案及第二人审批）",
    "benefit.union-level": "该项目是工会层面的支出，不发给个人",
    "benefit.unknown": "未知的福利项目",
    "case.emergency": "应急帮扶档案须先转为正式档案",
    "case.not-in-hardship": "评估结果为不属于困难职工家庭，请以不符合条件结案",
    "case.state": "档案当前状态不允许此操作",
    "disbursement.redeem": "该发放不能核销",
    "disbursement.state": "该发放当前状态不允许此操作",
    "gb11643.birth-date": "身份证号中的出生日期无效",
    "gb11643.characters": "身份证号只能由数字和末位 X 组成",
    "gb11643.check-digit": "身份证号校验位不正确",
    "gb11643.length": "身份证号应为 18 位",
    "gb11643.region": "身份证号的地区码无效",
    "gb11643.sex": "身份证号与填写的性别不一致",
    "idempotency.key-reused": "同一个幂等键已用于另一内容不同的请求",
    "input.invalid": "请求字段有误",
    "input.media-type": "请求内容须为 JSON（名册为 CSV）",
    "input.access-reason": "访问理由须为 2 至 300 个可读字符",
    "standard.correction-too-old": "标准更正最多追溯到上一年年初",
    "spacing.not-in-question": "该子女的出生间隔正常，无需复核",
    "spacing.reviewed": "该子女的出生间隔已复核过",
    "member.active": "该会员的会籍仍然有效",
    "member.deceased": "该会员已故",
    "member.duplicate-id-number": "该身份证号已登记为会员",
    "member.employment-form": "就业形态不符合要求",
    "member.ended": "该会员的会籍已终止",
    "member.spouse": "配偶关联有误",
    "member.transfer": "转会信息有误",
    "org.base": "须为基层工会",
    "org.kind": "组织类型有误",
    "org.level": "组织层级有误",
    "org.parent": "上级组织不存在",
    "outing.prohibited-area": "目的地属于禁止开展春秋游的场所",
    "outing.travel-standard": "费用超过差旅费标准",
    "outing.unknown-city": "目的地城市不在差旅费标准中",
    "period.future": "业务日期不能晚于今天",
    "policy.ceiling": "超过省级政策上限",
    "policy.no-rule": "政策中没有该项目",
    "policy.none": "业务日期没有适用的政策版本",
    "policy.not-settable": "该项目不允许基层工会自行设定标准",
    "policy.retroactive": "政策版本不能追溯生效",
    "policy.version-exists": "该政策版本已存在",
    "recuperation.no-plan": "没有适用的疗休养计划",
    "recuperation.not-in-plan": "该会员不在疗休养计划名单中",
    "recuperation.subsidy": "疗休养补助超过计划标准",
    "recuperation.window": "不在疗休养计划的时间范围内",
    "relief.approved": "该帮扶已审批",
    "relief.four-eyes": "申请人不能审批自己的帮扶申请",
    "roster.header": "名册表头缺少必填列",
    "roster.csv": "名册不是有效的 CSV（引号未闭合或单元格过长）",
    "voucher.expired": "消费券已过期",
}


def preferred(accept_language: str | None) -> Language:
    """English only when the caller prefers it to Chinese; Chinese otherwise."""
    best: tuple[float, Language] | None = None
    for part in (accept_language or "").split(","):
        match = _TAG.match(part)
        if not match:
            continue
        primary, q = match.group(1).lower(), float(match.group(2) or 1)
        if primary not in ("zh", "en"):
            continue
        lang: Language = "zh" if primary == "zh" else "en"
        if best is None or q > best[0]:
            best = (q, lang)
    return best[1] if best else "zh"


def title(code: str, english: str, lang: Language) -> str:
    zh, en = TITLES.get(code, (None, english))
    return zh if lang == "zh" and zh else en


def detail(text: str, code: str, rule: str | None, lang: Language) -> str:
    """Chinese first with the specific English beside it; a detail that begins in Chinese
    already (a decision's reason, with yuan) stays as it is."""
    if lang == "en" or _CJK.match(text.lstrip()):  # written in Chinese first already
        return text
    zh = RULES_ZH.get(rule or "") or TITLES.get(code, ("", ""))[0]
    return f"{zh}（{text}）" if zh else text


# Pydantic's validation messages in Chinese, by error type; the English is pydantic's own.
_VALIDATION_ZH: dict[str, str] = {
    "missing": "缺少该字段",
    "extra_forbidden": "不接受该字段",
    "literal_error": "须为以下之一：{expected}",
    "enum": "须为以下之一：{expected}",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "string_type": "须为文本",
    "float_type": "须为数字",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "list_type": "须为列表",
    "date_type": "须为日期（如 2026-03-01）",
    "date_parsing": "须为日期（如 2026-03-01）",
    "date_from_datetime_parsing": "须为日期（如 2026-03-01）",
    "datetime_parsing": "须为日期时间",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "string_pattern_mismatch": "格式不符",
    "json_invalid": "不是有效的 JSON",
    "uuid_parsing": "须为 UUID",
}


def validation_message(error: dict[str, Any], lang: Language) -> str:
    """One validation error in the caller's language (Chinese unless English is preferred)."""
    english = str(error.get("msg", ""))
    template = _VALIDATION_ZH.get(str(error.get("type", "")))
    if lang == "en" or template is None:
        return english
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return english
