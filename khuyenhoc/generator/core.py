"""Build a synthetic Hanoi from row-level records and load it in bulk.

Everything is decided in Python from one seeded random generator, with explicit ids, then
written table by table (PostgreSQL COPY, or multi-row INSERTs on SQLite). Ids follow dates
(donations, awards and ledger rows are written in date order), so:
- each fund's receipt numbers run 1, 2, 3 … per year without a gap, and its counter row
  holds the last one;
- the ledger holds one row per donation and per award, merged in date order with money in
  before money out on the same day, and every award is paid from a fund whose donations of
  earlier months cover it, so no fund's running balance ever goes below zero; the cached
  `Fund.balance` is the sum of its ledger.
The same seed on the same starting database gives the same rows.
"""

from __future__ import annotations

import bisect
import datetime
import heapq
import itertools
import random
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from associations.models import (
    Branch,
    BranchLevel,
    MapVintage,
    Member,
    Organization,
    OrganizationHeadcount,
)
from funds.models import Donation, Fund, FundModel, LedgerEntry, ReceiptCounter
from khuyenhoc.generator import names, spec
from khuyenhoc.generator.writers import reset_sequences, writer_for_connection
from khuyenhoc.text import search_key
from scholarships.models import Award, ScholarshipRound

CATEGORIES = ("party_member", "cadre", "civil_servant", "public_employee", "worker")
PLAN_KINDS = ("agency", "public_service", "armed_forces")
SYNTHETIC_NOTE = "Dữ liệu mẫu sinh tự động"
VN = datetime.timezone(datetime.timedelta(hours=7))


class GeneratorError(Exception):
    pass


@dataclass
class Summary:
    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


@dataclass
class _Org:
    id: int
    kind: str
    branch_id: int  # where it sits (a commune, a district or the city)
    district: int  # index of its district
    commune: int | None  # index of its commune, None above commune level
    name: str
    home_branch_id: int = 0  # where its people are registered: its board, else its branch
    headcounts: list = field(default_factory=list)  # per year of spec.YEARS: 5 columns
    members_by_year: dict = field(default_factory=dict)  # {2014..2020: active on 31/12}


@dataclass
class _Fund:
    id: int
    branch_id: int
    model: str
    name: str
    opened_on: datetime.date
    weight: float
    parent_fund: int | None  # index in funds of the fund that pays when this one cannot
    monthly_in: list = field(default_factory=list)  # donations received per month from 01/2015
    spent: int = 0
    balance: int = 0


def _date(ordinal: int) -> datetime.date:
    return datetime.date.fromordinal(ordinal)


def _at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=VN)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` into whole parts proportional to `weights` (largest remainder)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in raw]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def partition_units(total_units: int, weights: list[float]) -> list[int]:
    """Whole units proportional to weights, summing exactly to `total_units`, each ≥ 1."""
    n = len(weights)
    if n == 0:
        return []
    if total_units < n:
        raise GeneratorError("too little money for the number of records")
    weight_sum = sum(weights)
    spare = total_units - n  # everyone gets 1 unit first
    parts = [1 + int(spare * w / weight_sum) for w in weights]
    rest = total_units - sum(parts)
    for i in range(rest):
        parts[i % n] += 1
    return parts


class HanoiGenerator:
    def __init__(self, *, scale: str = "small", seed: int = 2017, log: Callable[[str], None] | None = None):
        if scale not in spec.SCALES:
            raise GeneratorError(f"unknown scale {scale!r}: choose one of {', '.join(spec.SCALES)}")
        self.scale = scale
        self.factor = spec.SCALES[scale]
        self.seed = seed
        self.log = log or (lambda message: None)
        self.rng = random.Random(f"hanoi:{seed}")  # noqa: S311 — reproducible synthetic data, not secrets
        self.summary = Summary(scale=scale, seed=seed)
        self.writer = writer_for_connection()

    # --- helpers ------------------------------------------------------------------------
    def _stream(self, name: str) -> random.Random:
        """An independent generator for one table's cosmetic fields (names, birthdays)."""
        return random.Random(f"hanoi:{self.seed}:{name}")  # noqa: S311

    def _next_id(self, model) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT MAX(id) FROM "{model._meta.db_table}"')  # noqa: S608 — a model's table
            (value,) = cursor.fetchone()
        return (value or 0) + 1

    def _write(self, model, fields: list[str], rows) -> int:
        columns = [model._meta.get_field(name).column for name in fields]
        started = time.perf_counter()
        count = self.writer.write(model._meta.db_table, columns, rows)
        key = model._meta.label
        self.summary.rows[key] = self.summary.rows.get(key, 0) + count
        self.log(f"    {model._meta.db_table:<30} {count:>10,} rows {time.perf_counter() - started:7.1f} s")
        return count

    def _stage(self, name: str, function) -> None:
        started = time.perf_counter()
        function()
        elapsed = time.perf_counter() - started
        self.summary.seconds[name] = elapsed
        self.log(f"  {name:<28} {elapsed:7.1f} s")

    # --- the run ------------------------------------------------------------------------
    def run(self) -> Summary:
        self.log(f"Generating Hanoi at scale {self.scale} (×{self.factor:g}), seed {self.seed}")
        if Organization.objects.exists():
            raise GeneratorError("The registry already holds organisations: generate into an empty database.")
        with transaction.atomic():
            checks_deferred = self._foreign_key_checks_off()
            self._stage("context", self._load_context)
            self._stage("organisations and boards", self._build_registry)
            self._stage("members", self._write_members)
            self._stage("funds and donations", self._build_donations)
            self._stage("rounds and awards", self._build_awards)
            self._stage("ledger and balances", self._write_ledger)
            self._stage("sequences", self._finish_tables)
            if checks_deferred:
                self._stage("foreign keys checked", self._foreign_keys_check)
        if connection.vendor == "postgresql":
            self._stage("analyze", self._analyze)
        return self.summary

    # --- foreign keys ---------------------------------------------------------------------
    WRITTEN = (
        Branch,
        Organization,
        OrganizationHeadcount,
        Member,
        Fund,
        Donation,
        ReceiptCounter,
        ScholarshipRound,
        Award,
        LedgerEntry,
    )

    def _foreign_key_checks_off(self) -> bool:
        """Django's foreign keys on PostgreSQL are checked at COMMIT, one queued trigger
        event per row: millions of them make the commit the slowest step. A superuser load
        switches the triggers off for this transaction (session_replication_role) and checks
        every foreign key afterwards with one anti-join per key; otherwise the checks run
        row by row during the load (SET CONSTRAINTS ALL IMMEDIATE)."""
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            (superuser,) = cursor.fetchone()
            if superuser:
                cursor.execute("SET LOCAL session_replication_role = replica")
                return True
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return False

    def _foreign_keys_check(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")
            for model in self.WRITTEN:
                for model_field in model._meta.concrete_fields:
                    if not model_field.is_relation or not model_field.many_to_one:
                        continue
                    target = model_field.related_model
                    cursor.execute(
                        f'SELECT c.id FROM "{model._meta.db_table}" c '  # noqa: S608 — model tables and columns
                        f'LEFT JOIN "{target._meta.db_table}" p ON p.id = c."{model_field.column}" '
                        f'WHERE c."{model_field.column}" IS NOT NULL AND p.id IS NULL LIMIT 1'
                    )
                    orphan = cursor.fetchone()
                    if orphan is not None:
                        raise GeneratorError(
                            f"{model._meta.label} {orphan[0]}: {model_field.name} points to no {target._meta.label}"
                        )

    # --- context ------------------------------------------------------------------------
    def _load_context(self) -> None:
        root = Branch.objects.filter(vintage=MapVintage.V2017, code="01", level=BranchLevel.CITY).first()
        if root is None:
            raise GeneratorError("Hanoi's 2017 map is not loaded: run `python manage.py load_hanoi_map` first.")
        self.city = root
        subtree = list(
            Branch.objects.filter(path__startswith=root.path, level__in=["city", "district", "commune"])
            .order_by("path")
            .values("id", "path", "depth", "level", "name", "code", "numchild", "division_type")
        )
        self.districts = [node for node in subtree if node["level"] == "district"]
        self.communes_of: list[list[dict]] = []
        district_index = {node["path"]: i for i, node in enumerate(self.districts)}
        self.communes_of = [[] for _ in self.districts]
        for node in subtree:
            if node["level"] == "commune":
                self.communes_of[district_index[node["path"][: 2 * Branch.steplen]]].append(node)
        self.nodes_by_id = {node["id"]: node for node in subtree}
        # The next free child step of each administrative node.
        self.next_step: dict[int, int] = {node["id"]: node["numchild"] + 1 for node in subtree}
        self.new_children: dict[int, int] = {}
        self.fund_models = dict(FundModel.objects.values_list("code", "id"))
        missing = {code for code, _level in spec.FUND_WEIGHT} - set(self.fund_models)
        if missing:
            raise GeneratorError(f"fund models missing (funds migrations not applied?): {sorted(missing)}")
        self.people = names.person_pool(self._stream("names"))
        rng = self.rng
        self.district_board_share = [rng.uniform(*spec.BOARD_EVENTUAL) for _ in self.districts]
        self.district_member_share = [rng.uniform(*spec.MEMBER_EVENTUAL) for _ in self.districts]
        self.commune_weight = [[rng.lognormvariate(0, 0.5) for _ in communes] for communes in self.communes_of]
        urban = {"quan"}
        self.district_weight = [
            len(communes) * (1.6 if district["division_type"] in urban else 1.0)
            for district, communes in zip(self.districts, self.communes_of, strict=True)
        ]
        self.ids = {
            model: self._next_id(model)
            for model in (
                Branch,
                Organization,
                OrganizationHeadcount,
                Member,
                Fund,
                Donation,
                ReceiptCounter,
                ScholarshipRound,
                Award,
                LedgerEntry,
            )
        }

    def _take_id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def _pick_commune(self, district: int, first: bool) -> int:
        """The first item of a kind in a district goes to its first commune (the demo's
        commune clerk sees something); the others fall where the weights say."""
        if first:
            return 0
        return self.rng.choices(range(len(self.communes_of[district])), weights=self.commune_weight[district])[0]

    def _child_path(self, parent: dict) -> str:
        step = self.next_step[parent["id"]]
        self.next_step[parent["id"]] = step + 1
        self.new_children[parent["id"]] = self.new_children.get(parent["id"], 0) + 1
        return Branch._get_path(parent["path"], parent["depth"] + 1, step)

    # --- registry: organisations, boards, chapters, headcounts ---------------------------
    def _build_registry(self) -> None:
        rng = self.rng
        factor = self.factor
        self.orgs: list[_Org] = []
        branch_rows: list[tuple] = []
        org_rows: list[tuple] = []
        self.chapters: list[tuple[int, int, int, str, datetime.date]] = []  # (id, district, commune, kind, founded)
        self.boards: list[tuple[int, _Org, datetime.date, str]] = []  # (branch id, org, founded, kind)

        def branch_row(parent: dict, name: str, level: str, organization_id, founded: datetime.date) -> int:
            branch_id = self._take_id(Branch)
            path = self._child_path(parent)
            branch_rows.append(
                (branch_id, path, parent["depth"] + 1, 0, name[:200], level, "", "", "2017", organization_id, founded)
            )
            return branch_id

        def founded_between(first_year: int, last_year: int) -> datetime.date:
            start = datetime.date(first_year, 1, 1).toordinal()
            end = datetime.date(last_year, 12, 31).toordinal()
            return _date(rng.randint(start, end))

        def board_founding(share: float) -> datetime.date | None:
            if rng.random() >= share:
                return None
            u = rng.random()
            for year, reached in spec.BOARD_CURVE.items():
                if u <= reached:
                    if year == 2012:
                        return founded_between(2005, 2012)
                    return founded_between(year, year)
            return founded_between(2020, 2020)

        # Organisations, district by district and kind by kind.
        place_counters: dict[tuple, int] = {}
        for kind, full_count in spec.ORGANIZATIONS.items():
            per_district = apportion(spec.scaled(full_count, factor), self.district_weight)
            for d, count in enumerate(per_district):
                district = self.districts[d]
                for n in range(count):
                    # About one agency or public-service unit in ten works at district level.
                    at_district = kind in PLAN_KINDS and n > 0 and rng.random() < 0.1
                    if at_district:
                        parent, commune_index = district, None
                    else:
                        commune_index = self._pick_commune(d, first=(n == 0))
                        parent = self.communes_of[d][commune_index]
                    name = self._org_name(kind, parent, place_counters)
                    org = _Org(
                        id=self._take_id(Organization),
                        kind=kind,
                        branch_id=parent["id"],
                        district=d,
                        commune=commune_index,
                        name=name,
                    )
                    org.home_branch_id = org.branch_id
                    self.orgs.append(org)
                    org_rows.append(
                        (
                            org.id,
                            name,
                            search_key(name),
                            kind,
                            parent["id"],
                            names.address(rng),
                            None,
                            None,
                            _at(datetime.date(2014, 12, 1)),
                        )
                    )
                    # Its board: every school; a share of plan-kind units by district; some enterprises.
                    if kind == "school":
                        founded = founded_between(2005, 2016)
                    elif kind in PLAN_KINDS:
                        founded = board_founding(self.district_board_share[d])
                    elif kind == "enterprise":
                        founded = founded_between(2008, 2019) if rng.random() < spec.ENTERPRISE_BOARD_SHARE else None
                    else:
                        founded = None
                    if founded is not None:
                        board_id = branch_row(parent, f"Ban khuyến học {name}", BranchLevel.BOARD, org.id, founded)
                        org.home_branch_id = board_id
                        self.boards.append((board_id, org, founded, kind))

        # Chapters of residential groups and of clans.
        for kind, full_count, first_year, last_year in (
            ("residential", spec.RESIDENTIAL_CHAPTERS, 2003, 2018),
            ("clan", spec.CLAN_CHAPTERS, 2006, 2020),
        ):
            per_district = apportion(spec.scaled(full_count, factor), self.district_weight)
            for d, count in enumerate(per_district):
                for n in range(count):
                    commune_index = self._pick_commune(d, first=(n == 0))
                    parent = self.communes_of[d][commune_index]
                    number = n + 1
                    if kind == "residential":
                        label = (
                            "Chi hội khuyến học tổ dân phố"
                            if parent["division_type"] == "phuong"
                            else "Chi hội khuyến học thôn"
                        )
                        name = f"{label} số {number}"
                    else:
                        clan = rng.choice(names.CLAN_NAMES)
                        name = f"Ban khuyến học dòng họ {clan} ({names.short_place(parent['name'])}, số {number})"
                    founded = founded_between(first_year, last_year)
                    branch_id = branch_row(parent, name, BranchLevel.CHAPTER, None, founded)
                    self.chapters.append((branch_id, d, commune_index, kind, founded))

        # Headcounts: one report per year, 2015–2020.
        headcount_rows = []
        for org in self.orgs:
            mean, split = spec.HEADCOUNT[org.kind]
            size = max(1, round(mean * rng.lognormvariate(0, 0.45)))
            growth = rng.uniform(-0.01, 0.03)
            for offset, year in enumerate(spec.YEARS):
                total = max(1, round(size * (1 + growth) ** offset))
                columns = apportion(total, list(split))
                org.headcounts.append(columns)
                headcount_rows.append((self._take_id(OrganizationHeadcount), org.id, year, *columns))

        self._write(
            Organization,
            ["id", "name", "name_search", "kind", "branch", "address", "active_from", "active_to", "created_at"],
            org_rows,
        )
        # Boards and chapters in path order, so a parent's children are inserted in step order.
        branch_rows.sort(key=lambda row: row[1])
        self._write(
            Branch,
            [
                "id",
                "path",
                "depth",
                "numchild",
                "name",
                "level",
                "division_type",
                "code",
                "vintage",
                "organization",
                "founded_on",
            ],
            branch_rows,
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE "{Branch._meta.db_table}" SET numchild = numchild + %s WHERE id = %s',  # noqa: S608
                [(count, branch_id) for branch_id, count in sorted(self.new_children.items())],
            )
        self._write(
            OrganizationHeadcount,
            ["id", "organization", "year", "party_members", "cadres", "civil_servants", "public_employees", "workers"],
            headcount_rows,
        )

    def _org_name(self, kind: str, parent: dict, counters: dict) -> str:
        rng = self.rng
        place = names.short_place(parent["name"])
        if kind == "school":
            base = f"{rng.choice(names.SCHOOL_NAMES)} {place}"
        elif kind == "learning_centre":
            base = f"Trung tâm học tập cộng đồng {place}"
        elif kind == "agency":
            base = f"{rng.choice(names.AGENCY_NAMES)} {place}"
        elif kind == "public_service":
            base = f"{rng.choice(names.PUBLIC_SERVICE_NAMES)} {place}"
        elif kind == "armed_forces":
            base = f"{rng.choice(names.ARMED_FORCES_NAMES)} {place}"
        elif kind == "enterprise":
            base = (
                f"{rng.choice(names.ENTERPRISE_FORMS)} {rng.choice(names.ENTERPRISE_TRADES)} "
                f"{rng.choice(names.ENTERPRISE_WORDS)}"
            )
        else:
            base = f"{rng.choice(names.OTHER_NAMES)} {place}"
        # Names are unique within a branch: a second "Trạm Y tế Phúc Xá" becomes "… số 2".
        key = (parent["id"], base)
        counters[key] = counters.get(key, 0) + 1
        return base if counters[key] == 1 else f"{base} số {counters[key]}"

    # --- members ------------------------------------------------------------------------
    def _write_members(self) -> None:
        rng = self.rng
        # People of organisations: the eventual share of each organisation's headcount that
        # joins, reached along MEMBER_CURVE; no one leaves, so active on 31/12/Y = n_Y.
        org_active = dict.fromkeys(range(2014, 2021), 0)
        for org in self.orgs:
            share = min(0.95, self.district_member_share[org.district] * rng.uniform(0.75, 1.25))
            previous = 0
            for year, reached in spec.MEMBER_CURVE.items():
                columns = org.headcounts[max(0, year - 2015)]
                count = max(previous, round(share * reached * sum(columns)))
                org.members_by_year[year] = count
                org_active[year] += count
                previous = count
        # Residents (farmers, retirees, pupils, others): the rest of each year's total.
        resident_active = {}
        previous = 0
        for year in spec.YEARS:
            target = spec.scaled(spec.MEMBERS_ACTIVE[year], self.factor)
            resident_active[year] = max(previous, target - org_active[year])
            previous = resident_active[year]
        resident_active[2014] = round(resident_active[2015] * 0.9)
        self.summary.rows["members active 31/12/2017"] = org_active[2017] + resident_active[2017]
        self.summary.rows["members active 31/12/2020"] = org_active[2020] + resident_active[2020]
        self._resident_active = resident_active
        self._write(
            Member,
            [
                "id",
                "full_name",
                "name_search",
                "date_of_birth",
                "gender",
                "citizen_id",
                "phone",
                "address",
                "category",
                "organization",
                "branch",
                "joined_on",
                "left_on",
                "left_reason",
                "created_at",
                "updated_at",
            ],
            self._member_rows(),
        )

    def _member_rows(self) -> Iterator[tuple]:
        cosmetic = self._stream("members")
        people = self.people
        pool_size = len(people)
        serials: dict[str, int] = {}
        year_start = {year: datetime.date(year, 1, 1).toordinal() for year in range(2000, 2022)}
        take_id = self._take_id

        def joined(year: int) -> int:
            return cosmetic.randint(year_start[year], year_start[year + 1] - 1)

        def citizen_id(born: datetime.date, male: bool) -> str | None:
            # A few members carry a citizen ID of valid form (Hanoi's province code, the
            # century/gender digit, the birth year) with a serial counted from zero: never
            # anyone's real number in an obvious way, unique across the data.
            if cosmetic.random() >= 0.03:
                return None
            digit = (0 if born.year < 2000 else 2) + (0 if male else 1)
            prefix = f"001{digit}{born.year % 100:02d}"
            serial = serials.get(prefix, 0)
            serials[prefix] = serial + 1
            return f"{prefix}{serial:06d}"

        def person_row(category, organization_id, branch_id, join_ordinal, born_low, born_high, left=None):
            person = people[cosmetic.randrange(pool_size)]
            born = datetime.date(
                cosmetic.randint(born_low, born_high), cosmetic.randint(1, 12), cosmetic.randint(1, 28)
            )
            join_day = _date(join_ordinal)
            if born > join_day:
                born = join_day.replace(year=join_day.year - 18, day=min(join_day.day, 28))
            stamp = _at(join_day)
            return (
                take_id(Member),
                person.name,
                person.key,
                born,
                "male" if person.male else "female",
                citizen_id(born, person.male),
                "",
                names.address(cosmetic),
                category,
                organization_id,
                branch_id,
                join_day,
                left[0] if left else None,
                left[1] if left else "",
                stamp,
                stamp,
            )

        for org in self.orgs:
            weights = list(itertools.accumulate(sum(col[i] for col in org.headcounts) for i in range(5)))
            total_weight = weights[-1]
            previous = 0
            for year, count in org.members_by_year.items():
                for _ in range(count - previous):
                    join = joined(cosmetic.randint(2000, 2014)) if year == 2014 else joined(year)
                    if total_weight:
                        pick = cosmetic.random() * total_weight
                        category = CATEGORIES[min(4, bisect.bisect_right(weights, pick))]
                    else:
                        category = "worker"
                    yield person_row(category, org.id, org.home_branch_id, join, 1958, 1996)
                previous = count

        # Residents: registered in a chapter of their commune, or at the commune itself.
        chapters_of: dict[tuple[int, int], list[int]] = {}
        for branch_id, d, c, _kind, _founded in self.chapters:
            chapters_of.setdefault((d, c), []).append(branch_id)
        communes = [(d, c) for d in range(len(self.districts)) for c in range(len(self.communes_of[d]))]
        commune_weights = list(
            itertools.accumulate(
                self.district_weight[d] / len(self.communes_of[d]) * self.commune_weight[d][c] for d, c in communes
            )
        )

        def resident_branch() -> int:
            d, c = communes[bisect.bisect_right(commune_weights, cosmetic.random() * commune_weights[-1])]
            options = chapters_of.get((d, c))
            if options and cosmetic.random() < 0.8:
                return options[cosmetic.randrange(len(options))]
            return self.communes_of[d][c]["id"]

        resident_kinds = (("farmer", 1950, 1990), ("retiree", 1940, 1960), ("other", 1960, 1995))
        previous = 0
        for year in range(2014, 2021):
            for _ in range(self._resident_active[year] - previous):
                if year >= 2015 and cosmetic.random() < 0.15:
                    yield person_row("student", None, resident_branch(), joined(year), year - 20, year - 16)
                else:
                    category, low, high = resident_kinds[cosmetic.randrange(3)]
                    join = joined(cosmetic.randint(2000, 2014)) if year == 2014 else joined(year)
                    yield person_row(category, None, resident_branch(), join, low, high)
            previous = self._resident_active[year]
        # Some who left before 2017 (moved away): they count in no year from 2017 on.
        for _ in range(round(self._resident_active[2014] * 0.03)):
            join = joined(cosmetic.randint(2003, 2012))
            left = _date(cosmetic.randint(max(join + 365, year_start[2013]), year_start[2016] + 364))
            yield person_row("other", None, resident_branch(), join, 1945, 1985, left=(left, "Chuyển nơi cư trú"))

    # --- funds and donations ------------------------------------------------------------
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
                kind = bisect.bisect_right(kind_cum, rng.random() * kind_cum[-1])
                weight = kind_scale[kind] * rng.lognormvariate(0, 0.9)
                drafts.append((day, fund_index, weight, kind))
            random_units = partition_units(total // spec.DONATION_UNIT - sum(regular_units), [d[2] for d in drafts])
            drafts = [(day, f, units, kind) for (day, f, _w, kind), units in zip(drafts, random_units, strict=True)]
            for fund_index, units in enumerate(regular_units):
                kind = 2 if self.funds[fund_index].model in {"hoi-cac-cap", "co-quan-don-vi"} else 0
                drafts.append((rng.randint(start.toordinal(), first_month_end), fund_index, units, kind))
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
        for start_year, (full_turns, full_hardship, full_amount) in spec.AWARD_YEARS.items():
            turns = spec.scaled(full_turns, self.factor)
            hardship = spec.scaled(full_hardship, self.factor)
            amount = spec.scaled_money(full_amount, self.factor, spec.AWARD_UNIT)
            school_year = f"{start_year}-{start_year + 1}"
            # Each fund holds one to three rounds a year; turns follow the fund's weight.
            drafts = []
            for index in range(len(self.funds)):
                for month, day, pattern in rng.sample(spec.ROUND_KINDS, rng.randint(1, 3)):
                    year = start_year if month >= 9 else start_year + 1
                    on = datetime.date(year, month, min(28, max(1, day + rng.randint(-4, 4))))
                    drafts.append((on.toordinal(), index, pattern.format(sy=school_year), fund_weights[index]))
            drafts.sort(key=lambda item: (item[0], item[1]))
            per_round = apportion(turns, [item[3] for item in drafts])
            # Categories and kinds per turn, then amounts: hardship turns weigh ~30 times more.
            categories = [1] * hardship + [0] * (turns - hardship)
            rng.shuffle(categories)
            kinds = [
                0 if category else (0 if (r := rng.random()) < 0.94 else (1 if r < 0.98 else 2))
                for category in categories
            ]
            kind_weight = (1.0, 3.0, 2.0)
            weights = [
                rng.uniform(25, 40) if category else kind_weight[kind] * rng.uniform(0.6, 1.4)
                for category, kind in zip(categories, kinds, strict=True)
            ]
            units = partition_units(amount // spec.AWARD_UNIT, weights)
            position = 0
            for (day, fund_index, name, _weight), count in zip(drafts, per_round, strict=True):
                if count == 0:
                    continue
                total = sum(units[position : position + count]) * spec.AWARD_UNIT
                # Pay from the round's fund if its donations of earlier months cover it,
                # else from the fund above it (commune → district → city).
                month = _date(day).year * 12 + _date(day).month - 1 - base_month
                paying = fund_index
                while True:
                    fund = self.funds[paying]
                    available = (fund.monthly_in[month - 1] if month > 0 else 0) - fund.spent
                    if available >= total:
                        break
                    if fund.parent_fund is None:
                        raise GeneratorError("the city fund cannot pay a round: donations too small for awards")
                    paying = fund.parent_fund
                fund.spent += total
                fund.balance -= total
                round_id = self._take_id(ScholarshipRound)
                self.rounds.append((round_id, paying, self.funds[fund_index].branch_id, day, name, school_year))
                for i in range(position, position + count):
                    self.award_round.append(len(self.rounds) - 1)
                    self.award_amount.append(units[i] * spec.AWARD_UNIT)
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
        self._write(
            Award,
            [
                "id",
                "round",
                "recipient_kind",
                "recipient_name",
                "recipient_name_search",
                "date_of_birth",
                "school_or_workplace",
                "grade",
                "recipient_id",
                "recipient_key",
                "category",
                "amount",
                "form",
                "in_kind_description",
                "paid_on",
                "void_reason",
                "created_at",
            ],
            self._award_rows(first_award),
        )
        first_entry = self.ids[LedgerEntry]
        self._write(
            LedgerEntry,
            ["id", "fund", "amount", "kind", "occurred_on", "donation", "award", "memo", "created_at"],
            self._ledger_rows(first_entry, first_donation, first_award),
        )
        self.ids[LedgerEntry] = first_entry + len(self.donation_day) + len(self.award_round)
        self.summary.rows["donations 2016 (đồng)"] = self._sum_donations(
            datetime.date(2016, 1, 1), datetime.date(2016, 12, 31)
        )

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

    def _award_rows(self, first_id: int) -> Iterator[tuple]:
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
                "",
                _at(paid, 10),
            )
        del grades

    def _ledger_rows(self, first_id: int, first_donation: int, first_award: int) -> Iterator[tuple]:
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
        for day, is_award, index, fund_index, amount in heapq.merge(donations, awards):
            running[fund_index] += amount
            if running[fund_index] < 0:
                raise GeneratorError(f"fund {funds[fund_index].id} would go negative on {_date(day)}")
            occurred = _date(day)
            if is_award:
                yield (
                    entry_id,
                    funds[fund_index].id,
                    amount,
                    "award_payment",
                    occurred,
                    None,
                    first_award + index,
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

    # --- finishing ------------------------------------------------------------------------
    def _finish_tables(self) -> None:
        reset_sequences(self.WRITTEN)

    def _analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def generate_hanoi(*, scale: str = "small", seed: int = 2017, log: Callable[[str], None] | None = None) -> Summary:
    """Generate the data, then Plan 99 and its indicator values, computed by the plans app."""
    from plans.services import indicators_recompute_all, plan_99_load

    generator = HanoiGenerator(scale=scale, seed=seed, log=log)
    summary = generator.run()
    started = time.perf_counter()
    plan_99_load()
    summary.rows["indicator values"] = indicators_recompute_all(today=timezone.localdate())
    summary.seconds["plan 99 indicators"] = time.perf_counter() - started
    if log:
        log(f"  {'plan 99 indicators':<28} {summary.seconds['plan 99 indicators']:7.1f} s")
    return summary
