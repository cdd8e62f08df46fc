"""Resident identity numbers (居民身份证号码, GB 11643-1999): validation, derivation, masking.

An 18-character number is 6 digits of region, 8 of birth date, 3 of sequence (odd for men,
even for women) and a check character from ISO 7064 MOD 11-2. Nothing here ever puts the
number itself into an error message: errors are read by people who must not see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.members.contracts import Sex
from shared.errors import InvalidInput

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"
_FIELD = "id_number"


@dataclass(frozen=True)
class IdNumber:
    value: str

    @property
    def birth_date(self) -> date:
        return date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def sex(self) -> Sex:
        return Sex.MALE if int(self.value[16]) % 2 else Sex.FEMALE

    def masked(self) -> str:
        return mask_id_number(self.value)


def check_character(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate length, characters, birth date and check character; upper-case a final x."""
    value = raw.strip().upper()
    if len(value) != 18:
        raise InvalidInput("an ID number has 18 characters", field=_FIELD, rule="gb11643.length")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidInput(
            "an ID number is 17 digits and a check digit or X",
            field=_FIELD,
            rule="gb11643.characters",
        )
    if value[0] == "0" or value[0] == "9":
        raise InvalidInput(
            "the ID number's region code is not valid", field=_FIELD, rule="gb11643.region"
        )
    number = IdNumber(value)
    try:
        born = number.birth_date
    except ValueError:
        raise InvalidInput(
            "the ID number's birth date is not a real date", field=_FIELD, rule="gb11643.birth-date"
        ) from None
    if born.year < 1900 or (today is not None and born > today):
        raise InvalidInput(
            "the ID number's birth date is out of range", field=_FIELD, rule="gb11643.birth-date"
        )
    if check_character(value[:17]) != value[17]:
        raise InvalidInput(
            "the ID number's check digit does not match", field=_FIELD, rule="gb11643.check-digit"
        )
    return number


def compose_id_number(region: str, birth_date: date, sequence: int) -> str:
    """Build a valid number from its parts (roster tools, synthetic data for drills). The
    sequence is the 3-digit order code: odd for men, even for women."""
    if not 0 <= sequence <= 999 or len(region) != 6 or not region.isdigit():
        raise ValueError("region is 6 digits and sequence 0-999")
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def synthetic_id_number(n: int, region: str = "140105", born_from: date = date(1970, 1, 1)) -> str:
    """The n-th of a series of distinct valid numbers (demo data and tests)."""
    return compose_id_number(region, born_from + timedelta(days=n // 999), n % 999 + 1)


def mask_id_number(value: str) -> str:
    return value[:4] + "*" * 10 + value[-4:] if len(value) == 18 else "*" * len(value)


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "*" * max(0, len(value) - 7) + value[-4:] if len(value) >= 7 else "****"
