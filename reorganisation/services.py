# ruff: noqa: S608 - the SQL below interpolates only table names from model metadata and placeholders; values are parameters.
"""Reorganising the administrative map: create a draft from a conversion table, see its dry
run, decide the items no whole merge places, apply it in one transaction.

The apply follows the contract the history counts rely on (associations.models.RecordMove):
administrative units are never re-hung (a predecessor is dissolved on the effective day, its
successor is founded that day or is an absorbing unit that keeps its name and code); records
alive on the effective day move to the successor and leave one RecordMove each; a chapter or
board is re-hung with its whole subtree (one RecordMove, the records below it untouched);
records closed before the effective day stay. Every move is a set-based statement joined
against a mapping table (UnitMapping: unit → successor; ReorganisationDecision: record →
successor; PathRewrite: subtree top → new path), never a query per record.

`actor=None` is the management command (a system write, no access check).
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in
from associations.audit import audit_record
from associations.models import (
    AuditAction,
    Branch,
    BranchLevel,
    DivisionType,
    LineageEdge,
    Member,
    Organization,
    OrganizationHeadcount,
    RecordMove,
    Reorganisation,
    StaffProfile,
    StaffRole,
)
from funds.models import Fund, LedgerEntry, LedgerKind, ReceiptCounter, Transfer
from funds.services.ledger import lock_funds, post_entries, recorder
from funds.totals import (
    SPECS,
    totals_drop_emptied,
    totals_move_holders,
    totals_move_subtrees,
    totals_rebuild_all,
    totals_rebuild_levels,
    tree_depth,
)
from khuyenhoc.signals import money_changed, registry_changed
from learning.models import Citizen, Clan, Community, Household
from reorganisation.models import AccountAction, ConversionRow, PathRewrite, ReorganisationDecision, UnitMapping
from reorganisation.rehome import LEARNING_COUNT_KEYS, learning_records_rehome, learning_rehome_counts
from reorganisation.tables import PART, WHOLE, TableRow
from scholarships.models import ScholarshipRound

logger = logging.getLogger(__name__)

STEP = Branch.steplen  # a child's path is its parent's plus this many characters
ADMIN_LEVELS = (BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE)
CHAPTER_LEVELS = (BranchLevel.CHAPTER, BranchLevel.BOARD)
MAX_NAMED = 20

# The records a unit's successor takes, each with the SQL that says it is alive on the
# effective day ({t} is the table's alias; %(day)s the effective day).
SIMPLE_MOVES: list[tuple[str, type, str]] = [
    ("associations.organization", Organization, "({t}.active_to IS NULL OR {t}.active_to >= %(day)s)"),
    ("associations.member", Member, "({t}.left_on IS NULL OR {t}.left_on >= %(day)s)"),
    ("associations.staffprofile", StaffProfile, "1 = 1"),
    ("learning.household", Household, "1 = 1"),
    ("learning.clan", Clan, "1 = 1"),
    ("learning.community", Community, "1 = 1"),
    ("learning.citizen", Citizen, "1 = 1"),
]
# The moved records the engine handles apart from SIMPLE_MOVES (checked by a test against
# the classification).
SPECIAL_MOVES = {"scholarships.scholarshipround"}

# An item's label in the decision list and the workbook ({t} the record's table).
ITEM_LABELS = {
    "associations.branch": "{t}.name",
    "associations.organization": "{t}.name",
    "associations.member": "{t}.full_name",
    "funds.fund": "{t}.name",
    "associations.staffprofile": "u.username",
    "learning.household": "{t}.head_name",
    "learning.clan": "{t}.name",
    "learning.community": "{t}.name",
    "learning.citizen": "{t}.full_name",
}
ITEM_MODELS = {
    "associations.branch": Branch,
    "associations.organization": Organization,
    "associations.member": Member,
    "funds.fund": Fund,
    "associations.staffprofile": StaffProfile,
    "learning.household": Household,
    "learning.clan": Clan,
    "learning.community": Community,
    "learning.citizen": Citizen,
}


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _day(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def _check(actor) -> Branch:
    root = Branch.objects.city_root()
    if root is None:
        raise ValidationError(_("Load the administrative map first."))
    if actor is not None:
        require_write_in(actor, root, manage=True)
    return root


# --- Draft -----------------------------------------------------------------------------------


@transaction.atomic
def reorganisation_create(
    *,
    actor,
    name: str,
    legal_basis: str,
    effective_on: datetime.date,
    rows: Iterable[TableRow],
    source: str = "",
) -> Reorganisation:
    """A draft reorganisation holding its table's rows; nothing on the map changes yet."""
    _check(actor)
    rows = list(rows)
    if not name.strip():
        raise ValidationError({"name": _("Give the reorganisation a name.")})
    if not rows:
        raise ValidationError(_("The table has no rows."))
    reorganisation = Reorganisation.objects.create(
        name=name.strip()[:255], legal_basis=legal_basis.strip()[:100], effective_on=effective_on, source=source[:255]
    )
    ConversionRow.objects.bulk_create(
        [
            ConversionRow(
                reorganisation=reorganisation,
                row=row.row,
                old_code=row.old_code,
                old_name=row.old_name[:200],
                old_district=row.old_district[:200],
                new_code=row.new_code,
                new_name=row.new_name[:200],
                kind=row.kind,
                derived=row.derived,
                rule=row.rule[:255],
            )
            for row in rows
        ],
        batch_size=1000,
    )
    audit_record(
        actor=actor,
        obj=reorganisation,
        action=AuditAction.CREATE,
        branch=Branch.objects.city_root(),
        changes={_("rows"): len(rows), _("effective on"): _day(effective_on), _("legal basis"): legal_basis},
    )
    return reorganisation


# --- Resolution: which unit becomes which (read-only) ----------------------------------------


@dataclass
class NewUnit:
    """A successor the apply founds on the effective day."""

    code: str
    name: str
    parent: Branch

    @property
    def division_type(self) -> str:
        first = self.name.split(" ")[0].lower()
        if self.name.lower().startswith("thị trấn"):
            return DivisionType.TOWNSHIP
        return {"phường": DivisionType.WARD, "xã": DivisionType.COMMUNE}.get(first, DivisionType.COMMUNE)


WHOLE_MODE = "whole"
DECIDE_MODE = "decide"
KEPT_MODE = "kept"
ALREADY_MODE = "already"


@dataclass
class UnitPlan:
    predecessor: Branch
    mode: str
    successor_codes: list[str]  # as the table writes them
    rows: list[ConversionRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # The successors as the portal will show them: (code, name). A table's code may differ
    # from the code of the unit already founded for it (the GSO renumbered some units).
    successors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Resolution:
    reorganisation: Reorganisation
    root: Branch
    units: dict[int, UnitPlan]  # predecessor id → its plan
    existing: dict[str, Branch]  # new code → successor already in the tree
    new_units: dict[str, NewUnit]  # new code → successor to found
    errors: list[str]

    @property
    def dissolved_ids(self) -> list[int]:
        return sorted(pk for pk, unit in self.units.items() if unit.mode in {WHOLE_MODE, DECIDE_MODE})

    @property
    def decide_ids(self) -> list[int]:
        return sorted(pk for pk, unit in self.units.items() if unit.mode == DECIDE_MODE)

    @property
    def whole_ids(self) -> list[int]:
        return sorted(pk for pk, unit in self.units.items() if unit.mode == WHOLE_MODE)

    @property
    def is_noop(self) -> bool:
        return not self.dissolved_ids and not self.new_units

    def portal_code(self, table_code: str) -> str:
        """The code the successor named by a table code has (or will have) in the portal."""
        branch = self.existing.get(table_code)
        return branch.code if branch is not None else table_code


def _resolve(reorganisation: Reorganisation) -> Resolution:
    root = Branch.objects.city_root()
    day = reorganisation.effective_on
    before = day - datetime.timedelta(days=1)
    rows = list(reorganisation.table_rows.order_by("row"))
    errors: list[str] = []
    old_codes = {row.old_code for row in rows}
    candidates = Branch.objects.active_on(before).filter(code__in=old_codes, level__in=ADMIN_LEVELS, depth__gt=1)
    by_code: dict[str, list[Branch]] = defaultdict(list)
    for branch in candidates:
        by_code[branch.code].append(branch)
    rows_of: dict[int, list[ConversionRow]] = defaultdict(list)
    old_branch: dict[str, Branch] = {}
    for row in rows:
        found = by_code.get(row.old_code, [])
        if not found:
            errors.append(
                _("Row %(row)s: no unit with code %(code)s (%(name)s) is in force on %(day)s.")
                % {"row": row.row, "code": row.old_code, "name": row.old_name, "day": _day(before)}
            )
            continue
        if len(found) > 1:
            errors.append(
                _("Row %(row)s: %(count)s units with code %(code)s are in force on %(day)s.")
                % {"row": row.row, "count": len(found), "code": row.old_code, "day": _day(before)}
            )
            continue
        old_branch[row.old_code] = found[0]
        rows_of[found[0].pk].append(row)

    new_codes = sorted({row.new_code for row in rows if row.new_code})
    names = {row.new_code: row.new_name for row in rows if row.new_code}
    founded = _preloaded_successors(names, day)
    units: dict[int, UnitPlan] = {}
    # Which predecessors keep themselves: a new code naming the same unit with the same name.
    kept: set[int] = set()
    for code in new_codes:
        branch = old_branch.get(code)
        if (
            code not in founded
            and branch is not None
            and branch.name == names[code]
            and all(row.new_code == code for row in rows_of[branch.pk])
        ):
            kept.add(branch.pk)
    for pk, unit_rows in rows_of.items():
        branch = unit_rows and old_branch[unit_rows[0].old_code]
        codes = sorted({row.new_code for row in unit_rows if row.new_code})
        if branch.dissolved_on is not None and branch.dissolved_on <= day:
            mode = ALREADY_MODE
        elif pk in kept:
            mode = KEPT_MODE
        elif len(codes) == 1 and all(row.kind == WHOLE and row.new_code for row in unit_rows):
            mode = WHOLE_MODE
        else:
            mode = DECIDE_MODE
        units[pk] = UnitPlan(predecessor=branch, mode=mode, successor_codes=codes, rows=unit_rows)

    # Units the table does not name: an administrative unit whose every unit below is
    # dissolved goes with them (the 2017 districts in 2025); its own records need decisions.
    # A unit that would keep its name and code under such a parent cannot stay (units are
    # never re-hung): it is founded anew under the city, with a whole edge.
    dissolved = {pk for pk, unit in units.items() if unit.mode in {WHOLE_MODE, DECIDE_MODE}}
    parent_paths = {unit.predecessor.path[: -Branch.steplen] for unit in units.values() if unit.predecessor.depth > 2}
    if parent_paths and dissolved:
        children_of: dict[str, set[int]] = defaultdict(set)
        for pk, path in (
            Branch.objects.active_on(before)
            .filter(level__in=ADMIN_LEVELS, depth__gt=2)
            .annotate(parent_path=Substr("path", 1, Length("path") - Branch.steplen))
            .filter(parent_path__in=parent_paths)
            .values_list("pk", "path")
        ):
            children_of[path[: -Branch.steplen]].add(pk)
        for parent in Branch.objects.active_on(before).filter(path__in=parent_paths, level__in=ADMIN_LEVELS):
            children = children_of.get(parent.path, set())
            if children and children <= dissolved | kept and children & dissolved:
                units[parent.pk] = UnitPlan(predecessor=parent, mode=DECIDE_MODE, successor_codes=[])
                dissolved.add(parent.pk)
                for pk in children & kept:
                    units[pk].mode = WHOLE_MODE
                    kept.discard(pk)
                    dissolved.add(pk)

    existing: dict[str, Branch] = dict(founded)
    # An absorbing unit the table names only as a successor, in force and keeping its name.
    outside = [code for code in new_codes if code not in founded and code not in old_branch]
    for branch in Branch.objects.active_on(before).filter(code__in=outside, level__in=ADMIN_LEVELS, depth__gt=1):
        if branch.name == names[branch.code] and branch.pk not in dissolved:
            existing[branch.code] = branch
    new_units: dict[str, NewUnit] = {}
    for code in new_codes:
        if code in existing:
            continue
        branch = old_branch.get(code)
        if branch is not None and branch.pk in kept and units[branch.pk].mode != ALREADY_MODE:
            existing[code] = branch
            continue
        predecessors = [units[pk].predecessor for pk in rows_of if any(r.new_code == code for r in rows_of[pk])]
        if any(unit.mode == ALREADY_MODE for unit in units.values() if unit.predecessor in predecessors):
            continue
        parent_paths = {p.path[: -Branch.steplen] for p in predecessors}
        parent = root
        if len(parent_paths) == 1:
            candidate = Branch.objects.filter(path=parent_paths.pop()).first()
            if candidate is not None and candidate.pk not in dissolved:
                parent = candidate
        new_units[code] = NewUnit(code=code, name=names[code], parent=parent)
    for unit in units.values():
        unit.successors = [
            (existing[code].code, existing[code].name) if code in existing else (code, names[code])
            for code in unit.successor_codes
            if code in existing or code in new_units
        ]
    taken = Branch.objects.filter(founded_on=day, code__in=list(new_units)).values_list("code", "name")
    for code, name in taken:
        errors.append(
            _("The new unit %(new)s (%(code)s) cannot be founded: %(other)s already has that code on %(day)s.")
            % {"new": names[code], "code": code, "other": name, "day": _day(day)}
        )
    return Resolution(
        reorganisation=reorganisation, root=root, units=units, existing=existing, new_units=new_units, errors=errors
    )


def _preloaded_successors(names: dict[str, str], day: datetime.date) -> dict[str, Branch]:
    """The table's new units already founded on the effective day (a map loaded ahead),
    matched by code and name, else by a name no other unit founded that day has: the GSO
    renumbered some units after publishing the conversion table, so a code alone may name
    another place."""
    if not names:
        return {}
    candidates = list(
        Branch.objects.filter(founded_on=day, level__in=ADMIN_LEVELS, depth__gt=1).filter(
            Q(code__in=list(names)) | Q(name__in=set(names.values()))
        )
    )
    by_code_and_name = {(b.code, b.name): b for b in candidates}
    by_name: dict[str, list[Branch]] = defaultdict(list)
    for branch in candidates:
        by_name[branch.name].append(branch)
    result = {}
    for code, name in names.items():
        branch = by_code_and_name.get((code, name))
        if branch is None and len(by_name.get(name, [])) == 1:
            branch = by_name[name][0]
        if branch is not None:
            result[code] = branch
    return result


# --- Dry run ------------------------------------------------------------------------------


@dataclass
class Plan:
    """What applying would do, counted set-based; computing it writes nothing."""

    reorganisation: Reorganisation
    units: list[UnitPlan]
    new_units: list[NewUnit]
    errors: list[str]
    totals: dict[str, int]
    items: int  # records of split or unnamed units that need a decision
    undecided: int
    is_noop: bool


COUNT_KEYS = (
    "chapters",
    "boards",
    "organisations",
    "headcount",
    "members",
    "members_without_organisation",
    "funds",
    "balance",
    "open_rounds",
    "accounts",
    "households",
    "clans",
    "communities",
    "citizens",
)


def _counts(ids: list[int], day: datetime.date) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = {pk: dict.fromkeys(COUNT_KEYS, 0) for pk in ids}
    if not ids:
        return result

    def put(rows, key, value="n"):
        for row in rows:
            result[row["branch"]][key] = row[value] or 0

    alive_org = Q(active_to__isnull=True) | Q(active_to__gte=day)
    headcount_total = (
        OrganizationHeadcount.objects.filter(organization=OuterRef("pk"))
        .order_by("-year")
        .annotate(total=_headcount_sum())
        .values("total")[:1]
    )
    organisations = (
        Organization.objects.filter(alive_org, branch_id__in=ids)
        .annotate(hc=Subquery(headcount_total))
        .values("branch")
        .annotate(n=Count("id"), headcount=Sum("hc"))
    )
    for row in organisations:
        result[row["branch"]]["organisations"] = row["n"]
        result[row["branch"]]["headcount"] = row["headcount"] or 0
    alive_member = Q(left_on__isnull=True) | Q(left_on__gte=day)
    members = (
        Member.objects.filter(alive_member, branch_id__in=ids)
        .values("branch")
        .annotate(n=Count("id"), alone=Count("id", filter=Q(organization__isnull=True)))
    )
    for row in members:
        result[row["branch"]]["members"] = row["n"]
        result[row["branch"]]["members_without_organisation"] = row["alone"]
    funds = (
        Fund.objects.filter(branch_id__in=ids)
        .not_closed_on(day)
        .values("branch")
        .annotate(n=Count("id"), total=Sum("balance"))
    )
    for row in funds:
        result[row["branch"]]["funds"] = row["n"]
        result[row["branch"]]["balance"] = row["total"] or 0
    put(
        ScholarshipRound.objects.filter(branch_id__in=ids, awarded_on__gte=day)
        .values("branch")
        .annotate(n=Count("id")),
        "open_rounds",
    )
    put(StaffProfile.objects.filter(branch_id__in=ids).values("branch").annotate(n=Count("id")), "accounts")
    for key, model in (("households", Household), ("clans", Clan), ("communities", Community), ("citizens", Citizen)):
        put(model.objects.filter(branch_id__in=ids).values("branch").annotate(n=Count("id")), key)
    # Chapters and boards directly below each unit (their subtrees move with them).
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, c.level, COUNT(*) FROM {_table(Branch)} c
            JOIN {_table(Branch)} p ON p.path = substr(c.path, 1, length(c.path) - {STEP})
            WHERE p.id IN ({",".join(["%s"] * len(ids))}) AND c.level IN (%s, %s)
              AND (c.dissolved_on IS NULL OR c.dissolved_on > %s)
            GROUP BY p.id, c.level
            """,
            [*ids, BranchLevel.CHAPTER, BranchLevel.BOARD, day],
        )
        for pk, level, n in cursor.fetchall():
            result[pk]["chapters" if level == BranchLevel.CHAPTER else "boards"] = n
    return result


def _headcount_sum():
    expression = F("party_members")
    for name in ("cadres", "civil_servants", "public_employees", "workers"):
        expression = expression + F(name)
    return expression


def reorganisation_plan(*, reorganisation: Reorganisation) -> Plan:
    """The dry run: for each old unit its successor(s) and what moves, and the items that
    need a decision. Reads only."""
    resolution = _resolve(reorganisation)
    ids = resolution.dissolved_ids
    counts = _counts(ids, reorganisation.effective_on)
    learning = learning_rehome_counts(reorganisation, {pk: resolution.units[pk].successor_codes for pk in ids})
    for pk, extra in learning.items():
        counts[pk].update(extra)
    for pk, unit in resolution.units.items():
        unit.counts = counts.get(pk, dict.fromkeys((*COUNT_KEYS, *LEARNING_COUNT_KEYS), 0))
    totals = {key: sum(c[key] for c in counts.values()) for key in (*COUNT_KEYS, *LEARNING_COUNT_KEYS)}
    items = _count_items(resolution)
    undecided = items - _decided_count(reorganisation, resolution)
    return Plan(
        reorganisation=reorganisation,
        units=sorted(resolution.units.values(), key=lambda u: u.predecessor.path),
        new_units=list(resolution.new_units.values()),
        errors=resolution.errors,
        totals=totals,
        items=items,
        undecided=max(undecided, 0),
        is_noop=resolution.is_noop or reorganisation.status == Reorganisation.Status.APPLIED,
    )


# --- Items that need a decision --------------------------------------------------------------


def _item_selects(ids: list[int], day: datetime.date) -> list[tuple[str, str, list]]:
    """(record_type, SELECT record_id, from_branch_id, params) of every item of the units."""
    if not ids:
        return []
    marks = ",".join(["%s"] * len(ids))
    branch, org, member = _table(Branch), _table(Organization), _table(Member)
    selects = [
        (
            "associations.branch",
            f"""SELECT c.id AS id, p.id AS branch_id FROM {branch} c JOIN {branch} p
                ON p.path = substr(c.path, 1, length(c.path) - {STEP})
                WHERE p.id IN ({marks}) AND c.level IN (%s, %s) AND (c.dissolved_on IS NULL OR c.dissolved_on > %s)
                AND NOT EXISTS (SELECT 1 FROM {org} o WHERE o.id = c.organization_id AND o.branch_id = p.id
                                AND (o.active_to IS NULL OR o.active_to >= %s))""",
            [*ids, BranchLevel.CHAPTER, BranchLevel.BOARD, day, day],
        ),
        (
            "associations.organization",
            f"""SELECT t.id AS id, t.branch_id AS branch_id FROM {org} t WHERE t.branch_id IN ({marks})
                AND (t.active_to IS NULL OR t.active_to >= %s)""",
            [*ids, day],
        ),
        (
            "associations.member",
            f"""SELECT t.id AS id, t.branch_id AS branch_id FROM {member} t
                LEFT JOIN {org} o ON o.id = t.organization_id
                WHERE t.branch_id IN ({marks}) AND (t.left_on IS NULL OR t.left_on >= %s)
                AND (t.organization_id IS NULL OR o.branch_id <> t.branch_id
                     OR (o.active_to IS NOT NULL AND o.active_to < %s))""",
            [*ids, day, day],
        ),
        (
            "funds.fund",
            f"""SELECT t.id AS id, t.branch_id AS branch_id FROM {_table(Fund)} t WHERE t.branch_id IN ({marks})
                AND (t.closed_on IS NULL OR t.closed_on >= %s)""",
            [*ids, day],
        ),
    ]
    for record_type, model in (
        ("associations.staffprofile", StaffProfile),
        ("learning.household", Household),
        ("learning.clan", Clan),
        ("learning.community", Community),
        ("learning.citizen", Citizen),
    ):
        selects.append(
            (
                record_type,
                f"SELECT t.id AS id, t.branch_id AS branch_id FROM {_table(model)} t WHERE t.branch_id IN ({marks})",
                [*ids],
            )
        )
    return selects


def _count_items(resolution: Resolution) -> int:
    total = 0
    with connection.cursor() as cursor:
        for _type, sql, params in _item_selects(resolution.decide_ids, resolution.reorganisation.effective_on):
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) items", params)
            total += cursor.fetchone()[0]
    return total


def _decided(reorganisation) -> Q:
    return Q(reorganisation=reorganisation) & (
        ~Q(successor_code="") | Q(account_action__in=[AccountAction.CITY_READ_ONLY, AccountAction.DEACTIVATE])
    )


def _decided_count(reorganisation: Reorganisation, resolution: Resolution) -> int:
    return ReorganisationDecision.objects.filter(
        _decided(reorganisation), from_branch_id__in=resolution.decide_ids
    ).count()


@transaction.atomic
def decisions_prepare(*, actor, reorganisation: Reorganisation) -> int:
    """Write every item of the split and unnamed units into the decision list (undecided),
    set-based; items already listed keep their decision. Returns how many were added."""
    _check(actor)
    _require_draft(reorganisation)
    resolution = _resolve(reorganisation)
    if resolution.errors:
        raise ValidationError(resolution.errors)
    return _prepare(reorganisation, resolution)


def _prepare(reorganisation: Reorganisation, resolution: Resolution) -> int:
    table = _table(ReorganisationDecision)
    added = 0
    with connection.cursor() as cursor:
        for record_type, sql, params in _item_selects(resolution.decide_ids, reorganisation.effective_on):
            cursor.execute(
                f"""INSERT INTO {table} (reorganisation_id, record_type, record_id, from_branch_id,
                        successor_code, account_action)
                    SELECT %s, %s, items.id, items.branch_id, '', '' FROM ({sql}) items
                    WHERE NOT EXISTS (SELECT 1 FROM {table} d WHERE d.reorganisation_id = %s
                        AND d.record_type = %s AND d.record_id = items.id)""",
                [reorganisation.pk, record_type, *params, reorganisation.pk, record_type],
            )
            added += cursor.rowcount
    return added


def _require_draft(reorganisation: Reorganisation) -> None:
    if reorganisation.status == Reorganisation.Status.APPLIED:
        raise ValidationError(_("This reorganisation was already applied; its decisions can no longer change."))


def _successor_codes(resolution: Resolution) -> set[str]:
    """The portal codes of the table's successors (see `Resolution.portal_code`); with the
    units in force on the effective day that this reorganisation does not dissolve, they
    are the codes a decision may name."""
    return {branch.code for branch in resolution.existing.values()} | set(resolution.new_units)


def _check_code(resolution: Resolution, code: str) -> str | None:
    """None if the code names a possible successor; otherwise the reason."""
    if code in _successor_codes(resolution):
        return None
    in_force = Branch.objects.active_on(resolution.reorganisation.effective_on).filter(
        code=code, level__in=ADMIN_LEVELS, depth__gt=1
    )
    in_force = in_force.exclude(pk__in=resolution.dissolved_ids)
    if in_force.count() == 1:
        return None
    return _("No unit with code %(code)s will be in force on %(day)s.") % {
        "code": code,
        "day": _day(resolution.reorganisation.effective_on),
    }


@transaction.atomic
def decision_set(
    *,
    actor,
    reorganisation: Reorganisation,
    record_type: str,
    record_id: int,
    successor_code: str = "",
    account_action: str = "",
) -> ReorganisationDecision:
    """Give one listed item its home: a successor's code, and for an account an action."""
    _check(actor)
    _require_draft(reorganisation)
    decision = (
        ReorganisationDecision.objects.select_for_update()
        .filter(reorganisation=reorganisation, record_type=record_type, record_id=record_id)
        .first()
    )
    if decision is None:
        raise ValidationError(_("This record is not on the reorganisation's decision list."))
    _fill(decision, _resolve(reorganisation), successor_code.strip(), account_action.strip())
    decision.save(update_fields=["successor_code", "account_action"])
    return decision


def _fill(decision: ReorganisationDecision, resolution: Resolution, code: str, action: str) -> None:
    if action and action not in AccountAction.values:
        raise ValidationError(_("Unknown account action '%(action)s'.") % {"action": action})
    if action and decision.record_type != "associations.staffprofile":
        raise ValidationError(_("Only an account takes an action."))
    if action in {AccountAction.CITY_READ_ONLY, AccountAction.DEACTIVATE}:
        code = ""
    elif not code:
        raise ValidationError(_("Choose the successor unit."))
    else:
        problem = _check_code(resolution, code)
        if problem:
            raise ValidationError(problem)
        action = action or (AccountAction.MOVE if decision.record_type == "associations.staffprofile" else "")
    decision.successor_code = code
    decision.account_action = action


@transaction.atomic
def unit_decide(
    *, actor, reorganisation: Reorganisation, branch: Branch, successor_code: str, account_action: str = ""
) -> int:
    """Give every undecided item of one old unit the same home (accounts: `account_action`,
    or moved with the rest). Returns how many items it decided."""
    _check(actor)
    _require_draft(reorganisation)
    resolution = _resolve(reorganisation)
    problem = _check_code(resolution, successor_code)
    if problem:
        raise ValidationError(problem)
    if account_action and account_action not in AccountAction.values:
        raise ValidationError(_("Unknown account action '%(action)s'.") % {"action": account_action})
    return decide_unit_items(reorganisation, branch, successor_code, account_action)


def decide_unit_items(reorganisation: Reorganisation, branch: Branch, successor_code: str, account_action: str) -> int:
    """unit_decide's writes, without its checks: for callers that checked the code and the
    action once for many units (rounds.rule_decisions). Two UPDATEs."""
    undecided = ReorganisationDecision.objects.filter(reorganisation=reorganisation, from_branch=branch).exclude(
        _decided(reorganisation)
    )
    accounts = undecided.filter(record_type="associations.staffprofile")
    action = account_action or AccountAction.MOVE
    count = accounts.update(
        successor_code="" if action != AccountAction.MOVE else successor_code, account_action=action
    )
    count += undecided.exclude(record_type="associations.staffprofile").update(successor_code=successor_code)
    return count


def undecided_items(reorganisation: Reorganisation, *, limit: int | None = None) -> list[dict]:
    """The first `limit` listed items without a home, with a readable label (the refusal
    and the page)."""
    result = []
    for item in iter_undecided_items(reorganisation, limit=limit):
        result.append(item)
    return result


def iter_undecided_items(reorganisation: Reorganisation, *, limit: int | None = None):
    """The listed items without a home, streamed in order of their old unit, each with its
    old unit, a readable label and the successors the table names for that unit; one query
    per kind of record, read in batches (the workbook of a whole city's split communes)."""
    decisions, branch = _table(ReorganisationDecision), _table(Branch)
    successors = None  # computed at the first item: an empty list costs no resolution
    given = 0
    for record_type, label in ITEM_LABELS.items():
        model = ITEM_MODELS[record_type]
        join_user = (
            f"JOIN {connection.ops.quote_name(get_user_model()._meta.db_table)} u ON u.id = t.user_id"
            if record_type == "associations.staffprofile"
            else ""
        )
        sql = f"""SELECT d.record_type, d.record_id, fb.id, fb.name, fb.code, {label.format(t="t")}
                  FROM {decisions} d JOIN {_table(model)} t ON t.id = d.record_id {join_user}
                  JOIN {branch} fb ON fb.id = d.from_branch_id
                  WHERE d.reorganisation_id = %s AND d.record_type = %s AND d.successor_code = ''
                    AND d.account_action NOT IN (%s, %s)
                  ORDER BY fb.path, d.record_id"""
        params = [reorganisation.pk, record_type, AccountAction.CITY_READ_ONLY, AccountAction.DEACTIVATE]
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit - given)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(2000):
                if successors is None:
                    successors = {
                        unit.predecessor.pk: "; ".join(f"{code} {name}" for code, name in unit.successors)
                        for unit in _resolve(reorganisation).units.values()
                    }
                for kind, pk, unit_id, unit, code, name in rows:
                    given += 1
                    yield {
                        "record_type": kind,
                        "record_id": pk,
                        "unit": unit,
                        "unit_code": code,
                        "label": name,
                        "successors": successors.get(unit_id, ""),
                    }
        if limit is not None and given >= limit:
            return


def valid_successor_codes(reorganisation: Reorganisation) -> set[str]:
    """Every code a decision may name (see `_check_code`), in two queries."""
    resolution = _resolve(reorganisation)
    in_force = (
        Branch.objects.active_on(reorganisation.effective_on)
        .filter(level__in=ADMIN_LEVELS, depth__gt=1)
        .exclude(code="")
        .exclude(pk__in=resolution.dissolved_ids)
        .values_list("code", flat=True)
    )
    return _successor_codes(resolution) | set(in_force)


# --- Apply ---------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    reorganisation: Reorganisation
    applied: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # each step's wall-clock time


class StepTimer:
    """The wall-clock seconds of each step of an apply, logged at DEBUG as each ends and kept
    on the result (the bench records them): `done(step)` closes the step begun at the last
    call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        elapsed, self._mark = now - self._mark, now
        self.seconds[step] = round(self.seconds.get(step, 0.0) + elapsed, 3)
        logger.debug("reorganisation apply: %s took %.2f s", step, elapsed)


def _execute(sql: str, params) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def reorganisation_apply(*, actor, reorganisation: Reorganisation) -> ApplyResult:
    """Apply the reorganisation in one transaction, or refuse (nothing written) naming the
    items that have no home. Applying it again, or a table already applied, changes nothing."""
    steps = StepTimer()
    root = _check(actor)
    reorganisation = Reorganisation.objects.select_for_update().get(pk=reorganisation.pk)
    if reorganisation.status == Reorganisation.Status.APPLIED:
        return ApplyResult(
            reorganisation,
            False,
            _("Nothing to do: this reorganisation was already applied on %(day)s.")
            % {"day": _day(timezone.localtime(reorganisation.applied_at).date())},
        )
    resolution = _resolve(reorganisation)
    if resolution.errors:
        raise ValidationError(resolution.errors)
    if resolution.is_noop:
        return ApplyResult(
            reorganisation,
            False,
            _("Nothing to do: every unit of this table was already reorganised on %(day)s.")
            % {"day": _day(reorganisation.effective_on)},
        )
    steps.done("resolution")
    day = reorganisation.effective_on
    _prepare(reorganisation, resolution)
    missing = undecided_items(reorganisation, limit=MAX_NAMED)
    if missing:
        total = (
            ReorganisationDecision.objects.filter(reorganisation=reorganisation)
            .exclude(_decided(reorganisation))
            .count()
        )
        named = "; ".join(
            f"{item['unit']} — {item['label']} ({item['record_type']} #{item['record_id']})" for item in missing
        )
        message = _("Nothing was applied: %(count)s items have no home yet: %(items)s") % {
            "count": total,
            "items": named,
        }
        if total > len(missing):
            message += " " + _("and %(count)s more.") % {"count": total - len(missing)}
        raise ValidationError(message, code="undecided")

    steps.done("decision list")
    counts: dict[str, int] = defaultdict(int)
    successors = _found_successors(resolution, counts)
    _resolve_decisions(reorganisation, resolution, successors)
    whole = {pk: successors[resolution.units[pk].successor_codes[0]] for pk in resolution.whole_ids}
    UnitMapping.objects.bulk_create(
        [UnitMapping(reorganisation=reorganisation, predecessor_id=pk, successor=s) for pk, s in whole.items()],
        batch_size=1000,
    )
    steps.done("successors and mappings")
    moved_parents = _rehang_chapters(reorganisation, resolution, whole, counts)
    steps.done("chapters re-hung")
    _move_records(reorganisation, root, counts, steps)
    _move_funds(actor, reorganisation, resolution, whole, counts)
    steps.done("funds")
    dissolved = resolution.dissolved_ids
    counts["dissolved"] = Branch.objects.filter(pk__in=dissolved).update(dissolved_on=day)
    _write_edges(reorganisation, resolution, successors)
    steps.done("dissolved and lineage")
    counts.update(learning_records_rehome(reorganisation, steps=steps))  # the learning records dated from the day
    _recount_children({*dissolved, *moved_parents})
    steps.done("children recounted")
    _move_totals(reorganisation)
    steps.done("money totals")
    reorganisation.status = Reorganisation.Status.APPLIED
    reorganisation.applied_at = timezone.now()
    reorganisation.applied_by = recorder(actor)
    reorganisation.save(update_fields=["status", "applied_at", "applied_by"])
    counts = dict(counts)
    audit_record(actor=actor, obj=reorganisation, action=AuditAction.MOVE, branch=root, changes=counts)
    registry_changed.send(sender=Reorganisation, branch_id=root.pk)
    money_changed.send(sender=Reorganisation, branch_id=root.pk)
    moved = RecordMove.objects.filter(reorganisation=reorganisation).count()
    steps.done("audit and signals")
    return ApplyResult(
        reorganisation,
        True,
        _("Applied: %(dissolved)s units dissolved, %(founded)s founded, %(moves)s records moved.")
        % {
            "dissolved": counts.get("dissolved", 0),
            "founded": counts.get("founded", 0),
            "moves": moved,
        },
        counts,
        steps.seconds,
    )


# Above this many re-hung chapters and boards, and this share of the tree's branches, the
# apply rebuilds the stored money totals rather than moving them (`_move_totals`).
REBUILD_TOTALS_ABOVE = 1_000
REBUILD_TOTALS_SHARE = 0.25


def _move_totals(reorganisation) -> None:
    """The stored money totals (funds.totals) follow what the apply moved, in its transaction:
    the re-hung chapters and boards take their subtrees' rows from their old ancestors to
    their new ones, and the records of moved holders (the rounds that followed their fund or
    unit; funds, should any move) go from the old branch's line to the new one's. Funds stay
    with their dissolved unit (their donations with them) and the balance transfers are
    ledger rows, which the totals do not count. A fixed number of statements, whatever the
    number of moves: the subtrees first, from the rows as they were before the apply.

    A round that re-hangs most of the tree (Hanoi's third: 29 035 chapters and boards of about
    30 000) rebuilds the administrative units' rows instead (`totals_rebuild_levels`: their own
    records and the stored rows of the chapters and boards right below them; the rows below
    stay), which is then the cheaper way (full size, shared machine: about 120 s for the
    donations' deltas, 82 s for a rebuild of every row)."""
    moves = RecordMove.objects.filter(reorganisation=reorganisation).values(
        m_key=F("record_id"), m_from=F("from_branch_id"), m_to=F("to_branch_id")
    )
    rehung = moves.filter(record_type="associations.branch").count()
    if rehung > REBUILD_TOTALS_ABOVE and rehung > REBUILD_TOTALS_SHARE * Branch.objects.count():
        # Only the administrative units' rows change: the re-hung subtrees' own rows do not,
        # and the moved holders (rounds) go from one unit to another (else: everything).
        holders = [
            spec.record_model()._meta.get_field(spec.branch_lookup.split("__")[0]).related_model._meta.label_lower
            for spec in SPECS.values()
        ]
        outside = (
            RecordMove.objects.filter(reorganisation=reorganisation, record_type__in=holders)
            .filter(~Q(from_branch__level__in=ADMIN_LEVELS) | ~Q(to_branch__level__in=ADMIN_LEVELS))
            .exists()
        )
        if outside:
            totals_rebuild_all()
        else:
            for spec in SPECS.values():
                totals_rebuild_levels(spec, levels=ADMIN_LEVELS)
        return
    depth = tree_depth()
    for spec in SPECS.values():
        totals_move_subtrees(spec, moves=moves.filter(record_type="associations.branch"), depth=depth)
    holders = {}
    for name, spec in SPECS.items():
        holders[name] = spec.record_model()._meta.get_field(spec.branch_lookup.split("__")[0]).related_model
        totals_move_holders(spec, moves=moves.filter(record_type=holders[name]._meta.label_lower), depth=depth)
    # The old units' lines the deltas emptied: their all-zero rows go (one statement per kind).
    for name, spec in SPECS.items():
        moved = moves.filter(record_type__in=["associations.branch", holders[name]._meta.label_lower])
        totals_drop_emptied(spec, moves=moved, depth=depth)


def _found_successors(resolution: Resolution, counts) -> dict[str, Branch]:
    """Found the table's new units (bulk, one insert per parent), return code → successor."""
    day = resolution.reorganisation.effective_on
    successors = dict(resolution.existing)
    by_parent: dict[int, list[NewUnit]] = defaultdict(list)
    for unit in resolution.new_units.values():
        by_parent[unit.parent.pk].append(unit)
    for units in by_parent.values():
        parent = Branch.objects.get(pk=units[0].parent.pk)
        last = Branch.objects.filter(path__startswith=parent.path, depth=parent.depth + 1).order_by("-path").first()
        position = Branch._str2int(last.path[-Branch.steplen :]) if last else 0
        created = []
        for unit in sorted(units, key=lambda u: u.code):
            position += 1
            created.append(
                successors.setdefault(
                    unit.code,
                    Branch(
                        path=Branch._get_path(parent.path, parent.depth + 1, position),
                        depth=parent.depth + 1,
                        numchild=0,
                        name=unit.name,
                        level=BranchLevel.COMMUNE,
                        division_type=unit.division_type,
                        code=unit.code,
                        founded_on=day,
                    ),
                )
            )
        Branch.objects.bulk_create(created)
        Branch.objects.filter(pk=parent.pk).update(numchild=parent.numchild + len(created))
        counts["founded"] += len(created)
    return successors


def _resolve_decisions(reorganisation, resolution: Resolution, successors: dict[str, Branch]) -> None:
    """Turn each decision's successor code into its branch: one UPDATE for all of them."""
    codes = set(
        ReorganisationDecision.objects.filter(reorganisation=reorganisation)
        .exclude(successor_code="")
        .values_list("successor_code", flat=True)
        .distinct()
    )
    if not codes:
        return
    by_portal_code = {branch.code: branch.pk for branch in successors.values()}
    others = set(codes) - set(by_portal_code)
    if others:
        for branch in (
            Branch.objects.active_on(reorganisation.effective_on)
            .filter(code__in=others, level__in=ADMIN_LEVELS, depth__gt=1)
            .exclude(pk__in=resolution.dissolved_ids)
        ):
            by_portal_code.setdefault(branch.code, branch.pk)
    for code in sorted(codes - set(by_portal_code)):
        raise ValidationError(
            _("No unit with code %(code)s will be in force on %(day)s.")
            % {"code": code, "day": _day(reorganisation.effective_on)}
        )
    # A join with the codes' list: a CASE over every code would compare each decision with each.
    codes = sorted(codes)
    decisions = _table(ReorganisationDecision)
    if not codes:
        return
    if connection.vendor != "postgresql":  # the embedded SQLite of `make run`: a small city
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {decisions} SET successor_id = %s WHERE reorganisation_id = %s AND successor_code = %s",
                [(by_portal_code[code], reorganisation.pk, code) for code in codes],
            )
        return
    _execute(
        f"""UPDATE {decisions} SET successor_id = v.id
            FROM (VALUES {", ".join(["(%s, %s::bigint)"] * len(codes))}) AS v(code, id)
            WHERE {decisions}.reorganisation_id = %s AND {decisions}.successor_code = v.code""",
        [*(x for code in codes for x in (code, by_portal_code[code])), reorganisation.pk],
    )


def _rehang_chapters(reorganisation, resolution: Resolution, whole: dict[int, Branch], counts) -> set[int]:
    """Re-hang the chapters and boards of dissolved units under their successors: new
    paths allocated after each successor's last child, then one UPDATE for every subtree."""
    day = reorganisation.effective_on
    tops: list[tuple[int, str, int, int, int]] = []  # id, path, depth, old parent, new parent
    ids = resolution.dissolved_ids
    if not ids:
        return set()
    branch = _table(Branch)
    marks = ",".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.path, c.depth, p.id, COALESCE(d.successor_id, od.successor_id) FROM {branch} c
                JOIN {branch} p ON p.path = substr(c.path, 1, length(c.path) - {STEP})
                LEFT JOIN {_table(ReorganisationDecision)} d ON d.reorganisation_id = %s
                     AND d.record_type = 'associations.branch' AND d.record_id = c.id
                LEFT JOIN {_table(ReorganisationDecision)} od ON od.reorganisation_id = %s
                     AND od.record_type = 'associations.organization' AND od.record_id = c.organization_id
                     AND od.from_branch_id = p.id
                WHERE p.id IN ({marks}) AND c.level IN (%s, %s)
                  AND (c.dissolved_on IS NULL OR c.dissolved_on > %s)
                ORDER BY c.path""",
            [reorganisation.pk, reorganisation.pk, *ids, BranchLevel.CHAPTER, BranchLevel.BOARD, day],
        )
        for pk, path, depth, parent, decided in cursor.fetchall():
            target = whole[parent].pk if parent in whole else decided
            tops.append((pk, path, depth, parent, target))
    if not tops:
        return set()
    targets = {target for *_rest, target in tops}
    parents = {b.pk: b for b in Branch.objects.filter(pk__in=targets)}
    last: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT p.id, MAX(c.path) FROM {branch} p JOIN {branch} c
                ON p.path = substr(c.path, 1, length(c.path) - {STEP})
                WHERE p.id IN ({",".join(["%s"] * len(targets))}) GROUP BY p.id""",
            list(targets),
        )
        for pk, path in cursor.fetchall():
            last[pk] = Branch._str2int(path[-Branch.steplen :])
    # Plain tuples and two INSERTs from arrays: no model instance per chapter (29 000 of them
    # in the full city's third round).
    rewrites = []  # branch id, old path, new path, depth change, old parent, new parent
    for pk, path, depth, parent, target in tops:
        new_parent = parents[target]
        last[target] = last.get(target, 0) + 1
        new_path = Branch._get_path(new_parent.path, new_parent.depth + 1, last[target])
        rewrites.append((pk, path, new_path, new_parent.depth + 1 - depth, parent, target))
    rewrite_sql = f"INSERT INTO {_table(PathRewrite)} (reorganisation_id, branch_id, old_path, new_path, depth_change)"
    move_sql = (
        f"INSERT INTO {_table(RecordMove)} (reorganisation_id, record_type, record_id, from_branch_id, to_branch_id)"
    )
    if connection.vendor == "postgresql":
        columns = list(zip(*rewrites, strict=True))
        _execute(
            f"""{rewrite_sql} SELECT %s, * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::smallint[])""",
            [reorganisation.pk, list(columns[0]), list(columns[1]), list(columns[2]), list(columns[3])],
        )
        _execute(
            f"""{move_sql} SELECT %s, 'associations.branch', * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])""",
            [reorganisation.pk, list(columns[0]), list(columns[4]), list(columns[5])],
        )
    else:  # the embedded SQLite of `make run` has no arrays: the same rows, one statement each
        with connection.cursor() as cursor:
            cursor.executemany(
                f"{rewrite_sql} VALUES (%s, %s, %s, %s, %s)",
                [(reorganisation.pk, pk, old, new, change) for pk, old, new, change, _parent, _target in rewrites],
            )
            cursor.executemany(
                f"{move_sql} VALUES (%s, 'associations.branch', %s, %s, %s)",
                [(reorganisation.pk, pk, parent, target) for pk, _old, _new, _change, parent, target in rewrites],
            )
    counts["chapters_and_boards"] += len(tops)
    # One UPDATE per depth of the moved tops (an equality join on the path's prefix, which
    # the database can hash), usually one or two.
    for length in sorted({len(path) for _pk, path, *_rest in rewrites}):
        counts["branches_rewritten"] += _execute(
            f"""UPDATE {branch} SET path = pr.new_path || substr({branch}.path, {length + 1}),
                    depth = {branch}.depth + pr.depth_change
                FROM {_table(PathRewrite)} pr
                WHERE pr.reorganisation_id = %s AND length(pr.old_path) = {length}
                  AND pr.old_path = substr({branch}.path, 1, {length}) AND {branch}.depth >= {length // STEP}""",
            [reorganisation.pk],
        )
    return targets


def _move_records(reorganisation, root: Branch, counts, steps: StepTimer | None = None) -> None:
    """Every alive record of a dissolved unit: its RecordMove row written by one INSERT … SELECT
    per kind of record and per way (whole merge, own decision, following its organisation's
    decision; a record two ways would place keeps the first), then its branch changed by one
    UPDATE per kind of record joined against those rows — the floor's own statement."""
    day = reorganisation.effective_on
    moves, mappings, decisions = _table(RecordMove), _table(UnitMapping), _table(ReorganisationDecision)
    insert = f"INSERT INTO {moves} (reorganisation_id, record_type, record_id, from_branch_id, to_branch_id) "
    counts["communities_renamed"] += _disambiguate_communities(reorganisation)
    for record_type, model, alive in SIMPLE_MOVES:
        table = _table(model)
        params = {"r": reorganisation.pk, "type": record_type, "day": day}
        ways = [
            # whole merges: the unit's successor
            f"JOIN {mappings} m ON m.reorganisation_id = %(r)s AND m.predecessor_id = t.branch_id",
            # the record's own decision
            f"""JOIN {decisions} m ON m.reorganisation_id = %(r)s AND m.record_type = %(type)s
                AND m.record_id = t.id AND m.from_branch_id = t.branch_id AND m.successor_id IS NOT NULL""",
        ]
        if record_type == "associations.member":
            # Found through the organisation's index alone: `t.branch_id + 0` keeps the planner
            # from AND-ing it with the branch index, which reads every member of a dissolved
            # commune once per organisation decided there (quadratic at full size).
            ways.append(
                f"""JOIN {decisions} m ON m.reorganisation_id = %(r)s
                    AND m.record_type = 'associations.organization' AND m.record_id = t.organization_id
                    AND m.from_branch_id = t.branch_id + 0 AND m.successor_id IS NOT NULL"""
            )
        for index, join in enumerate(ways):
            _execute(
                insert
                + f"SELECT %(r)s, %(type)s, t.id, t.branch_id, m.successor_id FROM {table} t {join} "
                + f"WHERE {alive.format(t='t')}"
                + (" ON CONFLICT (reorganisation_id, record_type, record_id) DO NOTHING" if index else ""),
                params,
            )
        counts[record_type] += _execute(
            f"""UPDATE {table} SET branch_id = rm.to_branch_id FROM {moves} rm
                WHERE rm.reorganisation_id = %(r)s AND rm.record_type = %(type)s AND rm.record_id = {table}.id""",
            params,
        )
        if record_type == "associations.staffprofile":
            _decide_accounts(reorganisation, root, counts)
        if steps is not None:
            steps.done(f"moved {record_type}")


def _disambiguate_communities(reorganisation) -> int:
    """A village or residential group keeps its name in its new unit unless another one of
    the same name ends up there ("Tổ dân phố số 1" of two merged wards): then the moving one
    takes its old unit's name in brackets. One statement."""
    community, branch = _table(Community), _table(Branch)
    mappings, decisions = _table(UnitMapping), _table(ReorganisationDecision)
    return _execute(
        f"""WITH destination AS (
                SELECT c.id, c.name, c.branch_id, ob.name AS old_unit,
                       COALESCE(m.successor_id, d.successor_id, c.branch_id) AS target
                FROM {community} c JOIN {branch} ob ON ob.id = c.branch_id
                LEFT JOIN {mappings} m ON m.reorganisation_id = %(r)s AND m.predecessor_id = c.branch_id
                LEFT JOIN {decisions} d ON d.reorganisation_id = %(r)s AND d.record_type = 'learning.community'
                     AND d.record_id = c.id AND d.from_branch_id = c.branch_id
            )
            UPDATE {community} SET name = substr(x.name || ' (' || x.old_unit || ')', 1, 200)
            FROM destination x
            WHERE {community}.id = x.id AND x.target <> x.branch_id
              AND EXISTS (SELECT 1 FROM destination y
                          WHERE y.target = x.target AND y.name = x.name AND y.id <> x.id)""",
        {"r": reorganisation.pk},
    )


def _decide_accounts(reorganisation, root: Branch, counts) -> None:
    profiles, decisions = _table(StaffProfile), _table(ReorganisationDecision)
    params = {"r": reorganisation.pk, "root": root.pk, "action": AccountAction.CITY_READ_ONLY}
    _execute(
        f"""INSERT INTO {_table(RecordMove)} (reorganisation_id, record_type, record_id, from_branch_id, to_branch_id)
            SELECT %(r)s, 'associations.staffprofile', t.id, t.branch_id, %(root)s FROM {profiles} t
            JOIN {decisions} m ON m.reorganisation_id = %(r)s AND m.record_type = 'associations.staffprofile'
                AND m.record_id = t.id AND m.from_branch_id = t.branch_id AND m.account_action = %(action)s""",
        params,
    )
    counts["accounts_read_only"] += _execute(
        f"""UPDATE {profiles} SET branch_id = %(root)s, role = %(leader)s FROM {decisions} m
            WHERE m.reorganisation_id = %(r)s AND m.record_type = 'associations.staffprofile'
              AND m.record_id = {profiles}.id AND m.from_branch_id = {profiles}.branch_id
              AND m.account_action = %(action)s""",
        {**params, "leader": StaffRole.LEADER},
    )
    user = connection.ops.quote_name(get_user_model()._meta.db_table)
    counts["accounts_deactivated"] += _execute(
        f"""UPDATE {user} SET is_active = %(no)s WHERE id IN (
                SELECT t.user_id FROM {profiles} t JOIN {decisions} m ON m.reorganisation_id = %(r)s
                AND m.record_type = 'associations.staffprofile' AND m.record_id = t.id
                AND m.account_action = %(deactivate)s)""",
        {"r": reorganisation.pk, "no": False, "deactivate": AccountAction.DEACTIVATE},
    )


def _move_funds(actor, reorganisation, resolution: Resolution, whole: dict[int, Branch], counts) -> None:
    """Each open fund of a dissolved unit hands its balance to the successor's fund of the
    same kind (found, or opened) by a transfer dated the effective day; the old fund stays
    with its unit, closed that day with a zero balance. Receipt numbering continues: the
    successor fund's counter for the year starts after its predecessors' highest number.
    Open scholarship rounds follow their fund."""
    day = reorganisation.effective_on
    old_funds = list(
        Fund.objects.filter(branch_id__in=resolution.dissolved_ids).not_closed_on(day).select_related("fund_model")
    )
    if not old_funds:
        return
    decided = dict(
        ReorganisationDecision.objects.filter(reorganisation=reorganisation, record_type="funds.fund").values_list(
            "record_id", "successor_id"
        )
    )
    destination = {}
    for fund in old_funds:
        target = whole[fund.branch_id].pk if fund.branch_id in whole else decided.get(fund.pk)
        destination[fund.pk] = target
    pairs = {(destination[f.pk], f.fund_model_id) for f in old_funds}
    found: dict[tuple[int, int], Fund] = {}
    for fund in (
        Fund.objects.filter(branch_id__in={b for b, _m in pairs}, fund_model_id__in={m for _b, m in pairs})
        .not_closed_on(day)
        .exclude(pk__in=[f.pk for f in old_funds])
        .order_by("-pk")
    ):
        found[(fund.branch_id, fund.fund_model_id)] = fund
    successors = {b.pk: b for b in Branch.objects.filter(pk__in={b for b, _m in pairs})}
    to_open = []
    for fund in old_funds:
        key = (destination[fund.pk], fund.fund_model_id)
        if key not in found:
            found[key] = Fund(
                branch_id=key[0],
                name=f"{fund.fund_model.name} — {successors[key[0]].name}"[:255],
                fund_model_id=fund.fund_model_id,
                legal_form=fund.legal_form,
                opened_on=day,
            )
            to_open.append(found[key])
    Fund.objects.bulk_create(to_open)
    counts["funds_opened"] += len(to_open)
    target_of = {fund.pk: found[(destination[fund.pk], fund.fund_model_id)] for fund in old_funds}
    locked = lock_funds([*target_of, *(f.pk for f in target_of.values())])
    transfers = [
        Transfer(
            from_fund_id=fund_id,
            to_fund_id=target.pk,
            amount=locked[fund_id].balance,
            transferred_on=day,
            note=reorganisation.name[:500],
            created_by=recorder(actor),
        )
        for fund_id, target in target_of.items()
        if locked[fund_id].balance > 0
    ]
    Transfer.objects.bulk_create(transfers, batch_size=1000)
    entries = []
    for transfer in transfers:
        entries.append(
            LedgerEntry(
                fund_id=transfer.from_fund_id,
                amount=-transfer.amount,
                kind=LedgerKind.TRANSFER_OUT,
                occurred_on=day,
                memo=str(locked[transfer.to_fund_id])[:500],
                created_by=recorder(actor),
                transfer=transfer,
            )
        )
        entries.append(
            LedgerEntry(
                fund_id=transfer.to_fund_id,
                amount=transfer.amount,
                kind=LedgerKind.TRANSFER_IN,
                occurred_on=day,
                memo=str(locked[transfer.from_fund_id])[:500],
                created_by=recorder(actor),
                transfer=transfer,
            )
        )
    # Out rows first: post_entries checks the giving funds' balances before writing.
    post_entries(locked, entries)
    counts["fund_transfers"] += len(transfers)
    counts["money_moved"] += sum(t.amount for t in transfers)
    counts["funds_closed"] += (
        Fund.objects.filter(pk__in=list(target_of))
        .filter(Q(opened_on__isnull=True) | Q(opened_on__lte=day))
        .update(closed_on=day)
    )
    _continue_receipts(day.year, target_of)
    _move_rounds(reorganisation, destination, target_of, whole, counts)


def _continue_receipts(year: int, target_of: dict[int, Fund]) -> None:
    highest: dict[int, int] = {}
    for fund_id, last_number in ReceiptCounter.objects.filter(fund_id__in=list(target_of), year=year).values_list(
        "fund_id", "last_number"
    ):
        target = target_of[fund_id].pk
        highest[target] = max(highest.get(target, 0), last_number)
    if not highest:
        return
    ReceiptCounter.objects.bulk_create(
        [ReceiptCounter(fund_id=pk, year=year) for pk in sorted(highest)], ignore_conflicts=True
    )
    counters = list(ReceiptCounter.objects.select_for_update().filter(fund_id__in=list(highest), year=year))
    for counter in counters:
        counter.last_number = max(counter.last_number, highest[counter.fund_id])
    ReceiptCounter.objects.bulk_update(counters, ["last_number"])


def _move_rounds(reorganisation, destination, target_of, whole, counts) -> None:
    day = reorganisation.effective_on
    rounds = list(
        ScholarshipRound.objects.filter(awarded_on__gte=day).filter(
            Q(fund_id__in=list(target_of)) | Q(branch_id__in=list(whole))
        )
    )
    moves = []
    for scholarship_round in rounds:
        old_branch, old_fund = scholarship_round.branch_id, scholarship_round.fund_id
        if old_fund in target_of:
            scholarship_round.fund_id = target_of[old_fund].pk
            scholarship_round.branch_id = destination[old_fund]
        elif old_branch in whole:
            scholarship_round.branch_id = whole[old_branch].pk
        if scholarship_round.branch_id != old_branch:
            moves.append(
                RecordMove(
                    reorganisation=reorganisation,
                    record_type="scholarships.scholarshipround",
                    record_id=scholarship_round.pk,
                    from_branch_id=old_branch,
                    to_branch_id=scholarship_round.branch_id,
                )
            )
    ScholarshipRound.objects.bulk_update(rounds, ["fund", "branch"], batch_size=500)
    RecordMove.objects.bulk_create(moves, batch_size=1000)
    counts["scholarships.scholarshipround"] += len(moves)


def _write_edges(reorganisation, resolution: Resolution, successors: dict[str, Branch]) -> None:
    edges = {}
    for pk, unit in resolution.units.items():
        if unit.mode not in {WHOLE_MODE, DECIDE_MODE, KEPT_MODE}:
            continue
        for row in unit.rows:
            if not row.new_code or successors[row.new_code].pk == pk:
                continue
            edges[(pk, successors[row.new_code].pk)] = LineageEdge(
                reorganisation=reorganisation,
                predecessor_id=pk,
                successor=successors[row.new_code],
                kind=WHOLE if row.kind == WHOLE else PART,
                derived=row.derived,
                rule=row.rule,
            )
    # Units without a table row (unplaced, or a district the table does not name): a part
    # edge to every successor their decisions chose.
    for pk, successor in (
        ReorganisationDecision.objects.filter(reorganisation=reorganisation, successor__isnull=False)
        .values_list("from_branch_id", "successor_id")
        .distinct()
    ):
        if (pk, successor) not in edges and pk != successor:
            edges[(pk, successor)] = LineageEdge(
                reorganisation=reorganisation,
                predecessor_id=pk,
                successor_id=successor,
                kind=PART,
                rule="Records placed by decision.",
            )
    LineageEdge.objects.bulk_create(list(edges.values()), batch_size=1000)


def _recount_children(ids: Iterable[int]) -> None:
    """numchild of the branches whose children changed, from one grouped count."""
    ids = sorted(set(ids))
    if not ids:
        return
    branch = _table(Branch)
    marks = ",".join(["%s"] * len(ids))
    _execute(f"UPDATE {branch} SET numchild = 0 WHERE id IN ({marks})", ids)
    _execute(
        f"""UPDATE {branch} SET numchild = x.n
            FROM (SELECT substr(c.path, 1, length(c.path) - {STEP}) AS parent_path, COUNT(*) AS n
                  FROM {branch} c WHERE c.depth > 1 GROUP BY substr(c.path, 1, length(c.path) - {STEP})) x
            WHERE {branch}.path = x.parent_path AND {branch}.id IN ({marks})""",
        ids,
    )
