"""What entitlements publishes for other services: the one benefit vocabulary.

Every service names benefits with these codes; the policy data gives each its clause and its
titles in Chinese and English.
"""

from __future__ import annotations

from enum import StrEnum


class Benefit(StrEnum):
    VOUCHER = "voucher"
    RECUPERATION = "recuperation"
    CULTURE_SPORTS = "culture_sports"
    OUTING = "outing"
    CULTURE_TOURISM_PRODUCT = "culture_tourism_product"
    SUMMER_CAMP = "summer_camp"
    TRAINING_SUBSIDY = "training_subsidy"
    HOLIDAY_GIFT = "holiday_gift"
    BIRTHDAY_GIFT = "birthday_gift"
    CHILDBIRTH_GIFT = "childbirth_gift"
    CONSUMPTION_ASSISTANCE = "consumption_assistance"
    NEF_INJURY_INSURANCE = "nef_injury_insurance"
    HARDSHIP_RELIEF = "hardship_relief"


class GrantingLevel(StrEnum):
    """Where the union that grants a benefit stands: the member's own base union, or a union at
    county level or above (the notice gives some measures only to the latter)."""

    BASE_UNION = "base_union"
    COUNTY_AND_ABOVE = "county_and_above"


def granting_level(granting_org: str, base_union: str) -> GrantingLevel:
    """Whether the union that grants is the member's own base union (or a unit within it), or
    a union above it."""
    if granting_org == base_union or granting_org.startswith(base_union + "/"):
        return GrantingLevel.BASE_UNION
    return GrantingLevel.COUNTY_AND_ABOVE
