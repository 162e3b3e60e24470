"""Build a synthetic Hanoi from row-level records and load it in bulk.

Everything is decided in Python from one seeded random generator, with explicit ids, then
written table by table (PostgreSQL COPY, or multi-row INSERTs on SQLite), except the rows
the database makes from those written (INSERT … SELECT): on PostgreSQL each award's payment
and the ledger (demo/generator/money.py: the same rows the Python path writes elsewhere) and
the awards' recipients, birth dates, classes and forms (drawn by the server from a hash of the
award's id and the seed; Python decides each award's round, amount, category and kind),
everywhere the evaluations (demo/generator/learning.py). Ids follow dates
(donations, awards and ledger rows are written in date order), so:
- each fund's receipt numbers run 1, 2, 3 … per year without a gap, and its counter row
  holds the last one;
- the ledger holds one row per donation and per award, merged in date order with money in
  before money out on the same day, and every award is paid from a fund whose donations of
  earlier months cover it, so no fund's running balance ever goes below zero; the cached
  `Fund.balance` is the sum of its ledger.
The same seed on the same starting database gives the same rows.

Every year (2015–2026) is built on the 2017 map; then Hanoi's three reorganisation rounds
(01/01/2020, 01/01/2025, 01/07/2025) are applied at their dates, decided by a stated rule
(`reorganisation.rounds.rule_decisions`, never official), so the city ends on today's map
with its history. Nothing dated after a round's effective day stays on a unit it dissolved
or a fund it closed: the money of 2020 avoids the funds of the communes the first round
dissolves (their district's fund receives it), and the learning titles' yearly records the
apply keeps as history are re-homed to the successors — see demo/generator/rounds.py, whose
check fails the generation if one is left.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from associations.models import (
    Branch,
    Member,
    Organization,
    OrganizationHeadcount,
)
from associations.sqlite import sqlite_statistics_refresh
from demo.generator import names, spec
from demo.generator.base import GeneratorError, Summary
from demo.generator.learning import LEARNING_TABLES, LearningStages
from demo.generator.money import MoneyStages
from demo.generator.registry import RegistryStages
from demo.generator.rounds import RoundStages
from demo.generator.writers import reset_sequences, writer_for_connection
from funds.models import Donation, Fund, FundModel, LedgerEntry, Payment, ReceiptCounter
from funds.totals import totals_rebuild_all
from learning.models import Registration
from plans.services import indicators_recompute_all, plan_99_load
from scholarships.models import Award, ScholarshipRound


class HanoiGenerator(RegistryStages, MoneyStages, LearningStages, RoundStages):
    def __init__(
        self,
        *,
        scale: str = "small",
        seed: int = 2017,
        log: Callable[[str], None] | None = None,
        rounds: int = 3,
        rounds_later: bool = False,
    ):
        if scale not in spec.SCALES:
            raise GeneratorError(f"unknown scale {scale!r}: choose one of {', '.join(spec.SCALES)}")
        self.scale = scale
        self.factor = spec.SCALES[scale]
        self.seed = seed
        self.rounds_to_apply = rounds
        # The rounds are applied after the generation by the caller (the demo, with its own
        # decisions): the money still avoids the funds the first round closes.
        self.rounds_later = rounds_later
        self.log = log or (lambda message: None)
        self.rng = random.Random(f"hanoi:{seed}")  # noqa: S311 — reproducible synthetic data, not secrets
        self.summary = Summary(scale=scale, seed=seed)
        self.writer = writer_for_connection()
        self.checks_deferred = False

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

    def _count_written(self, model, count: int, started: float) -> None:
        """Count and log rows a stage wrote by SQL (`_write` does it for the rows it writes)."""
        key = model._meta.label
        self.summary.rows[key] = self.summary.rows.get(key, 0) + count
        self.log(f"    {model._meta.db_table:<30} {count:>10,} rows {time.perf_counter() - started:7.1f} s")

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
            checks_deferred = self.checks_deferred = self._foreign_key_checks_off()
            # The registration indexes wait for the rounds' re-homing (demo/generator/learning.py).
            self.defer_registration_indexes = bool(checks_deferred and self.rounds_to_apply)
            self._stage("context", self._load_context)
            self._stage("plain indexes dropped", self._plain_indexes_drop)
            self._stage("organisations and boards", self._build_registry)
            self._stage("members", self._write_members)
            self._stage("funds and donations", self._build_donations)
            self._stage("rounds and awards", self._build_awards)
            self._stage("ledger and balances", self._write_ledger)
            self._stage("learning titles", self._build_learning)
            self._stage("plain indexes built", self._plain_indexes_build)
            self._stage("sequences", self._finish_tables)
            if checks_deferred:
                self._stage("foreign keys checked", self._foreign_keys_check)
        if self.rounds_to_apply:
            if connection.vendor == "postgresql":
                # The rounds' big UPDATEs right after the load: plan them on fresh statistics.
                self._stage("analyze before the rounds", self._analyze)
            try:
                self._stage("reorganisation rounds", self._apply_rounds)
            finally:
                self._stage("registration indexes built", self._deferred_indexes_build)
            self._stage("rounds checked", self._check_rounds)
        if connection.vendor == "postgresql":
            self._stage("analyze", self._analyze)
        else:  # the embedded SQLite plans the lists from its statistics too (associations/sqlite.py)
            self._stage("analyze", sqlite_statistics_refresh)
        return self.summary

    # --- indexes during the load ------------------------------------------------------------
    def _plain_indexes_drop(self) -> None:
        """On PostgreSQL, the written tables' plain indexes (not those of a primary key or a
        constraint) are dropped for the load and built again after it (`_plain_indexes_build`):
        a member has a trigram index, a ledger row or a registration some ten or fifteen
        indexes, and building each once beats maintaining it row by row. Building the partial
        unique indexes again also checks that no subject registered twice.

        When rounds are applied after the load by a superuser (foreign-key triggers off), the
        registration table's indexes are built only after the rounds (`_deferred_indexes_build`):
        the rounds' re-homing re-points registrations (2.8 million in the third round at full
        size), which would otherwise update every index row by row or drop and rebuild them
        all a second time."""
        self.dropped_indexes: list[tuple[str, str, str]] = []
        self.deferred_indexes: list[tuple[str, str]] = []
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            # The INSERT … SELECTs of the load (ledger, evaluations) number millions of rows in
            # order: sort them in memory rather than on disk.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        tables = sorted({model._meta.db_table for model in self.WRITTEN if model not in self.INDEXED_DURING_LOAD})
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
                [tables],
            )
            self.dropped_indexes = cursor.fetchall()
            for _table, name, _definition in self.dropped_indexes:
                cursor.execute(f'DROP INDEX "{name}"')

    def _plain_indexes_build(self) -> None:
        if not self.dropped_indexes:
            return
        deferred_table = Registration._meta.db_table if self.defer_registration_indexes else None
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for table, name, definition in self.dropped_indexes:
                if table == deferred_table:
                    self.deferred_indexes.append((name, definition))
                    continue
                cursor.execute(definition)
        self.dropped_indexes = []

    def _deferred_indexes_build(self) -> None:
        """The registration indexes the load left for after the rounds (see above)."""
        if not self.deferred_indexes:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in self.deferred_indexes:
                cursor.execute(definition)
        self.deferred_indexes = []

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
        Payment,
        Award,
        LedgerEntry,
        *LEARNING_TABLES,
    )
    # Small tables the load reads back while it runs: their indexes stay.
    INDEXED_DURING_LOAD = (Branch, Organization, OrganizationHeadcount, Fund, ReceiptCounter, ScholarshipRound)

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
        root = Branch.objects.city_root()
        if root is None:
            raise GeneratorError("Hanoi's 2017 map is not loaded: run `python manage.py load_hanoi_map` first.")
        self.city = root
        subtree = list(
            # The map the synthetic history starts on: the oldest (undated) units.
            Branch.objects.filter(
                path__startswith=root.path, level__in=["city", "district", "commune"], founded_on__isnull=True
            )
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
        self._plan_first_round()  # which communes the first round dissolves, before any money
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
                Payment,
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

    # --- finishing ------------------------------------------------------------------------
    def _finish_tables(self) -> None:
        reset_sequences(self.WRITTEN)

    def _analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def generate_hanoi(
    *,
    scale: str = "small",
    seed: int = 2017,
    log: Callable[[str], None] | None = None,
    rounds: int = 3,
    rounds_later: bool = False,
) -> Summary:
    """Generate the data, apply Hanoi's three rounds at their dates (demo/generator/rounds.py;
    `rounds` says how many of the three to apply, 0 leaves the city on the 2017 map), then Plan 99 and its indicator
    values, computed by the plans app (whose recompute stores the learning titles' figures
    too). With `rounds_later` (and `rounds=0`) the caller applies the rounds afterwards (the
    demo, with its own decisions, then `demo.generator.rounds.split_totals_reentered`): the
    money of 2020 already avoids the funds the first round closes."""
    generator = HanoiGenerator(scale=scale, seed=seed, log=log, rounds=rounds, rounds_later=rounds_later)
    with _jit_for_the_load():
        summary = generator.run()
        started = time.perf_counter()
        with transaction.atomic():  # the bulk-loaded donations and awards' stored totals (funds.totals)
            totals_rebuild_all()
        summary.seconds["money totals"] = time.perf_counter() - started
        if log:
            log(f"  {'money totals':<28} {summary.seconds['money totals']:7.1f} s")
    started = time.perf_counter()
    plan_99_load()
    summary.rows["indicator values"] = indicators_recompute_all(today=timezone.localdate())
    summary.seconds["plan 99 indicators"] = time.perf_counter() - started
    if log:
        log(f"  {'plan 99 indicators':<28} {summary.seconds['plan 99 indicators']:7.1f} s")
    return summary


@contextmanager
def _jit_for_the_load():
    """PostgreSQL's JIT compilation for the load's statements, each of which reads or writes
    millions of rows (the portal's connections have it off: khuyenhoc.env), as the load was
    measured; the session's own setting again afterwards, for Plan 99's first run."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = on")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
