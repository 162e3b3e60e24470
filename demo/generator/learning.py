"""The learning-titles stage of the generator: for every commune and every year 2021–2026,
households, clans, residential communities and citizens (units are the organisations),
eligible totals, registrations for the five titles, evaluations against the criteria set in
force that year, and a recognition decision per commune, title and year that names exactly
the registrations recognised.

Rows are planned commune by commune from one seeded stream and written in chunks (COPY on
PostgreSQL, multi-row INSERTs elsewhere), so memory stays bounded whatever the scale: a
flush happens whenever the planned registrations reach CHUNK_REGISTRATIONS. The evaluations
are then made by the database from the registrations written (`_evaluations_insert`, one
INSERT … SELECT, the same SQL on SQLite), their figures hashed from the ids and the seed;
the scores (small scale only) from them. Stages follow
the cycle's rules: an evaluation only where a criteria set is in force (none for Đơn vị and
Công dân học tập before 2024: those registrations stay "registered"); recognised exactly
when a decision names the registration and its evaluation passed; a failed evaluation ends
"not recognised" at the review. The sets used are marked frozen, as their first use would.
"""

from __future__ import annotations

import datetime
import time

from django.db import connection
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
        self.first_registration = self.learning_ids[Registration]
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
        self._evaluations_insert()
        if self.write_scores:
            self._scores_write()
        if self.used_sets:
            CriteriaSet.objects.filter(pk__in=sorted(self.used_sets), frozen_at__isnull=True).update(frozen_at=Now())
        for model in LEARNING_TABLES:
            label = model._meta.label
            self.summary.rows[label] = self.summary.rows.get(label, 0) + self.learning_rows[model]
            self.log(
                f"    {model._meta.db_table:<30} {self.learning_rows[model]:>10,} rows "
                f"{self.learning_seconds[model]:7.1f} s"
            )

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
            # Once per household (2.4 million at full size): the draws of `rng.randrange(pool)`,
            # `rng.randint(1, 7)`, `rng.randint(min(1, size), size)` and `rng.randint(1, 299)`
            # made by `_randbelow` directly (what they call), in the same order.
            below = rng._randbelow
            household_buffer = self.buffers[Household]
            for _ in range(count):
                person = people[below(pool)]
                size = 1 + below(7)
                low = min(1, size)
                working = low + below(size - low + 1)
                working_total += working
                house = 1 + below(299)
                household_id = self._new_id(Household)
                household_ids.append((household_id, branch_id))
                household_community.append(community_id)
                household_buffer.append(
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
        spread = rng.uniform(*spec.COMMUNE_SPREAD)
        kept = (1 - spec.WITHDRAWN_SHARE) * (1 - spec.UNEVALUATED_SHARE) * spec.PASS_SHARE
        # The loop below runs once per subject and year (11 million registrations at full
        # size): the stream's draws are bound once and the ids counted locally. The same draws
        # in the same order as `rng.random()` / `rng.randrange(70)` — `randrange(n)` is
        # `_randbelow(n)` for a positive n — so the same seed gives the same rows.
        draw, below = rng.random, rng._randbelow
        withdrawn_share, unevaluated_to = spec.WITHDRAWN_SHARE, spec.WITHDRAWN_SHARE + spec.UNEVALUATED_SHARE
        pass_share = spec.PASS_SHARE
        withdrawn, registered, recognised_stage, failed = (
            Stage.WITHDRAWN, Stage.REGISTERED, Stage.RECOGNISED, Stage.NOT_RECOGNISED
        )  # fmt: skip
        append = buffer.append
        for year in spec.LEARNING_YEARS:
            share = min(0.98, spec.RECOGNISED_SHARE[code][year] * spread / kept)
            criteria_set = self.sets_in_force[(code, year)]
            first_day = datetime.date(year, 1, 5).toordinal()
            registration_days = [datetime.date.fromordinal(first_day + offset) for offset in range(70)]
            reviewed_on = datetime.date(year, 11, rng.randint(1, 12))
            decided_on = datetime.date(year, 11, rng.randint(15, 28))
            decision_id = None
            recognised = 0
            evaluated = 0
            next_registration = self.learning_ids[Registration]
            first_registration = next_registration
            for subject_id, branch_id in subjects:
                if draw() >= share:
                    continue
                registration_id = next_registration
                next_registration += 1
                registered_on = registration_days[below(70)]
                u = draw()
                if u < withdrawn_share:
                    stage, reviewed, note, decision = withdrawn, None, "Xin rút đăng ký", None
                elif criteria_set is None or u < unevaluated_to:
                    stage, reviewed, note, decision = registered, None, "", None
                elif draw() < pass_share:  # evaluated and passed: its evaluation follows
                    if decision_id is None:
                        decision_id = self._new_id(Decision)
                    stage, reviewed, note, decision = recognised_stage, None, "", decision_id
                    recognised += 1
                    evaluated += 1
                else:  # evaluated and failed
                    stage, reviewed, note, decision = failed, reviewed_on, "Chưa đạt", None
                    evaluated += 1
                append(
                    (
                        registration_id, kind_id, year, branch_id, stage, registered_on, reviewed,
                        note, decision, subject_id,
                    )
                )  # fmt: skip
            self.learning_ids[Registration] = next_registration
            self.planned_registrations += next_registration - first_registration
            if evaluated:
                self.used_sets.add(criteria_set.pk)
            if decision_id is not None:
                signer = self.people[rng.randrange(len(self.people))].name
                body = f"Ủy ban nhân dân {node['name'][0].lower()}{node['name'][1:]}"
                self.buffers[Decision].append(
                    (
                        decision_id, node["id"], kind_id, year, f"{100 + kind_id}/QĐ-UBND", decided_on,
                        body[:255], signer, "Chủ tịch",
                    )
                )  # fmt: skip

    # --- evaluations, by the server -------------------------------------------------------------
    def _evaluations_insert(self) -> None:
        """One evaluation per registration evaluated (recognised: passed; not recognised:
        failed), made from the written registrations by one INSERT … SELECT against the set
        in force for its title and year. Its figures are drawn from a hash of the
        registration's id and the seed (deterministic, no row through Python): a passing
        total uniform from the set's pass mark to its maximum, a failing one from half the
        pass mark to just below it, its level the set's grade of that total (the highest
        grade covering it), evaluated on a day of October of its year — one day per branch,
        title and year — by one of the EVALUATORS."""
        sets = [
            (self.kinds[code][0], year, chosen)
            for (code, year), chosen in sorted(self.sets_in_force.items())
            if chosen is not None and chosen.pk in self.used_sets
        ]
        if not sets:
            return
        started = time.perf_counter()
        set_rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(sets))
        set_params = [
            value
            for kind_id, year, chosen in sets
            for value in (kind_id, year, chosen.pk, chosen.pass_points, chosen.maximum)
        ]
        # A total's grade: the first of its set's grades (highest first) that covers it, as
        # `_CriteriaSet.level` answers — a CASE per set, no join.
        grade_cases, grade_params = [], []
        for pk in sorted({chosen.pk for _k, _y, chosen in sets}):
            chosen = next(c for _k, _y, c in sets if c.pk == pk)
            if not chosen.levels:
                continue
            grade_cases.append(
                f"WHEN {int(pk)} THEN CASE "
                + " ".join(
                    f"WHEN d.total BETWEEN {int(low)} AND {int(high)} THEN %s" for _n, low, high in chosen.levels
                )
                + " ELSE '' END"
            )
            grade_params += [name for name, _low, _high in chosen.levels]
        grade = f"CASE d.set_id {' '.join(grade_cases)} ELSE '' END" if grade_cases else "''"
        registration, evaluation = Registration._meta.db_table, Evaluation._meta.db_table
        subject = ", ".join(f"r.{Registration._meta.get_field(name).column}" for name in self.SUBJECT_COLUMN.values())
        # Two independent 32-bit draws per registration, and one per branch, title and year.
        # (`%%`: a modulo in SQL passed with parameters.)
        seed = int(self.seed) % 1_000_003
        draw = f"((r.id * 2654435761 + {seed} * 40503) %% 4294967296)"
        day_draw = f"((r.branch_id * 7919 + r.kind_id * 104729 + r.year * 31 + {seed}) %% 25)"
        if connection.vendor == "postgresql":
            evaluated_on = f"make_date(r.year, 10, 1 + {day_draw}::int)"
        else:
            evaluated_on = f"printf('%%04d-10-%%02d', r.year, 1 + {day_draw})"
        evaluator = "CASE COALESCE({}) %% 3 {} END".format(
            subject, " ".join(f"WHEN {i} THEN %s" for i in range(len(EVALUATORS)))
        )
        sql = (
            f"WITH sets (kind_id, year, set_id, pass_points, maximum) AS (VALUES {set_rows}), "  # noqa: S608 — model tables
            "drawn AS ("
            "SELECT r.id, s.set_id, r.stage = %s AS passed, "
            "CASE WHEN r.stage = %s "
            f"THEN s.pass_points + {draw} %% (s.maximum - s.pass_points + 1) "
            f"ELSE s.pass_points / 2 + {draw} %% (s.pass_points - s.pass_points / 2) END AS total, "
            f"{evaluated_on} AS evaluated_on, {evaluator} AS evaluator "
            f'FROM "{registration}" r JOIN sets s ON s.kind_id = r.kind_id AND s.year = r.year '
            "WHERE r.id >= %s AND r.stage IN (%s, %s)) "
            f'INSERT INTO "{evaluation}" (id, registration_id, criteria_set_id, total_points, level, passed, '
            "evaluated_on, evaluator, note) "
            f"SELECT %s - 1 + row_number() OVER (ORDER BY d.id), d.id, d.set_id, d.total, {grade}, d.passed, "
            "d.evaluated_on, d.evaluator, '' FROM drawn d"
        )
        params = [
            *set_params,
            Stage.RECOGNISED,
            Stage.RECOGNISED,
            *EVALUATORS,
            self.first_registration,
            Stage.RECOGNISED,
            Stage.NOT_RECOGNISED,
            self.learning_ids[Evaluation],
            *grade_params,
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # the registrations just loaded: plan on their statistics
                cursor.execute(f'ANALYZE "{registration}"')
            cursor.execute(sql, params)
            written = cursor.rowcount
            if written < 0:  # SQLite counts no rows of a WITH … INSERT
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{evaluation}" WHERE id >= %s',  # noqa: S608 — a model's table
                    [self.learning_ids[Evaluation]],
                )
                (written,) = cursor.fetchone()
        self.learning_ids[Evaluation] += written
        self.learning_rows[Evaluation] += written
        self.learning_seconds[Evaluation] += time.perf_counter() - started

    def _scores_write(self) -> None:
        """The score rows of the evaluations just made (at small scale only, spec.SCORE_ROWS):
        each total shared over its set's criteria, read back in chunks."""
        by_pk = {chosen.pk: chosen for chosen in self.sets_in_force.values() if chosen is not None}
        first = self.learning_ids[Evaluation] - self.learning_rows[Evaluation]

        def rows():
            with connection.cursor() as cursor:
                cursor.execute(
                    f'SELECT id, criteria_set_id, total_points FROM "{Evaluation._meta.db_table}" '  # noqa: S608
                    "WHERE id >= %s ORDER BY id",
                    [first],
                )
                while chunk := cursor.fetchmany(10_000):
                    for evaluation_id, set_pk, total in chunk:
                        chosen = by_pk[set_pk]
                        for (criterion_id, _max), points in zip(chosen.criteria, chosen.split(total), strict=True):
                            yield (self._new_id(Score), evaluation_id, criterion_id, points, "")

        self._learning_write(Score, COLUMNS[Score], list(rows()))

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
