"""Plan 291/KH-UBND's two Công dân học tập targets on the city's dashboard: values from the
learning records (tests/learning/cdht_data.py), no longer "not available"."""

from __future__ import annotations

import datetime
import re

from plans.models import IndicatorDefinition, IndicatorValue
from plans.services import (
    _NOT_EXPRESSIBLE,
    PLAN_291_CDHT_NOTE,
    PLAN_291_CDHT_NOTE_BEFORE,
    indicators_recompute_all,
    plan_291_load,
)
from tests.learning.cdht_data import cdht_records

TODAY = datetime.date(2025, 12, 31)
WORKERS = "cdht-among-workers-of-titled-families"
STAFF = "cdht-among-staff-of-titled-units"


def test_plan_291_computes_its_two_cdht_targets_from_the_learning_records(tree):
    cdht_records(tree)
    plan = plan_291_load()
    indicators_recompute_all(today=TODAY)
    values = {
        (value.target.definition.code, value.branch_id): (value.numerator, value.denominator)
        for value in IndicatorValue.objects.filter(target__plan=plan, as_of=TODAY).select_related("target__definition")
    }
    # By hand (cdht_data): Phúc Xá 3 of 18, Trúc Bạch 1 of 4; the unit U1: 1 of 30.
    assert values[(WORKERS, tree.phuc_xa.pk)] == (3, 18)
    assert values[(WORKERS, tree.ba_dinh.pk)] == (4, 22)
    assert values[(WORKERS, tree.city.pk)] == (4, 22)
    assert values[(WORKERS, tree.hang_bac.pk)] == (0, 0)
    assert values[(STAFF, tree.city.pk)] == (1, 30)


def test_the_city_leader_sees_the_cdht_rows_of_plan_291_with_values(tree, cast, client_for):
    cdht_records(tree)
    plan_291_load()
    indicators_recompute_all(today=TODAY)
    html = client_for(cast.city_leader).get(f"/plans/dashboard/{tree.city.pk}/").content.decode()
    for key, percent, fraction in ((WORKERS, "18,18%", "4"), (STAFF, "3,33%", "1")):
        card = html.split(f'data-testid="target-{key}"')[1].split("</article>")[0]
        assert 'data-testid="not-available"' not in card
        shown = re.search(r'data-testid="percent">([^<]*)<', card).group(1)
        assert shown == percent, key
        assert re.search(r'data-testid="fraction">' + fraction + r"\b", card), key
        assert 'data-testid="status"' in card and 'data-testid="gap"' in card  # judged like any target


def test_loading_plan_291_again_brings_an_earlier_load_up_to_date(tree):
    plan = plan_291_load()
    # As loaded before the CDHT measures existed.
    IndicatorDefinition.objects.filter(code__in=[WORKERS, STAFF]).update(
        description=_NOT_EXPRESSIBLE, numerator_filters={}, denominator_filters={}
    )
    plan.note = plan.note.replace(PLAN_291_CDHT_NOTE, PLAN_291_CDHT_NOTE_BEFORE)
    plan.save()
    assert plan_291_load() == plan
    plan.refresh_from_db()
    assert PLAN_291_CDHT_NOTE in plan.note and PLAN_291_CDHT_NOTE_BEFORE not in plan.note
    workers = IndicatorDefinition.objects.get(code=WORKERS)
    assert "hồ sơ công dân" in workers.description
    assert workers.numerator_filters == {"title": ["gia-dinh-hoc-tap", "dong-ho-hoc-tap", "cong-dong-hoc-tap"]}
    workers.full_clean()
    # A manager's own wording is kept.
    IndicatorDefinition.objects.filter(code=STAFF).update(description="Theo cách tính của Thành phố.")
    plan_291_load()
    assert IndicatorDefinition.objects.get(code=STAFF).description == "Theo cách tính của Thành phố."
