"""Plan 99/KH-KHHN is loaded by a command; managers add later plans and targets in the portal."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from associations.models import AuditEntry
from plans.indicators import indicators_compute
from plans.models import Plan, Target

pytestmark = pytest.mark.django_db
D = datetime.date


def test_load_plan_99_creates_the_plan_and_its_two_targets_once(tree):
    call_command("load_plan_99")
    call_command("load_plan_99")
    plan = Plan.objects.get()
    assert (plan.code, plan.issued_on, plan.starts_on, plan.ends_on) == (
        "99/KH-KHHN",
        D(2017, 10, 23),
        D(2017, 1, 1),
        D(2020, 12, 31),
    )
    assert plan.issuing_branch == tree.city
    targets = {t.indicator: t for t in plan.targets.all()}
    board, membership = targets["board_coverage"], targets["cadre_membership"]
    assert (board.threshold_percent, board.deadline, board.root_branch) == (Decimal(70), D(2020, 12, 31), tree.city)
    assert board.organization_kinds == ["agency", "public_service", "armed_forces"]
    assert membership.threshold_percent == Decimal(60)
    assert membership.member_categories == ["party_member", "cadre", "civil_servant", "public_employee", "worker"]
    assert AuditEntry.objects.count() == 3


def test_load_plan_99_refuses_without_the_2017_map(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_plan_99")


def _plan_form(tree, **overrides):
    data = {
        "code": "45/KH-KHHN",
        "title": "Kế hoạch giai đoạn 2021–2025",
        "issuing_branch": tree.ba_dinh.pk,
        "issued_on": "15/01/2021",
        "starts_on": "01/01/2021",
        "ends_on": "31/12/2025",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_manager_adds_a_later_plan_with_other_percentages_and_it_is_computed_without_code_changes(
    client_for, cast, tree
):
    client = client_for(cast.manager)
    response = client.post("/plans/new/", _plan_form(tree))
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = Plan.objects.get(code="45/KH-KHHN")
    response = client.post(
        f"/plans/{plan.pk}/targets/new/",
        {
            "indicator": "board_coverage",
            "threshold_percent": "85",
            "deadline": "31/12/2025",
            "root_branch": tree.ba_dinh.pk,
            "organization_kinds": ["agency", "public_service", "armed_forces", "enterprise"],
            "position": "0",
            "milestones": "2022: 75\n2023: 80,5",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    target = Target.objects.get(plan=plan)
    assert target.threshold_percent == Decimal(85)
    assert [(m.year, m.percent) for m in target.milestones.all()] == [(2022, Decimal(75)), (2023, Decimal("80.5"))]
    assert indicators_compute(target=target, as_of=D(2025, 1, 1))[tree.ba_dinh.pk] == (0, 0)
    assert AuditEntry.objects.filter(object_repr__contains="45/KH-KHHN").exists()


def test_bad_input_is_refused_with_a_message_and_nothing_is_written(client_for, cast, tree):
    client = client_for(cast.manager)
    response = client.post("/plans/new/", _plan_form(tree, ends_on="01/01/2020"))
    assert response.status_code == 200
    assert not Plan.objects.exists()
    plan = Plan.objects.create(
        code="1",
        title="t",
        issuing_branch=tree.ba_dinh,
        issued_on=D(2021, 1, 1),
        starts_on=D(2021, 1, 1),
        ends_on=D(2025, 12, 31),
    )
    response = client.post(
        f"/plans/{plan.pk}/targets/new/",
        {
            "indicator": "cadre_membership",
            "threshold_percent": "150",
            "deadline": "31/12/2025",
            "root_branch": tree.ba_dinh.pk,
            "member_categories": [],
            "position": "0",
            "milestones": "năm 2022",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"threshold_percent", "milestones"} <= set(form.errors)
    assert not Target.objects.exists()


def test_a_membership_target_needs_categories_of_people_with_a_headcount(tree):
    from django.core.exceptions import ValidationError

    plan = Plan.objects.create(
        code="1",
        title="t",
        issuing_branch=tree.city,
        issued_on=D(2021, 1, 1),
        starts_on=D(2021, 1, 1),
        ends_on=D(2025, 12, 31),
    )
    target = Target(
        plan=plan,
        indicator="cadre_membership",
        threshold_percent=60,
        deadline=D(2025, 12, 31),
        root_branch=tree.city,
        member_categories=["student"],
    )
    with pytest.raises(ValidationError) as error:
        target.full_clean()
    assert "member_categories" in error.value.message_dict


def test_a_manager_cannot_place_a_target_outside_their_subtree(client_for, cast, tree):
    plan = Plan.objects.create(
        code="1",
        title="t",
        issuing_branch=tree.ba_dinh,
        issued_on=D(2021, 1, 1),
        starts_on=D(2021, 1, 1),
        ends_on=D(2025, 12, 31),
    )
    response = client_for(cast.manager).post(
        f"/plans/{plan.pk}/targets/new/",
        {
            "indicator": "board_coverage",
            "threshold_percent": "70",
            "deadline": "31/12/2025",
            "root_branch": tree.hoan_kiem.pk,
            "organization_kinds": ["agency"],
            "position": "0",
        },
    )
    assert response.status_code == 200  # the branch is not among the choices
    assert not Target.objects.exists()


def test_leaders_and_clerks_may_not_add_plans(client_for, cast, tree):
    for user in (cast.city_leader, cast.commune_clerk):
        assert client_for(user).post("/plans/new/", _plan_form(tree)).status_code == 403
    assert not Plan.objects.exists()


def test_a_manager_of_another_district_cannot_open_the_plan(client_for, cast, tree):
    plan = Plan.objects.create(
        code="1",
        title="t",
        issuing_branch=tree.hoan_kiem,
        issued_on=D(2021, 1, 1),
        starts_on=D(2021, 1, 1),
        ends_on=D(2025, 12, 31),
    )
    client = client_for(cast.manager)
    assert client.get(f"/plans/{plan.pk}/").status_code == 404
    assert client.get(f"/plans/{plan.pk}/edit/").status_code == 404
    assert client.post(f"/plans/{plan.pk}/targets/new/", {}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in_from_plan_pages(client, tree):
    for url in ("/plans/", "/plans/new/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
