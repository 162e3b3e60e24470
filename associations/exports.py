"""Excel exports of the registry lists (members, organisations).

The columns are the import template's, so an exported list can be corrected and imported
back. Rows are read in chunks with `iterator()` and written as a stream (khuyenhoc.xlsx):
memory does not grow with the list.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from associations import personal_data, privacy, services, tasks
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
from associations.selectors import members_filtered, organizations_filtered, selected_ids
from khuyenhoc.exports import BACKGROUND_THRESHOLD, ListExport, count_above, export_build, export_write
from khuyenhoc.xlsx import XLSX_CONTENT_TYPE

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


def member_list_export(*, user, params) -> ListExport:
    """The members list the user sees, filtered (or checked) as on the list page, ready to write.

    Citizen IDs and dates of birth are masked unless a writing role asks for them
    (`?personal=1`, needed to import the list back); every export is recorded.
    """
    queryset = members_filtered(user, params)
    unmasked = privacy.export_unmasked(user, params)
    return ListExport(
        filename=f"hoi-vien-{_stamp()}.xlsx",
        title=MemberImport.sheet_title,
        headers=[column.header for column in MEMBER_COLUMNS],
        queryset=queryset,
        rows=lambda rows: member_rows(rows, unmasked=unmasked),
        personal_kind=PersonalDataExportKind.MEMBERS,
        unmasked=unmasked,
    )


def list_export_response(request, kind: str, params=None):
    """The export of a list as the user asked for it: written now when it is small; above
    BACKGROUND_THRESHOLD rows, an export job for the worker and a redirect to its progress page."""
    params = request.GET if params is None else params
    if params.get("selected") == "1" and not selected_ids(params):
        messages.error(request, _("Check the rows to export first."))
        return redirect(request.path)
    export = export_build(kind, user=request.user, params=params)
    count = count_above(export.queryset)
    if count > BACKGROUND_THRESHOLD:
        job = services.export_job_start(
            actor=request.user, kind=kind, params=params, total_rows=count, language=translation.get_language() or "vi"
        )
        transaction.on_commit(lambda: tasks.export_job_run.delay(job.pk, job.language))
        return redirect("associations:export_job", pk=job.pk)
    if export.personal_kind:
        personal_data.export_record(
            user=request.user, kind=export.personal_kind, params=params, row_count=count, unmasked=export.unmasked
        )
    spool = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it after sending
    export_write(export, spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=export.filename, content_type=XLSX_CONTENT_TYPE)


def organization_list_export(*, user, params) -> ListExport:
    """The organisations list the user sees, filtered as on the list page, ready to write."""
    return ListExport(
        filename=f"to-chuc-{_stamp()}.xlsx",
        title=OrganizationImport.sheet_title,
        headers=[column.header for column in ORGANIZATION_COLUMNS if column.key in EXPORTED_ORGANIZATION_COLUMNS],
        queryset=organizations_filtered(user, params),
        rows=organization_rows,
    )
