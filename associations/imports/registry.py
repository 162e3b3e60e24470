"""What the member and organisation imports share: the labels typed in files, the branch lookup, audit entries."""

from __future__ import annotations

import datetime
from functools import partial

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.models import (
    Branch,
    Gender,
    MemberCategory,
    OrganizationKind,
)
from khuyenhoc.imports import (
    Column,
    ErrorLog,
    ImportAdapter,
    ParsedRow,
    parse_text,
)
from khuyenhoc.text import clean_text

# Vietnamese labels typed in the files (the file format, whatever the interface language).
MEMBER_CATEGORY_LABELS = {
    "Đảng viên": MemberCategory.PARTY_MEMBER,
    "Cán bộ": MemberCategory.CADRE,
    "Công chức": MemberCategory.CIVIL_SERVANT,
    "Viên chức": MemberCategory.PUBLIC_EMPLOYEE,
    "Người lao động": MemberCategory.WORKER,
    "Học sinh/sinh viên": MemberCategory.STUDENT,
    "Nông dân": MemberCategory.FARMER,
    "Người nghỉ hưu": MemberCategory.RETIREE,  # the form's word
    "Khác": MemberCategory.OTHER,
}
# Older words still read from files made before (not offered in the template).
MEMBER_CATEGORY_ALIASES = {"Hưu trí": MemberCategory.RETIREE}
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


def branch_column(required: bool = True) -> Column:
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
    """What the registers of people and places share: the branch lookup, the column headers
    for messages, and how a row finds the registered person it stands for."""

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
        self.headers = {column.key: column.header for column in self.columns}

    def match_person(
        self,
        row: ParsedRow,
        errors: ErrorLog,
        *,
        citizen_id: str | None,
        by_id: dict,
        candidates: list,
        claimed: set[int],
        outside: list[int],
        taken_elsewhere: str,
        ambiguous: str,
        twice: str,
    ) -> tuple[bool, object | None]:
        """The registered person (member, citizen) a row stands for: by citizen ID, else the one
        candidate without an ID of the same name, birth date and branch. (False, None) with the
        row's error when the ID is held outside the importer's subtree (its holder is added to
        `outside`, to be logged), when several candidates match, or when another row of the file
        already claimed that person; else (True, the person or None for a new one)."""
        match = by_id.get(citizen_id) if citizen_id else None
        if match is not None and match.branch_id not in self.branch_names:
            # Taken, but outside the importer's subtree: say so, not where.
            errors.add(row.number, self.headers["citizen_id"], taken_elsewhere)
            outside.append(match.pk)
            return False, None
        if match is None:
            if citizen_id:
                candidates = [person for person in candidates if not person.citizen_id]
            if len(candidates) > 1:
                errors.add(row.number, self.headers["full_name"], ambiguous)
                return False, None
            match = candidates[0] if candidates else None
        if match is not None and match.pk in claimed:
            errors.add(row.number, self.headers["full_name"], twice)
            return False, None
        return True, match

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


def display_value(value) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(_LABEL_OF.get(value, value))
