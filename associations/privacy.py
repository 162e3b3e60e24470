"""Personal data under Vietnam's Personal Data Protection Law (91/2025/QH15, in force 1/1/2026).

Who sees citizen IDs and dates of birth in full: the roles that enter and correct the data of
their subtree — clerks, managers and administrators. Leaders read figures and lists, so they
see them masked: the last four digits of an ID (enough to tell two namesakes apart on a phone
call) and the year of birth only (enough for age groups and for children's scholarships, not
enough to identify a person with a name).

Exports are masked for everyone unless a writing role asks for personal data explicitly
(`?personal=1`); every export that carries personal data is recorded (PersonalDataExport).
"""

from __future__ import annotations

import datetime

from django.utils import translation

from associations.access import can_write

MASK = "••••••••"
DOT = "•"
PERSONAL_PARAMETER = "personal"


def mask_citizen_id(value: str | None) -> str:
    """ "001085012345" → "••••••••2345"; anything of four characters or fewer is masked whole."""
    if not value:
        return ""
    value = str(value).strip()
    if len(value) <= 4:
        return DOT * len(value)
    return MASK + value[-4:]


def mask_date(value: datetime.date | None) -> str:
    """A date of birth shown with its year only: "••/••/1985"."""
    if not value:
        return ""
    return f"••/••/{value.year:04d}"


def sees_personal_data(user) -> bool:
    """Clerks, managers and administrators see personal data of their subtree in full; leaders do not."""
    return can_write(user)


def export_unmasked(user, params) -> bool:
    """An export carries full personal data only when a writing role asks for it explicitly."""
    return params.get(PERSONAL_PARAMETER) == "1" and sees_personal_data(user)


def citizen_id_for(user, value: str | None) -> str:
    return (value or "") if sees_personal_data(user) else mask_citizen_id(value)


def _labels(*sources: str) -> frozenset[str]:
    labels = set()
    for language in ("en", "vi"):
        with translation.override(language):
            labels.update(str(translation.gettext(source)) for source in sources)
    return frozenset(labels)


def personal_field_labels() -> dict[str, frozenset[str]]:
    """The labels audit snapshots use for the masked fields, in either language they were written in."""
    return {
        "id": _labels("citizen ID", "citizen or student ID"),
        "date": _labels("date of birth"),
    }


def mask_audit_value(field: str, value, *, user):
    """A value from an audit entry's changes, masked when the field is an ID or a date of birth."""
    if value in (None, "") or sees_personal_data(user):
        return value
    if isinstance(value, list | tuple):
        return [mask_audit_value(field, item, user=user) for item in value]
    labels = personal_field_labels()
    if field in labels["id"]:
        return mask_citizen_id(str(value))
    if field in labels["date"]:
        try:
            return mask_date(datetime.date.fromisoformat(str(value)[:10]))
        except ValueError:
            return MASK
    return value
