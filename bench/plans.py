"""Issue 14 item 6: every indicator of Plan 99 and Plan 291/KH-UBND for every branch of
Hanoi, the portal against a hand-written SQL floor measured in the same run.

- the portal: each target of both plans as the recompute computes it —
  `plans.indicators.indicators_compute` for Plan 99's two targets (on the map in force on
  31/12/2020, the plan's end), `plans.catalogue.catalogue_compute` for Plan 291's (on
  BENCH_AS_OF, default 01/12/2026: the year so far); a target whose measure the catalogue
  does not have is "not available" for both and left out;
- the floor: hand-written SQL counting the same rows grouped by the branch they belong to,
  no roll-up (the least any implementation must do): Plan 99's two queries of
  bench/indicators.py; for the four learning-title targets one query of recognised
  registrations and two of eligible totals (entered, and active organisations for titles
  awarded to units where no total covers them), for every title at once; for the two
  learning-centre targets one query of centre staff, one of chairs on a centre's board, one
  of communes in force; for the two CDHT targets one query each of working people of titled
  households, clans and villages, their CDHT citizens, staff of titled units (latest
  headcount) and their CDHT citizens. The city totals of the floor are checked against the portal's.

Medians of BENCH_REPEAT runs (default 3) after one warm-up.

    DATABASE_URL=… python -m bench.plans [small|full]

BENCH_READ_ONLY=1 measures a database the bench must not change (a shared full city whose
plans are loaded already): the plans are not loaded and the session is read-only, so any
write would fail instead of happening.
"""

from __future__ import annotations

import datetime
import os
import sys

from bench.common import save, setup_django, timed
from bench.indicators import COVERAGE_SQL, MEMBERSHIP_SQL

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
PLAN_99_AS_OF = datetime.date(2020, 12, 31)
AS_OF = datetime.date.fromisoformat(os.environ.get("BENCH_AS_OF", "2026-12-01"))

RECOGNISED_SQL = """
SELECT r.branch_id, k.code, COUNT(*)
FROM learning_registration r
JOIN learning_titlekind k ON k.id = r.kind_id
JOIN associations_branch b ON b.id = r.branch_id
WHERE b.path LIKE %(prefix)s AND r.year = %(year)s AND r.stage = 'recognised' AND k.code = ANY(%(codes)s)
GROUP BY r.branch_id, k.code
"""

ENTERED_SQL = """
SELECT e.branch_id, k.code, SUM(e.count)
FROM learning_eligiblecount e
JOIN learning_titlekind k ON k.id = e.kind_id
JOIN associations_branch b ON b.id = e.branch_id
WHERE b.path LIKE %(prefix)s AND e.year = %(year)s AND k.code = ANY(%(codes)s)
GROUP BY e.branch_id, k.code
"""

UNITS_SQL = """
SELECT o.branch_id, k.code, COUNT(*)
FROM associations_organization o
JOIN associations_branch ob ON ob.id = o.branch_id
JOIN learning_titlekind k ON k.subject_type = 'unit' AND k.code = ANY(%(codes)s)
WHERE ob.path LIKE %(prefix)s
  AND (o.active_from IS NULL OR o.active_from <= %(year_end)s)
  AND (o.active_to IS NULL OR o.active_to > %(year_start)s)
  AND (k.active OR EXISTS (SELECT 1 FROM learning_registration r
                           WHERE r.kind_id = k.id AND r.year = %(year)s AND r.stage <> 'withdrawn'))
  AND NOT EXISTS (SELECT 1 FROM learning_eligiblecount e JOIN associations_branch eb ON eb.id = e.branch_id
                  WHERE e.kind_id = k.id AND e.year = %(year)s AND ob.path LIKE eb.path || '%%')
GROUP BY o.branch_id, k.code
"""

STAFF_SQL = """
SELECT c.branch_id, COUNT(*) FILTER (WHERE s.takes_part AND s.it_trained), COUNT(*)
FROM centres_centrestaff s
JOIN centres_centre c ON c.id = s.centre_id
JOIN associations_branch b ON b.id = c.branch_id
WHERE b.path LIKE %(prefix)s AND s.year = %(year)s
GROUP BY c.branch_id
"""

CHAIRS_SQL = """
SELECT DISTINCT c.branch_id
FROM centres_centreboardseat s
JOIN centres_centre c ON c.id = s.centre_id
JOIN associations_branch b ON b.id = c.branch_id
WHERE b.path LIKE %(prefix)s AND b.level = 'commune'
  AND (b.founded_on IS NULL OR b.founded_on <= %(day)s) AND (b.dissolved_on IS NULL OR b.dissolved_on > %(day)s)
  AND s.association_post IN ('chair', 'vice_chair')
  AND (s.from_on IS NULL OR s.from_on <= %(day)s) AND (s.to_on IS NULL OR s.to_on > %(day)s)
  AND (c.founded_on IS NULL OR c.founded_on <= %(day)s) AND (c.dissolved_on IS NULL OR c.dissolved_on > %(day)s)
"""

# The two CDHT targets (learning/measures.py): people by the title of their household, clan,
# village or unit, at the branch of the titled registration.
_TITLED = """
FROM learning_registration r
JOIN learning_titlekind k ON k.id = r.kind_id
JOIN associations_branch b ON b.id = r.branch_id
"""
_TITLED_WHERE = "b.path LIKE %(prefix)s AND r.year = %(year)s AND r.stage = 'recognised'"
_CDHT = """(SELECT DISTINCT cr.citizen_id FROM learning_registration cr JOIN learning_titlekind ck ON ck.id = cr.kind_id
          WHERE cr.year = %(year)s AND cr.stage = 'recognised' AND ck.subject_type = 'citizen')"""

WORKERS_SQL = f"""
SELECT r.branch_id, SUM(COALESCE(h.working_people, cl.working_people, cm.working_people)) {_TITLED}
LEFT JOIN learning_household h ON h.id = r.household_id
LEFT JOIN learning_clan cl ON cl.id = r.clan_id
LEFT JOIN learning_community cm ON cm.id = r.community_id
WHERE {_TITLED_WHERE} AND k.code = ANY(%(community_codes)s)
GROUP BY r.branch_id
"""

CDHT_IN_COMMUNITIES_SQL = " UNION ALL ".join(
    f"""(SELECT r.branch_id, COUNT(*) {_TITLED}
JOIN learning_citizen c ON c.{link}_id = r.{link}_id JOIN {_CDHT} cdht ON cdht.citizen_id = c.id
WHERE {_TITLED_WHERE} AND k.code = ANY(%(community_codes)s) GROUP BY r.branch_id)"""
    for link in ("household", "clan", "community")
)

STAFF_OF_UNITS_SQL = f"""
SELECT r.branch_id, SUM(hc.party_members + hc.cadres + hc.civil_servants + hc.public_employees + hc.workers)
{_TITLED}
JOIN LATERAL (SELECT * FROM associations_organizationheadcount h
              WHERE h.organization_id = r.organization_id AND h.year <= %(year)s
              ORDER BY h.year DESC LIMIT 1) hc ON TRUE
WHERE {_TITLED_WHERE} AND k.code = ANY(%(unit_codes)s)
GROUP BY r.branch_id
"""  # noqa: S608 — constants only

CDHT_IN_UNITS_SQL = f"""
SELECT r.branch_id, COUNT(*) {_TITLED}
JOIN learning_citizen c ON c.organization_id = r.organization_id JOIN {_CDHT} cdht ON cdht.citizen_id = c.id
WHERE {_TITLED_WHERE} AND k.code = ANY(%(unit_codes)s)
GROUP BY r.branch_id
"""

COMMUNES_SQL = """
SELECT b.id FROM associations_branch b
WHERE b.path LIKE %(prefix)s AND b.level = 'commune'
  AND (b.founded_on IS NULL OR b.founded_on <= %(day)s) AND (b.dissolved_on IS NULL OR b.dissolved_on > %(day)s)
"""


def _codes_of(targets, numerator: str) -> list[str]:
    """The title codes of the (first) available target counting `numerator`."""
    for target in targets:
        if target.definition.numerator_measure == numerator:
            return list((target.definition.numerator_filters or {}).get("title", []))
    return []


def main(label: str) -> None:
    setup_django()
    from django.db import connection

    from plans.catalogue import IndicatorNotAvailable, catalogue_compute
    from plans.indicators import indicators_compute
    from plans.models import Indicator, Plan
    from plans.services import PLAN_291_CODE, plan_99_load, plan_291_load

    if os.environ.get("BENCH_READ_ONLY") == "1":
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    else:
        plan_99_load()
        plan_291_load()

    def plan(code: str) -> Plan:
        return Plan.objects.filter(code=code, is_active=True).order_by("-version").first()

    plan_99, plan_291 = plan("99/KH-KHHN"), plan(PLAN_291_CODE)
    targets_99 = list(plan_99.targets.select_related("root_branch").order_by("position", "id"))
    targets_291 = list(plan_291.targets.select_related("root_branch", "definition").order_by("position", "id"))
    available = [target for target in targets_291 if target.definition.is_available]
    root = targets_99[0].root_branch

    def portal():
        values = {}
        for target in targets_99:
            values[target.pk] = indicators_compute(target=target, as_of=PLAN_99_AS_OF)
        for target in available:
            try:
                values[target.pk] = catalogue_compute(target=target, as_of=AS_OF)
            except IndicatorNotAvailable:
                values[target.pk] = None
        return values

    by_indicator = {target.indicator: target for target in targets_99}
    coverage, membership = by_indicator[Indicator.BOARD_COVERAGE], by_indicator[Indicator.CADRE_MEMBERSHIP]
    params_99 = {
        "day": PLAN_99_AS_OF,
        "year": PLAN_99_AS_OF.year,
        "prefix": root.path + "%",
        "kinds": coverage.scope_kinds,
        "categories": membership.scope_categories,
    }
    title_codes = sorted(
        {code for target in available for code in (target.definition.numerator_filters or {}).get("title", [])}
    )
    params_291 = {
        "day": AS_OF,
        "year": AS_OF.year,
        "year_start": datetime.date(AS_OF.year, 1, 1),
        "year_end": datetime.date(AS_OF.year, 12, 31),
        "prefix": root.path + "%",
        "codes": title_codes,
        "community_codes": _codes_of(available, "learning.citizens_recognised_in_titled_communities"),
        "unit_codes": _codes_of(available, "learning.citizens_recognised_in_titled_units"),
    }

    def floor():
        rows = {}
        with connection.cursor() as cursor:
            for name, sql, params in (
                ("coverage", COVERAGE_SQL, params_99),
                ("membership", MEMBERSHIP_SQL, params_99),
                ("recognised", RECOGNISED_SQL, params_291),
                ("entered", ENTERED_SQL, params_291),
                ("units", UNITS_SQL, params_291),
                ("staff", STAFF_SQL, params_291),
                ("chairs", CHAIRS_SQL, params_291),
                ("communes", COMMUNES_SQL, params_291),
                ("workers", WORKERS_SQL, params_291),
                ("cdht_communities", CDHT_IN_COMMUNITIES_SQL, params_291),
                ("unit_staff", STAFF_OF_UNITS_SQL, params_291),
                ("cdht_units", CDHT_IN_UNITS_SQL, params_291),
            ):
                cursor.execute(sql, params)
                rows[name] = cursor.fetchall()
        return rows

    portal_seconds, values = timed(portal, repeat=REPEAT)
    floor_seconds, rows = timed(floor, repeat=REPEAT)

    # The floor counts the same rows: its city totals against the portal's.
    def total(name, column, code=None):
        return sum(row[column] for row in rows[name] if code is None or row[1] == code)

    expected = {
        coverage.pk: (total("coverage", 1), total("coverage", 2)),
        membership.pk: (total("membership", 1), total("membership", 2)),
    }
    for target in available:
        definition = target.definition
        codes = (definition.numerator_filters or {}).get("title", [])
        if definition.numerator_measure == "learning.recognised" and len(codes) == 1:
            expected[target.pk] = (
                total("recognised", 2, codes[0]),
                total("entered", 2, codes[0]) + total("units", 2, codes[0]),
            )
        elif definition.numerator_measure == "centres.staff_taking_part_trained":
            expected[target.pk] = (total("staff", 1), total("staff", 2))
        elif definition.numerator_measure == "centres.chairs_on_board":
            expected[target.pk] = (len(rows["chairs"]), len(rows["communes"]))
        elif definition.numerator_measure == "learning.citizens_recognised_in_titled_communities":
            expected[target.pk] = (total("cdht_communities", 1), total("workers", 1))
        elif definition.numerator_measure == "learning.citizens_recognised_in_titled_units":
            expected[target.pk] = (total("cdht_units", 1), total("unit_staff", 1))
    mismatches = {}
    for target_pk, figures in expected.items():
        got = values.get(target_pk)
        city = tuple(got[root.pk]) if got else None
        if city != tuple(figures):
            mismatches[target_pk] = {"portal": city, "floor": list(figures)}
    branches = {target_pk: len(result) for target_pk, result in values.items() if result}
    data = {
        "label": label,
        "plan_99_as_of": PLAN_99_AS_OF.isoformat(),
        "plan_291_as_of": AS_OF.isoformat(),
        "targets": len(targets_99) + len(targets_291),
        "targets_computed": len(values),
        "targets_not_available": [t.definition.code for t in targets_291 if not t.definition.is_available],
        "branch_values": sum(branches.values()),
        "portal_seconds": portal_seconds,
        "floor_seconds": floor_seconds,
        "ratio": portal_seconds / floor_seconds,
        "checked": not mismatches,
        "mismatches": mismatches,
    }
    save(f"plans_{label}", data)
    print(
        f"plans ({label}): {len(values)} targets, {data['branch_values']:,} branch values; portal "
        f"{portal_seconds:.3f} s, floor {floor_seconds:.3f} s (×{data['ratio']:.2f}); "
        f"city totals {'agree' if not mismatches else 'DIFFER: ' + str(mismatches)}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "full")
