"""The learning titles' figures for every branch, title and year, two ways:

- the portal: `learning.figures.title_figures_compute` (one GROUP BY over registrations, the
  entered eligible totals, the organisations as the units' eligible total, then the roll-up
  to every ancestor in Python);
- the floor: one hand-written SQL query that counts the same rows per owning branch, title
  and year, and rolls them up in SQL by joining each branch's path prefixes to the branches
  (an equality join on the path, one per ancestor). It leaves out the portal's rule that an
  entered total for units replaces the registry's count below it: the generated data enter
  none for units, so both count the same, and the floor does the least any implementation
  must do.

Also reports how long the generator's learning stage took, read from the log of the
generation (BENCH_OUT/generate_<scale>.log) when it is there.

    python -m bench.learning [full|small]
"""

from __future__ import annotations

import re
import sys

from bench.common import out_dir, save, setup_django, timed

FLOOR_SQL = """
WITH own AS (
    SELECT r.branch_id, r.kind_id, r.year, 0 AS eligible, COUNT(*) AS registered,
           COUNT(e.id) AS evaluated, COUNT(*) FILTER (WHERE r.stage = 'recognised') AS recognised
    FROM learning_registration r
    LEFT JOIN learning_evaluation e ON e.registration_id = r.id
    WHERE r.stage <> 'withdrawn'
    GROUP BY r.branch_id, r.kind_id, r.year
    UNION ALL
    SELECT branch_id, kind_id, year, SUM(count), 0, 0, 0
    FROM learning_eligiblecount
    GROUP BY branch_id, kind_id, year
    UNION ALL
    SELECT o.branch_id, k.id, y.year, COUNT(*), 0, 0, 0
    FROM associations_organization o
    CROSS JOIN learning_titlekind k
    CROSS JOIN unnest(%(years)s::int[]) AS y(year)
    WHERE k.subject_type = 'unit' AND k.active
      AND (o.active_from IS NULL OR o.active_from <= make_date(y.year, 12, 31))
      AND (o.active_to IS NULL OR o.active_to > make_date(y.year, 1, 1))
    GROUP BY o.branch_id, k.id, y.year
)
SELECT a.id, own.kind_id, own.year,
       SUM(own.eligible), SUM(own.registered), SUM(own.evaluated), SUM(own.recognised)
FROM own
JOIN associations_branch b ON b.id = own.branch_id
JOIN unnest(%(lengths)s::int[]) AS prefix(length) ON prefix.length <= length(b.path)
JOIN associations_branch a ON a.path = left(b.path, prefix.length)
GROUP BY a.id, own.kind_id, own.year
"""


def _stage_seconds(scale: str) -> float | None:
    path = out_dir() / f"generate_{scale}.log"
    if not path.exists():
        return None
    match = re.search(r"^\s+learning titles\s+([\d.]+) s$", path.read_text(), flags=re.MULTILINE)
    return float(match.group(1)) if match else None


def main() -> None:
    scale = sys.argv[1] if len(sys.argv) > 1 else "full"
    setup_django()
    from django.db import connection
    from django.db.models import Max

    from associations.models import Branch
    from learning.figures import title_figures_compute
    from learning.models import EligibleCount, Registration

    years = sorted(
        set(Registration.objects.values_list("year", flat=True).distinct())
        | set(EligibleCount.objects.values_list("year", flat=True).distinct())
    )
    deepest = Branch.objects.aggregate(deepest=Max("depth"))["deepest"]
    lengths = [Branch.steplen * depth for depth in range(1, deepest + 1)]  # every ancestor's path length
    params = {"years": years, "lengths": lengths}

    def portal():
        return title_figures_compute()

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            return cursor.fetchall()

    portal_seconds, portal_figures = timed(portal, repeat=5)
    floor_seconds, floor_rows = timed(floor, repeat=5)

    # The floor counts the same rows: every branch's figures are the portal's.
    floor_figures = {(row[0], row[1], row[2]): tuple(int(v) for v in row[3:]) for row in floor_rows}
    floor_figures = {key: value for key, value in floor_figures.items() if any(value)}
    assert floor_figures == portal_figures, "the floor and the portal disagree"

    city = Branch.objects.city_root()
    city_households = {
        year: figures
        for (branch_id, kind_id, year), figures in portal_figures.items()
        if branch_id == city.pk and kind_id == _kind_id("gia-dinh-hoc-tap")
    }
    save(
        "learning",
        {
            "scale": scale,
            "years": years,
            "registrations": Registration.objects.count(),
            "figures": len(portal_figures),
            "branches": len({key[0] for key in portal_figures}),
            "portal_seconds": portal_seconds,
            "floor_seconds": floor_seconds,
            "ratio": portal_seconds / floor_seconds,
            "stage_seconds": _stage_seconds(scale),
            "city_households": {str(year): list(figures) for year, figures in sorted(city_households.items())},
        },
    )
    print(
        f"learning ({scale}): portal {portal_seconds:.3f} s, floor {floor_seconds:.3f} s "
        f"(×{portal_seconds / floor_seconds:.2f}) for {len(portal_figures):,} figures"
    )


def _kind_id(code: str) -> int:
    from learning.models import TitleKind

    return TitleKind.objects.get(code=code).pk


if __name__ == "__main__":
    main()
