"""The money stages of the generator: funds, donations with gapless receipts, scholarship
rounds and awards, and the ledger that ties them, merged in date order."""

from __future__ import annotations

import bisect
import datetime
import itertools
import time
from array import array
from collections.abc import Iterator

from django.db import connection

from demo.generator import spec
from demo.generator.base import (
    SYNTHETIC_NOTE,
    GeneratorError,
    _at,
    _date,
    _Fund,
    apportion,
    partition_units,
)
from funds.models import Donation, Fund, LedgerEntry, Payment, ReceiptCounter
from scholarships.models import Award, ScholarshipRound

PAYMENT_FIELDS = ["id", "fund", "amount", "paid_on", "description", "void_reason", "created_at"]
AWARD_FIELDS = [
    "id", "round", "recipient_kind", "recipient_name", "recipient_name_search", "date_of_birth",
    "school_or_workplace", "grade", "recipient_id", "recipient_key", "category", "amount", "form",
    "in_kind_description", "paid_on", "payment", "void_reason", "created_at",
]  # fmt: skip
LEDGER_FIELDS = ["id", "fund", "amount", "kind", "occurred_on", "donation", "payment", "memo", "created_at"]


class MoneyStages:
    def _build_donations(self) -> None:
        rng = self.rng
        months = 12 * 6
        self.funds: list[_Fund] = []
        fund_of_branch: dict[int, int] = {}

        def add_fund(branch_id, model, name, opened_on, weight, parent_fund) -> int:
            index = len(self.funds)
            self.funds.append(
                _Fund(
                    id=self._take_id(Fund),
                    branch_id=branch_id,
                    model=model,
                    name=name[:255],
                    opened_on=opened_on,
                    weight=weight * rng.lognormvariate(0, 0.35),
                    parent_fund=parent_fund,
                    monthly_in=[0] * months,
                )
            )
            return index

        opened = datetime.date(2008, 1, 1)
        city_fund = add_fund(
            self.city.id,
            "hoi-cac-cap",
            f"Quỹ khuyến học {self.city.name}",
            opened,
            spec.FUND_WEIGHT[("hoi-cac-cap", "city")],
            None,
        )
        fund_of_branch[self.city.id] = city_fund
        district_funds = []
        commune_funds: list[list[int]] = []
        for d, district in enumerate(self.districts):
            index = add_fund(
                district["id"], "hoi-cac-cap", f"Quỹ khuyến học {district['name']}", opened,
                spec.FUND_WEIGHT[("hoi-cac-cap", "district")], city_fund,
            )  # fmt: skip
            district_funds.append(index)
            fund_of_branch[district["id"]] = index
            commune_funds.append([])
            for commune in self.communes_of[d]:
                index = add_fund(
                    commune["id"], "hoi-cac-cap", f"Quỹ khuyến học {commune['name']}", opened,
                    spec.FUND_WEIGHT[("hoi-cac-cap", "commune")], district_funds[d],
                )  # fmt: skip
                commune_funds[d].append(index)
                fund_of_branch[commune["id"]] = index
        before_2015 = datetime.date(2015, 1, 1)
        # Family funds sit at communes; the first of each district at its first commune.
        family_per_district = apportion(spec.scaled(spec.FAMILY_FUNDS, self.factor), self.district_weight)
        for d, count in enumerate(family_per_district):
            for n in range(count):
                c = self._pick_commune(d, first=(n == 0))
                family = self.people[rng.randrange(len(self.people))].name
                add_fund(
                    self.communes_of[d][c]["id"], "ca-nhan-gia-dinh", f"Quỹ khuyến học gia đình ông/bà {family}",
                    opened, spec.FUND_WEIGHT[("ca-nhan-gia-dinh", None)], commune_funds[d][c],
                )  # fmt: skip
        for board_id, org, founded, kind in self.boards:
            if founded >= before_2015:
                continue
            parent = (
                commune_funds[org.district][org.commune] if org.commune is not None else district_funds[org.district]
            )
            if kind == "school":
                model, share = "nha-truong", spec.FUND_SHARE["school"]
            elif kind == "enterprise":
                model, share = "doanh-nghiep", spec.FUND_SHARE["enterprise_board"]
            else:
                model, share = "co-quan-don-vi", spec.FUND_SHARE["plan_board"]
            if rng.random() < share:
                add_fund(
                    board_id, model, f"Quỹ khuyến học {org.name}", founded, spec.FUND_WEIGHT[(model, None)], parent
                )
        for branch_id, d, c, kind, founded in self.chapters:
            if founded >= before_2015:
                continue
            model = "chi-hoi-thon-to" if kind == "residential" else "dong-ho"
            if rng.random() < spec.FUND_SHARE[kind]:
                add_fund(
                    branch_id, model, "Quỹ khuyến học chi hội" if kind == "residential" else "Quỹ khuyến học dòng họ",
                    founded, spec.FUND_WEIGHT[(model, None)], commune_funds[d][c],
                )  # fmt: skip
        self.commune_funds = commune_funds

        # Donations, period by period, each period's total exact to the đồng.
        fund_cum = list(itertools.accumulate(fund.weight for fund in self.funds))
        by_model: dict[str, list[int]] = {}
        for index, fund in enumerate(self.funds):
            by_model.setdefault(fund.model, []).append(index)
        month_weight = {1: 1.4, 8: 1.6, 9: 1.3}
        base_month = 2015 * 12
        ordinal_2015 = datetime.date(2015, 1, 1).toordinal()
        self.donation_day = array("i")
        self.donation_fund = array("i")
        self.donation_amount = array("q")
        self.donation_kind = array("b")
        kinds = ("individual", "family", "organization", "enterprise")
        kind_cum = list(itertools.accumulate((0.75, 0.05, 0.10, 0.10)))
        kind_scale = (1.0, 2.0, 5.0, 20.0)
        for start, end, full_amount in spec.DONATION_PERIODS:
            total = spec.scaled_money(full_amount, self.factor, spec.DONATION_UNIT)
            count = max(len(by_model), round(total / spec.DONATION_MEAN))
            span_months = [(y, m) for y in range(start.year, end.year + 1) for m in range(1, 13)
                           if start <= datetime.date(y, m, 1) <= end]  # fmt: skip
            mw = list(itertools.accumulate(month_weight.get(m, 0.8) for _y, m in span_months))
            # A share of every period's money reaches every fund early in the period, in
            # proportion to its weight (the weight its awards follow too), so each fund can
            # pay its own rounds; the rest falls at random, heavy-tailed.
            first_month_end = datetime.date(start.year + start.month // 12, start.month % 12 + 1, 1).toordinal() - 1
            regular_units = partition_units(
                round(total // spec.DONATION_UNIT * spec.REGULAR_SHARE), [fund.weight for fund in self.funds]
            )
            drafts = []
            for n in range(count):
                if n < len(by_model):  # one donation for every fund model in every period
                    candidates = by_model[sorted(by_model)[n]]
                    fund_index = candidates[rng.randrange(len(candidates))]
                else:
                    fund_index = bisect.bisect_right(fund_cum, rng.random() * fund_cum[-1])
                year, month = span_months[bisect.bisect_right(mw, rng.random() * mw[-1])]
                first = datetime.date(year, month, 1).toordinal()
                last = (datetime.date(year + month // 12, month % 12 + 1, 1)).toordinal() - 1
                day = rng.randint(first, last)
                fund_index = self._open_fund(fund_index, day)
                kind = bisect.bisect_right(kind_cum, rng.random() * kind_cum[-1])
                weight = kind_scale[kind] * rng.lognormvariate(0, 0.9)
                drafts.append((day, fund_index, weight, kind))
            random_units = partition_units(total // spec.DONATION_UNIT - sum(regular_units), [d[2] for d in drafts])
            drafts = [(day, f, units, kind) for (day, f, _w, kind), units in zip(drafts, random_units, strict=True)]
            for fund_index, units in enumerate(regular_units):
                kind = 2 if self.funds[fund_index].model in {"hoi-cac-cap", "co-quan-don-vi"} else 0
                day = rng.randint(start.toordinal(), first_month_end)
                drafts.append((day, self._open_fund(fund_index, day), units, kind))
            drafts.sort(key=lambda item: (item[0], item[1]))
            for day, fund_index, unit_count, kind in drafts:
                amount = unit_count * spec.DONATION_UNIT
                self.donation_day.append(day)
                self.donation_fund.append(fund_index)
                self.donation_amount.append(amount)
                self.donation_kind.append(kind)
                fund = self.funds[fund_index]
                fund.monthly_in[(_date(day).year * 12 + _date(day).month - 1) - base_month] += amount
                fund.balance += amount
        del ordinal_2015
        self._donation_kinds = kinds
        # Cumulative donations through each month, for the awards' balance check.
        for fund in self.funds:
            fund.monthly_in = list(itertools.accumulate(fund.monthly_in))

    # --- rounds and awards --------------------------------------------------------------
    def _build_awards(self) -> None:
        rng = self.rng
        base_month = 2015 * 12
        self.rounds: list[tuple] = []  # (id, fund index, branch id, day ordinal, name, school year)
        self.award_round = array("i")
        self.award_amount = array("q")
        self.award_category = array("b")  # 0 excellent, 1 hardship
        self.award_kind = array("b")  # 0 pupil, 1 teacher, 2 worker
        fund_weights = [fund.weight for fund in self.funds]
        turn_factor = self.factor * spec.AWARD_TURN_SHARE[self.scale]
        unit = spec.AWARD_UNITS[self.scale]
        hardship_low, hardship_high = spec.HARDSHIP_WEIGHT[self.scale]
        for start_year, (full_turns, full_hardship, full_amount) in spec.AWARD_YEARS.items():
            turns = spec.scaled(full_turns, turn_factor)
            hardship = spec.scaled(full_hardship, turn_factor)
            amount = spec.scaled_money(full_amount, self.factor, unit)
            school_year = f"{start_year}-{start_year + 1}"
            # Each fund holds one to three rounds a year; turns follow the fund's weight.
            drafts = []
            for index in range(len(self.funds)):
                for month, day, pattern in rng.sample(spec.ROUND_KINDS, rng.randint(1, 3)):
                    year = start_year if month >= 9 else start_year + 1
                    on = datetime.date(year, month, min(28, max(1, day + rng.randint(-4, 4))))
                    drafts.append(
                        (on.toordinal(), self._open_fund(index, on.toordinal()), pattern.format(sy=school_year),
                         fund_weights[index])
                    )  # fmt: skip
            drafts.sort(key=lambda item: (item[0], item[1]))
            per_round = apportion(turns, [item[3] for item in drafts])
            # Categories and kinds per turn, then amounts: hardship turns weigh several times more.
            categories = [1] * hardship + [0] * (turns - hardship)
            rng.shuffle(categories)
            kinds = [
                0 if category else (0 if (r := rng.random()) < 0.94 else (1 if r < 0.98 else 2))
                for category in categories
            ]
            kind_weight = (1.0, 3.0, 2.0)
            weights = [
                rng.uniform(hardship_low, hardship_high) if category else kind_weight[kind] * rng.uniform(0.6, 1.4)
                for category, kind in zip(categories, kinds, strict=True)
            ]
            units = partition_units(amount // unit, weights)
            position = 0
            for (day, fund_index, name, _weight), count in zip(drafts, per_round, strict=True):
                if count == 0:
                    continue
                total = sum(units[position : position + count]) * unit
                # Pay from the round's fund if its donations of earlier months cover it,
                # else from the fund above it (commune → district → city); when none can yet,
                # the round waits a month for more donations (whole awards of a few hundred
                # thousand đồng can outrun a small fund early in 2015).
                paying = None
                for _wait in range(spec.ROUND_MAX_WAIT_MONTHS + 1):
                    month = _date(day).year * 12 + _date(day).month - 1 - base_month
                    paying = fund_index
                    while paying is not None:
                        fund = self.funds[paying]
                        available = (fund.monthly_in[month - 1] if month > 0 else 0) - fund.spent
                        if available >= total:
                            break
                        paying = fund.parent_fund
                    if paying is not None:
                        break
                    day = _next_month(day)
                if paying is None:
                    raise GeneratorError("the city fund cannot pay a round: donations too small for awards")
                fund.spent += total
                fund.balance -= total
                round_id = self._take_id(ScholarshipRound)
                self.rounds.append((round_id, paying, self.funds[fund_index].branch_id, day, name, school_year))
                for i in range(position, position + count):
                    self.award_round.append(len(self.rounds) - 1)
                    self.award_amount.append(units[i] * unit)
                    self.award_category.append(categories[i])
                    self.award_kind.append(kinds[i])
                position += count

    # --- writing money: funds, donations, counters, rounds, awards, ledger ----------------
    def _write_ledger(self) -> None:
        for fund in self.funds:
            if fund.balance < 0:
                raise GeneratorError(f"fund {fund.id} would end negative")
        self._write(
            Fund,
            ["id", "branch", "name", "fund_model", "legal_form", "opened_on", "closed_on", "balance", "created_at"],
            (
                (
                    f.id,
                    f.branch_id,
                    f.name,
                    self.fund_models[f.model],
                    "internal",
                    f.opened_on,
                    None,
                    f.balance,
                    _at(f.opened_on),
                )
                for f in self.funds
            ),
        )
        first_donation = self._take_id(Donation)
        self.ids[Donation] = first_donation + len(self.donation_day)
        counters: dict[tuple[int, int], int] = {}
        self._write(
            Donation,
            [
                "id",
                "fund",
                "donor_name",
                "donor_kind",
                "amount",
                "received_on",
                "method",
                "in_kind_description",
                "receipt_year",
                "receipt_number",
                "note",
                "void_reason",
                "created_at",
            ],
            self._donation_rows(first_donation, counters),
        )
        self._write(
            ReceiptCounter,
            ["id", "fund", "year", "last_number"],
            (
                (self._take_id(ReceiptCounter), self.funds[fund_index].id, year, last)
                for (fund_index, year), last in sorted(counters.items())
            ),
        )
        self._write(
            ScholarshipRound,
            ["id", "name", "school_year", "branch", "fund", "awarded_on", "created_at"],
            (
                (round_id, name, school_year, branch_id, self.funds[paying].id, _date(day), _at(_date(day), 8))
                for round_id, paying, branch_id, day, name, school_year in self.rounds
            ),
        )
        first_award = self._take_id(Award)
        self.ids[Award] = first_award + len(self.award_round)
        first_payment = self._take_id(Payment)
        self.ids[Payment] = first_payment + len(self.award_round)
        first_entry = self.ids[LedgerEntry]
        if self.writer.vendor == "postgresql":
            # Each award's payment and the ledger are made from the rows already written, by
            # the server (`_payments_and_ledger_insert`): the same rows as the Python path's.
            with connection.cursor() as cursor:
                if not self.checks_deferred:  # the awards point at payments written after them
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                self._awards_insert(cursor, first_award, first_payment)
                self._payments_and_ledger_insert(cursor, first_award, first_donation, first_entry)
                if not self.checks_deferred:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        else:
            # One payment per award, written first (the award points at it).
            self._write(Payment, PAYMENT_FIELDS, self._payment_rows(first_payment))
            self._write(Award, AWARD_FIELDS, self._award_rows(first_award, first_payment))
            self._write(LedgerEntry, LEDGER_FIELDS, self._ledger_rows(first_entry, first_donation, first_payment))
        self.ids[LedgerEntry] = first_entry + len(self.donation_day) + len(self.award_round)
        self.summary.rows["donations 2016 (đồng)"] = self._sum_donations(
            datetime.date(2016, 1, 1), datetime.date(2016, 12, 31)
        )

    def _awards_insert(self, cursor, first_award: int, first_payment: int) -> None:
        """PostgreSQL: the awards made by the server. Python sends only what it decided —
        each award's id, round, amount, category and kind (COPY into a temporary table) —
        and the people's pool; one INSERT … SELECT adds the cosmetic fields `_award_rows`
        draws in Python on other databases: the recipient from the pool, the date of birth
        (a pupil's from the school year and her class), the class, one award in twenty in
        kind, each from a hash of the award's id and the seed (`hashint8extended`, stable
        across PostgreSQL versions: the same seed gives the same rows). Paid on its round's
        day, entered at 10:00 that day, as `_award_rows` does."""
        started = time.perf_counter()
        cursor.execute(
            "CREATE TEMPORARY TABLE generator_award_draft "
            "(id bigint, round_id bigint, amount bigint, category smallint, kind smallint) ON COMMIT DROP"
        )
        cursor.execute("CREATE TEMPORARY TABLE generator_person (n integer, name text, key text) ON COMMIT DROP")
        rounds = self.rounds
        self.writer.write(
            "generator_award_draft",
            ["id", "round_id", "amount", "category", "kind"],
            (
                (first_award + offset, rounds[round_index][0], amount, category, kind)
                for offset, (round_index, amount, category, kind) in enumerate(
                    zip(self.award_round, self.award_amount, self.award_category, self.award_kind, strict=True)
                )
            ),
        )
        people = self.people
        self.writer.write(
            "generator_person", ["n", "name", "key"], ((n, person.name, person.key) for n, person in enumerate(people))
        )
        cursor.execute("ANALYZE generator_award_draft")
        cursor.execute("ANALYZE generator_person")
        seed = int(self.seed) % 1_000_003

        def draw(stream: int) -> str:
            # A non-negative 31-bit draw per award and stream.
            return f"(hashint8extended(a.id, {seed * 16 + stream}) & 2147483647)"

        columns = ", ".join(Award._meta.get_field(name).column for name in AWARD_FIELDS)
        pupil_class = f"(1 + {draw(2)} %% 12)"
        cursor.execute(
            f'INSERT INTO "{Award._meta.db_table}" ({columns}) '  # noqa: S608 — a model's table and columns
            "SELECT d.id, d.round_id, (ARRAY['pupil', 'teacher', 'worker'])[d.kind + 1], p.name, p.key, d.born, '', "
            "d.grade, '', 'name:' || p.key || '|' || to_char(d.born, 'YYYY-MM-DD'), "
            "CASE d.category WHEN 1 THEN 'hardship' ELSE 'excellent' END, d.amount, "
            "CASE WHEN d.in_kind THEN 'in_kind' ELSE 'cash' END, "
            "CASE WHEN d.in_kind THEN 'Sách vở, đồ dùng học tập' ELSE '' END, d.paid_on, "
            "%s - %s + d.id, '', (d.paid_on + time '10:00') AT TIME ZONE INTERVAL '+07:00' "
            "FROM (SELECT a.id, a.round_id, a.amount, a.category, a.kind, r.awarded_on AS paid_on, "
            f"{draw(1)} %% %s AS person, "
            f"CASE WHEN a.kind = 0 THEN make_date(left(r.school_year, 4)::int - 5 - {pupil_class}::int, "
            f"1 + ({draw(3)} %% 12)::int, 1 + ({draw(4)} %% 28)::int) "
            f"ELSE make_date(1965 + ({draw(2)} %% 31)::int, 1 + ({draw(3)} %% 12)::int, 1 + ({draw(4)} %% 28)::int) "
            "END AS born, "
            f"CASE WHEN a.kind = 0 THEN 'Lớp ' || {pupil_class} || substr('ABCD', 1 + ({draw(5)} %% 4)::int, 1) "
            "ELSE '' END AS grade, "
            f"{draw(6)} %% 20 = 0 AS in_kind "
            "FROM generator_award_draft a "
            f'JOIN "{ScholarshipRound._meta.db_table}" r ON r.id = a.round_id) AS d '
            "JOIN generator_person p ON p.n = d.person",
            [first_payment, first_award, len(people)],
        )
        self._count_written(Award, cursor.rowcount, started)
        cursor.execute("DROP TABLE generator_award_draft, generator_person")

    def _payments_and_ledger_insert(self, cursor, first_award: int, first_donation: int, first_entry: int) -> None:
        """PostgreSQL: one payment per award written (fund, day and description of its round,
        an hour after the award), then the ledger — the donations and payments merged in date
        order, money in before money out on a day, then by id — each by one INSERT … SELECT,
        the same rows as `_payment_rows` and `_ledger_rows`; then the checks `_ledger_rows`
        makes: no fund's running balance below zero, every fund's ledger its balance."""
        started = time.perf_counter()
        # Statistics of the rows just loaded, so the INSERTs are planned on their real sizes.
        for model in (Donation, ScholarshipRound, Award):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        cursor.execute(
            f'INSERT INTO "{Payment._meta.db_table}" (id, fund_id, amount, paid_on, description, void_reason, '  # noqa: S608 — model tables
            "created_at) "
            "SELECT a.payment_id, r.fund_id, a.amount, a.paid_on, r.name || ' (' || r.school_year || ')', '', "
            "a.created_at + interval '1 hour' "
            f'FROM "{Award._meta.db_table}" a JOIN "{ScholarshipRound._meta.db_table}" r ON r.id = a.round_id '
            "WHERE a.id >= %s",
            [first_award],
        )
        payments = cursor.rowcount
        self._count_written(Payment, payments, started)
        started = time.perf_counter()
        cursor.execute(f'ANALYZE "{Payment._meta.db_table}"')
        cursor.execute(
            f'INSERT INTO "{LedgerEntry._meta.db_table}" (id, fund_id, amount, kind, occurred_on, donation_id, '  # noqa: S608 — model tables
            "payment_id, memo, created_at) "
            "SELECT %s - 1 + row_number() OVER (ORDER BY day, is_payment, source), fund_id, amount, kind, day, "
            "donation_id, payment_id, '', created_at FROM ("
            "SELECT received_on AS day, 0 AS is_payment, id AS source, fund_id, amount, 'donation' AS kind, "
            "id AS donation_id, NULL::bigint AS payment_id, created_at "
            f'FROM "{Donation._meta.db_table}" WHERE id >= %s '
            "UNION ALL SELECT paid_on, 1, id, fund_id, -amount, 'payment', NULL, id, created_at "
            f'FROM "{Payment._meta.db_table}" WHERE id >= %s'
            ") AS merged",
            [first_entry, first_donation, self.ids[Payment] - payments],
        )
        self._count_written(LedgerEntry, cursor.rowcount, started)
        started = time.perf_counter()
        cursor.execute(
            "SELECT fund_id, occurred_on FROM (SELECT fund_id, occurred_on, "  # noqa: S608 — model tables
            "SUM(amount) OVER (PARTITION BY fund_id ORDER BY id) AS running "
            f'FROM "{LedgerEntry._meta.db_table}" WHERE id >= %s) AS ledger WHERE running < 0 LIMIT 1',
            [first_entry],
        )
        negative = cursor.fetchone()
        if negative is not None:
            raise GeneratorError(f"fund {negative[0]} would go negative on {negative[1]}")
        balances = {fund.id: fund.balance for fund in self.funds}
        cursor.execute(
            f'SELECT fund_id, SUM(amount) FROM "{LedgerEntry._meta.db_table}" WHERE id >= %s GROUP BY fund_id',  # noqa: S608
            [first_entry],
        )
        totals = dict(cursor.fetchall())
        for fund_id, balance in balances.items():
            if totals.get(fund_id, 0) != balance:
                raise GeneratorError(f"fund {fund_id}: ledger {totals.get(fund_id, 0)} ≠ balance {balance}")
        self.log(f"    {'ledger checked':<30} {'':>10}      {time.perf_counter() - started:7.1f} s")

    def _sum_donations(self, start: datetime.date, end: datetime.date) -> int:
        low, high = start.toordinal(), end.toordinal()
        return sum(a for d, a in zip(self.donation_day, self.donation_amount, strict=True) if low <= d <= high)

    def _donation_rows(self, first_id: int, counters: dict) -> Iterator[tuple]:
        cosmetic = self._stream("donations")
        people = self.people
        org_names = [org.name for org in self.orgs if org.kind == "enterprise"] or ["Công ty TNHH Thăng Long"]
        kinds = self._donation_kinds
        for offset, (day, fund_index, amount, kind) in enumerate(
            zip(self.donation_day, self.donation_fund, self.donation_amount, self.donation_kind, strict=True)
        ):
            received = _date(day)
            key = (fund_index, received.year)
            number = counters.get(key, 0) + 1
            counters[key] = number
            if kind == 3:
                donor = org_names[cosmetic.randrange(len(org_names))]
            elif kind == 2:
                donor = f"Công đoàn {org_names[cosmetic.randrange(len(org_names))]}"
            elif kind == 1:
                donor = f"Gia đình ông/bà {people[cosmetic.randrange(len(people))].name}"
            else:
                donor = people[cosmetic.randrange(len(people))].name
            r = cosmetic.random()
            method, goods = (
                ("in_kind", "Sách vở, đồ dùng học tập") if r < 0.02 else (("bank" if r < 0.30 else "cash"), "")
            )
            yield (
                first_id + offset,
                self.funds[fund_index].id,
                donor[:255],
                kinds[kind],
                amount,
                received,
                method,
                goods,
                received.year,
                number,
                SYNTHETIC_NOTE,
                "",
                _at(received, 10),
            )

    def _payment_rows(self, first_id: int) -> Iterator[tuple]:
        rounds = self.rounds
        for offset, (round_index, amount) in enumerate(zip(self.award_round, self.award_amount, strict=True)):
            _round_id, paying, _branch, day, name, school_year = rounds[round_index]
            paid = _date(day)
            yield (first_id + offset, self.funds[paying].id, amount, paid, f"{name} ({school_year})", "", _at(paid, 11))

    def _award_rows(self, first_id: int, first_payment: int) -> Iterator[tuple]:
        cosmetic = self._stream("awards")
        people = self.people
        pool = len(people)
        recipient_kinds = ("pupil", "teacher", "worker")
        categories = ("excellent", "hardship")
        grades = [f"Lớp {g}{letter}" for g in range(1, 13) for letter in "ABCD"]
        rounds = self.rounds
        for offset, (round_index, amount, category, kind) in enumerate(
            zip(self.award_round, self.award_amount, self.award_category, self.award_kind, strict=True)
        ):
            _round_id, _paying, _branch, day, _name, school_year = rounds[round_index]
            paid = _date(day)
            person = people[cosmetic.randrange(pool)]
            start_year = int(school_year[:4])
            if kind == 0:
                grade_number = cosmetic.randint(1, 12)
                born = datetime.date(start_year - 5 - grade_number, cosmetic.randint(1, 12), cosmetic.randint(1, 28))
                grade = f"Lớp {grade_number}{'ABCD'[cosmetic.randrange(4)]}"
            else:
                born = datetime.date(cosmetic.randint(1965, 1995), cosmetic.randint(1, 12), cosmetic.randint(1, 28))
                grade = ""
            in_kind = cosmetic.random() < 0.05
            yield (
                first_id + offset,
                rounds[round_index][0],
                recipient_kinds[kind],
                person.name,
                person.key,
                born,
                "",
                grade,
                "",
                f"name:{person.key}|{born.isoformat()}",
                categories[category],
                amount,
                "in_kind" if in_kind else "cash",
                "Sách vở, đồ dùng học tập" if in_kind else "",
                paid,
                first_payment + offset,
                "",
                _at(paid, 10),
            )
        del grades

    def _ledger_rows(self, first_id: int, first_donation: int, first_payment: int) -> Iterator[tuple]:
        """Donations and award payments merged in date order, money in first on a day."""
        funds = self.funds
        rounds = self.rounds
        donations = (
            (day, 0, i, fund_index, amount)
            for i, (day, fund_index, amount) in enumerate(
                zip(self.donation_day, self.donation_fund, self.donation_amount, strict=True)
            )
        )
        awards = (
            (rounds[round_index][3], 1, i, rounds[round_index][1], -amount)
            for i, (round_index, amount) in enumerate(zip(self.award_round, self.award_amount, strict=True))
        )
        running = [0] * len(funds)
        entry_id = first_id
        # In date order, money in before money out on a day, then by id: a round that waited
        # for donations (`_build_awards`) may be dated after the rounds that follow it.
        for day, is_award, index, fund_index, amount in sorted(itertools.chain(donations, awards)):
            running[fund_index] += amount
            if running[fund_index] < 0:
                raise GeneratorError(f"fund {funds[fund_index].id} would go negative on {_date(day)}")
            occurred = _date(day)
            if is_award:
                yield (
                    entry_id,
                    funds[fund_index].id,
                    amount,
                    "payment",
                    occurred,
                    None,
                    first_payment + index,
                    "",
                    _at(occurred, 11),
                )
            else:
                yield (
                    entry_id,
                    funds[fund_index].id,
                    amount,
                    "donation",
                    occurred,
                    first_donation + index,
                    None,
                    "",
                    _at(occurred, 10),
                )
            entry_id += 1
        for fund, total in zip(funds, running, strict=True):
            if fund.balance != total:
                raise GeneratorError(f"fund {fund.id}: ledger {total} ≠ balance {fund.balance}")


def _next_month(ordinal: int) -> int:
    """The same day (at most the 28th) of the next month, as an ordinal."""
    day = _date(ordinal)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime.date(year, month, min(day.day, 28)).toordinal()
