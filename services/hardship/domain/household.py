"""What a caseworker records about a household: personal data, kept only encrypted."""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shared.money import MAX_AMOUNT_FEN

Cause = Literal[
    "illness",
    "disability",
    "accident",
    "unemployment",
    "natural_disaster",
    "childrens_education",
    "other",
]


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="姓名", examples=["王建国"])
    relation: str = Field(max_length=20, description="e.g. self, spouse, child, parent")
    id_number: SecretStr | None = Field(
        default=None,
        description="身份证号 (kept encrypted; masked in every answer unless read in clear)",
    )
    member_id: str | None = Field(default=None, description="When the person is a union member")


class Household(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str = Field(description="City code for the minimum living standard, e.g. taiyuan")
    people: list[Person] = Field(
        min_length=1, max_length=20, description="家庭成员: everyone in the household"
    )
    monthly_income_per_head_fen: int = Field(
        ge=0,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description="家庭月人均收入, in fen (50000 = 500.00 元); compared with the city's "
        "minimum living standard",
        examples=[60000],
    )
    causes: list[Cause] = Field(
        min_length=1,
        description="致困原因: illness, disability, accident, unemployment, natural_disaster, "
        "childrens_education or other",
        examples=[["illness"]],
    )
    documents: list[str] = Field(
        default_factory=list, max_length=50, description="References to supporting documents"
    )

    def clear(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        for person, original in zip(data["people"], self.people, strict=True):
            person["id_number"] = (
                original.id_number.get_secret_value() if original.id_number else None
            )
        return data


def _people(data: dict[str, object]) -> list[dict[str, Any]]:
    """A stored household's people, as `Household.model_dump` wrote them."""
    return cast(list[dict[str, Any]], data["people"])


def masked(data: dict[str, object]) -> dict[str, object]:
    """For roles that need to know a file exists, not who is in it or what they earn."""
    people = [
        {
            "name": str(p["name"])[:1] + "*" * (len(str(p["name"])) - 1),
            "relation": p["relation"],
            "id_number": None,
            "member_id": p["member_id"],
        }
        for p in _people(data)
    ]
    return {
        "city": data["city"],
        "people": people,
        "monthly_income_per_head_fen": None,
        "causes": data["causes"],
        "documents": [],
    }


def ids_masked(data: dict[str, object]) -> dict[str, object]:
    """For caseworkers at work: everything but the ID numbers, which show only their ends
    (`1401**********1234`). The whole number needs a clear view asked for with a reason."""
    people = []
    for p in _people(data):
        number = p.get("id_number")
        shown = f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}" if number else None
        people.append({**p, "id_number": shown})
    return {**data, "people": people}
