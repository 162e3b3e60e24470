"""Excel import of donations.

Rules a row must pass, beyond each cell's own format:
- its fund (by number or exact name, narrowed by the optional unit column) lies in the
  uploader's subtree and is open on the day the money was received, which is not in the
  future;
- a row WITH a receipt number names a donation already recorded (fund + year + number): it
  must agree with it in every column the file has, otherwise the row is refused — money
  records are never edited in place, a wrong one is voided and recorded again. A number the
  portal has not issued is refused: receipt numbers are issued by the portal, gaplessly per
  fund and year, never typed;
- a row WITHOUT a receipt number is a new donation, unless a valid donation of the same
  fund, day, donor and amount is already recorded (then it is that donation, unchanged: so
  importing the same file twice records nothing twice). It gets the next receipt number
  when the file is applied, in file order;
- a donation appears once in the file.

Applying goes through `funds.services.donations_record`: one ledger row per donation,
each fund locked once, its balance moved with the ledger, all in the import's transaction.
"""

from __future__ import annotations

import datetime
import re
from functools import partial
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.models import Branch
from funds.models import Donation, DonationMethod, DonorKind, Fund
from funds.services import donations_record
from khuyenhoc.imports import (
    CellError,
    ChunkPlan,
    Column,
    ErrorLog,
    ImportAdapter,
    ParsedRow,
    PlanMoved,
    is_blank,
    parse_amount,
    parse_choice,
    parse_date,
    parse_text,
)
from khuyenhoc.imports.parsers import _refuse_excel_error
from khuyenhoc.money import format_money
from khuyenhoc.text import clean_text

DONOR_KIND_LABELS = {
    "Cá nhân": DonorKind.INDIVIDUAL,
    "Gia đình/dòng họ": DonorKind.FAMILY,
    "Tổ chức": DonorKind.ORGANIZATION,
    "Doanh nghiệp": DonorKind.ENTERPRISE,
}
METHOD_LABELS = {
    "Tiền mặt": DonationMethod.CASH,
    "Chuyển khoản": DonationMethod.BANK,
    "Hiện vật": DonationMethod.IN_KIND,
}
UNIT_HEADER = "Đơn vị hội (mã hoặc tên)"


def name_key(text: str) -> str:
    """Names match exactly, ignoring case and extra spaces (accents count)."""
    return clean_text(text).casefold()


def _donations_keyed(fields: tuple[str, ...], keys) -> Q:
    """The donations whose `fields` (concrete field names) equal one of `keys` (a chunk's
    rows) exactly: on PostgreSQL the keys are joined as arrays (unnest), one index probe per
    key; elsewhere (the embedded SQLite) each field is narrowed by IN and the caller picks the
    exact keys. IN lists alone would return every donation of the chunk's thousand funds on
    any of its days for any of its amounts (or receipt numbers): at a city's size some 30 000
    rows a chunk, a model instance each."""
    keys = sorted(set(keys))
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = [Donation._meta.get_field(name) for name in fields]
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
        names = ", ".join(f"k{at}" for at in range(len(fields)))
        joined = " AND ".join(f"d.{quote(field.column)} = k.k{at}" for at, field in enumerate(columns))
        return Q(
            pk__in=RawSQL(  # noqa: S611 — fixed SQL, the values as parameters
                f"SELECT d.id FROM {quote(Donation._meta.db_table)} d "  # noqa: S608 — the model's table and columns
                f"JOIN unnest({arrays}) AS k({names}) ON {joined}",
                [[key[at] for key in keys] for at in range(len(fields))],
            )
        )
    return Q(**{f"{name}__in": {key[at] for key in keys} for at, name in enumerate(fields)})


SAME_DAY = ("fund_id", "received_on", "amount")  # served by the (day, fund) index
SAME_RECEIPT = ("fund_id", "receipt_year", "receipt_number")  # the receipts' unique index


_RECEIPT = re.compile(r"0*(\d{1,9})(?:\s*/\s*(\d{4}))?")


def parse_receipt(value: Any) -> tuple[int, int | None] | None:
    """A receipt number as the portal prints it (00012/2017) or as a bare number (12)."""
    _refuse_excel_error(value)
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CellError(_("Expected a receipt number such as 00012/2017."))
    match = _RECEIPT.fullmatch(clean_text(str(value)))
    if not match or int(match[1]) == 0:
        raise CellError(_("Expected a receipt number such as 00012/2017."))
    return int(match[1]), int(match[2]) if match[2] else None


def amount_column() -> Column:
    """The money column of the donation and award sheets: whole đồng, never a guessed decimal."""
    return Column(
        "amount",
        "Số tiền (đồng)",
        parse_amount,
        required=True,
        help=gettext_lazy(
            "Whole đồng: 1500000, 1.500.000 or 1,500,000. Decimals such as 1.5 or 1,50 are refused, never guessed."
        ),
        example="1.500.000",
        aliases=("Số tiền",),
    )


def unit_column() -> Column:
    return Column(
        "branch",
        UNIT_HEADER,
        partial(parse_text, max_length=200),
        help=gettext_lazy(
            "Optional: the association unit (code or exact name) that owns the fund or round, when several of "
            "your area have the same name."
        ),
        example="00001",
        text_format=True,
        aliases=("Đơn vị hội", "Mã đơn vị hội"),
    )


class ScopedLookup:
    """Records of the uploader's subtree found by number or exact name, narrowed by unit.

    `items` maps pk → (name key, branch id, anything the adapter needs).
    """

    def __init__(self, root: Branch):
        self.units_by_code: dict[str, int] = {}
        self.units_by_name: dict[str, list[int]] = {}
        for pk, code, name in Branch.objects.in_subtree(root).values_list("pk", "code", "name"):
            if code:
                self.units_by_code[code] = pk
            self.units_by_name.setdefault(name_key(name), []).append(pk)
        self.by_name: dict[str, list[int]] = {}
        self.branch_of: dict[int, int] = {}

    def add(self, pk: int, name: str, branch_id: int) -> None:
        self.by_name.setdefault(name_key(name), []).append(pk)
        self.branch_of[pk] = branch_id

    def unit(self, typed: str) -> list[int]:
        if typed in self.units_by_code:
            return [self.units_by_code[typed]]
        return self.units_by_name.get(name_key(typed), [])

    def find(self, typed: str, unit: str) -> tuple[int | None, str]:
        """(pk, "") when found, else (None, a reason code: unknown, ambiguous, unit)."""
        text = clean_text(typed)
        if text.isdigit() and int(text) in self.branch_of:
            return int(text), ""
        candidates = self.by_name.get(name_key(text), [])
        if unit:
            units = set(self.unit(unit))
            if not units:
                return None, "unit"
            candidates = [pk for pk in candidates if self.branch_of[pk] in units]
        if len(candidates) == 1:
            return candidates[0], ""
        return None, "ambiguous" if candidates else "unknown"


def show_amount(amount: int | None) -> str:
    return format_money(amount) if amount is not None else ""


DONATION_COLUMNS = (
    Column(
        "fund",
        "Quỹ",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy(
            "The fund that received the money: its exact name as on the portal (case and extra spaces do not "
            "matter, accents do) or its number. It must belong to your branch or a unit below it."
        ),
        example="Quỹ Khuyến học phường Phúc Xá",
        aliases=("Tên quỹ",),
    ),
    unit_column(),
    Column(
        "receipt",
        "Số biên lai",
        parse_receipt,
        help=gettext_lazy(
            "Leave empty for a new donation: the portal issues the next receipt number when the file is applied. "
            "Type the number (e.g. 00012/2017) only for a donation already recorded on the portal; it then "
            "changes nothing."
        ),
        example="",
        text_format=True,
        aliases=("Biên lai", "Số phiếu thu"),
    ),
    Column(
        "received_on",
        "Ngày nhận",
        parse_date,
        required=True,
        help=gettext_lazy("dd/mm/yyyy; not in the future."),
        example="15/03/2017",
        text_format=True,
    ),
    Column(
        "donor_name",
        "Người ủng hộ",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy("The person, family or organisation that gave."),
        example="Nguyễn Văn An",
        aliases=("Tên người ủng hộ", "Nhà hảo tâm"),
    ),
    Column(
        "donor_kind",
        "Loại người ủng hộ",
        partial(parse_choice, choices=DONOR_KIND_LABELS),
        required=True,
        help=gettext_lazy("Who gave."),
        example="Cá nhân",
        choices=tuple(DONOR_KIND_LABELS),
    ),
    amount_column(),
    Column(
        "method",
        "Hình thức",
        partial(parse_choice, choices=METHOD_LABELS),
        help=gettext_lazy("Empty means cash."),
        example="Tiền mặt",
        choices=tuple(METHOD_LABELS),
    ),
    Column(
        "in_kind_description",
        "Hiện vật",
        partial(parse_text, max_length=500),
        help=gettext_lazy("For a gift in kind: what was given (the amount is its value in đồng)."),
    ),
    Column("note", "Ghi chú", partial(parse_text, max_length=500), help=gettext_lazy("Optional note.")),
)

# Column key → Donation field, for comparing a row with the donation it names.
COMPARED_FIELDS = {
    "received_on": "received_on",
    "donor_name": "donor_name",
    "donor_kind": "donor_kind",
    "amount": "amount",
    "method": "method",
    "in_kind_description": "in_kind_description",
    "note": "note",
}


class DonationImport(ImportAdapter):
    kind = "donations"
    title = gettext_lazy("Donations")
    template_filename = "mau-nhap-ung-ho.xlsx"
    list_url = "funds:donation_list"
    sheet_title = "Ủng hộ"
    columns = DONATION_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one donation. A new donation has no receipt number: the portal issues it when the file is "
            "applied, credits the fund and writes its ledger. Receipt numbers cannot be typed for new donations."
        ),
        gettext_lazy(
            "A row with a receipt number, or a row identical (fund, day, donor, amount) to a donation already "
            "recorded, is that donation and changes nothing. Donations are never edited by an import: if a "
            "recorded donation is wrong, void it on the portal and record it again."
        ),
    )

    reuses_plan = True

    def __init__(self, job):
        super().__init__(job)
        self.headers = {column.key: column.header for column in self.columns}
        self.lookup = ScopedLookup(self.root)
        self.funds: dict[int, tuple] = {}
        for pk, name, branch_id, opened_on, closed_on in Fund.objects.in_subtree(self.root).values_list(
            "pk", "name", "branch_id", "opened_on", "closed_on"
        ):
            self.lookup.add(pk, name, branch_id)
            self.funds[pk] = (name, opened_on, closed_on)
        self.seen: dict[tuple, int] = {}
        self.today = timezone.localdate()

    def _resolve_fund(self, row: ParsedRow, errors: ErrorLog) -> int | None:
        typed, unit = row.values["fund"], row.values.get("branch", "")
        fund_id, reason = self.lookup.find(typed, unit)
        if fund_id is not None:
            return fund_id
        if reason == "unit":
            errors.add(
                row.number,
                self.headers["branch"],
                _("No association unit with the code or name “%(name)s” within your branch.") % {"name": unit},
            )
        elif reason == "ambiguous":
            errors.add(
                row.number,
                self.headers["fund"],
                _("Several funds of your area are named “%(name)s”: type the fund's unit in the column “%(unit)s”.")
                % {"name": typed, "unit": UNIT_HEADER},
            )
        else:
            errors.add(
                row.number,
                self.headers["fund"],
                _("No fund named “%(name)s” within your branch.") % {"name": typed},
            )
        return None

    def _check_row(self, row: ParsedRow, fund_id: int | None, errors: ErrorLog) -> bool:
        """The row's own rules, and the fund's dates when the fund is known; False (errors
        logged) when one is broken. Values whose cells could not be read are skipped."""
        values = row.values
        ok = True
        day: datetime.date | None = values.get("received_on")
        name, opened_on, closed_on = self.funds[fund_id] if fund_id is not None else ("", None, None)
        if day is None:
            pass
        elif day > self.today:
            errors.add(row.number, self.headers["received_on"], _("The date cannot be in the future."))
            ok = False
        elif (opened_on and day < opened_on) or (closed_on and day > closed_on):
            errors.add(
                row.number,
                self.headers["received_on"],
                _("The fund %(fund)s was not open on this day.") % {"fund": name},
            )
            ok = False
        method = values.get("method") or DonationMethod.CASH
        if (
            method == DonationMethod.IN_KIND
            and not values.get("in_kind_description")
            and "in_kind_description" not in row.failed
        ):
            errors.add(row.number, self.headers["in_kind_description"], _("Describe the goods given in kind."))
            ok = False
        receipt = values.get("receipt")
        if receipt and day is not None and receipt[1] is not None and receipt[1] != day.year:
            errors.add(
                row.number,
                self.headers["receipt"],
                _("A receipt of year %(year)d cannot record money received in %(received)d.")
                % {"year": receipt[1], "received": day.year},
            )
            ok = False
        return ok

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        plan.matched = []  # the recorded donations rows stand for (unchanged), for a kept plan
        plan.rows = []  # the row of each donation to create
        numbered, unnumbered = [], []
        for row in rows:
            values = row.values
            fund_id = self._resolve_fund(row, errors)
            if not self._check_row(row, fund_id, errors) or fund_id is None:
                continue
            values["fund_id"] = fund_id
            receipt = values.get("receipt")
            if receipt:
                key = ("receipt", fund_id, values["received_on"].year, receipt[0])
            else:
                key = ("new", fund_id, values["received_on"], name_key(values["donor_name"]), values["amount"])
            first = self.seen.setdefault(key, row.number)
            if first != row.number:
                errors.add(
                    row.number,
                    self.headers["receipt" if receipt else "donor_name"],
                    _(
                        "Row %(row)d of this file is the same donation (same receipt, or same fund, day, donor and "
                        "amount). Keep one row, or write the difference in the note."
                    )
                    % {"row": first},
                )
                continue
            (numbered if receipt else unnumbered).append(row)

        # One query for the chunk's receipts, one for its unnumbered rows; the filters may
        # return a superset that the exact keys below narrow.
        by_receipt: dict[tuple, Donation] = {}
        if numbered:
            for donation in Donation.objects.filter(
                _donations_keyed(
                    SAME_RECEIPT,
                    (
                        (row.values["fund_id"], row.values["received_on"].year, row.values["receipt"][0])
                        for row in numbered
                    ),
                )
            ):
                by_receipt[(donation.fund_id, donation.receipt_year, donation.receipt_number)] = donation
        recorded: dict[tuple, Donation] = {}
        if unnumbered:
            for donation in Donation.objects.valid().filter(
                _donations_keyed(
                    SAME_DAY,
                    ((row.values["fund_id"], row.values["received_on"], row.values["amount"]) for row in unnumbered),
                )
            ):
                key = (donation.fund_id, donation.received_on, name_key(donation.donor_name), donation.amount)
                recorded.setdefault(key, donation)

        for row in numbered:
            values = row.values
            donation = by_receipt.get((values["fund_id"], values["received_on"].year, values["receipt"][0]))
            if donation is None:
                errors.add(
                    row.number,
                    self.headers["receipt"],
                    _(
                        "No receipt %(receipt)s was issued by this fund. Receipt numbers are issued by the portal: "
                        "leave the cell empty for a new donation."
                    )
                    % {"receipt": f"{values['receipt'][0]:05d}/{values['received_on'].year}"},
                )
                continue
            if self._differs(row, donation, errors):
                continue
            self._unchanged(row, donation, plan)

        for row in unnumbered:
            values = row.values
            donation = recorded.get(
                (values["fund_id"], values["received_on"], name_key(values["donor_name"]), values["amount"])
            )
            if donation is not None:
                self._unchanged(row, donation, plan)
                continue
            plan.create.append(
                Donation(
                    fund_id=values["fund_id"],
                    donor_name=values["donor_name"],
                    donor_kind=values["donor_kind"],
                    amount=values["amount"],
                    received_on=values["received_on"],
                    method=values.get("method") or DonationMethod.CASH,
                    in_kind_description=values.get("in_kind_description", ""),
                    note=values.get("note", ""),
                )
            )
            plan.rows.append(row.number)
            plan.preview.append(
                {
                    "row": row.number,
                    "action": "create",
                    "summary": f"{values['donor_name']} · {show_amount(values['amount'])} · "
                    f"{self.funds[values['fund_id']][0]}",
                    "changes": [],
                }
            )
        plan.preview.sort(key=lambda line: line["row"])
        return plan

    def check_rejected(self, rows: list[ParsedRow], errors: ErrorLog) -> None:
        for row in rows:
            fund_id = None
            if "fund" in row.values and "branch" not in row.failed:
                fund_id = self._resolve_fund(row, errors)
            self._check_row(row, fund_id, errors)

    def _differs(self, row: ParsedRow, donation: Donation, errors: ErrorLog) -> bool:
        """Refuse a row that disagrees with the recorded donation it names: never edit money."""
        label = donation.receipt_label
        if donation.is_voided:
            errors.add(
                row.number,
                self.headers["receipt"],
                _("Receipt %(receipt)s was voided: record the donation again on a row without a receipt number.")
                % {"receipt": label},
            )
            return True
        differs = False
        for key, field in COMPARED_FIELDS.items():
            if key not in row.values:
                continue
            typed, stored = row.values[key], getattr(donation, field)
            if key == "method":
                typed = typed or DonationMethod.CASH
            # Text compares as names do (case and extra spaces aside); dates and amounts exactly.
            same = name_key(str(typed or "")) == name_key(stored) if isinstance(stored, str) else typed == stored
            if same:
                continue
            differs = True
            if key == "amount":
                message = _(
                    "Receipt %(receipt)s records %(recorded)s, not %(typed)s. Amounts are never changed by an import: "
                    "void the receipt on the portal and record the donation again."
                ) % {"receipt": label, "recorded": show_amount(stored), "typed": show_amount(typed)}
            else:
                message = _(
                    "Receipt %(receipt)s records something else in this column. Donations are never edited by an "
                    "import: void the receipt on the portal and record the donation again."
                ) % {"receipt": label}
            errors.add(row.number, self.headers[key], message)
        return differs

    def _unchanged(self, row: ParsedRow, donation: Donation, plan: ChunkPlan) -> None:
        plan.unchanged += 1
        plan.matched.append([donation.pk, row.number])
        plan.preview.append(
            {
                "row": row.number,
                "action": "unchanged",
                "summary": f"{donation.receipt_label} · {donation.donor_name} · {show_amount(donation.amount)}",
                "changes": [],
            }
        )

    def freeze(self, plan: ChunkPlan) -> dict:
        """The donations to create (their row and fields), and the recorded donations that
        rows stand for unchanged."""
        return {
            "create": [
                [
                    number,
                    donation.fund_id,
                    donation.donor_name,
                    donation.donor_kind,
                    donation.amount,
                    donation.received_on.isoformat(),
                    donation.method,
                    donation.in_kind_description,
                    donation.note,
                ]
                for number, donation in zip(plan.rows, plan.create, strict=True)
            ],
            "matched": plan.matched,
            "unchanged": plan.unchanged,
        }

    def thaw(self, frozen: dict) -> ChunkPlan:
        """The chunk's donations again, after one query for donations recorded meanwhile
        with a new row's fund, day, donor and amount, and one for the recorded donations the
        unchanged rows stand for (PlanMoved when one was voided). The funds' dates, rights and
        receipt numbers are checked by donations_record under each fund's lock."""
        plan = ChunkPlan(unchanged=frozen["unchanged"])
        rows = {}
        for number, fund_id, donor_name, donor_kind, amount, day, method, in_kind, note in frozen["create"]:
            if fund_id not in self.funds:
                raise PlanMoved(_("the fund of row %(row)d no longer lies within your branch") % {"row": number})
            donation = Donation(
                fund_id=fund_id,
                donor_name=donor_name,
                donor_kind=donor_kind,
                amount=amount,
                received_on=datetime.date.fromisoformat(day),
                method=method,
                in_kind_description=in_kind,
                note=note,
            )
            plan.create.append(donation)
            rows[(fund_id, donation.received_on, name_key(donor_name), amount)] = number
        if rows:
            moved = []
            for fund_id, day, donor_name, amount in (
                Donation.objects.valid()
                .filter(_donations_keyed(SAME_DAY, ((key[0], key[1], key[3]) for key in rows)))
                .values_list("fund_id", "received_on", "donor_name", "amount")
            ):
                number = rows.get((fund_id, day, name_key(donor_name), amount))
                if number is not None:
                    moved.append(number)
            if moved:
                raise PlanMoved(_("the donation of row %(row)d was recorded meanwhile") % {"row": min(moved)})
        matched = dict(frozen["matched"])
        if matched:
            valid = set(Donation.objects.valid().filter(pk__in=matched).values_list("pk", flat=True))
            for pk, number in matched.items():
                if pk not in valid:
                    raise PlanMoved(_("the donation of row %(row)d was voided meanwhile") % {"row": number})
        return plan

    def write(self, plan: ChunkPlan) -> None:
        donations_record(actor=self.actor, donations=plan.create)
