"""How the ten measures are taken up, as a county or the province reads it: members reached
counted once however often they were paid, amounts exact, and each refusal under the clause
that refused it."""

from __future__ import annotations

from shared.auth import Role
from tests.integration.conftest import Suite
from tests.integration.test_payroll_results import gift, joined, new_union
from tests.support import bearer

COUNTY = "shanxi/taiyuan/xiaodian"


async def test_uptake_counts_each_member_once_and_names_the_clause_that_refused(
    suite: Suite,
) -> None:
    union, officer = await new_union(suite)
    first, second = await joined(suite, union), await joined(suite, union)
    for member, fen, status in (
        (first, 25_000, "issued"),
        (first, 5_000, "issued"),
        (second, 20_000, "issued"),
        (second, 20_000, "rejected"),  # 10,000 fen remain of the 30,000 cap
    ):
        decided = await gift(suite, member, "culture_tourism_product", fen, officer)
        assert decided["status"] == status, decided

    async def read(headers: dict[str, str], **params: object) -> list[dict[str, object]]:
        response = await suite.disbursements.client.get(
            "/v1/finance/uptake", params={"year": 2026, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    (row,) = await read(officer, union=union)
    assert row == {
        "place": union,
        "benefit": "culture_tourism_product",
        "benefit_zh": row["benefit_zh"],
        "members_reached": 2,
        "issued": 3,
        "issued_fen": 50_000,
        "refused": 1,
        "refusals": [{"clause": "4.culture-tourism", "rule": "cap.exceeded", "refused": 1}],
    }
    assert row["benefit_zh"] and row["benefit_zh"] != "culture_tourism_product"

    # a county asking for cities is shown its own county, never a sum above its place
    county = await read(bearer(Role.FINANCE_OFFICER, org=COUNTY), depth=2)
    assert {r["place"] for r in county} == {COUNTY}
    mine = next(r for r in county if r["benefit"] == "culture_tourism_product")
    assert mine["members_reached"] >= 2 and mine["issued_fen"] >= 50_000

    elsewhere = await suite.disbursements.client.get(
        "/v1/finance/uptake",
        params={"year": 2026, "union": union},
        headers=bearer(Role.FINANCE_OFFICER, org="shanxi/datong"),
    )
    assert elsewhere.status_code in (403, 404), elsewhere.text
