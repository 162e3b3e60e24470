"""Checks for Vietnamese identity numbers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Province codes that open a 12-digit citizen ID: the General Statistics Office's province
# codes as listed in the annex of Circular 07/2016/TT-BCA (Bộ Công an), 63 provinces.
CITIZEN_ID_PROVINCE_CODES = frozenset(
    """001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034
    035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068
    070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096""".split()  # noqa: SIM905
)


def citizen_id_century_and_gender(citizen_id: str) -> tuple[int, str]:
    """The 4th digit encodes century of birth and gender: 0/1 → 1900s male/female, 2/3 → 2000s…"""
    digit = int(citizen_id[3])
    century = 1900 + (digit // 2) * 100
    gender = "male" if digit % 2 == 0 else "female"
    return century, gender


def citizen_id_birth_year(citizen_id: str) -> int:
    century, _gender = citizen_id_century_and_gender(citizen_id)
    return century + int(citizen_id[4:6])


def validate_citizen_id(value: str) -> None:
    if value in (None, ""):
        return
    if len(value) != 12 or not value.isdigit():
        raise ValidationError(_("A citizen ID has exactly 12 digits."), code="citizen_id_format")
    if value[:3] not in CITIZEN_ID_PROVINCE_CODES:
        raise ValidationError(
            _("%(code)s is not a province code: a citizen ID starts with the code of the province of birth."),
            code="citizen_id_province",
            params={"code": value[:3]},
        )
    # Only 0–3 (born in the 1900s or 2000s) belong to people alive today.
    if int(value[3]) > 3:
        raise ValidationError(_("The 4th digit of the citizen ID is not valid."), code="citizen_id_century")
