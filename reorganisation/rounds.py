"""Hanoi's three rounds since the 2017 map (584 → 579 → 526 → 126 communes), applied from the
shipped data with a decisions policy: for each old unit whose records no table row places
(vanished units no rule placed, split communes, the 2017 districts), the successor that takes
its undecided items and what happens to its accounts.

Policy file (.csv, UTF-8, one header row): round,old_code,successor_code,accounts — `round`
is a key of data/hanoi-maps/rounds.csv (2020, 2025-01, 2025-07) or `*` for every round,
`accounts` one of move / city_read_only / deactivate (empty: move with the rest).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from associations.models import Branch, Reorganisation
from reorganisation import services
from reorganisation.models import AccountAction
from reorganisation.tables import Round, hanoi_rounds


@dataclass(frozen=True)
class PolicyRow:
    row: int
    round: str
    old_code: str
    successor_code: str
    accounts: str


def parse_policy(data: bytes) -> list[PolicyRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(_("The .csv file must be saved as UTF-8.")) from error
    reader = csv.DictReader(io.StringIO(text))
    missing = {"round", "old_code", "successor_code"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(
            _("The decisions policy lacks the columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))}
        )
    rows, errors = [], []
    for number, record in enumerate(reader, start=2):
        accounts = (record.get("accounts") or "").strip()
        if accounts and accounts not in AccountAction.values:
            errors.append(_("Row %(row)s: unknown account action '%(action)s'.") % {"row": number, "action": accounts})
            continue
        rows.append(
            PolicyRow(
                row=number,
                round=(record["round"] or "").strip(),
                old_code=(record["old_code"] or "").strip(),
                successor_code=(record["successor_code"] or "").strip(),
                accounts=accounts,
            )
        )
    if errors:
        raise ValidationError(errors)
    return rows


@dataclass
class RoundOutcome:
    round: Round
    reorganisation: Reorganisation
    plan: services.Plan
    result: services.ApplyResult | None


def _apply_policy(actor, reorganisation: Reorganisation, round_: Round, policy: list[PolicyRow]) -> None:
    before = reorganisation.effective_on - datetime.timedelta(days=1)
    rows = [row for row in policy if row.round in {round_.key, "*"}]
    units = {
        branch.code: branch
        for branch in Branch.objects.active_on(before).filter(
            code__in=[row.old_code for row in rows], level__in=services.ADMIN_LEVELS, depth__gt=1
        )
    }
    for row in rows:
        branch = units.get(row.old_code)
        if branch is None:
            continue  # a unit of another round, or already reorganised
        services.unit_decide(
            actor=actor,
            reorganisation=reorganisation,
            branch=branch,
            successor_code=row.successor_code,
            account_action=row.accounts,
        )


@transaction.atomic
def hanoi_rounds_run(
    *,
    actor,
    policy: list[PolicyRow],
    apply: bool,
    by_rule: bool = False,
    after_apply: Callable[[Reorganisation], None] | None = None,
) -> list[RoundOutcome]:
    """Each round in order: its draft (reused if one of the same name and day exists), the
    policy's decisions, its dry run, and with `apply` the apply (a round already applied is
    a no-op). With `by_rule`, what the policy leaves undecided is decided by `rule_decisions`.
    `after_apply` is called with each round applied now, before the next round is planned
    (the demo re-homes its generated records dated after the round there).
    Without `apply` only the first round not yet applied is planned, and nothing is kept
    (the caller's dry run rolls back)."""
    outcomes = []
    for round_ in hanoi_rounds():
        reorganisation = Reorganisation.objects.filter(name=round_.name, effective_on=round_.effective_on).first()
        if reorganisation is None:
            reorganisation = services.reorganisation_create(
                actor=actor,
                name=round_.name,
                legal_basis=round_.legal_basis,
                effective_on=round_.effective_on,
                rows=round_.rows(),
                source=round_.source,
            )
        if reorganisation.status == Reorganisation.Status.DRAFT:
            services.decisions_prepare(actor=actor, reorganisation=reorganisation)
            _apply_policy(actor, reorganisation, round_, policy)
            if by_rule:
                rule_decisions(actor=actor, reorganisation=reorganisation)
        plan = services.reorganisation_plan(reorganisation=reorganisation)
        result = services.reorganisation_apply(actor=actor, reorganisation=reorganisation) if apply else None
        if after_apply is not None and result is not None and result.applied:
            after_apply(reorganisation)
        outcomes.append(RoundOutcome(round_, reorganisation, plan, result))
        if not apply and reorganisation.status == Reorganisation.Status.DRAFT:
            break  # the next round's units depend on this one being applied
    return outcomes


@transaction.atomic
def rule_decisions(*, actor, reorganisation: Reorganisation) -> int:
    """Decide every undecided item by a stated rule, for demonstrations and generated cities
    (never official decisions): a split unit's items go to the first successor its table rows
    name; a unit the table does not name that had units below it (a 2017 district) to the
    successor that took most of them, its accounts made read-only city accounts; a vanished
    unit no rule placed to a unit in force of its old district (the lowest code, the round's
    new units first). Returns how many items it decided."""
    services.decisions_prepare(actor=actor, reorganisation=reorganisation)
    resolution = services._resolve(reorganisation)
    valid = services.valid_successor_codes(reorganisation)
    day = reorganisation.effective_on
    in_force = list(
        Branch.objects.active_on(day)
        .filter(level__in=services.ADMIN_LEVELS, depth__gt=1)
        .exclude(pk__in=resolution.dissolved_ids)
        .order_by("-founded_on", "code")
    )
    by_parent: dict[str, list[Branch]] = {}
    for branch in in_force:
        by_parent.setdefault(branch.path[: -Branch.steplen], []).append(branch)
    child_successors: dict[str, dict[str, int]] = {}
    for unit in resolution.units.values():
        parent_path = unit.predecessor.path[: -Branch.steplen]
        for code, _name in unit.successors:
            tally = child_successors.setdefault(parent_path, {})
            tally[code] = tally.get(code, 0) + 1
    decided = 0
    for pk in resolution.decide_ids:
        unit = resolution.units[pk]
        branch = unit.predecessor
        accounts = AccountAction.MOVE
        if unit.successors:
            code = unit.successors[0][0]
        elif branch.path in child_successors:
            tally = child_successors[branch.path]
            code = max(sorted(tally), key=lambda c: tally[c])
            accounts = AccountAction.CITY_READ_ONLY
        else:
            neighbours = by_parent.get(branch.path[: -Branch.steplen], [])
            if not neighbours:
                continue
            code = neighbours[0].code
        if code in valid:
            decided += services.decide_unit_items(reorganisation, branch, code, accounts)
    return decided
