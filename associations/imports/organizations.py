"""Excel import of organisations, with their yearly headcount.

An organisation matches by name within its branch and appears once in the file.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations import services
from associations.imports.registry import (
    ORGANIZATION_KIND_LABELS,
    RegistryImport,
    branch_column,
    display_value,
    name_key,
)
from associations.models import (
    HEADCOUNT_COLUMNS,
    Organization,
    OrganizationHeadcount,
)
from khuyenhoc.imports import (
    ChunkPlan,
    Column,
    ErrorLog,
    ParsedRow,
    parse_choice,
    parse_date,
    parse_integer,
    parse_text,
)
from khuyenhoc.text import search_key

HEADCOUNT_FIELDS = HEADCOUNT_COLUMNS
_count = partial(parse_integer, minimum=0, maximum=10_000_000)

ORGANIZATION_COLUMNS = (
    Column(
        "name",
        "Tên cơ quan, đơn vị",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy(
            "The organisation's full name. An organisation already registered under the same unit with the same "
            "name (case and extra spaces do not matter) is updated, not added again."
        ),
        example="UBND phường Phúc Xá",
        aliases=("Tên tổ chức", "Tên đơn vị"),
    ),
    Column(
        "kind",
        "Loại hình",
        partial(parse_choice, choices=ORGANIZATION_KIND_LABELS),
        required=True,
        help=gettext_lazy("The kind of organisation."),
        example="Cơ quan nhà nước",
        choices=tuple(ORGANIZATION_KIND_LABELS),
    ),
    branch_column(),
    Column("address", "Địa chỉ", partial(parse_text, max_length=255), help=gettext_lazy("Address.")),
    Column(
        "active_from",
        "Hoạt động từ ngày",
        parse_date,
        help=gettext_lazy("dd/mm/yyyy; may be empty."),
        example="01/01/2010",
        text_format=True,
    ),
    Column(
        "active_to",
        "Hoạt động đến ngày",
        parse_date,
        help=gettext_lazy("Empty while the organisation is active."),
        text_format=True,
    ),
    Column(
        "year",
        "Năm báo cáo số lượng",
        partial(parse_integer, minimum=1945, maximum=2100),
        help=gettext_lazy(
            "Optional: the year of the headcount in the next five columns. One row per organisation: for several "
            "years, import one file per year."
        ),
        example="2017",
        aliases=("Năm",),
    ),
    Column("party_members", "Số đảng viên", _count, help=gettext_lazy("Whole number; empty counts as 0.")),
    Column("cadres", "Số cán bộ", _count, help=gettext_lazy("Whole number; empty counts as 0.")),
    Column("civil_servants", "Số công chức", _count, help=gettext_lazy("Whole number; empty counts as 0.")),
    Column("public_employees", "Số viên chức", _count, help=gettext_lazy("Whole number; empty counts as 0.")),
    Column("workers", "Số người lao động", _count, help=gettext_lazy("Whole number; empty counts as 0.")),
)

ORGANIZATION_FIELDS = {
    "name": "name",
    "kind": "kind",
    "branch": "branch_id",
    "address": "address",
    "active_from": "active_from",
    "active_to": "active_to",
}


class OrganizationImport(RegistryImport):
    kind = "organizations"
    title = gettext_lazy("Organisations")
    template_filename = "mau-nhap-to-chuc.xlsx"
    list_url = "associations:organization_list"
    sheet_title = "Tổ chức"
    model = Organization
    columns = ORGANIZATION_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one organisation, recognised by its name under its unit. The headcount columns are "
            "optional; when given, the year is required."
        ),
    )

    def __init__(self, job):
        super().__init__(job)
        self.seen: dict[tuple, int] = {}
        self.verbose = {
            key: str(Organization._meta.get_field(key).verbose_name) for key, field in ORGANIZATION_FIELDS.items()
        }
        self.count_names = {
            field: str(OrganizationHeadcount._meta.get_field(field).verbose_name) for field in HEADCOUNT_FIELDS
        }

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        ready = []
        for row in rows:
            values = row.values
            branch_id = self.resolve_branch(row, errors)
            values["branch"] = branch_id
            ok = self._row_checks(row, errors) and branch_id is not None
            if ok:
                key = (name_key(values["name"]), branch_id)
                first = self.seen.setdefault(key, row.number)
                if first != row.number:
                    errors.add(
                        row.number,
                        self.headers["name"],
                        _("Row %(row)d of this file is the same organisation under the same unit.") % {"row": first},
                    )
                    continue
                ready.append((row, key))

        existing: dict[tuple, list[Organization]] = {}
        if ready:
            for organization in Organization.objects.filter(
                name_search__in={search_key(row.values["name"]) for row, _key in ready},
                branch_id__in={key[1] for _row, key in ready},
            ):
                existing.setdefault((name_key(organization.name), organization.branch_id), []).append(organization)
        matches = {}
        for row, key in ready:
            found = existing.get(key, [])
            if len(found) > 1:
                errors.add(
                    row.number,
                    self.headers["name"],
                    _(
                        "Several registered organisations of this unit have this name: "
                        "correct them on the portal first."
                    ),
                )
                continue
            matches[row.number] = found[0] if found else None
        years = {row.values["year"] for row, _key in ready if row.values.get("year")}
        headcounts = {}
        matched_ids = [organization.pk for organization in matches.values() if organization is not None]
        if years and matched_ids:
            headcounts = {
                (headcount.organization_id, headcount.year): headcount
                for headcount in OrganizationHeadcount.objects.filter(organization_id__in=matched_ids, year__in=years)
            }
        for row, _key in ready:
            if row.number in matches:
                self._plan_row(row, matches[row.number], headcounts, plan)
        return plan

    def _row_checks(self, row: ParsedRow, errors: ErrorLog) -> bool:
        """The rules between the row's own columns; False (errors logged) when one is broken."""
        values = row.values
        ok = True
        start, end = values.get("active_from"), values.get("active_to")
        if start and end and end < start:
            errors.add(row.number, self.headers["active_to"], _("The end of activity cannot be before its start."))
            ok = False
        has_counts = any(values.get(field) is not None for field in HEADCOUNT_FIELDS)
        if has_counts and values.get("year") is None and "year" not in row.failed:
            errors.add(row.number, self.headers["year"], _("The year is required when headcounts are given."))
            ok = False
        return ok

    def check_rejected(self, rows: list[ParsedRow], errors: ErrorLog) -> None:
        for row in rows:
            if "branch" in row.values:
                self.resolve_branch(row, errors)
            self._row_checks(row, errors)

    def _plan_row(self, row: ParsedRow, existing: Organization | None, headcounts: dict, plan: ChunkPlan) -> None:
        values = row.values
        organization = Organization() if existing is None else existing
        before = {key: getattr(organization, field) for key, field in ORGANIZATION_FIELDS.items()}
        for key, field in ORGANIZATION_FIELDS.items():
            if key in values:
                setattr(organization, field, values[key])
        organization.name_search = search_key(organization.name)
        changes = {}
        if existing is not None:
            changes = {
                self.verbose[key]: [self._show(key, before[key]), self._show(key, getattr(organization, field))]
                for key, field in ORGANIZATION_FIELDS.items()
                if before[key] != getattr(organization, field)
            }
        organization._import_fields = [
            ORGANIZATION_FIELDS[key]
            for key in ORGANIZATION_FIELDS
            if before[key] != getattr(organization, ORGANIZATION_FIELDS[key])
        ]
        organization._import_headcount = None
        year = values.get("year")
        if year:
            counts = {field: values.get(field) or 0 for field in HEADCOUNT_FIELDS}
            headcount = headcounts.get((organization.pk, year)) if existing is not None else None
            if headcount is None:
                headcount = OrganizationHeadcount(year=year, **counts)
                organization._import_headcount = headcount
                changes.update({f"{year}: {self.count_names[f]}": [None, counts[f]] for f in HEADCOUNT_FIELDS})
            else:
                differing = [field for field in HEADCOUNT_FIELDS if getattr(headcount, field) != counts[field]]
                if differing:
                    for field in differing:
                        changes[f"{year}: {self.count_names[field]}"] = [getattr(headcount, field), counts[field]]
                        setattr(headcount, field, counts[field])
                    organization._import_headcount = headcount
        organization._import_changes = changes
        summary = f"{organization.name} · {self.branch_names.get(organization.branch_id, '')}"
        if existing is None:
            plan.create.append(organization)
            action = "create"
        elif changes:
            plan.update.append(organization)
            action = "update"
        else:
            plan.unchanged += 1
            action = "unchanged"
        plan.preview.append(
            {"row": row.number, "action": action, "summary": summary, "changes": list(changes) if existing else []}
        )

    def _show(self, key: str, value):
        if key == "branch":
            return self.branch_names.get(value)
        return display_value(value)

    def _snapshot(self, organization: Organization) -> dict:
        snapshot = {
            self.verbose[key]: self._show(key, getattr(organization, field))
            for key, field in ORGANIZATION_FIELDS.items()
            if getattr(organization, field) not in (None, "")
        }
        snapshot.update({key: value[1] for key, value in organization._import_changes.items()})
        return snapshot

    def write(self, plan: ChunkPlan) -> None:
        changed = [organization for organization in plan.update if organization._import_fields]
        fields = {field for organization in changed for field in organization._import_fields}
        headcounts = []
        for organization in (*plan.create, *plan.update):
            if organization._import_headcount is not None:
                organization._import_headcount.organization = organization
                headcounts.append(organization._import_headcount)
        services.organizations_save(
            actor=self.actor,
            root=self.root,
            create=plan.create,
            update=plan.update,
            update_fields=fields,
            headcounts=headcounts,
            created_changes=self._snapshot,
            updated_changes=lambda organization: organization._import_changes,
        )
