"""Found walking issue 14 from `make run`: in the year-by-year table a year without a
milestone of its own (Plan 291's 2021–2024, 2026) is judged against the target itself, so
its status must say so — not "Below the milestone" beside a milestone shown as "—"."""

from __future__ import annotations

from django.utils import translation

from plans.models import TargetMilestone
from plans.timeline import YearStatus
from tests.plans.test_targets_level import city_target
from tests.plans.test_targets_level_years import _rows


def test_a_year_without_a_milestone_says_it_is_judged_against_the_target(tree):
    target = city_target(tree)
    TargetMilestone.objects.create(target=target, year=2024, percent=50)
    rows, _item = _rows(tree.city)
    with translation.override("en"):
        # 2025 has no milestone: judged against the target's 80%.
        assert rows[2025].milestone is None and rows[2025].figure.percent < 80
        assert (rows[2025].status, str(rows[2025].status_label)) == (YearStatus.BELOW, "Below the target")
        # 2024 has its own milestone: judged against it, and said so.
        assert rows[2024].milestone == 50 and rows[2024].figure.percent >= 50
        assert (rows[2024].status, str(rows[2024].status_label)) == (YearStatus.MET, "Milestone met")
