"""Found walking issue 14 from `make run`: the catalogue of measures on the indicators page
must say, for each measure, where it comes from, its unit and whether it sums up the tree
(it showed the code, the label, the source and the filters only)."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from khuyenhoc import measures
from plans.forms import IndicatorDefinitionForm
from tests.conftest import _staff

pytestmark = pytest.mark.django_db


def test_the_catalogue_shows_each_measures_source_unit_timing_and_whether_it_sums_up_the_tree(client_for, tree):
    manager = _staff("manager_hanoi", tree.city, "manager", "Quản lý Thành phố")
    page = client_for(manager).get("/plans/indicators/")
    assert page.status_code == 200
    html = page.content.decode()
    catalogue = html[html.index('data-testid="measures"') :]
    header = catalogue[: catalogue.index("</thead>")]
    rows = catalogue.split("<tr>")[2:]
    assert len(rows) == len(measures.registered())
    with translation.override(page["Content-Language"]):  # the page's language, whichever it is
        for column in ("Source", "Unit", "Counted on", "Sums up the tree"):
            assert f">{gettext(column)}<" in header
        units = {"dong": "Amount (đồng)", "people": "People", "turns": "Turns", "count": "Count"}
        for measure, row in zip(measures.registered(), rows, strict=True):
            assert f"<code>{measure.code}</code>" in row and str(measure.source) in row
            assert f'data-testid="measure-unit">{gettext(units[measure.unit])}<' in row
            timing = "Over a period" if measure.timing == measures.Timing.OVER_PERIOD else "At a date"
            assert f'data-testid="measure-timing">{gettext(timing)}<' in row
            assert f'data-testid="measure-sums-up">{gettext("Yes" if measure.sums_up_tree else "No")}<' in row
        raised = rows[[m.code for m in measures.registered()].index("funds.raised")]
        assert gettext("Amount (đồng)") in raised and gettext("Over a period") in raised


def test_the_indicator_forms_filter_boxes_are_two_lines_high():
    # They were ten: `attrs.setdefault("rows", 2)` kept Textarea's own rows="10".
    form = IndicatorDefinitionForm(measure_choices=measures.choices())
    for name in ("numerator_filters", "denominator_filters"):
        assert 'rows="2"' in str(form[name])
