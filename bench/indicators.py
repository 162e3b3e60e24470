"""Both Plan 99 indicators for every branch of Hanoi at one date, three ways:

- the portal: both targets as a recompute run computes them (`plans.services.indicators_recompute_all`):
  the tree in force on the day read once (`plans.scoped.Trees`), then for each target
  `plans.indicators.indicators_compute_with_tree` (set-based queries, then the roll-up to
  every ancestor in Python);
- the floor: one hand-written SQL query per indicator counting the same rows grouped by the
  organisation's branch (no roll-up: the least any implementation must do);
- the naive loop a typical Django project would write: per branch, count with the ORM and
  loop over organisations for boards and latest headcounts. It is timed on a sample of
  branches of each level and extrapolated to every branch of that level.

    python -m bench.indicators
"""

from __future__ import annotations

import datetime
import random
import time

from bench.common import save, setup_django, timed

AS_OF = datetime.date(2020, 12, 31)
SAMPLE = {"city": None, "district": None, "commune": 60, "chapter": 150, "board": 150}

COVERAGE_SQL = """
SELECT o.branch_id,
       COUNT(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM associations_branch b
           WHERE b.organization_id = o.id AND b.level IN ('board', 'chapter')
             AND (b.founded_on IS NULL OR b.founded_on <= %(day)s)
             AND (b.dissolved_on IS NULL OR b.dissolved_on > %(day)s))) AS numerator,
       COUNT(*) AS denominator
FROM associations_organization o
JOIN associations_branch ob ON ob.id = o.branch_id
WHERE ob.path LIKE %(prefix)s AND o.kind = ANY(%(kinds)s)
  AND (o.active_from IS NULL OR o.active_from <= %(day)s)
  AND (o.active_to IS NULL OR o.active_to > %(day)s)
GROUP BY o.branch_id
"""

MEMBERSHIP_SQL = """
WITH numerators AS (
    SELECT o.branch_id, COUNT(*) AS n
    FROM associations_member m
    JOIN associations_organization o ON o.id = m.organization_id
    JOIN associations_branch ob ON ob.id = o.branch_id
    WHERE ob.path LIKE %(prefix)s AND m.category = ANY(%(categories)s)
      AND m.joined_on <= %(day)s AND (m.left_on IS NULL OR m.left_on > %(day)s)
    GROUP BY o.branch_id
), latest AS (
    SELECT DISTINCT ON (h.organization_id) h.organization_id,
           h.party_members + h.cadres + h.civil_servants + h.public_employees + h.workers AS people
    FROM associations_organizationheadcount h
    WHERE h.year <= %(year)s
    ORDER BY h.organization_id, h.year DESC
), denominators AS (
    SELECT o.branch_id, SUM(latest.people) AS d
    FROM latest
    JOIN associations_organization o ON o.id = latest.organization_id
    JOIN associations_branch ob ON ob.id = o.branch_id
    WHERE ob.path LIKE %(prefix)s
    GROUP BY o.branch_id
)
SELECT COALESCE(numerators.branch_id, denominators.branch_id), COALESCE(n, 0), COALESCE(d, 0)
FROM numerators FULL JOIN denominators ON numerators.branch_id = denominators.branch_id
"""


def main() -> None:
    setup_django()
    from django.db import connection

    from associations.models import Branch, Member, Organization
    from plans.indicators import indicators_compute_with_tree
    from plans.models import Indicator, Plan
    from plans.scoped import Trees

    plan = Plan.objects.get(code="99/KH-KHHN")
    targets = {target.indicator: target for target in plan.targets.select_related("root_branch")}
    coverage, membership = targets[Indicator.BOARD_COVERAGE], targets[Indicator.CADRE_MEMBERSHIP]
    root = coverage.root_branch
    branches = Branch.objects.filter(path__startswith=root.path).count()

    def portal():
        trees = Trees(AS_OF)  # a run's: each day's tree read once for all its targets
        return [
            indicators_compute_with_tree(target=target, as_of=AS_OF, tree=trees.on(AS_OF))[0]
            for target in (coverage, membership)
        ]

    params = {
        "day": AS_OF,
        "year": AS_OF.year,
        "prefix": root.path + "%",
        "kinds": coverage.scope_kinds,
        "categories": membership.scope_categories,
    }

    def floor():
        rows = []
        with connection.cursor() as cursor:
            for sql in (COVERAGE_SQL, MEMBERSHIP_SQL):
                cursor.execute(sql, params)
                rows.append(cursor.fetchall())
        return rows

    portal_seconds, portal_values = timed(portal, repeat=5)
    floor_seconds, floor_rows = timed(floor, repeat=5)

    # The floor counts the same rows: its totals equal the portal's city figures.
    city_coverage = portal_values[0][root.pk]
    city_membership = portal_values[1][root.pk]
    floor_coverage = (sum(r[1] for r in floor_rows[0]), sum(r[2] for r in floor_rows[0]))
    floor_membership = (sum(r[1] for r in floor_rows[1]), sum(r[2] for r in floor_rows[1]))
    assert tuple(city_coverage) == floor_coverage, (city_coverage, floor_coverage)
    assert tuple(city_membership) == floor_membership, (city_membership, floor_membership)

    # The naive loop, per branch, on a sample of each level.
    kinds, categories = coverage.scope_kinds, membership.scope_categories
    columns = ["party_members", "cadres", "civil_servants", "public_employees", "workers"]

    def naive(branch):
        orgs = Organization.objects.filter(branch__path__startswith=branch.path, kind__in=kinds).active_on(AS_OF)
        denominator = orgs.count()
        numerator = 0
        for org in orgs:
            if org.boards.filter(level__in=["board", "chapter"]).active_on(AS_OF).exists():
                numerator += 1
        members = (
            Member.objects.active_on(AS_OF)
            .filter(category__in=categories, organization__branch__path__startswith=branch.path)
            .count()
        )
        people = 0
        for org in Organization.objects.filter(branch__path__startswith=branch.path):
            headcount = org.headcounts.filter(year__lte=AS_OF.year).order_by("-year").first()
            if headcount is not None:
                people += sum(getattr(headcount, column) for column in columns)
        return (numerator, denominator), (members, people)

    rng = random.Random(2017)  # noqa: S311 — a reproducible sample
    naive_levels = {}
    naive_total = 0.0
    sampled = 0
    for level, size in SAMPLE.items():
        ids = list(Branch.objects.filter(path__startswith=root.path, level=level).values_list("id", flat=True))
        chosen = ids if size is None or size >= len(ids) else rng.sample(ids, size)
        nodes = list(Branch.objects.filter(id__in=chosen))
        started = time.perf_counter()
        for node in nodes:
            result = naive(node)
            if node.pk == root.pk:
                assert result == (tuple(city_coverage), tuple(city_membership)), result
        elapsed = time.perf_counter() - started
        estimate = elapsed / max(1, len(nodes)) * len(ids)
        naive_levels[level] = {"branches": len(ids), "sampled": len(nodes), "seconds": elapsed, "estimate": estimate}
        naive_total += estimate
        sampled += len(nodes)

    save(
        "indicators",
        {
            "as_of": AS_OF.isoformat(),
            "branches": branches,
            "tree_shared": True,  # the portal's targets read the day's tree once, as a run does
            "portal_seconds": portal_seconds,
            "floor_seconds": floor_seconds,
            "ratio": portal_seconds / floor_seconds,
            "naive_estimate_seconds": naive_total,
            "naive_sampled_branches": sampled,
            "naive_levels": naive_levels,
            "naive_ratio": naive_total / floor_seconds,
            "city_coverage": list(city_coverage),
            "city_membership": list(city_membership),
        },
    )
    print(
        f"indicators: portal {portal_seconds:.3f} s, floor {floor_seconds:.3f} s "
        f"(×{portal_seconds / floor_seconds:.2f}), naive ≈ {naive_total:.0f} s"
    )


if __name__ == "__main__":
    main()
