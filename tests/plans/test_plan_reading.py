"""Every role sees the plans that concern its branch (issue 15 item 6): a city's plan is read
by the communes it covers, though only the managers of the branch that issued it change it."""

import datetime

import pytest
from django.urls import reverse

from plans.models import Plan, Target
from plans.services import plan_99_load

pytestmark = pytest.mark.django_db


def _district_plan(branch):
    plan = Plan.objects.create(
        code="7/KH-BĐ",
        title="Kế hoạch quận Ba Đình",
        issuing_branch=branch,
        issued_on=datetime.date(2021, 1, 5),
        starts_on=datetime.date(2021, 1, 5),
        ends_on=datetime.date(2025, 12, 31),
    )
    Target.objects.create(
        plan=plan,
        indicator="board_coverage",
        threshold_percent=70,
        deadline=datetime.date(2025, 12, 31),
        root_branch=branch,
    )
    return plan


@pytest.mark.parametrize("who", ["commune_clerk", "district_leader", "manager", "city_leader"])
def test_the_citys_plan_is_listed_and_opens_for_every_role_of_the_branches_it_covers(who, client_for, cast, tree):
    plan = plan_99_load()
    client = client_for(getattr(cast, who))
    assert plan.code in client.get(reverse("plans:plan_list")).content.decode()
    assert client.get(reverse("plans:plan_detail", args=[plan.pk])).status_code == 200


def test_a_district_plan_is_read_by_its_communes_but_not_by_another_district(client_for, cast, tree):
    plan = _district_plan(tree.ba_dinh)
    assert client_for(cast.commune_clerk).get(reverse("plans:plan_detail", args=[plan.pk])).status_code == 200
    other = client_for(cast.sibling_clerk)
    assert other.get(reverse("plans:plan_detail", args=[plan.pk])).status_code == 404
    assert plan.code not in other.get(reverse("plans:plan_list")).content.decode()


def test_a_district_manager_reads_the_citys_plan_without_being_offered_to_change_it(client_for, cast, tree):
    plan = plan_99_load()
    client = client_for(cast.manager)
    page = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert reverse("plans:plan_edit", args=[plan.pk]) not in page
    assert client.get(reverse("plans:plan_edit", args=[plan.pk])).status_code == 404


def test_a_district_manager_still_changes_the_districts_own_plan(client_for, cast, tree):
    plan = _district_plan(tree.ba_dinh)
    page = client_for(cast.manager).get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert reverse("plans:plan_edit", args=[plan.pk]) in page


def test_the_plan_list_costs_the_same_queries_for_one_or_many_plans(client_for, cast, tree, django_assert_num_queries):
    plan_99_load()
    client = client_for(cast.commune_clerk)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(reverse("plans:plan_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("plans:plan_list"))
    for n in range(5):
        plan = _district_plan(tree.ba_dinh)
        plan.code = f"{n}/KH"
        plan.save()
    with django_assert_num_queries(len(few)):
        client.get(reverse("plans:plan_list"))
