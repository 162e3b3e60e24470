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
def hanoi_rounds_run(*, actor, policy: list[PolicyRow], apply: bool) -> list[RoundOutcome]:
    """Each round in order: its draft (reused if one of the same name and day exists), the
    policy's decisions, its dry run, and with `apply` the apply (a round already applied is
    a no-op). Without `apply` only the first round not yet applied is planned, and nothing
    is kept (the caller's dry run rolls back)."""
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
        plan = services.reorganisation_plan(reorganisation=reorganisation)
        result = services.reorganisation_apply(actor=actor, reorganisation=reorganisation) if apply else None
        outcomes.append(RoundOutcome(round_, reorganisation, plan, result))
        if not apply and reorganisation.status == Reorganisation.Status.DRAFT:
            break  # the next round's units depend on this one being applied
    return outcomes
