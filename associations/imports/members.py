"""Excel import of members.

A member matches an existing member by citizen ID, or, when the row has none, by name +
date of birth + branch; a person appears once in the file.
"""

from __future__ import annotations

import datetime
import hashlib
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations import services
from associations.imports.registry import (
    GENDER_LABELS,
    MEMBER_CATEGORY_ALIASES,
    MEMBER_CATEGORY_LABELS,
    RegistryImport,
    branch_column,
    display_value,
    name_key,
)
from associations.models import (
    Gender,
    Member,
    Organization,
)
from associations.personal_data import citizen_id_lookups_record, citizen_id_taken_elsewhere
from associations.validators import validate_citizen_id
from khuyenhoc.imports import (
    ChunkPlan,
    Column,
    ErrorLog,
    ParsedRow,
    PlanMoved,
    parse_choice,
    parse_date,
    parse_digits,
    parse_phone,
    parse_text,
)
from khuyenhoc.text import search_key

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
        partial(parse_choice, choices={**MEMBER_CATEGORY_LABELS, **MEMBER_CATEGORY_ALIASES}),
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
    branch_column(),
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

# What a kept plan stores of a member to create or update, in this order (see freeze/thaw).
STORED_FIELDS = (
    "full_name",
    "name_search",
    "date_of_birth",
    "gender",
    "citizen_id",
    "phone",
    "address",
    "category",
    "organization_id",
    "branch_id",
    "joined_on",
    "left_on",
)
DATE_FIELDS = frozenset({"date_of_birth", "joined_on", "left_on"})
# For thawing a kept plan's members positionally: each concrete field's default, in order,
# and where the pk and the stored fields go.
_CONCRETE = [field.attname for field in Member._meta.concrete_fields]
_DEFAULTS = tuple(field.get_default() for field in Member._meta.concrete_fields)
# A default that is a callable (none today) is called again for each member, never frozen here.
_CALLED_DEFAULTS = tuple(
    (at, field) for at, field in enumerate(Member._meta.concrete_fields) if callable(field.default)
)
_PK_AT = _CONCRETE.index(Member._meta.pk.attname)
_STORED_AT = tuple(_CONCRETE.index(name) for name in STORED_FIELDS)
_STORED_IS_DATE = tuple(name in DATE_FIELDS for name in STORED_FIELDS)
# What a member the check matched must still hold at the apply (see _fingerprint).
FINGERPRINT_FIELDS = ("pk", *STORED_FIELDS, "left_reason", "updated_at")


def _fingerprint(values: tuple) -> str:
    """A short digest of a member's stored values: equal at check and apply when untouched."""
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


def _blank_row() -> list:
    """A new member's field values in `Member(*row)` order, each its field's default."""
    row = list(_DEFAULTS)
    for at, field in _CALLED_DEFAULTS:
        row[at] = field.get_default()
    return row


def _plain(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _matching(citizen_ids: set[str], keys: set[tuple]) -> Q:
    """The members a chunk's rows may match: by citizen ID, or by (name, date of birth,
    branch) exactly. On PostgreSQL the keys are joined as arrays (unnest) to member_match_idx,
    one probe per key; elsewhere (the embedded SQLite) each of the three is narrowed by IN and
    the exact triples are picked in Python. A filter by name and branch alone would make the
    apply's later chunks read back most of the members its earlier chunks wrote (same names,
    same communes) only to skip them; three IN lists let PostgreSQL pick the names' trigram
    index, seconds per chunk once the table has grown."""
    dated = sorted(key for key in keys if key[1] is not None)
    undated = sorted({(key[0], key[2]) for key in keys if key[1] is None})
    if connection.vendor == "postgresql":
        member = connection.ops.quote_name(Member._meta.db_table)
        keys_sql = (
            f"SELECT m.id FROM {member} m WHERE m.citizen_id = ANY(%s::text[]) "  # noqa: S608 — the model's table
            f"UNION SELECT m.id FROM {member} m JOIN unnest(%s::text[], %s::date[], %s::bigint[]) AS k(n, d, b) "
            "ON m.name_search = k.n AND m.date_of_birth = k.d AND m.branch_id = k.b "
            f"UNION SELECT m.id FROM {member} m JOIN unnest(%s::text[], %s::bigint[]) AS k(n, b) "
            "ON m.name_search = k.n AND m.date_of_birth IS NULL AND m.branch_id = k.b"
        )
        return Q(
            pk__in=RawSQL(  # noqa: S611 — fixed SQL, the values as parameters
                keys_sql,
                [
                    sorted(citizen_ids),
                    [key[0] for key in dated],
                    [key[1] for key in dated],
                    [key[2] for key in dated],
                    [key[0] for key in undated],
                    [key[1] for key in undated],
                ],
            )
        )
    condition = Q(citizen_id__in=citizen_ids)
    if dated:
        condition |= Q(
            name_search__in={key[0] for key in dated},
            date_of_birth__in={key[1] for key in dated},
            branch_id__in={key[2] for key in dated},
        )
    if undated:
        condition |= Q(
            name_search__in={key[0] for key in undated},
            date_of_birth__isnull=True,
            branch_id__in={key[1] for key in undated},
        )
    return condition


class MemberImport(RegistryImport):
    kind = "members"
    title = gettext_lazy("Members")
    template_filename = "mau-nhap-hoi-vien.xlsx"
    list_url = "associations:member_list"
    sheet_title = "Hội viên"
    model = Member
    columns = MEMBER_COLUMNS
    notes = (
        gettext_lazy(
            "A member already registered is recognised by citizen ID, or by name + date of birth + unit when the "
            "citizen ID is empty; the row then updates that member. Other rows add new members."
        ),
    )

    reuses_plan = True

    def __init__(self, job):
        super().__init__(job)
        # Members written by this apply: not "new collisions" for the later chunks' keys.
        self.written_ids: set[int] = set()
        # Keys already seen in the file: a person must appear once.
        self.seen_ids: dict[str, int] = {}
        self.seen_keys: dict[tuple, tuple[int, bool]] = {}
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
            citizen_ok = self._check_citizen_id(row, errors)
            ok = ok and citizen_ok
            if citizen_id and citizen_ok:
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
            else:
                self._cross_checks(row, errors, citizen_ok=citizen_ok)

        citizen_ids = {row.values["citizen_id"] for row, _key in ready if row.values["citizen_id"]}
        by_id: dict[str, Member] = {}
        by_key: dict[tuple, list[Member]] = {}
        if ready:
            for member in Member.objects.filter(_matching(citizen_ids, {key for _row, key in ready})):
                if member.citizen_id:
                    by_id[member.citizen_id] = member
                by_key.setdefault((member.name_search, member.date_of_birth, member.branch_id), []).append(member)
        # What the plan relies on, for a kept plan: each member matching a row's key exactly,
        # as it is now (fingerprinted before _plan_row changes the matched ones).
        plan.keys = [(row.values["citizen_id"], key) for row, key in ready]
        plan.matched = {}
        for row, key in ready:
            citizen_id = row.values["citizen_id"]
            for member in (by_id.get(citizen_id) if citizen_id else None, *by_key.get(key, ())):
                if member is not None and member.pk not in plan.matched:
                    plan.matched[member.pk] = (
                        _fingerprint(tuple(getattr(member, name) for name in FINGERPRINT_FIELDS)),
                        row.number,
                    )

        claimed: set[int] = set()
        outside: list[int] = []
        # The messages once per chunk, not once per row.
        taken_elsewhere = citizen_id_taken_elsewhere()
        ambiguous = _(
            "Several registered members of this unit have this name and date of birth: add the "
            "citizen ID to tell them apart."
        )
        twice = _("Another row of this file already updates the same member.")
        for row, key in ready:
            values = row.values
            citizen_id = values["citizen_id"]
            ok, match = self.match_person(
                row,
                errors,
                citizen_id=citizen_id,
                by_id=by_id,
                candidates=by_key.get(key, []),
                claimed=claimed,
                outside=outside,
                taken_elsewhere=taken_elsewhere,
                ambiguous=ambiguous,
                twice=twice,
            )
            if not ok:
                continue
            self._plan_row(row, key[0], match, plan, errors)
            if match is not None:
                claimed.add(match.pk)
        if outside:
            citizen_id_lookups_record(user=self.actor, member_ids=outside)
        return plan

    def _check_citizen_id(self, row: ParsedRow, errors: ErrorLog) -> bool:
        """A citizen ID, when given, is a valid one (its error logged)."""
        citizen_id = row.values.get("citizen_id")
        if not citizen_id:
            return True
        try:
            validate_citizen_id(citizen_id)
        except ValidationError as error:
            errors.add(row.number, self.headers["citizen_id"], " ".join(error.messages))
            return False
        return True

    def _cross_checks(self, row: ParsedRow, errors: ErrorLog, *, citizen_ok: bool) -> None:
        """The rules between columns (Member.clean) for a row refused for another reason, so
        that its every error is named at once."""
        member = Member()
        for key, value in row.values.items():
            if key in {"branch", "organization"} or (key == "citizen_id" and not citizen_ok):
                continue
            setattr(member, MEMBER_FIELDS[key], value)
        try:
            member.clean()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                key = next((k for k, f in MEMBER_FIELDS.items() if f == field), "full_name")
                for message in messages:
                    errors.add(row.number, self.headers[key], message)

    def check_rejected(self, rows: list[ParsedRow], errors: ErrorLog) -> None:
        organizations = self._organizations(rows)
        for row in rows:
            branch_id = self.resolve_branch(row, errors) if "branch" in row.values else None
            citizen_ok = self._check_citizen_id(row, errors)
            if row.values.get("organization"):
                self._resolve_organization(row, branch_id, organizations, errors)
            self._cross_checks(row, errors, citizen_ok=citizen_ok)

    def _plan_row(
        self, row: ParsedRow, name_search: str, existing: Member | None, plan: ChunkPlan, errors: ErrorLog
    ) -> None:
        values = row.values
        member = Member(*_blank_row()) if existing is None else existing  # positional: Django's fast path
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
        return display_value(value)

    def _snapshot(self, member: Member) -> dict:
        shown = {}
        for key, field in MEMBER_FIELDS.items():
            value = getattr(member, field)
            if value is not None and value != "":
                shown[self.verbose[key]] = self._show(key, value)
        return shown

    def freeze(self, plan: ChunkPlan) -> dict:
        """What to write (every stored field of each member to create or update, with the
        audit changes of the updates), the rows' keys, and the fingerprint of every member
        those keys matched, with the row that matched it."""
        return {
            "create": [[_plain(getattr(member, name)) for name in STORED_FIELDS] for member in plan.create],
            "update": [
                [member.pk, [_plain(getattr(member, name)) for name in STORED_FIELDS], member._import_changes]
                for member in plan.update
            ],
            "unchanged": plan.unchanged,
            "keys": [[citizen_id, name, _plain(born), branch_id] for citizen_id, (name, born, branch_id) in plan.keys],
            "matched": [[pk, digest, row] for pk, (digest, row) in plan.matched.items()],
            "organizations": sorted({member.organization_id for member in (*plan.create, *plan.update)} - {None}),
        }

    def thaw(self, frozen: dict) -> ChunkPlan:
        """The chunk's plan again, after one query for the members matching its keys now
        (PlanMoved when one the check matched was changed or deleted, or a new one matches)
        and, when it names workplaces, one for them."""
        keys = [
            (citizen_id, (name, datetime.date.fromisoformat(born) if born else None, branch_id))
            for citizen_id, name, born, branch_id in frozen["keys"]
        ]
        citizen_ids = {citizen_id for citizen_id, _key in keys if citizen_id}
        exact = {key for _citizen_id, key in keys}
        found: dict[int, str] = {}
        if keys:
            for values in Member.objects.filter(_matching(citizen_ids, exact)).values_list(*FINGERPRINT_FIELDS):
                pk, name, born, branch_id = values[0], values[2], values[3], values[10]
                if pk in self.written_ids:
                    continue
                if values[5] in citizen_ids or (name, born, branch_id) in exact:
                    found[pk] = _fingerprint(values)
        for pk, digest, row in frozen["matched"]:
            if pk in self.written_ids:
                continue  # written by an earlier chunk of this file
            if found.pop(pk, None) != digest:
                raise PlanMoved(_("the member matched by row %(row)d was changed or deleted") % {"row": row})
        if found:
            raise PlanMoved(_("a member with the citizen ID or the name, date of birth and unit of a row was added"))
        branch_at = STORED_FIELDS.index("branch_id")
        for values in (*frozen["create"], *(values for _pk, values, _changes in frozen["update"])):
            if values[branch_at] not in self.branch_names:
                raise PlanMoved(_("a unit of the file no longer lies within your branch"))
        organizations = set(frozen["organizations"])
        if organizations and Organization.objects.in_subtree(self.root).filter(pk__in=organizations).count() != len(
            organizations
        ):
            raise PlanMoved(_("a workplace of the file was removed or moved out of your branch"))

        plan = ChunkPlan(unchanged=frozen["unchanged"])
        plan.create = [self._member(values) for values in frozen["create"]]
        for pk, values, changes in frozen["update"]:
            member = self._member(values, pk=pk)
            member._import_changes = changes
            member._import_fields = [MEMBER_FIELDS[key] for key in self._changed_keys(changes)]
            plan.update.append(member)
        return plan

    def _member(self, values: list, pk: int | None = None) -> Member:
        """A member of the kept plan, built positionally (Django's fast path, as from_db):
        the stored fields from the plan, every other field its default."""
        if len(values) != len(STORED_FIELDS):
            raise ValueError("a kept plan's member has the wrong number of fields")
        row = _blank_row()
        row[_PK_AT] = pk
        for at, value, is_date in zip(_STORED_AT, values, _STORED_IS_DATE, strict=True):
            row[at] = datetime.date.fromisoformat(value) if is_date and value else value
        return Member(*row)

    def _changed_keys(self, changes: dict) -> list[str]:
        by_verbose = {verbose: key for key, verbose in self.verbose.items()}
        return [by_verbose[verbose] for verbose in changes]

    def write(self, plan: ChunkPlan) -> None:
        self.written_ids.update(member.pk for member in plan.update)
        services.members_save(
            actor=self.actor,
            root=self.root,
            create=plan.create,
            update=plan.update,
            update_fields={field for member in plan.update for field in member._import_fields},
            created_changes=self._snapshot,
            updated_changes=lambda member: member._import_changes,
        )
        self.written_ids.update(member.pk for member in plan.create)
