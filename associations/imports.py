"""Excel imports of the registry: members and organisations (with their yearly headcount).

Rules a row must pass, beyond each cell's own format:
- its branch (by administrative code, or by exact name when that name is unique) lies in the
  uploader's subtree — an import never writes outside it;
- members match an existing member by citizen ID, or, when the row has none, by name + date
  of birth + branch; organisations match by name within their branch;
- a person or organisation appears once in the file.
Everything is looked up per chunk of rows in a fixed number of queries.
"""

from __future__ import annotations

import datetime
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.models import (
    AuditAction,
    AuditEntry,
    Branch,
    Gender,
    Member,
    MemberCategory,
    Organization,
    OrganizationHeadcount,
    OrganizationKind,
)
from associations.validators import validate_citizen_id
from khuyenhoc.imports import (
    ChunkPlan,
    Column,
    ErrorLog,
    ImportAdapter,
    ParsedRow,
    parse_choice,
    parse_date,
    parse_digits,
    parse_integer,
    parse_phone,
    parse_text,
)
from khuyenhoc.signals import registry_changed
from khuyenhoc.text import clean_text, search_key

# Vietnamese labels typed in the files (the file format, whatever the interface language).
MEMBER_CATEGORY_LABELS = {
    "Đảng viên": MemberCategory.PARTY_MEMBER,
    "Cán bộ": MemberCategory.CADRE,
    "Công chức": MemberCategory.CIVIL_SERVANT,
    "Viên chức": MemberCategory.PUBLIC_EMPLOYEE,
    "Người lao động": MemberCategory.WORKER,
    "Học sinh/sinh viên": MemberCategory.STUDENT,
    "Nông dân": MemberCategory.FARMER,
    "Hưu trí": MemberCategory.RETIREE,
    "Khác": MemberCategory.OTHER,
}
GENDER_LABELS = {"Nam": Gender.MALE, "Nữ": Gender.FEMALE}
ORGANIZATION_KIND_LABELS = {
    "Cơ quan nhà nước": OrganizationKind.AGENCY,
    "Đơn vị sự nghiệp": OrganizationKind.PUBLIC_SERVICE,
    "Lực lượng vũ trang": OrganizationKind.ARMED_FORCES,
    "Doanh nghiệp": OrganizationKind.ENTERPRISE,
    "Trường học": OrganizationKind.SCHOOL,
    "Trung tâm học tập cộng đồng": OrganizationKind.LEARNING_CENTRE,
    "Khác": OrganizationKind.OTHER,
}
_LABEL_OF = {
    **{value: label for label, value in MEMBER_CATEGORY_LABELS.items()},
    **{value: label for label, value in ORGANIZATION_KIND_LABELS.items()},
}

BRANCH_HEADER = "Đơn vị hội (mã hoặc tên)"


def name_key(text: str) -> str:
    """Names match exactly, ignoring case and extra spaces (accents count: 'Bà' is not 'Ba')."""
    return clean_text(text).casefold()


def _branch_column(required: bool = True) -> Column:
    return Column(
        "branch",
        BRANCH_HEADER,
        partial(parse_text, max_length=200),
        required=required,
        help=gettext_lazy(
            "The association unit the record belongs to: its administrative code (e.g. 00001) or its exact name "
            "(e.g. Phường Phúc Xá) when no other unit of your area has that name. It must lie within your own "
            "branch."
        ),
        example="00001",
        text_format=True,
        aliases=("Chi hội", "Hội khuyến học", "Mã đơn vị hội", "Đơn vị hội"),
    )


class RegistryImport(ImportAdapter):
    """What members and organisations share: the branch lookup and the audit entries."""

    model = None

    def __init__(self, job):
        super().__init__(job)
        # The uploader's whole subtree, once: a city has some thousands of branches.
        self.branch_names: dict[int, str] = {}
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        for pk, code, name in Branch.objects.in_subtree(self.root).values_list("pk", "code", "name"):
            self.branch_names[pk] = name
            if code:
                self.by_code[code] = pk
            self.by_name.setdefault(name_key(name), []).append(pk)
        self.content_type = ContentType.objects.get_for_model(self.model)

    def resolve_branch(self, row: ParsedRow, errors: ErrorLog) -> int | None:
        typed = row.values.get("branch", "")
        if typed in self.by_code:
            return self.by_code[typed]
        found = self.by_name.get(name_key(typed), [])
        if len(found) == 1:
            return found[0]
        header = self.column("branch").header
        if found:
            errors.add(
                row.number,
                header,
                _("Several units of your area are named “%(name)s”: type the unit's code instead.") % {"name": typed},
            )
        else:
            errors.add(
                row.number,
                header,
                _("No association unit with the code or name “%(name)s” within your branch.") % {"name": typed},
            )
        return None

    def audit_entries(self, records, action: str, changes_of) -> list[AuditEntry]:
        return [
            AuditEntry(
                actor=self.actor,
                branch_id=record.branch_id,
                content_type=self.content_type,
                object_id=str(record.pk),
                object_repr=str(record)[:255],
                action=action,
                changes=changes_of(record),
            )
            for record in records
        ]

    def finish(self, *, created: int, updated: int) -> None:
        if created or updated:
            registry_changed.send(sender=self.model, branch_id=self.root.pk)


def _display(value) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(_LABEL_OF.get(value, value))


# --- Members ------------------------------------------------------------------------------------

MEMBER_COLUMNS = (
    Column(
        "full_name",
        "Họ và tên",
        partial(parse_text, max_length=200),
        required=True,
        help=gettext_lazy("Full name, with accents."),
        example="Nguyễn Văn An",
    ),
    Column(
        "date_of_birth",
        "Ngày sinh",
        parse_date,
        help=gettext_lazy("dd/mm/yyyy."),
        example="25/03/1980",
        text_format=True,
    ),
    Column(
        "gender",
        "Giới tính",
        partial(parse_choice, choices=GENDER_LABELS),
        help=gettext_lazy("Nam or Nữ."),
        example="Nam",
        choices=tuple(GENDER_LABELS),
    ),
    Column(
        "citizen_id",
        "Số CCCD",
        partial(parse_digits, length=12),
        help=gettext_lazy(
            "The 12 digits of the citizen identity card. Used to recognise a member already registered; when it "
            "is missing, the member is recognised by name + date of birth + unit. An empty cell never erases a "
            "citizen ID already recorded."
        ),
        example="001080012345",
        text_format=True,
        aliases=("Số căn cước công dân", "Số căn cước", "CCCD"),
    ),
    Column(
        "phone",
        "Điện thoại",
        parse_phone,
        help=gettext_lazy("Phone number."),
        example="0912345678",
        text_format=True,
        aliases=("Số điện thoại",),
    ),
    Column(
        "address",
        "Địa chỉ",
        partial(parse_text, max_length=255),
        help=gettext_lazy("Home address."),
        example="Số 1 Phúc Xá, Ba Đình",
    ),
    Column(
        "category",
        "Đối tượng",
        partial(parse_choice, choices=MEMBER_CATEGORY_LABELS),
        required=True,
        help=gettext_lazy("The member's main category."),
        example="Công chức",
        choices=tuple(MEMBER_CATEGORY_LABELS),
        aliases=("Thành phần",),
    ),
    Column(
        "organization",
        "Cơ quan, đơn vị công tác",
        partial(parse_text, max_length=255),
        help=gettext_lazy(
            "Optional: the workplace, by the exact name of an organisation already registered in your area "
            "(case and extra spaces do not matter, accents do). When several organisations of your area share "
            "that name, the one under the member's own unit is taken; if that does not decide it, the row is "
            "refused."
        ),
        example="UBND phường Phúc Xá",
        aliases=("Nơi công tác", "Cơ quan công tác"),
    ),
    _branch_column(),
    Column(
        "joined_on",
        "Ngày vào hội",
        parse_date,
        required=True,
        help=gettext_lazy("dd/mm/yyyy."),
        example="01/03/2018",
        text_format=True,
    ),
    Column(
        "left_on",
        "Ngày ra hội",
        parse_date,
        help=gettext_lazy("Empty while the person is a member."),
        text_format=True,
    ),
)

MEMBER_FIELDS = {
    "full_name": "full_name",
    "date_of_birth": "date_of_birth",
    "gender": "gender",
    "citizen_id": "citizen_id",
    "phone": "phone",
    "address": "address",
    "category": "category",
    "organization": "organization_id",
    "branch": "branch_id",
    "joined_on": "joined_on",
    "left_on": "left_on",
}


class MemberImport(RegistryImport):
    kind = "members"
    title = gettext_lazy("Members")
    sheet_title = "Hội viên"
    model = Member
    columns = MEMBER_COLUMNS
    notes = (
        gettext_lazy(
            "A member already registered is recognised by citizen ID, or by name + date of birth + unit when the "
            "citizen ID is empty; the row then updates that member. Other rows add new members."
        ),
    )

    def __init__(self, job):
        super().__init__(job)
        # Keys already seen in the file: a person must appear once.
        self.seen_ids: dict[str, int] = {}
        self.seen_keys: dict[tuple, tuple[int, bool]] = {}
        self.headers = {column.key: column.header for column in self.columns}
        self.verbose = {key: str(Member._meta.get_field(key).verbose_name) for key, field in MEMBER_FIELDS.items()}

    def _organizations(self, rows: list[ParsedRow]) -> dict[str, list[tuple[int, int, str]]]:
        names = {search_key(row.values["organization"]) for row in rows if row.values.get("organization")}
        found: dict[str, list[tuple[int, int, str]]] = {}
        if names:
            for pk, name, branch_id in (
                Organization.objects.in_subtree(self.root)
                .filter(name_search__in=names)
                .values_list("pk", "name", "branch_id")
            ):
                found.setdefault(name_key(name), []).append((pk, branch_id, name))
        return found

    def _resolve_organization(self, row, branch_id, organizations, errors) -> int | None | bool:
        typed = row.values["organization"]
        candidates = organizations.get(name_key(typed), [])
        if len(candidates) > 1:
            candidates = [candidate for candidate in candidates if candidate[1] == branch_id]
        if len(candidates) == 1:
            return candidates[0][0]
        header = self.headers["organization"]
        if candidates:
            errors.add(
                row.number,
                header,
                _("Several organisations named “%(name)s” lie under this unit: the workplace cannot be told apart.")
                % {"name": typed},
            )
        elif organizations.get(name_key(typed)):
            errors.add(
                row.number,
                header,
                _("Several organisations of your area are named “%(name)s” and none lies under this member's unit.")
                % {"name": typed},
            )
        else:
            errors.add(
                row.number, header, _("No organisation named “%(name)s” is registered in your area.") % {"name": typed}
            )
        return False

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        organizations = self._organizations(rows)
        ready = []
        for row in rows:
            values = row.values
            branch_id = self.resolve_branch(row, errors)
            ok = branch_id is not None
            values["branch"] = branch_id
            citizen_id = values.get("citizen_id") or None
            values["citizen_id"] = citizen_id
            if citizen_id:
                try:
                    validate_citizen_id(citizen_id)
                except ValidationError as error:
                    errors.add(row.number, self.headers["citizen_id"], " ".join(error.messages))
                    ok = False
                else:
                    first = self.seen_ids.setdefault(citizen_id, row.number)
                    if first != row.number:
                        errors.add(
                            row.number,
                            self.headers["citizen_id"],
                            _("The same citizen ID is already in row %(row)d of this file.") % {"row": first},
                        )
                        ok = False
            if values.get("organization"):
                organization_id = self._resolve_organization(row, branch_id, organizations, errors)
                ok = ok and organization_id is not False
                values["organization"] = organization_id if organization_id is not False else None
            elif "organization" in values:
                values["organization"] = None
            if ok:
                key = (search_key(values["full_name"]), values.get("date_of_birth"), branch_id)
                first, first_has_id = self.seen_keys.setdefault(key, (row.number, bool(citizen_id)))
                if first != row.number and not (first_has_id and citizen_id):
                    errors.add(
                        row.number,
                        self.headers["full_name"],
                        _(
                            "Row %(row)d of this file has the same name, date of birth and unit: give each person "
                            "their citizen ID or keep one row."
                        )
                        % {"row": first},
                    )
                    ok = False
            if ok:
                ready.append((row, key))

        citizen_ids = {row.values["citizen_id"] for row, _key in ready if row.values["citizen_id"]}
        names = {key[0] for _row, key in ready}
        branch_ids = {key[2] for _row, key in ready}
        by_id: dict[str, Member] = {}
        by_key: dict[tuple, list[Member]] = {}
        if ready:
            for member in Member.objects.filter(
                Q(citizen_id__in=citizen_ids) | Q(name_search__in=names, branch_id__in=branch_ids)
            ):
                if member.citizen_id:
                    by_id[member.citizen_id] = member
                by_key.setdefault((member.name_search, member.date_of_birth, member.branch_id), []).append(member)

        claimed: set[int] = set()
        for row, key in ready:
            values = row.values
            citizen_id = values["citizen_id"]
            match = by_id.get(citizen_id) if citizen_id else None
            if match is not None and match.branch_id not in self.branch_names:
                errors.add(
                    row.number,
                    self.headers["citizen_id"],
                    _("A member with this citizen ID is registered in a unit outside your branch."),
                )
                continue
            if match is None:
                candidates = by_key.get(key, [])
                if citizen_id:
                    candidates = [member for member in candidates if not member.citizen_id]
                if len(candidates) > 1:
                    errors.add(
                        row.number,
                        self.headers["full_name"],
                        _(
                            "Several registered members of this unit have this name and date of birth: add the "
                            "citizen ID to tell them apart."
                        ),
                    )
                    continue
                match = candidates[0] if candidates else None
            if match is not None and match.pk in claimed:
                errors.add(
                    row.number,
                    self.headers["full_name"],
                    _("Another row of this file already updates the same member."),
                )
                continue
            self._plan_row(row, key[0], match, plan, errors)
            if match is not None:
                claimed.add(match.pk)
        return plan

    def _plan_row(
        self, row: ParsedRow, name_search: str, existing: Member | None, plan: ChunkPlan, errors: ErrorLog
    ) -> None:
        values = row.values
        member = Member() if existing is None else existing
        before = {key: getattr(member, field) for key, field in MEMBER_FIELDS.items()}
        for key, value in values.items():
            if key == "citizen_id" and not value and existing is not None:
                continue  # an empty cell never erases a recorded citizen ID
            setattr(member, MEMBER_FIELDS[key], value)
        try:
            member.clean()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                key = next((k for k, f in MEMBER_FIELDS.items() if f == field), "full_name")
                for message in messages:
                    errors.add(row.number, self.headers[key], message)
            if existing is not None:
                for key, value in before.items():
                    setattr(member, MEMBER_FIELDS[key], value)
            return
        member.name_search = name_search
        summary = f"{member.full_name} · {self.branch_names.get(member.branch_id, '')}"
        if existing is None:
            plan.create.append(member)
            action = "create"
            changed = []
        else:
            after = {key: getattr(member, field) for key, field in MEMBER_FIELDS.items()}
            changed = [key for key in MEMBER_FIELDS if before[key] != after[key]]
            if not changed:
                plan.unchanged += 1
                action = "unchanged"
            else:
                member._import_changes = {
                    self.verbose[key]: [self._show(key, before[key]), self._show(key, after[key])] for key in changed
                }
                member._import_fields = [MEMBER_FIELDS[key] for key in changed]
                plan.update.append(member)
                action = "update"
        plan.preview.append(
            {
                "row": row.number,
                "action": action,
                "summary": summary,
                "changes": [self.headers[key] for key in changed],
            }
        )

    def _show(self, key: str, value):
        if key == "branch":
            return self.branch_names.get(value)
        if key == "organization":
            return value  # the organisation's id; its name is not loaded to keep one query per chunk
        if key == "gender" and value:
            return "Nam" if value == Gender.MALE else "Nữ"
        return _display(value)

    def _snapshot(self, member: Member) -> dict:
        return {
            self.verbose[key]: self._show(key, getattr(member, field))
            for key, field in MEMBER_FIELDS.items()
            if getattr(member, field) not in (None, "")
        }

    def write(self, plan: ChunkPlan) -> None:
        entries = []
        if plan.create:
            created = Member.objects.bulk_create(plan.create, batch_size=1000)
            entries += self.audit_entries(created, AuditAction.CREATE, self._snapshot)
        if plan.update:
            now = timezone.now()
            fields = {"name_search", "updated_at"}
            for member in plan.update:
                member.updated_at = now
                fields.update(member._import_fields)
            Member.objects.bulk_update(plan.update, sorted(fields), batch_size=500)
            entries += self.audit_entries(plan.update, AuditAction.UPDATE, lambda member: member._import_changes)
        AuditEntry.objects.bulk_create(entries, batch_size=1000)


# --- Organisations ------------------------------------------------------------------------------

HEADCOUNT_FIELDS = ("party_members", "cadres", "civil_servants", "public_employees", "workers")
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
    _branch_column(),
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
        self.headers = {column.key: column.header for column in self.columns}
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
            ok = branch_id is not None
            values["branch"] = branch_id
            start, end = values.get("active_from"), values.get("active_to")
            if start and end and end < start:
                errors.add(row.number, self.headers["active_to"], _("The end of activity cannot be before its start."))
                ok = False
            has_counts = any(values.get(field) is not None for field in HEADCOUNT_FIELDS)
            if has_counts and values.get("year") is None:
                errors.add(row.number, self.headers["year"], _("The year is required when headcounts are given."))
                ok = False
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
        return _display(value)

    def _snapshot(self, organization: Organization) -> dict:
        snapshot = {
            self.verbose[key]: self._show(key, getattr(organization, field))
            for key, field in ORGANIZATION_FIELDS.items()
            if getattr(organization, field) not in (None, "")
        }
        snapshot.update({key: value[1] for key, value in organization._import_changes.items()})
        return snapshot

    def write(self, plan: ChunkPlan) -> None:
        entries = []
        if plan.create:
            created = Organization.objects.bulk_create(plan.create, batch_size=1000)
            entries += self.audit_entries(created, AuditAction.CREATE, self._snapshot)
        if plan.update:
            fields = set()
            for organization in plan.update:
                fields.update(organization._import_fields)
            if fields:
                changed = [organization for organization in plan.update if organization._import_fields]
                Organization.objects.bulk_update(changed, sorted(fields | {"name_search"}), batch_size=500)
            entries += self.audit_entries(plan.update, AuditAction.UPDATE, lambda o: o._import_changes)
        new_counts, changed_counts = [], []
        for organization in (*plan.create, *plan.update):
            headcount = organization._import_headcount
            if headcount is None:
                continue
            if headcount.pk is None:
                headcount.organization_id = organization.pk
                new_counts.append(headcount)
            else:
                changed_counts.append(headcount)
        OrganizationHeadcount.objects.bulk_create(new_counts, batch_size=1000)
        if changed_counts:
            OrganizationHeadcount.objects.bulk_update(changed_counts, list(HEADCOUNT_FIELDS), batch_size=500)
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
