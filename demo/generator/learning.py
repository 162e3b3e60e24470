"""The learning-titles stage of the generator: for every commune and every year 2021–2026,
households, clans, residential communities and citizens (units are the organisations),
eligible totals, registrations for the five titles, evaluations against the criteria set in
force that year, and a recognition decision per commune, title and year that names exactly
the registrations recognised.

Rows are planned commune by commune from one seeded stream and written in chunks (COPY on
PostgreSQL, multi-row INSERTs elsewhere), so memory stays bounded whatever the scale: a
flush happens whenever the planned registrations reach CHUNK_REGISTRATIONS. Stages follow
the cycle's rules: an evaluation only where a criteria set is in force (none for Đơn vị and
Công dân học tập before 2024: those registrations stay "registered"); recognised exactly
when a decision names the registration and its evaluation passed; a failed evaluation ends
"not recognised" at the review. The sets used are marked frozen, as their first use would.
"""

from __future__ import annotations

import datetime
import time
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models.functions import Now

from associations.models import Member
from demo.generator import spec
from demo.generator.base import GeneratorError, apportion
from demo.generator.names import short_place
from khuyenhoc.text import search_key
from learning.models import (
    Citizen,
    Clan,
    Community,
    CriteriaSet,
    Decision,
    EligibleCount,
    Evaluation,
    Household,
    Registration,
    Score,
    Stage,
    TitleKind,
)

CHUNK_REGISTRATIONS = 100_000
EVALUATORS = ("Tổ thẩm định cấp xã", "Ban khuyến học xã", "Hội đồng đánh giá")

# Every table the stage writes, in the order a flush writes them (parents first).
LEARNING_TABLES = (Decision, Household, Clan, Community, Citizen, EligibleCount, Registration, Evaluation, Score)

COLUMNS = {
    Decision: ["id", "branch", "kind", "year", "number", "decided_on", "body", "signer", "signer_title"],
    Household: ["id", "branch", "name_search", "head_name", "address", "people", "working_people"],
    Clan: ["id", "branch", "name_search", "name", "representative", "residence", "working_people"],
    Community: ["id", "branch", "name_search", "name", "households", "working_people"],
    Citizen: [
        "id", "branch", "name_search", "full_name", "date_of_birth", "member", "household", "community", "clan",
        "organization",
    ],
    EligibleCount: ["id", "branch", "kind", "year", "count"],
    Evaluation: [
        "id", "registration", "criteria_set", "total_points", "level", "passed", "evaluated_on", "evaluator", "note",
    ],
    Score: ["id", "evaluation", "criterion", "points", "evidence"],
}  # fmt: skip
# A registration's columns: the common ones, then its one subject column.
REGISTRATION_COLUMNS = [
    "id", "kind", "year", "branch", "stage", "registered_on", "reviewed_on", "review_note", "decision",
]  # fmt: skip


class _CriteriaSet:
    def __init__(self, pk: int, pass_points: int, criteria: list[tuple[int, int]], levels: list[tuple[str, int, int]]):
        self.pk = pk
        self.pass_points = pass_points
        self.criteria = criteria  # (id, max points) in order
        self.levels = levels  # (name, from, to)
        self.maximum = sum(points for _id, points in criteria)

    def level(self, total: int) -> str:
        return next((name for name, low, high in self.levels if low <= total <= high), "")

    def split(self, total: int) -> list[int]:
        """The total shared over the criteria in proportion to their maxima, none above its own."""
        parts = [min(points, total * points // self.maximum) for _id, points in self.criteria]
        rest = total - sum(parts)
        for index, (_id, points) in enumerate(self.criteria):
            if rest <= 0:
                break
            extra = min(rest, points - parts[index])
            parts[index] += extra
            rest -= extra
        return parts


class LearningStages:
    # --- set-up -----------------------------------------------------------------------------
    def _learning_context(self) -> None:
        self.kinds = {
            code: (pk, subject) for code, pk, subject in TitleKind.objects.values_list("code", "id", "subject_type")
        }
        missing = set(spec.RECOGNISED_SHARE) - set(self.kinds)
        if missing:
            raise GeneratorError(f"learning titles missing (learning migrations not applied?): {sorted(missing)}")
        self.sets_in_force: dict[tuple[str, int], _CriteriaSet | None] = {}
        for code in spec.RECOGNISED_SHARE:
            kind_id = self.kinds[code][0]
            for year in spec.LEARNING_YEARS:
                chosen = CriteriaSet.objects.in_force(year).filter(kind_id=kind_id).order_by("-version").first()
                if chosen is None:
                    self.sets_in_force[(code, year)] = None
                    continue
                criteria = list(chosen.criteria.order_by("ordering", "id").values_list("id", "max_points"))
                levels = list(chosen.levels.values_list("name", "min_points", "max_points"))
                self.sets_in_force[(code, year)] = _CriteriaSet(chosen.pk, chosen.pass_points, criteria, levels)
        self.learning_ids = {model: self._next_id(model) for model in LEARNING_TABLES}
        self.learning_rows = dict.fromkeys(LEARNING_TABLES, 0)
        self.learning_seconds = dict.fromkeys(LEARNING_TABLES, 0.0)
        self.buffers: dict = {model: [] for model in LEARNING_TABLES if model is not Registration}
        self.registration_buffers: dict[str, list[tuple]] = {}
        self.planned_registrations = 0
        self.used_sets: set[int] = set()

    def _new_id(self, model) -> int:
        value = self.learning_ids[model]
        self.learning_ids[model] = value + 1
        return value

    def _members_by_commune(self) -> dict[str, list[tuple[int, str, datetime.date]]]:
        """A sample of residents (members of no organisation, still members) per commune path,
        for the citizens who are members: one query, every seventh such member."""
        commune_length = 3 * self.city.steplen
        table = Member._meta.db_table
        found: dict[str, list] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT m.id, m.full_name, m.date_of_birth, b.path FROM "{table}" m '  # noqa: S608 — model tables
                'JOIN "associations_branch" b ON b.id = m.branch_id '
                "WHERE m.organization_id IS NULL AND m.left_on IS NULL AND m.id % 7 = 0 ORDER BY m.id"
            )
            for member_id, full_name, born, path in cursor.fetchall():
                if isinstance(born, str):  # SQLite answers text
                    born = datetime.date.fromisoformat(born)
                found.setdefault(path[:commune_length], []).append((member_id, full_name, born))
        return found

    # --- the stage ----------------------------------------------------------------------------
    def _build_learning(self) -> None:
        self._learning_context()
        rng = self._stream("learning")
        communes = [(d, c) for d in range(len(self.districts)) for c in range(len(self.communes_of[d]))]
        weights = [self.district_weight[d] / len(self.communes_of[d]) * self.commune_weight[d][c] for d, c in communes]

        factor = spec.LEARNING_SCALES[self.scale]

        def per_commune(total: int) -> list[int]:
            return [max(1, n) for n in apportion(spec.scaled(total, factor), weights)]

        households = per_commune(spec.HOUSEHOLDS)
        communities = per_commune(spec.COMMUNITIES)
        clans = per_commune(spec.CLANS)
        citizens = per_commune(spec.CITIZENS)
        chapters_of: dict[tuple[int, int], dict[str, list[int]]] = {}
        for branch_id, d, c, kind, _founded in self.chapters:
            chapters_of.setdefault((d, c), {}).setdefault(kind, []).append(branch_id)
        units_of: dict[tuple[int, int | None], list[tuple[int, int]]] = {}
        for org in self.orgs:
            units_of.setdefault((org.district, org.commune), []).append((org.id, org.branch_id))
        members = self._members_by_commune()
        self.write_scores = spec.SCORE_ROWS.get(self.scale, False)
        with self._learning_indexes_off():
            for index, (d, c) in enumerate(communes):
                node = self.communes_of[d][c]
                self._plan_commune(
                    rng,
                    node,
                    households=households[index],
                    communities=communities[index],
                    clans=clans[index],
                    citizens=citizens[index],
                    chapters=chapters_of.get((d, c), {}),
                    units=units_of.get((d, c), []),
                    members=members.get(node["path"], []),
                )
                if c == len(self.communes_of[d]) - 1 and units_of.get((d, None)):
                    # Units at district level: registered, evaluated and recognised by the district.
                    self._plan_units(rng, self.districts[d], units_of[(d, None)])
                if self.planned_registrations >= CHUNK_REGISTRATIONS:
                    self._flush()
            self._flush()
        if self.used_sets:
            CriteriaSet.objects.filter(pk__in=sorted(self.used_sets), frozen_at__isnull=True).update(frozen_at=Now())
        for model in LEARNING_TABLES:
            label = model._meta.label
            self.summary.rows[label] = self.summary.rows.get(label, 0) + self.learning_rows[model]
            self.log(
                f"    {model._meta.db_table:<30} {self.learning_rows[model]:>10,} rows "
                f"{self.learning_seconds[model]:7.1f} s"
            )

    @contextmanager
    def _learning_indexes_off(self):
        """On PostgreSQL, the learning tables' plain indexes (not those of a primary key or a
        constraint) are dropped for the load and built again after it: a registration has
        some fifteen, and building them once beats maintaining them row by row. Building the
        partial unique indexes again also checks that no subject registered twice.

        When rounds are applied after the load by a superuser (foreign-key triggers off), the
        registration table's indexes are built only after the rounds (`_deferred_indexes_build`):
        the rounds' re-homing re-points registrations (2.8 million in the third round at full
        size), which would otherwise update every index row by row or drop and rebuild them
        all a second time."""
        self.deferred_indexes: list[tuple[str, str]] = []
        if connection.vendor != "postgresql":
            yield
            return
        tables = [model._meta.db_table for model in LEARNING_TABLES]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
                [sorted(set(tables))],
            )
            indexes = cursor.fetchall()
            for _table, name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        yield
        started = time.perf_counter()
        deferred_table = Registration._meta.db_table if getattr(self, "defer_registration_indexes", False) else None
        built = 0
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for table, name, definition in indexes:
                if table == deferred_table:
                    self.deferred_indexes.append((name, definition))
                    continue
                cursor.execute(definition)
                built += 1
        self.log(f"    {'learning indexes built':<30} {built:>10,}      {time.perf_counter() - started:7.1f} s")

    def _deferred_indexes_build(self) -> None:
        """The registration indexes the load left for after the rounds (see above)."""
        if not getattr(self, "deferred_indexes", None):
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in self.deferred_indexes:
                cursor.execute(definition)
        self.deferred_indexes = []

    # --- planning one commune -----------------------------------------------------------------
    def _plan_commune(self, rng, node, *, households, communities, clans, citizens, chapters, units, members) -> None:
        place = short_place(node["name"])
        place_key = search_key(place)
        residential = chapters.get("residential") or [node["id"]]
        clan_chapters = chapters.get("clan") or [node["id"]]
        people, pool = self.people, len(self.people)
        ward = node["division_type"] == "phuong"

        # Residential communities, with their households.
        community_rows = []
        per_community = apportion(households, [1.0 + rng.random() for _ in range(communities)])
        label = "Tổ dân phố" if ward else "Thôn"
        household_ids = []
        household_community = []  # the community of each household, in the same order
        for number, count in enumerate(per_community, start=1):
            name = f"{label} số {number}"
            key = search_key(name)
            branch_id = residential[(number - 1) % len(residential)]
            working_total = 0
            community_id = self._new_id(Community)
            for _ in range(count):
                person = people[rng.randrange(pool)]
                size = rng.randint(1, 7)
                working = rng.randint(min(1, size), size)
                working_total += working
                house = rng.randint(1, 299)
                household_id = self._new_id(Household)
                household_ids.append((household_id, branch_id))
                household_community.append(community_id)
                self.buffers[Household].append(
                    (
                        household_id,
                        branch_id,
                        f"{person.key} — so {house}, {key}, {place_key}"[:255],
                        person.name,
                        f"Số {house}, {name}, {place}",
                        size,
                        working,
                    )
                )
            community_rows.append((community_id, node["id"]))
            self.buffers[Community].append((community_id, node["id"], key, name, count, working_total))

        clan_rows = []
        for number in range(1, clans + 1):
            family = people[rng.randrange(pool)].name.split(" ", 1)[0]
            name = f"Dòng họ {family} {place} (chi {number})"
            representative = people[rng.randrange(pool)]
            branch_id = clan_chapters[(number - 1) % len(clan_chapters)]
            clan_id = self._new_id(Clan)
            clan_rows.append((clan_id, branch_id))
            self.buffers[Clan].append(
                (clan_id, branch_id, search_key(name), name, representative.name, f"{place}", rng.randint(10, 400))
            )

        citizen_rows = []
        linked = min(len(members), round(citizens * spec.CITIZEN_MEMBER_SHARE))
        for number in range(citizens):
            if number < linked:
                member_id, full_name, born = members[number]
                key = search_key(full_name)
            else:
                person = people[rng.randrange(pool)]
                member_id, full_name, key = None, person.name, person.key
                born = datetime.date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
            branch_id = residential[number % len(residential)]
            citizen_id = self._new_id(Citizen)
            citizen_rows.append((citizen_id, branch_id))
            # Where she belongs, chosen without the random stream (the rest of the sample stays
            # as it was): a household spread over the commune's and its village, a clan for one
            # citizen in three, a workplace among the commune's units for one in four.
            home = number * len(household_ids) // citizens if household_ids else None
            household_id = household_ids[home][0] if home is not None else None
            community_id = household_community[home] if home is not None else None
            clan_id = clan_rows[number % len(clan_rows)][0] if clan_rows and number % 3 == 0 else None
            workplace = units[number % len(units)][0] if units and number % 4 == 0 else None
            self.buffers[Citizen].append(
                (citizen_id, branch_id, key, full_name, born, member_id, household_id, community_id, clan_id, workplace)
            )

        # Eligible totals of the commune: its households, villages / groups and clans.
        for code, count in (
            ("gia-dinh-hoc-tap", households),
            ("cong-dong-hoc-tap", communities),
            ("dong-ho-hoc-tap", clans),
        ):
            for year in spec.LEARNING_YEARS:
                self.buffers[EligibleCount].append(
                    (self._new_id(EligibleCount), node["id"], self.kinds[code][0], year, count)
                )

        for code, subjects in (
            ("gia-dinh-hoc-tap", household_ids),
            ("cong-dong-hoc-tap", community_rows),
            ("dong-ho-hoc-tap", clan_rows),
            ("cong-dan-hoc-tap", citizen_rows),
            ("don-vi-hoc-tap", units),
        ):
            self._plan_title(rng, node, code, subjects)

    def _plan_units(self, rng, node, units) -> None:
        self._plan_title(rng, node, "don-vi-hoc-tap", units)

    def _plan_title(self, rng, node, code: str, subjects: list[tuple[int, int]]) -> None:
        """Registrations of one title for every year, their evaluations and the decision of
        the branch `node` (a commune, or a district for its district-level units)."""
        if not subjects:
            return
        kind_id = self.kinds[code][0]
        buffer = self.registration_buffers.setdefault(code, [])
        evaluations, scores = self.buffers[Evaluation], self.buffers[Score]
        spread = rng.uniform(*spec.COMMUNE_SPREAD)
        kept = (1 - spec.WITHDRAWN_SHARE) * (1 - spec.UNEVALUATED_SHARE) * spec.PASS_SHARE
        for year in spec.LEARNING_YEARS:
            share = min(0.98, spec.RECOGNISED_SHARE[code][year] * spread / kept)
            criteria_set = self.sets_in_force[(code, year)]
            start = datetime.date(year, 1, 5).toordinal()
            evaluated_on = datetime.date(year, 10, rng.randint(1, 25))
            reviewed_on = datetime.date(year, 11, rng.randint(1, 12))
            decided_on = datetime.date(year, 11, rng.randint(15, 28))
            decision_id = None
            recognised = 0
            for subject_id, branch_id in subjects:
                if rng.random() >= share:
                    continue
                registration_id = self._new_id(Registration)
                registered_on = datetime.date.fromordinal(start + rng.randrange(70))
                u = rng.random()
                if u < spec.WITHDRAWN_SHARE:
                    stage, reviewed, note, decision = Stage.WITHDRAWN, None, "Xin rút đăng ký", None
                elif criteria_set is None or u < spec.WITHDRAWN_SHARE + spec.UNEVALUATED_SHARE:
                    stage, reviewed, note, decision = Stage.REGISTERED, None, "", None
                else:
                    passed = rng.random() < spec.PASS_SHARE
                    pass_points = criteria_set.pass_points
                    if passed:
                        total = pass_points + int((criteria_set.maximum - pass_points + 1) * rng.random() ** 0.8)
                        total = min(total, criteria_set.maximum)
                        if decision_id is None:
                            decision_id = self._new_id(Decision)
                        stage, reviewed, note, decision = Stage.RECOGNISED, None, "", decision_id
                        recognised += 1
                    else:
                        total = rng.randint(pass_points // 2, pass_points - 1)
                        stage, reviewed, note, decision = Stage.NOT_RECOGNISED, reviewed_on, "Chưa đạt", None
                    evaluation_id = self._new_id(Evaluation)
                    evaluations.append(
                        (
                            evaluation_id,
                            registration_id,
                            criteria_set.pk,
                            total,
                            criteria_set.level(total),
                            passed,
                            evaluated_on,
                            EVALUATORS[subject_id % len(EVALUATORS)],
                            "",
                        )
                    )
                    self.used_sets.add(criteria_set.pk)
                    if self.write_scores:
                        for (criterion_id, _max), points in zip(
                            criteria_set.criteria, criteria_set.split(total), strict=True
                        ):
                            scores.append((self._new_id(Score), evaluation_id, criterion_id, points, ""))
                buffer.append(
                    (
                        registration_id, kind_id, year, branch_id, stage, registered_on, reviewed,
                        note, decision, subject_id,
                    )
                )  # fmt: skip
                self.planned_registrations += 1
            if decision_id is not None:
                signer = self.people[rng.randrange(len(self.people))].name
                body = f"Ủy ban nhân dân {node['name'][0].lower()}{node['name'][1:]}"
                self.buffers[Decision].append(
                    (
                        decision_id, node["id"], kind_id, year, f"{100 + kind_id}/QĐ-UBND", decided_on,
                        body[:255], signer, "Chủ tịch",
                    )
                )  # fmt: skip

    # --- writing ------------------------------------------------------------------------------
    SUBJECT_COLUMN = {
        "gia-dinh-hoc-tap": "household",
        "dong-ho-hoc-tap": "clan",
        "cong-dong-hoc-tap": "community",
        "don-vi-hoc-tap": "organization",
        "cong-dan-hoc-tap": "citizen",
    }

    def _learning_write(self, model, fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        columns = [model._meta.get_field(name).column for name in fields]
        started = time.perf_counter()
        self.learning_rows[model] += self.writer.write(model._meta.db_table, columns, rows)
        self.learning_seconds[model] += time.perf_counter() - started

    def _flush(self) -> None:
        for model in LEARNING_TABLES:
            if model is Registration:
                for code, rows in self.registration_buffers.items():
                    self._learning_write(Registration, [*REGISTRATION_COLUMNS, self.SUBJECT_COLUMN[code]], rows)
                    rows.clear()
            else:
                self._learning_write(model, COLUMNS[model], self.buffers[model])
                self.buffers[model].clear()
        self.planned_registrations = 0
