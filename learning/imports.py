"""Excel imports of the subjects of the learning titles: households, clans, residential
communities (thôn, tổ dân phố) and citizens. Units are organisations: the registry imports them.

Rules a row must pass, beyond each cell's own format and the rules of the services
(learning/services/subjects.py, checked row by row with `subject_errors`):
- its branch (by code, or by exact name when that name is unique in the uploader's subtree,
  as in the member import) is a chapter or a commune-level association of the subtree; a
  community's is a commune-level one;
- a row updates the subject it matches: a household by branch + head + address (compared
  without accents, case or extra spaces), a clan or a community by branch + name (without
  case or extra spaces; accents count), a citizen by citizen ID, else by branch + name + date
  of birth; other rows create subjects;
- a subject appears once in the file.
Everything is looked up per chunk of rows in a fixed number of queries.
"""

from __future__ import annotations

import dataclasses
from functools import partial

from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.imports.registry import RegistryImport, branch_column, display_value, name_key
from associations.models import Branch, BranchLevel, Member
from associations.personal_data import citizen_id_lookups_record
from associations.validators import validate_citizen_id
from khuyenhoc.imports import (
    ChunkPlan,
    Column,
    ErrorLog,
    ParsedRow,
    parse_date,
    parse_digits,
    parse_integer,
    parse_text,
)
from khuyenhoc.text import search_key
from learning import services
from learning.models import Citizen, Clan, Community, Household
from learning.services.subjects import (
    branch_level_message,
    citizen_taken_elsewhere,
    levels_for,
    subject_errors,
)


def _branch(help_text) -> Column:
    return dataclasses.replace(branch_column(), help=help_text)


_SUBJECT_BRANCH = _branch(
    gettext_lazy(
        "The chapter or the commune / ward association it belongs to: its code (e.g. 00001) or its exact name "
        "(e.g. Phường Phúc Xá) when no other unit of your area has that name. It must lie within your own branch."
    )
)
_COMMUNITY_BRANCH = _branch(
    gettext_lazy(
        "The commune or ward association the village or residential group lies in: its code (e.g. 00001) or its "
        "exact name (e.g. Phường Phúc Xá) when no other unit of your area has that name. It must lie within your "
        "own branch."
    )
)
_working = partial(parse_integer, minimum=0, maximum=10_000_000)
_WORKING_HELP = gettext_lazy("Whole number; empty counts as 0.")

HOUSEHOLD_COLUMNS = (
    Column(
        "head_name",
        "Chủ hộ",
        partial(parse_text, max_length=200),
        required=True,
        help=gettext_lazy(
            "Full name of the head of household. A household already registered under the same unit with the same "
            "head and address (accents, case and extra spaces do not matter) is updated, not added again."
        ),
        example="Nguyễn Văn An",
        aliases=("Họ tên chủ hộ", "Tên chủ hộ"),
    ),
    Column(
        "address",
        "Địa chỉ",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy("The household's address."),
        example="Số 1 ngõ 2 Phúc Xá",
    ),
    _SUBJECT_BRANCH,
    Column(
        "people",
        "Số nhân khẩu",
        partial(parse_integer, minimum=0, maximum=999),
        required=True,
        help=gettext_lazy("How many people live in the household: at least 1."),
        example="4",
        aliases=("Số người",),
    ),
    Column(
        "working_people",
        "Số người trong độ tuổi lao động",
        partial(parse_integer, minimum=0, maximum=999),
        help=gettext_lazy("Whole number, at most the number of people; empty counts as 0."),
        example="2",
    ),
)

CLAN_COLUMNS = (
    Column(
        "name",
        "Tên dòng họ",
        partial(parse_text, max_length=200),
        required=True,
        help=gettext_lazy(
            "The clan's name. A clan already registered under the same unit with the same name (case and extra "
            "spaces do not matter) is updated, not added again."
        ),
        example="Dòng họ Nguyễn Văn",
        aliases=("Dòng họ",),
    ),
    Column(
        "representative",
        "Người đại diện",
        partial(parse_text, max_length=200),
        required=True,
        help=gettext_lazy("Full name of the clan's representative (trưởng họ)."),
        example="Nguyễn Văn Bình",
        aliases=("Trưởng họ",),
    ),
    Column(
        "residence",
        "Nơi cư trú",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy("Where the clan's families live."),
        example="Phường Phúc Xá",
    ),
    _SUBJECT_BRANCH,
    Column("working_people", "Số người trong độ tuổi lao động", _working, help=_WORKING_HELP, example="120"),
)

COMMUNITY_COLUMNS = (
    Column(
        "name",
        "Tên thôn, tổ dân phố",
        partial(parse_text, max_length=200),
        required=True,
        help=gettext_lazy(
            "The village or residential group. One already registered under the same commune with the same name "
            "(case and extra spaces do not matter) is updated, not added again."
        ),
        example="Tổ dân phố số 5",
        aliases=("Thôn, tổ dân phố", "Tên thôn", "Tổ dân phố"),
    ),
    _COMMUNITY_BRANCH,
    Column("households", "Số hộ gia đình", _working, help=_WORKING_HELP, example="250"),
    Column("working_people", "Số người trong độ tuổi lao động", _working, help=_WORKING_HELP, example="600"),
)

CITIZEN_COLUMNS = (
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
        "citizen_id",
        "Số CCCD",
        partial(parse_digits, length=12),
        help=gettext_lazy(
            "The 12 digits of the citizen identity card. Used to recognise a citizen already registered, and to "
            "link a member of the association of your area with the same number; when it is missing, the citizen "
            "is recognised by name + date of birth + unit. An empty cell never erases a citizen ID already recorded."
        ),
        example="001080012345",
        text_format=True,
        aliases=("Số căn cước công dân", "Số căn cước", "CCCD"),
    ),
    _SUBJECT_BRANCH,
    Column(
        "community",
        "Thôn, tổ dân phố",
        partial(parse_text, max_length=200),
        help=gettext_lazy(
            "The village or residential group she lives in, by its name as registered under her commune or ward "
            "(for a chapter: the commune or ward above it). Counted for the share of the people of learning "
            "villages who are learning citizens. An empty cell leaves it as it was."
        ),
        example="Tổ dân phố số 5",
        aliases=("Thôn", "Tổ dân phố"),
    ),
)


class SubjectImport(RegistryImport):
    """What the four subject imports share: the branch and its level, the file's duplicates,
    the row's checks (every problem of a row at once), the plan and the audit entries."""

    model: type[Model]

    def __init__(self, job):
        super().__init__(job)
        self.levels = dict(Branch.objects.in_subtree(self.root).values_list("pk", "level"))
        self.seen: dict[tuple, int] = {}
        self.keys = [column.key for column in self.columns]
        self.verbose = {key: str(self.model._meta.get_field(key).verbose_name) for key in self.keys}

    # --- What each import says -------------------------------------------------------------

    def row_key(self, values: dict) -> tuple:
        """The subject's identity in the file and in the register."""
        raise NotImplementedError

    def subject_key(self, subject) -> tuple:
        raise NotImplementedError

    def existing(self, ready: list[tuple[ParsedRow, tuple]]):
        """The registered subjects the chunk's rows may match, in one query."""
        raise NotImplementedError

    def duplicate_message(self, first: int) -> str:
        return _("Row %(row)d of this file is the same record under the same unit.") % {"row": first}

    def ambiguous_message(self) -> str:
        return _("Several registered records of this unit match this row: correct them on the portal first.")

    # --- The pass ---------------------------------------------------------------------------

    def resolve_subject_branch(self, row: ParsedRow, errors: ErrorLog) -> int | None:
        branch_id = self.resolve_branch(row, errors)
        if branch_id is not None and self.levels.get(branch_id) not in levels_for(self.model):
            errors.add(row.number, self.headers["branch"], branch_level_message(self.model))
            return None
        return branch_id

    def first_checks(self, rows: list[ParsedRow], errors: ErrorLog) -> list[tuple[ParsedRow, tuple]]:
        """The rows whose branch is right and that appear once in the file, with their key; the
        other rows' own values are checked too, so that a row's every error is named at once."""
        ready = []
        for row in rows:
            branch_id = self.resolve_subject_branch(row, errors)
            row.values["branch"] = branch_id
            ok = branch_id is not None and self.row_ok(row)
            if ok:
                key = self.row_key(row.values)
                first = self.seen.setdefault(key, row.number)
                if first != row.number:
                    errors.add(row.number, self.headers[self.keys[0]], self.duplicate_message(first))
                    ok = False
            if ok:
                ready.append((row, key))
            else:
                self.check_values(row, self.model(), errors)
        return ready

    def check_rejected(self, rows: list[ParsedRow], errors: ErrorLog) -> None:
        """The unit and the rules of the cells that were read, for rows with unreadable cells."""
        for row in rows:
            if "branch" in row.values:
                self.resolve_subject_branch(row, errors)
            subject = self.model()
            self.assign(subject, {key: value for key, value in row.values.items() if key != "branch"})
            for field, messages in subject_errors(subject).items():
                if field in row.failed:
                    continue  # its cell's own error is named already
                header = self.headers.get(field, self.headers[self.keys[0]])
                for message in messages:
                    errors.add(row.number, header, message)

    def row_ok(self, row: ParsedRow) -> bool:
        """A value the lookups need is well-formed (its error is named by `check_values`)."""
        return True

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        ready = self.first_checks(rows, errors)
        found: dict[tuple, list] = {}
        if ready:
            for subject in self.existing(ready):
                found.setdefault(self.subject_key(subject), []).append(subject)
        for row, key in ready:
            matches = found.get(key, [])
            if len(matches) > 1:
                errors.add(row.number, self.headers[self.keys[0]], self.ambiguous_message())
                continue
            self.plan_row(row, matches[0] if matches else None, plan, errors)
        return plan

    def assign(self, subject, values: dict) -> None:
        for key in self.keys:
            if key not in values:
                continue  # a column left out of the file changes nothing
            value = values[key]
            if key == "branch":
                subject.branch_id = value
            elif value is None and key in {"working_people", "households"}:
                setattr(subject, key, 0)  # an empty count counts as 0
            else:
                setattr(subject, key, value)

    def check_values(self, row: ParsedRow, subject, errors: ErrorLog) -> bool:
        values = {key: value for key, value in row.values.items() if key != "branch"}
        self.assign(subject, values)
        problems = subject_errors(subject)
        for field, messages in problems.items():
            header = self.headers.get(field, self.headers[self.keys[0]])
            for message in messages:
                errors.add(row.number, header, message)
        return not problems

    def tracked(self) -> list[str]:
        return [f"{key}_id" if key == "branch" else key for key in self.keys]

    def plan_row(self, row: ParsedRow, existing, plan: ChunkPlan, errors: ErrorLog) -> None:
        subject = existing if existing is not None else self.model()
        before = {attr: getattr(subject, attr) for attr in self.tracked()}
        if not self.check_values(row, subject, errors):
            return
        subject.branch_id = row.values["branch"]
        self.complete(row, subject, existing)
        after = {attr: getattr(subject, attr) for attr in self.tracked()}
        changed = [attr for attr in self.tracked() if before[attr] != after[attr]]
        summary = f"{subject} · {self.branch_names.get(subject.branch_id, '')}"
        if existing is None:
            plan.create.append(subject)
            action = "create"
            changed = []
        elif not changed:
            plan.unchanged += 1
            action = "unchanged"
        else:
            subject._import_changes = {
                self.label(attr): [self.show(attr, before[attr]), self.show(attr, after[attr])] for attr in changed
            }
            plan.update.append(subject)
            action = "update"
        plan.preview.append(
            {"row": row.number, "action": action, "summary": summary, "changes": [self.label(a) for a in changed]}
        )

    def complete(self, row: ParsedRow, subject, existing) -> None:
        """Anything decided beyond the row's own cells (a citizen's member)."""

    def label(self, attr: str) -> str:
        key = attr.removesuffix("_id") if attr in {"branch_id", "member_id"} else attr
        return self.verbose.get(key) or str(self.model._meta.get_field(key).verbose_name)

    def show(self, attr: str, value):
        """A value as the form's audit entries hold it (associations.audit.snapshot): counts as numbers."""
        if attr == "branch_id":
            return self.branch_names.get(value)
        if isinstance(value, int):
            return value
        return display_value(value)

    def snapshot(self, subject) -> dict:
        return {
            self.label(attr): self.show(attr, getattr(subject, attr))
            for attr in self.tracked()
            if getattr(subject, attr) not in (None, "")
        }

    def write(self, plan: ChunkPlan) -> None:
        services.subjects_save(
            actor=self.actor,
            model=self.model,
            root=self.root,
            create=plan.create,
            update=plan.update,
            created_changes=self.snapshot,
            updated_changes=lambda subject: subject._import_changes,
        )


class HouseholdImport(SubjectImport):
    kind = "households"
    title = gettext_lazy("Households")
    template_filename = "mau-nhap-ho-gia-dinh.xlsx"
    list_url = "learning:household_list"
    sheet_title = "Hộ gia đình"
    model = Household
    columns = HOUSEHOLD_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one household, recognised by its head and address under its unit; the row then updates "
            "it. Other rows add new households."
        ),
    )

    def row_key(self, values: dict) -> tuple:
        return (values["branch"], search_key(values["head_name"]), search_key(values["address"]))

    def subject_key(self, subject) -> tuple:
        return (subject.branch_id, search_key(subject.head_name), search_key(subject.address))

    def existing(self, ready):
        # The search key of a household is that of "head — address" (Household.search_text).
        keys = {
            search_key(str(Household(head_name=row.values["head_name"], address=row.values["address"])))
            for row, _ in ready
        }
        return Household.objects.filter(branch_id__in={key[0] for _row, key in ready}, name_search__in=keys)

    def duplicate_message(self, first: int) -> str:
        return _("Row %(row)d of this file is the same household (head and address) under the same unit.") % {
            "row": first
        }

    def ambiguous_message(self) -> str:
        return _(
            "Several registered households of this unit have this head and address: correct them on the portal first."
        )


class _NamedImport(SubjectImport):
    """Clans and communities: recognised by their name within their branch."""

    def row_key(self, values: dict) -> tuple:
        return (values["branch"], name_key(values["name"]))

    def subject_key(self, subject) -> tuple:
        return (subject.branch_id, name_key(subject.name))

    def existing(self, ready):
        return self.model.objects.filter(
            branch_id__in={key[0] for _row, key in ready},
            name_search__in={search_key(row.values["name"]) for row, _key in ready},
        )


class ClanImport(_NamedImport):
    kind = "clans"
    title = gettext_lazy("Clans")
    template_filename = "mau-nhap-dong-ho.xlsx"
    list_url = "learning:clan_list"
    sheet_title = "Dòng họ"
    model = Clan
    columns = CLAN_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one clan, recognised by its name under its unit; the row then updates it. Other rows add "
            "new clans."
        ),
    )


class CommunityImport(_NamedImport):
    kind = "communities"
    title = gettext_lazy("Residential communities")
    template_filename = "mau-nhap-cong-dong.xlsx"
    list_url = "learning:community_list"
    sheet_title = "Thôn, tổ dân phố"
    model = Community
    columns = COMMUNITY_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one village or residential group of a commune or ward, recognised by its name under that "
            "commune; the row then updates it. Other rows add new ones."
        ),
    )


class CitizenImport(SubjectImport):
    kind = "citizens"
    title = gettext_lazy("Learning citizens")
    template_filename = "mau-nhap-cong-dan-hoc-tap.xlsx"
    list_url = "learning:citizen_list"
    sheet_title = "Công dân học tập"
    model = Citizen
    columns = CITIZEN_COLUMNS
    notes = (
        gettext_lazy(
            "A citizen already registered is recognised by citizen ID, or by name + date of birth + unit when the "
            "citizen ID is empty; the row then updates that citizen. Other rows add new citizens. A member of the "
            "association of your area with the same citizen ID is linked to the citizen."
        ),
    )

    def __init__(self, job):
        super().__init__(job)
        self.seen_ids: dict[str, int] = {}
        self.members: dict[str, tuple[int, int, str]] = {}  # citizen ID → (member, branch, name)
        self.member_names: dict[int, str] = {}
        self.community_names: dict[int, str] = {}
        # The parent of each branch of the subtree: a chapter's commune, for its citizens' villages.
        paths = dict(Branch.objects.in_subtree(self.root).values_list("path", "pk"))
        self.parents = {pk: paths.get(path[: -Branch.steplen]) for path, pk in paths.items()}

    def row_ok(self, row: ParsedRow) -> bool:
        citizen_id = row.values.get("citizen_id") or None
        row.values["citizen_id"] = citizen_id
        if citizen_id:
            try:
                validate_citizen_id(citizen_id)
            except ValidationError:
                return False
        return True

    def first_checks(self, rows, errors):
        ready = []
        for row, key in super().first_checks(rows, errors):
            citizen_id = row.values["citizen_id"]
            if citizen_id:
                first = self.seen_ids.setdefault(citizen_id, row.number)
                if first != row.number:
                    errors.add(
                        row.number,
                        self.headers["citizen_id"],
                        _("The same citizen ID is already in row %(row)d of this file.") % {"row": first},
                    )
                    continue
            ready.append((row, key))
        return ready

    def row_key(self, values: dict) -> tuple:
        # A person with a citizen ID is told apart by it: name, birth date and unit may then repeat.
        return (values["branch"], search_key(values["full_name"]), values.get("date_of_birth"), values["citizen_id"])

    def subject_key(self, subject) -> tuple:
        return (subject.branch_id, subject.name_search, subject.date_of_birth)

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        ready = self._communities_resolve(self.first_checks(rows, errors), errors)
        if not ready:
            return plan
        citizen_ids = {row.values["citizen_id"] for row, _key in ready if row.values["citizen_id"]}
        self.members = {}
        if citizen_ids:
            for pk, branch_id, citizen_id, name in Member.objects.filter(citizen_id__in=citizen_ids).values_list(
                "pk", "branch_id", "citizen_id", "full_name"
            ):
                self.members[citizen_id] = (pk, branch_id, name)
                self.member_names[pk] = name
        member_ids = [pk for pk, _branch, _name in self.members.values()]
        by_id: dict[str, Citizen] = {}
        by_key: dict[tuple, list[Citizen]] = {}
        by_member: dict[int, Citizen] = {}
        for citizen in Citizen.objects.filter(
            Q(citizen_id__in=citizen_ids)
            | Q(name_search__in={key[1] for _row, key in ready}, branch_id__in={key[0] for _row, key in ready})
            | Q(member_id__in=member_ids)
        ):
            if citizen.citizen_id:
                by_id[citizen.citizen_id] = citizen
            if citizen.member_id:
                by_member[citizen.member_id] = citizen
            by_key.setdefault(self.subject_key(citizen), []).append(citizen)

        claimed: set[int] = set()
        outside: list[int] = []
        for row, key in ready:
            citizen_id = row.values["citizen_id"]
            ok, match = self.match_person(
                row,
                errors,
                citizen_id=citizen_id,
                by_id=by_id,
                candidates=by_key.get(key[:3], []),
                claimed=claimed,
                outside=outside,
                taken_elsewhere=citizen_taken_elsewhere(),
                ambiguous=_(
                    "Several registered citizens of this unit have this name and date of birth: add the "
                    "citizen ID to tell them apart."
                ),
                twice=_("Another row of this file already updates the same citizen."),
            )
            if not ok:
                continue
            holder = self.members.get(citizen_id) if citizen_id else None
            if holder is not None:
                other = by_member.get(holder[0])
                if other is not None and (match is None or other.pk != match.pk):
                    errors.add(
                        row.number,
                        self.headers["citizen_id"],
                        _("The member holding this citizen ID is already another citizen."),
                    )
                    continue
            self.plan_row(row, match, plan, errors)
            if match is not None:
                claimed.add(match.pk)
        if outside:
            citizen_id_lookups_record(user=self.actor, member_ids=outside, model=Citizen)
        return plan

    def _communities_resolve(self, ready: list[tuple[ParsedRow, tuple]], errors: ErrorLog) -> list:
        """The village named on each row, among those of the citizen's commune (the branch
        itself, or the commune above a chapter): its id in the row's values, in one query;
        a name not registered there is the row's error."""
        wanted = [(row, self._commune_of(row.values["branch"])) for row, _key in ready if row.values.get("community")]
        found: dict[tuple[int, str], list[int]] = {}
        if wanted:
            rows = Community.objects.filter(
                branch_id__in={commune for _row, commune in wanted},
                name_search__in={search_key(row.values["community"]) for row, _commune in wanted},
            ).values_list("pk", "branch_id", "name")
            for pk, branch_id, name in rows:
                found.setdefault((branch_id, name_key(name)), []).append(pk)
                self.community_names[pk] = name
        kept = []
        for row, key in ready:
            name = row.values.get("community")
            if name:
                matches = found.get((self._commune_of(row.values["branch"]), name_key(name)), [])
                if len(matches) != 1:
                    errors.add(
                        row.number,
                        self.headers["community"],
                        _("No village or residential group of this name is registered under her commune or ward."),
                    )
                    continue
                row.values["community"] = matches[0]
            kept.append((row, key))
        return kept

    def _commune_of(self, branch_id: int | None) -> int | None:
        if branch_id is None:
            return None
        if self.levels.get(branch_id) == BranchLevel.COMMUNE:
            return branch_id
        return self.parents.get(branch_id)

    def assign(self, subject, values: dict) -> None:
        if not values.get("citizen_id") and subject.pk is not None:
            values = {key: value for key, value in values.items() if key != "citizen_id"}  # never erased by a blank
        values = dict(values)
        community = values.pop("community", None)
        if isinstance(community, int):  # resolved by `_communities_resolve`; empty: left as it was
            subject.community_id = community
        super().assign(subject, values)

    def complete(self, row: ParsedRow, subject, existing) -> None:
        citizen_id = row.values.get("citizen_id")
        if not citizen_id:
            if existing is None:
                subject.member_id = None
            return  # the recorded ID, and so its member, stay as they were
        holder = self.members.get(citizen_id)
        if holder is None:
            subject.member_id = None
        elif holder[1] in self.branch_names or (existing is not None and existing.member_id == holder[0]):
            subject.member_id = holder[0]
        else:
            subject.member_id = None  # a member outside the subtree is not linked, and nothing is said

    def tracked(self) -> list[str]:
        return [*(f"{key}_id" if key == "community" else key for key in super().tracked()), "member_id"]

    def label(self, attr: str) -> str:
        return super().label(attr.removesuffix("_id") if attr == "community_id" else attr)

    def show(self, attr: str, value):
        if attr == "member_id" and value is not None:
            return self.member_names.get(value, value)
        if attr == "community_id" and value is not None:
            return self.community_names.get(value, value)
        return super().show(attr, value)
