"""A commune clerk scores three registered households on one page in the browser: a first
try with a score above its criterion's maximum is refused whole, the corrected one saves all
three, and the page's figures say two passed and one did not."""

import re

import pytest
from django.utils import timezone

from learning.models import Evaluation, Household, Registration, Stage
from tests.e2e.conftest import sign_in
from tests.e2e.test_learning_flow import gdht_of_the_year

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POINTS = {"Nguyễn Thị Hương": (9, 8, 7), "Trần Văn Đức": (6, 5, 5), "Lê Thị Ánh": (4, 5, 3)}  # pass: 15


def test_a_clerk_scores_three_households_on_one_page_and_one_fails(page, cast, tree):
    year = timezone.localdate().year
    kind, criteria = gdht_of_the_year(year)
    registrations = {}
    for n, head in enumerate(POINTS, start=1):
        household = Household.objects.create(
            branch=tree.phuc_xa, head_name=head, address=f"Số {n} phố Phúc Xá", people=4
        )
        registrations[head] = Registration.objects.create(
            kind=kind, year=year, branch=tree.phuc_xa, household=household, registered_on=timezone.localdate()
        )
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")

    page.goto("/titles/registrations/")
    page.get_by_test_id("batch-link").click()
    page.select_option("[name=branch]", str(tree.phuc_xa.pk))
    page.select_option("[name=kind]", str(kind.pk))
    page.fill("[name=year]", str(year))
    page.get_by_test_id("list-registrations").click()
    assert page.get_by_test_id("batch-row").count() == 3

    def fill(overrides=None):
        for head, points in POINTS.items():
            registration = registrations[head]
            for criterion, value in zip(criteria, (overrides or {}).get(head, points), strict=True):
                page.fill(f"[name=points_{registration.pk}_{criterion.pk}]", str(value))
            page.fill(f"[name=evidence_{registration.pk}]", "Sổ theo dõi học tập của gia đình")
        page.fill("[name=evaluator]", "Ban chủ nhiệm chi hội Phúc Xá")
        page.fill("[name=evaluated_on]", timezone.localdate().strftime("%d/%m/%Y"))

    # A score above its criterion's maximum: the page says so, in Vietnamese, and saves nothing.
    fill({"Trần Văn Đức": (11, 5, 5)})
    page.get_by_test_id("save-batch").click()
    errors = page.get_by_test_id("form-errors")
    assert "Tiêu chí 1 chỉ được chấm từ 0 đến 10 điểm, không thể là 11." in errors.inner_text()
    assert "Trần Văn Đức" in errors.inner_text()
    assert not Evaluation.objects.exists()

    fill()
    page.get_by_test_id("save-batch").click()
    page.wait_for_url(re.compile(r"/titles/registrations/evaluate/\?"))
    # "3 evaluated: 2 passed, 1 not passed", whatever the words of the language
    assert re.search(r"\b3\b.*\b2\b.*\b1\b", page.locator(".messages .alert-success").inner_text())
    assert page.get_by_test_id("nothing-waiting").is_visible()
    evaluated = Registration.objects.select_related("evaluation", "household")
    passed = {r.household.head_name: r.evaluation.passed for r in evaluated}
    assert passed == {"Nguyễn Thị Hương": True, "Trần Văn Đức": True, "Lê Thị Ánh": False}
    assert set(Registration.objects.values_list("stage", flat=True)) == {Stage.EVALUATED}

    # The list shows the three evaluated, one of them not passed.
    page.goto(f"/titles/registrations/?kind={kind.pk}&year={year}")
    assert page.get_by_test_id("registration-row").count() == 3
    assert page.get_by_test_id("registration-table").get_by_text("không đạt").count() == 1
