"""Excel exports of the registry lists (members, organisations).

The columns are the import template's, so an exported list can be corrected and imported
back. Rows are read in chunks with `iterator()` and written as a stream (khuyenhoc.xlsx):
memory does not grow with the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import FileResponse
from django.utils import timezone

from associations import personal_data, privacy
from associations.imports import (
    GENDER_LABELS,
    MEMBER_CATEGORY_LABELS,
    MEMBER_COLUMNS,
    ORGANIZATION_COLUMNS,
    ORGANIZATION_KIND_LABELS,
    MemberImport,
    OrganizationImport,
)
from associations.models import PersonalDataExportKind
from associations.selectors import members_filtered, organizations_filtered
from khuyenhoc.xlsx import Sheet, xlsx_response

EXPORTED_ORGANIZATION_COLUMNS = {"name", "kind", "branch", "address", "active_from", "active_to"}


def branch_label(branch) -> str:
    return branch.code or branch.name


def member_rows(queryset, *, unmasked: bool = True) -> Iterator[tuple[Any, ...]]:
    genders = {value: label for label, value in GENDER_LABELS.items()}
    categories = {value: label for label, value in MEMBER_CATEGORY_LABELS.items()}
    for member in queryset.iterator(chunk_size=2000):
        yield (
            member.full_name,
            member.date_of_birth if unmasked else privacy.mask_date(member.date_of_birth),
            genders.get(member.gender, ""),
            (member.citizen_id or "") if unmasked else privacy.mask_citizen_id(member.citizen_id),
            member.phone,
            member.address,
            categories.get(member.category, member.category),
            member.organization.name if member.organization_id else "",
            branch_label(member.branch),
            member.joined_on,
            member.left_on,
        )


def organization_rows(queryset) -> Iterator[tuple[Any, ...]]:
    kinds = {value: label for label, value in ORGANIZATION_KIND_LABELS.items()}
    for organization in queryset.iterator(chunk_size=2000):
        yield (
            organization.name,
            kinds.get(organization.kind, organization.kind),
            branch_label(organization.branch),
            organization.address,
            organization.active_from,
            organization.active_to,
        )


def _stamp() -> str:
    return timezone.localdate().strftime("%Y%m%d")


def member_export(*, user, params) -> FileResponse:
    """The members list the user sees, filtered as on the list page, as an .xlsx download.

    Citizen IDs and dates of birth are masked unless a writing role asks for them
    (`?personal=1`, needed to import the list back); every export is recorded.
    """
    queryset = members_filtered(user, params)
    unmasked = privacy.export_unmasked(user, params)
    personal_data.export_record(
        user=user, kind=PersonalDataExportKind.MEMBERS, params=params, row_count=queryset.count(), unmasked=unmasked
    )
    headers = [column.header for column in MEMBER_COLUMNS]
    sheet = Sheet(MemberImport.sheet_title, headers, member_rows(queryset, unmasked=unmasked))
    return xlsx_response(f"hoi-vien-{_stamp()}.xlsx", [sheet])


def organization_export(*, user, params) -> FileResponse:
    """The organisations list the user sees, filtered as on the list page, as an .xlsx download."""
    queryset = organizations_filtered(user, params)
    headers = [column.header for column in ORGANIZATION_COLUMNS if column.key in EXPORTED_ORGANIZATION_COLUMNS]
    sheet = Sheet(OrganizationImport.sheet_title, headers, organization_rows(queryset))
    return xlsx_response(f"to-chuc-{_stamp()}.xlsx", [sheet])
