"""Excel import of scholarship awards.

Rules a row must pass, beyond each cell's own format:
- its round (by number or exact name, narrowed by the optional unit column) lies in the
  uploader's subtree, and so does the round's paying fund; the payment day (the round's
  award date when empty) is not in the future and the fund is open on it;
- an award already recorded in the round for the same recipient (citizen/student ID, or
  name + date of birth when there is no ID) is that award: the row must agree with it, else
  it is refused — money records are never edited in place (void and record again);
- a recipient appears once per round in the file;
- the whole file is refused when the new awards would take any fund below zero: summed per
  fund at the check, and again under each fund's lock when the file is applied.

Applying goes through `scholarships.services.awards_pay`, which pays through
`funds.services.payments_record`: one payment and one ledger row per award, each fund locked once.
"""

from __future__ import annotations

import datetime
from functools import partial

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.models import Branch
from funds.imports import ScopedLookup, amount_column, name_key, show_amount, unit_column
from funds.models import Fund
from khuyenhoc.imports import (
    ChunkPlan,
    Column,
    ErrorLog,
    ImportAdapter,
    ParsedRow,
    PlanMoved,
    parse_choice,
    parse_date,
    parse_text,
)
from khuyenhoc.text import clean_text
from scholarships.models import Award, AwardCategory, AwardForm, RecipientKind, ScholarshipRound
from scholarships.services import awards_pay

RECIPIENT_KIND_LABELS = {
    "Học sinh/sinh viên": RecipientKind.PUPIL,
    "Giáo viên": RecipientKind.TEACHER,
    "Người lao động": RecipientKind.WORKER,
    "Khác": RecipientKind.OTHER,
}
CATEGORY_LABELS = {
    "Học sinh giỏi": AwardCategory.EXCELLENT,
    "Học sinh nghèo vượt khó": AwardCategory.HARDSHIP,
    "Khác": AwardCategory.OTHER,
}
FORM_LABELS = {"Tiền mặt": AwardForm.CASH, "Hiện vật": AwardForm.IN_KIND}


def parse_recipient_id(value) -> str:
    return clean_text(parse_text(value, max_length=20)).replace(" ", "").upper()


AWARD_COLUMNS = (
    Column(
        "round",
        "Đợt học bổng",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy(
            "The scholarship round, created on the portal first: its exact name (case and extra spaces do not "
            "matter, accents do) or its number. The round's fund pays the awards."
        ),
        example="Học bổng năm học 2016-2017",
        aliases=("Đợt",),
    ),
    unit_column(),
    Column(
        "recipient_name",
        "Họ và tên người nhận",
        partial(parse_text, max_length=200),
        required=True,
        help=gettext_lazy("Full name, with accents."),
        example="Lê Thị Bích",
        aliases=("Họ và tên", "Người nhận"),
    ),
    Column(
        "date_of_birth",
        "Ngày sinh",
        parse_date,
        help=gettext_lazy("dd/mm/yyyy. Recognises the recipient when there is no ID."),
        example="02/04/2005",
        text_format=True,
    ),
    Column(
        "recipient_id",
        "Số CCCD/mã học sinh",
        parse_recipient_id,
        help=gettext_lazy(
            "Optional: citizen ID or student code. An award of the same round to the same ID (or, without ID, to "
            "the same name and date of birth) is the same award: importing the file again changes nothing."
        ),
        text_format=True,
        aliases=("Số CCCD", "Mã học sinh"),
    ),
    Column(
        "recipient_kind",
        "Đối tượng nhận",
        partial(parse_choice, choices=RECIPIENT_KIND_LABELS),
        required=True,
        help=gettext_lazy("Who receives the award."),
        example="Học sinh/sinh viên",
        choices=tuple(RECIPIENT_KIND_LABELS),
    ),
    Column(
        "school_or_workplace",
        "Trường hoặc nơi công tác",
        partial(parse_text, max_length=255),
        help=gettext_lazy("Optional."),
        example="Trường THCS Phúc Xá",
        aliases=("Trường",),
    ),
    Column("grade", "Lớp", partial(parse_text, max_length=50), help=gettext_lazy("Optional."), example="7A"),
    Column(
        "category",
        "Loại học bổng",
        partial(parse_choice, choices=CATEGORY_LABELS),
        required=True,
        help=gettext_lazy("Why the award is given."),
        example="Học sinh nghèo vượt khó",
        choices=tuple(CATEGORY_LABELS),
    ),
    amount_column(),
    Column(
        "form",
        "Hình thức",
        partial(parse_choice, choices=FORM_LABELS),
        help=gettext_lazy("Empty means cash."),
        example="Tiền mặt",
        choices=tuple(FORM_LABELS),
    ),
    Column(
        "in_kind_description",
        "Hiện vật",
        partial(parse_text, max_length=500),
        help=gettext_lazy("For an award in kind: what was given (the amount is its value in đồng)."),
    ),
    Column(
        "paid_on",
        "Ngày chi",
        parse_date,
        help=gettext_lazy("dd/mm/yyyy; empty means the round's award date. Not in the future."),
        example="15/03/2017",
        text_format=True,
    ),
)

COMPARED_FIELDS = {
    "recipient_name": "recipient_name",
    "date_of_birth": "date_of_birth",
    "recipient_kind": "recipient_kind",
    "school_or_workplace": "school_or_workplace",
    "grade": "grade",
    "category": "category",
    "amount": "amount",
    "form": "form",
    "in_kind_description": "in_kind_description",
    "paid_on": "paid_on",
}


class _Rounds:
    """The scholarship rounds of an importer's subtree (a city has about a hundred thousand):
    read once as plain rows, their funds and awarding branches as one instance each; a
    round's model instance is made when a row names it (`get`), so the rounds' instances
    live no longer than their chunk."""

    FIELDS = ("pk", "name", "school_year", "branch_id", "fund_id", "awarded_on")

    def __init__(self, root) -> None:
        rounds = ScholarshipRound.objects.in_subtree(root).order_by()
        self.rows = {row[0]: row for row in rounds.values_list(*self.FIELDS)}
        self.funds = {
            fund.pk: fund
            for fund in Fund.objects.filter(pk__in=rounds.values("fund_id")).select_related("branch").order_by()
        }
        self.branches = {branch.pk: branch for branch in Branch.objects.filter(pk__in=rounds.values("branch_id"))}

    def names(self):
        """(pk, name, branch id, fund id) of every round."""
        for pk, name, _year, branch_id, fund_id, _day in self.rows.values():
            yield pk, name, branch_id, fund_id

    def get(self, pk: int) -> ScholarshipRound | None:
        row = self.rows.get(pk)
        if row is None:
            return None
        pk, name, school_year, branch_id, fund_id, awarded_on = row
        scholarship_round = ScholarshipRound(
            pk=pk, name=name, school_year=school_year, branch_id=branch_id, fund_id=fund_id, awarded_on=awarded_on
        )
        scholarship_round._state.adding = False
        scholarship_round.fund = self.funds[fund_id]
        scholarship_round.branch = self.branches[branch_id]
        return scholarship_round


class AwardImport(ImportAdapter):
    kind = "awards"
    title = gettext_lazy("Scholarship awards")
    template_filename = "mau-nhap-hoc-bong.xlsx"
    list_url = "scholarships:award_list"
    sheet_title = "Học bổng"
    columns = AWARD_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one award (one turn) of a round created on the portal. Applying the file pays every new "
            "award from its round's fund, with one ledger row each."
        ),
        gettext_lazy(
            "The whole file is refused when its new awards would take a fund below zero. An award already recorded "
            "is never edited by an import: if it is wrong, void it on the portal and record it again."
        ),
    )

    reuses_plan = True

    def __init__(self, job):
        super().__init__(job)
        self.headers = {column.key: column.header for column in self.columns}
        self.lookup = ScopedLookup(self.root)
        self.rounds = _Rounds(self.root)
        self.fund_outside: set[int] = set()
        # The balances as they were before this import wrote anything (see check_file).
        self.balances: dict[int, tuple[str, int]] = {
            fund.pk: (fund.name, fund.balance) for fund in self.rounds.funds.values()
        }
        for pk, name, branch_id, fund_id in self.rounds.names():
            self.lookup.add(pk, name, branch_id)
            # A round of the subtree may be paid by a fund above it, which the uploader may not touch.
            if not self.rounds.funds[fund_id].branch.path.startswith(self.root.path):
                self.fund_outside.add(pk)
        self.seen: dict[tuple, int] = {}
        self.debits: dict[int, int] = {}
        self.first_row_of_fund: dict[int, int] = {}
        self.today = timezone.localdate()

    def _resolve_round(self, row: ParsedRow, errors: ErrorLog) -> ScholarshipRound | None:
        typed, unit = row.values["round"], row.values.get("branch", "")
        pk, reason = self.lookup.find(typed, unit)
        if pk is not None:
            if pk in self.fund_outside:
                errors.add(
                    row.number,
                    self.headers["round"],
                    _("The paying fund of this round lies outside your branch: its awards are paid there."),
                )
                return None
            return self.rounds.get(pk)
        if reason == "unit":
            errors.add(
                row.number,
                self.headers["branch"],
                _("No association unit with the code or name “%(name)s” within your branch.") % {"name": unit},
            )
        elif reason == "ambiguous":
            errors.add(
                row.number,
                self.headers["round"],
                _("Several rounds of your area are named “%(name)s”: type the round's unit in the column “%(unit)s”.")
                % {"name": typed, "unit": self.headers["branch"]},
            )
        else:
            errors.add(
                row.number,
                self.headers["round"],
                _("No scholarship round named “%(name)s” within your branch.") % {"name": typed},
            )
        return None

    def _check_row(self, row: ParsedRow, scholarship_round: ScholarshipRound | None, errors: ErrorLog) -> bool:
        """The row's own rules, and the round's fund and date when the round is known; False
        (errors logged) when one is broken. Values whose cells could not be read are skipped."""
        values = row.values
        ok = True
        paid_on: datetime.date | None = values.get("paid_on") or (
            scholarship_round.awarded_on if scholarship_round is not None else None
        )
        values["paid_on_effective"] = paid_on
        header = self.headers["paid_on"]
        if paid_on is not None and paid_on > self.today:
            errors.add(row.number, header, _("The date cannot be in the future."))
            ok = False
        elif paid_on is not None and scholarship_round is not None and not scholarship_round.fund.is_open_on(paid_on):
            fund = scholarship_round.fund
            errors.add(row.number, header, _("The fund %(fund)s was not open on this day.") % {"fund": fund.name})
            ok = False
        born = values.get("date_of_birth")
        if born and paid_on and born > paid_on:
            errors.add(
                row.number, self.headers["date_of_birth"], _("The date of birth cannot be after the payment date.")
            )
            ok = False
        if (
            values.get("form") == AwardForm.IN_KIND
            and not values.get("in_kind_description")
            and "in_kind_description" not in row.failed
        ):
            errors.add(row.number, self.headers["in_kind_description"], _("Describe the goods given in kind."))
            ok = False
        return ok

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        plan.matched = []  # the recorded awards rows stand for (unchanged), for a kept plan
        plan.rows = []  # the row of each award to create
        ready = []
        for row in rows:
            values = row.values
            scholarship_round = self._resolve_round(row, errors)
            if not self._check_row(row, scholarship_round, errors) or scholarship_round is None:
                continue
            recipient_key = Award.recipient_key_for(
                recipient_id=values.get("recipient_id", ""),
                recipient_name=values["recipient_name"],
                date_of_birth=values.get("date_of_birth"),
            )
            key = (scholarship_round.pk, recipient_key)
            first = self.seen.setdefault(key, row.number)
            if first != row.number:
                errors.add(
                    row.number,
                    self.headers["recipient_id" if values.get("recipient_id") else "recipient_name"],
                    _("Row %(row)d of this file is an award of the same round to the same recipient.") % {"row": first},
                )
                continue
            ready.append((row, scholarship_round, recipient_key))

        recorded: dict[tuple, Award] = {}
        if ready:
            for award in Award.objects.valid().filter(
                round_id__in={scholarship_round.pk for _row, scholarship_round, _key in ready},
                recipient_key__in={key for _row, _round, key in ready},
            ):
                recorded.setdefault((award.round_id, award.recipient_key), award)

        for row, scholarship_round, recipient_key in ready:
            values = row.values
            existing = recorded.get((scholarship_round.pk, recipient_key))
            if existing is not None:
                if not self._differs(row, existing, errors):
                    plan.unchanged += 1
                    plan.matched.append([existing.pk, row.number])
                    plan.preview.append(
                        {
                            "row": row.number,
                            "action": "unchanged",
                            "summary": f"{existing.recipient_name} · {show_amount(existing.amount)} · "
                            f"{scholarship_round}",
                            "changes": [],
                        }
                    )
                continue
            fund_id = scholarship_round.fund_id
            self.debits[fund_id] = self.debits.get(fund_id, 0) + values["amount"]
            self.first_row_of_fund.setdefault(fund_id, row.number)
            plan.create.append(
                Award(
                    round=scholarship_round,
                    recipient_kind=values["recipient_kind"],
                    recipient_name=values["recipient_name"],
                    date_of_birth=values.get("date_of_birth"),
                    school_or_workplace=values.get("school_or_workplace", ""),
                    grade=values.get("grade", ""),
                    recipient_id=values.get("recipient_id", ""),
                    category=values["category"],
                    amount=values["amount"],
                    form=values.get("form") or AwardForm.CASH,
                    in_kind_description=values.get("in_kind_description", ""),
                    paid_on=values["paid_on_effective"],
                )
            )
            plan.rows.append(row.number)
            plan.preview.append(
                {
                    "row": row.number,
                    "action": "create",
                    "summary": f"{values['recipient_name']} · {show_amount(values['amount'])} · {scholarship_round}",
                    "changes": [],
                }
            )
        return plan

    def check_rejected(self, rows: list[ParsedRow], errors: ErrorLog) -> None:
        for row in rows:
            scholarship_round = None
            if "round" in row.values and "branch" not in row.failed:
                scholarship_round = self._resolve_round(row, errors)
            self._check_row(row, scholarship_round, errors)

    def _differs(self, row: ParsedRow, award: Award, errors: ErrorLog) -> bool:
        """Refuse a row that disagrees with the recorded award it names: never edit money."""
        differs = False
        for key, field in COMPARED_FIELDS.items():
            if key not in row.values:
                continue
            typed, stored = row.values[key], getattr(award, field)
            if key == "paid_on":
                typed = row.values["paid_on_effective"]
            elif key == "form":
                typed = typed or AwardForm.CASH
            if key == "recipient_name" or isinstance(stored, str):
                same = name_key(str(typed or "")) == name_key(str(stored or ""))
            else:
                same = typed == stored
            if same:
                continue
            differs = True
            if key == "amount":
                message = _(
                    "This award is recorded with %(recorded)s, not %(typed)s. Amounts are never changed by an import: "
                    "void the award on the portal and record it again."
                ) % {"recorded": show_amount(stored), "typed": show_amount(typed)}
            else:
                message = _(
                    "This award is recorded with something else in this column. Awards are never edited by an "
                    "import: void the award on the portal and record it again."
                )
            errors.add(row.number, self.headers[key], message)
        return differs

    def check_file(self, errors: ErrorLog) -> None:
        # Summed over the whole file, against the balances read before anything was written;
        # awards_pay checks again under each fund's lock when the file is applied.
        for fund_id, total in sorted(self.debits.items()):
            name, balance = self.balances[fund_id]
            if total > balance:
                errors.add(
                    None,
                    self.headers["amount"],
                    _(
                        "The new awards of this file would take %(total)s from the fund %(fund)s, which holds "
                        "%(balance)s. The whole file is refused: nothing is paid."
                    )
                    % {"total": show_amount(total), "fund": name, "balance": show_amount(balance)},
                )

    FROZEN_FIELDS = (
        "recipient_kind",
        "recipient_name",
        "date_of_birth",
        "school_or_workplace",
        "grade",
        "recipient_id",
        "category",
        "amount",
        "form",
        "in_kind_description",
        "paid_on",
    )

    def freeze(self, plan: ChunkPlan) -> dict:
        """The awards to create (their row, round and fields), and the recorded awards that
        rows stand for unchanged."""
        return {
            "create": [
                [
                    number,
                    award.round_id,
                    *(
                        value.isoformat() if isinstance(value, datetime.date) else value
                        for value in (getattr(award, name) for name in self.FROZEN_FIELDS)
                    ),
                ]
                for number, award in zip(plan.rows, plan.create, strict=True)
            ],
            "matched": plan.matched,
            "unchanged": plan.unchanged,
        }

    def thaw(self, frozen: dict) -> ChunkPlan:
        """The chunk's awards again, after one query for awards recorded meanwhile in a new
        row's round for the same recipient, and one for the recorded awards the unchanged rows
        stand for (PlanMoved when one was voided). The balances, dates and rights are checked
        by awards_pay under each fund's lock."""
        plan = ChunkPlan(unchanged=frozen["unchanged"])
        rows = {}
        for number, round_id, *values in frozen["create"]:
            scholarship_round = self.rounds.get(round_id)
            if scholarship_round is None or round_id in self.fund_outside:
                raise PlanMoved(_("the round of row %(row)d no longer lies within your branch") % {"row": number})
            fields = dict(zip(self.FROZEN_FIELDS, values, strict=True))
            for name in ("date_of_birth", "paid_on"):
                if fields[name]:
                    fields[name] = datetime.date.fromisoformat(fields[name])
            award = Award(round=scholarship_round, **fields)
            plan.create.append(award)
            key = Award.recipient_key_for(
                recipient_id=award.recipient_id,
                recipient_name=award.recipient_name,
                date_of_birth=award.date_of_birth,
            )
            rows[(round_id, key)] = number
        if rows:
            moved = []
            for round_id, key in (
                Award.objects.valid()
                .filter(round_id__in={key[0] for key in rows}, recipient_key__in={key[1] for key in rows})
                .values_list("round_id", "recipient_key")
            ):
                number = rows.get((round_id, key))
                if number is not None:
                    moved.append(number)
            if moved:
                raise PlanMoved(_("the award of row %(row)d was recorded meanwhile") % {"row": min(moved)})
        matched = dict(frozen["matched"])
        if matched:
            valid = set(Award.objects.valid().filter(pk__in=matched).values_list("pk", flat=True))
            for pk, number in matched.items():
                if pk not in valid:
                    raise PlanMoved(_("the award of row %(row)d was voided meanwhile") % {"row": number})
        return plan

    def write(self, plan: ChunkPlan) -> None:
        awards_pay(actor=self.actor, awards=plan.create)
