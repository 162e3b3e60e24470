"""Freshness (issue 16): a write recomputes only the written branch's subtree and its
ancestors, and stores exactly what a full recompute would store for them."""

import datetime
import os
import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from associations.models import MemberCategory, Organization
from associations.services import member_create, member_update
from funds import services as fund_services
from khuyenhoc.signals import money_changed, registry_changed
from plans import scoped
from plans.models import (
    IndicatorDefinition,
    IndicatorValue,
    MoneyYearTotal,
    Plan,
    RecomputeRun,
    RunStatus,
    ScholarshipYearTotal,
    Target,
)
from plans.receivers import ChangesAfterCommit
from plans.services import (
    RECOMPUTE_LOCK_KEY,
    indicators_recompute_all,
    plan_99_definitions_ensure,
    plan_99_load,
    recompute_run_execute,
    recompute_schedule_scoped,
)
from scholarships.models import Award
from tests.factories import TODAY, HeadcountFactory, MemberFactory, donate, make_round, org_with_board, pay
from tests.plans import test_history
from tests.plans.test_history import TODAY as TODAY_2026
from tests.plans.test_history import apply_2025_round

pytestmark = pytest.mark.django_db
D = datetime.date
city_2017 = test_history.city_2017  # the fixture: a city on the 2017 map, before its 2025 round


def _forget_locks():
    # Not cache.clear(): the test Redis also holds the Celery broker's queues.
    from associations.models import Branch

    keys = [
        f"{RECOMPUTE_LOCK_KEY}:{kind}:{pk}"
        for pk in Branch.objects.values_list("pk", flat=True)
        for kind in scoped.CHANGED_KINDS
    ]
    keys += [f"{key}:{year}" for key in keys for year in range(2015, 2031)]
    keys += [f"plans:history-started:{pk}" for pk in Target.objects.values_list("pk", flat=True)]
    cache.delete_many([RECOMPUTE_LOCK_KEY, *keys])


@pytest.fixture(autouse=True)
def _no_locks(tree):
    _forget_locks()
    yield
    _forget_locks()


def _catalogue_target(plan, definition, root) -> Target:
    return Target.objects.create(
        plan=plan, definition=definition, threshold_percent=70, deadline=plan.ends_on, root_branch=root
    )


def catalogue_plan(tree) -> Plan:
    """A plan with a catalogue target over the registry and one over money (2017–2020)."""
    plan = Plan.objects.create(
        code="5/KH",
        title="Kế hoạch thử",
        issuing_branch=tree.city,
        issued_on=D(2017, 1, 1),
        starts_on=D(2017, 1, 1),
        ends_on=D(2020, 12, 31),
    )
    membership = plan_99_definitions_ensure()["cadre_membership"]
    money = IndicatorDefinition.objects.create(
        code="donations-per-award",
        name="Lượt ủng hộ trên lượt học bổng",
        numerator_measure="funds.donations",
        denominator_measure="scholarships.turns",
    )
    _catalogue_target(plan, membership, tree.city)
    _catalogue_target(plan, money, tree.city)
    return plan


@pytest.fixture
def city(cast, tree, funds):
    """Plan 99, a catalogue plan, members, donations and awards, all computed as of TODAY."""
    town_hall = org_with_board(tree.phuc_xa)
    school = org_with_board(tree.truc_bach)
    hall = org_with_board(tree.hang_bac)
    for organization, branch in ((town_hall, tree.phuc_xa), (school, tree.truc_bach), (hall, tree.hang_bac)):
        MemberFactory(branch=branch, organization=organization, category=MemberCategory.CIVIL_SERVANT)
        HeadcountFactory(organization=organization, year=2019, civil_servants=10)
    donate(cast.admin, funds.city, 5_000_000, day=D(2019, 3, 1))
    donate(cast.admin, funds.phuc_xa, 3_000_000, day=D(2020, 5, 1))
    donate(cast.admin, funds.truc_bach, 2_000_000, day=D(2020, 5, 2))
    scholarship_round = make_round(cast.admin, tree.phuc_xa, funds.phuc_xa, awarded_on=D(2020, 5, 1))
    pay(cast.admin, scholarship_round, 500_000, day=D(2020, 5, 3))
    plan_99_load()
    catalogue_plan(tree)
    indicators_recompute_all(today=TODAY)
    return SimpleNamespace(town_hall=town_hall, school=school, hall=hall, round=scholarship_round, funds=funds)


def stored() -> dict:
    """Every stored value and panel total, without the time it was computed."""
    return {
        "values": sorted(
            IndicatorValue.objects.values_list("target_id", "branch_id", "as_of", "on_map", "numerator", "denominator")
        ),
        "money": sorted(
            MoneyYearTotal.objects.values_list("branch_id", "year", "fund_model_id", "amount", "donations")
        ),
        "scholarships": sorted(ScholarshipYearTotal.objects.values_list("branch_id", "year", "turns", "amount")),
    }


def computed_at_of(branches) -> dict:
    return dict(IndicatorValue.objects.filter(branch__in=branches).values_list("id", "computed_at").order_by("id"))


def assert_scoped_equals_full(branch, changed, *, today, untouched, from_day=None):
    """Run the scoped recompute, check it wrote nothing for `untouched` (siblings), then that a
    full recompute changes nothing."""
    before = computed_at_of(untouched)
    scoped.scoped_recompute(branch=branch, changed=changed, today=today, from_day=from_day)
    after_scoped = stored()
    assert computed_at_of(untouched) == before  # the siblings were not recomputed
    indicators_recompute_all(today=today)
    assert after_scoped == stored()


def _value(target, branch, as_of=TODAY) -> tuple[int, int]:
    value = IndicatorValue.objects.get(target=target, branch=branch, as_of=as_of, on_map="in_force")
    return value.numerator, value.denominator


def test_after_a_member_is_saved_the_scoped_recompute_stores_what_a_full_one_would(cast, tree, city):
    membership = Target.objects.get(indicator="cadre_membership")
    assert _value(membership, tree.city) == (3, 30)
    member_create(
        actor=cast.commune_clerk,
        data={
            "full_name": "Nguyễn Thị Hoa",
            "category": MemberCategory.CIVIL_SERVANT,
            "organization": city.town_hall,
            "branch": tree.phuc_xa,
            "joined_on": D(2018, 2, 1),
        },
    )
    assert _value(membership, tree.city) == (3, 30)  # stored values: not recomputed yet
    assert_scoped_equals_full(tree.phuc_xa, "registry", today=TODAY, untouched=[tree.truc_bach, tree.hang_bac])
    assert _value(membership, tree.city) == (4, 30)
    assert _value(membership, tree.phuc_xa) == (2, 10)


def test_after_a_donation_the_scoped_recompute_stores_what_a_full_one_would(cast, tree, city):
    donate(cast.commune_clerk, city.funds.phuc_xa, 1_000_000, day=D(2020, 6, 1))
    donate(cast.commune_clerk, city.funds.phuc_xa_clan, 4_000_000, day=D(2018, 6, 1))
    assert_scoped_equals_full(tree.phuc_xa, "money", today=TODAY, untouched=[tree.truc_bach, tree.hoan_kiem])
    city_2020 = MoneyYearTotal.objects.filter(branch=tree.city, year=2020).values_list("amount", flat=True)
    assert sum(city_2020) == 6_000_000


def test_after_an_award_and_a_voided_donation_the_scoped_recompute_stores_what_a_full_one_would(cast, tree, city):
    mistaken = donate(cast.commune_clerk, city.funds.phuc_xa_clan, 1_000_000, day=D(2019, 6, 1))
    assert_scoped_equals_full(tree.phuc_xa, "money", today=TODAY, untouched=[tree.truc_bach, tree.hoan_kiem])
    assert MoneyYearTotal.objects.filter(branch=tree.phuc_xa, year=2019).exists()
    pay(cast.commune_clerk, city.round, 700_000, day=D(2020, 6, 2), recipient_name="Trần Văn Cường")
    fund_services.donation_void(actor=cast.admin, donation=mistaken, reason="Ghi nhầm số tiền")
    assert_scoped_equals_full(tree.phuc_xa, "money", today=TODAY, untouched=[tree.truc_bach, tree.hoan_kiem])
    assert ScholarshipYearTotal.objects.get(branch=tree.ba_dinh, year=2020).turns == 2
    assert not MoneyYearTotal.objects.filter(branch=tree.phuc_xa, year=2019).exists()  # zero totals are not kept


def test_a_member_whose_workplace_is_in_another_district_announces_both_branches(cast, tree, city):
    # The membership indicator counts a member at their workplace, so both subtrees move.
    announced = []

    def listen(sender, branch_id, **kwargs):
        announced.append(branch_id)

    registry_changed.connect(listen)
    try:
        member_create(
            actor=cast.admin,
            data={
                "full_name": "Lê Văn Nam",
                "category": MemberCategory.CIVIL_SERVANT,
                "organization": city.hall,
                "branch": tree.phuc_xa,
                "joined_on": D(2019, 2, 1),
            },
        )
    finally:
        registry_changed.disconnect(listen)
    assert sorted(announced) == sorted([tree.phuc_xa.pk, tree.hang_bac.pk])
    assert_scoped_equals_full(tree.city, "registry", today=TODAY, untouched=[])


def test_a_member_moved_to_another_organisation_moves_the_old_one_and_the_new_one(cast, tree, city):
    member = city.town_hall.members.get()
    member_update(actor=cast.manager, member=member, data={"organization": city.school, "branch": tree.truc_bach})
    assert_scoped_equals_full(tree.ba_dinh, "registry", today=TODAY, untouched=[tree.hang_bac, tree.hoan_kiem])
    membership = Target.objects.get(indicator="cadre_membership")
    assert _value(membership, tree.phuc_xa) == (0, 10)
    assert _value(membership, tree.truc_bach) == (2, 10)


def test_on_a_reorganised_city_the_scoped_recompute_stores_what_a_full_one_would(cast, city_2017):
    wards = apply_2025_round(city_2017)
    catalogue_plan(city_2017.tree)
    indicators_recompute_all(today=TODAY_2026)
    MemberFactory(
        branch=wards.ba_dinh,
        organization=city_2017.town_hall,
        category=MemberCategory.PARTY_MEMBER,
        joined_on=D(2018, 3, 1),
    )
    MemberFactory(
        branch=wards.ba_dinh,
        organization=city_2017.town_hall,
        category=MemberCategory.PARTY_MEMBER,
        joined_on=TODAY_2026,
    )
    assert_scoped_equals_full(wards.ba_dinh, "registry", today=TODAY_2026, untouched=[wards.hoan_kiem])


def test_a_target_never_computed_is_computed_whole_by_the_scoped_run(cast, tree, city):
    IndicatorValue.objects.all().delete()
    scoped.scoped_recompute(branch=tree.phuc_xa, changed="registry", today=TODAY)
    membership = Target.objects.get(indicator="cadre_membership")
    assert _value(membership, tree.city) == (3, 30)
    assert _value(membership, tree.hang_bac) == (1, 10)


def test_a_money_write_leaves_the_registry_targets_alone(cast, tree, city):
    registry_targets = [t.pk for t in Target.objects.all() if scoped.target_touched(t, "registry")]
    before = dict(IndicatorValue.objects.filter(target__in=registry_targets).values_list("id", "computed_at"))
    donate(cast.commune_clerk, city.funds.phuc_xa, 1_000_000, day=D(2020, 6, 1))
    scoped.scoped_recompute(branch=tree.phuc_xa, changed="money", today=TODAY)
    assert dict(IndicatorValue.objects.filter(target__in=registry_targets).values_list("id", "computed_at")) == before


# --- Scheduling ------------------------------------------------------------------------------
def _schedule_calls(capture, callback):
    with (
        mock.patch("plans.services.recompute_schedule_scoped") as scoped_schedule,
        mock.patch("plans.services.recompute_schedule") as city_wide,
        capture(execute=True),
        transaction.atomic(),
    ):
        callback()
    return scoped_schedule.call_args_list, city_wide.call_count


def test_writes_in_two_communes_of_one_transaction_schedule_one_run_of_their_district(
    tree, django_capture_on_commit_callbacks
):
    def writes():
        for branch in (tree.phuc_xa, tree.truc_bach, tree.phuc_xa):
            money_changed.send(sender=Award, branch_id=branch.pk)

    calls, city_wide = _schedule_calls(django_capture_on_commit_callbacks, writes)
    assert [call.kwargs for call in calls] == [{"branch_id": tree.ba_dinh.pk, "changed": "money", "from_day": None}]
    assert city_wide == 0


def test_a_change_to_the_tree_schedules_the_city_wide_run(tree, django_capture_on_commit_callbacks):
    from associations.models import Branch

    def writes():
        registry_changed.send(sender=Branch, branch_id=tree.phuc_xa.pk)
        money_changed.send(sender=Award, branch_id=tree.phuc_xa.pk)

    calls, city_wide = _schedule_calls(django_capture_on_commit_callbacks, writes)
    assert calls == [] and city_wide == 1


def test_an_organisation_changed_schedules_the_city_wide_run_which_also_counts_the_titles(
    tree, django_capture_on_commit_callbacks
):
    def writes():
        registry_changed.send(sender=Organization, branch_id=tree.phuc_xa.pk)

    calls, city_wide = _schedule_calls(django_capture_on_commit_callbacks, writes)
    assert calls == [] and city_wide == 1


def test_writes_of_the_same_second_fold_into_one_scoped_run(tree):
    with mock.patch("plans.tasks.indicators_recompute.apply_async") as enqueue:
        first = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money")
        for _ in range(20):
            assert recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money") is None
        other = recompute_schedule_scoped(branch_id=tree.truc_bach.pk, changed="money")
    assert enqueue.call_count == 2
    assert enqueue.call_args_list[0].kwargs == {"kwargs": {"run_id": first.pk}, "countdown": 1}
    assert (first.branch, first.changed, other.branch) == (tree.phuc_xa, "money", tree.truc_bach)


def test_a_write_at_the_citys_root_schedules_the_city_wide_run(tree):
    with mock.patch("plans.tasks.indicators_recompute.apply_async"):
        run = recompute_schedule_scoped(branch_id=tree.city.pk, changed="money")
    assert run.branch is None
    assert cache.get(RECOMPUTE_LOCK_KEY)


def test_when_the_cache_is_down_the_write_leaves_one_pending_city_wide_run(tree):
    with mock.patch("plans.services.cache.add", side_effect=ConnectionError("redis down")):
        recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money")
        recompute_schedule_scoped(branch_id=tree.truc_bach.pk, changed="registry")
    pending = RecomputeRun.objects.get(status=RunStatus.PENDING)
    assert pending.branch is None


def test_when_the_broker_is_down_the_scoped_run_waits_and_the_next_city_wide_run_includes_it(cast, tree, city):
    donate(cast.commune_clerk, city.funds.phuc_xa, 1_000_000, day=D(2020, 6, 1))
    with mock.patch("plans.tasks.indicators_recompute.apply_async", side_effect=OSError("connection refused")):
        run = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money")
    assert RecomputeRun.objects.get(pk=run.pk).status == RunStatus.PENDING
    recompute_run_execute(run_id=None)  # the nightly (or five-minutely) city-wide run
    assert RecomputeRun.objects.get(pk=run.pk).status == RunStatus.DONE
    assert sum(MoneyYearTotal.objects.filter(branch=tree.city, year=2020).values_list("amount", flat=True)) == (
        6_000_000
    )


def test_a_scoped_run_delivered_twice_or_after_a_city_wide_run_does_no_work(cast, tree, city):
    with mock.patch("plans.tasks.indicators_recompute.apply_async"):
        run = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money")
        assert recompute_run_execute(run_id=run.pk).status == RunStatus.DONE
        with mock.patch("plans.scoped.scoped_recompute") as work:
            assert recompute_run_execute(run_id=run.pk).status == RunStatus.DONE
            later = recompute_schedule_scoped(branch_id=tree.truc_bach.pk, changed="money")
            # A city-wide run started after it was requested (and so includes its change).
            RecomputeRun.objects.create(status=RunStatus.RUNNING, started_at=timezone.now())
            assert recompute_run_execute(run_id=later.pk).status == RunStatus.DONE
        work.assert_not_called()


# --- With a real worker ----------------------------------------------------------------------
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_donation_saved_through_the_service_reaches_its_branch_and_the_city_through_a_real_worker(
    cast, tree, funds, celery_worker_process
):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: run with `make test`")
    today = timezone.localdate()
    catalogue_plan(tree)
    donation_count = Target.objects.get(definition__code="donations-per-award")
    donate(cast.admin, funds.city, 5_000_000, day=today)
    indicators_recompute_all()
    runs_before = RecomputeRun.objects.count()

    donate(cast.commune_clerk, funds.phuc_xa, 2_000_000, day=today)  # commits: the save is done

    def raised(branch) -> int:
        return sum(MoneyYearTotal.objects.filter(branch=branch, year=today.year).values_list("amount", flat=True))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and raised(tree.city) != 7_000_000:
        time.sleep(0.2)
    assert raised(tree.city) == 7_000_000
    assert raised(tree.ba_dinh) == raised(tree.phuc_xa) == 2_000_000
    assert raised(tree.hoan_kiem) == 0
    run = RecomputeRun.objects.get(pk__gt=0, branch=tree.phuc_xa)
    assert RecomputeRun.objects.count() == runs_before + 1 and run.changed == "money"
    assert IndicatorValue.objects.get(target=donation_count, branch=tree.city, as_of=today).numerator == 2
    assert IndicatorValue.objects.get(target=donation_count, branch=tree.phuc_xa, as_of=today).numerator == 1


def test_the_dashboards_key_moves_for_the_branch_its_ancestors_and_not_its_siblings(cast, tree, city):
    recompute_run_execute(run_id=None)  # a city-wide run: every branch's key
    names = ("city", "ba_dinh", "phuc_xa", "hang_bac")
    before = {name: scoped.last_recomputed_at(getattr(tree, name)) for name in names}
    donate(cast.commune_clerk, city.funds.phuc_xa, 1_000_000, day=D(2020, 6, 1))
    with mock.patch("plans.tasks.indicators_recompute.apply_async"):
        run = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money")
    recompute_run_execute(run_id=run.pk)
    after = {name: scoped.last_recomputed_at(getattr(tree, name)) for name in names}
    assert all(after[name] > before[name] for name in ("city", "ba_dinh", "phuc_xa"))
    assert after["hang_bac"] == before["hang_bac"]


def test_a_write_announced_by_a_branch_no_longer_in_force_schedules_the_city_wide_run(
    tree, django_capture_on_commit_callbacks
):
    tree.truc_bach.dissolved_on = D(2025, 7, 1)
    tree.truc_bach.save()

    def writes():
        money_changed.send(sender=Award, branch_id=tree.phuc_xa.pk)
        money_changed.send(sender=Award, branch_id=tree.truc_bach.pk)

    calls, city_wide = _schedule_calls(django_capture_on_commit_callbacks, writes)
    assert calls == [] and city_wide == 1


def test_a_burst_of_writes_computes_the_dates_before_the_reorganisation_about_once(cast, city_2017):
    wards = apply_2025_round(city_2017)
    indicators_recompute_all()
    with mock.patch("plans.tasks.indicators_recompute.apply_async"):
        first = recompute_schedule_scoped(branch_id=wards.ba_dinh.pk, changed="registry")
        second = recompute_schedule_scoped(branch_id=wards.hoan_kiem.pk, changed="registry")
    MemberFactory(branch=wards.ba_dinh, organization=city_2017.town_hall, category=MemberCategory.PARTY_MEMBER)
    with mock.patch.object(scoped, "_history_starts", wraps=scoped._history_starts) as computed:
        recompute_run_execute(run_id=first.pk)
        recompute_run_execute(run_id=second.pk)  # requested before the first began: included
    assert computed.call_count == 2  # Plan 99's two targets, once each
    after_scoped = stored()
    indicators_recompute_all()
    assert after_scoped == stored()


def test_a_member_moved_between_two_communes_of_a_district_moves_the_districts_key_too(cast, tree, city):
    # The district's own figure is unchanged (one commune loses what the other gains), but
    # its dashboard shows both communes: its stored row is rewritten, so a cache keyed on
    # computed_at moves.
    IndicatorValue.objects.update(computed_at=timezone.now() - datetime.timedelta(days=1))
    membership = Target.objects.get(indicator="cadre_membership")
    district = IndicatorValue.objects.get(target=membership, branch=tree.ba_dinh, as_of=TODAY, on_map="in_force")
    member = city.town_hall.members.get()
    member_update(actor=cast.manager, member=member, data={"organization": city.school, "branch": tree.truc_bach})
    scoped.scoped_recompute(branch=tree.ba_dinh, changed="registry", today=TODAY)
    district_after = IndicatorValue.objects.get(pk=district.pk)
    assert (district_after.numerator, district_after.denominator) == (district.numerator, district.denominator)
    assert district_after.computed_at > district.computed_at


# --- Only the dates a write can change -------------------------------------------------------
def _computed_at_on(branch, days) -> dict:
    return dict(
        IndicatorValue.objects.filter(branch=branch, as_of__in=days).values_list("id", "computed_at").order_by("id")
    )


def test_a_member_joined_today_recomputes_only_todays_values_and_they_equal_a_full_recompute(cast, tree, city):
    membership = Target.objects.get(indicator="cadre_membership")
    earlier = [D(2017, 12, 31), D(2018, 12, 31), D(2019, 6, 30), D(2019, 12, 31)]
    before = _computed_at_on(tree.city, earlier)
    assert before and _value(membership, tree.city) == (3, 30)
    MemberFactory(
        branch=tree.phuc_xa, organization=city.town_hall, category=MemberCategory.CIVIL_SERVANT, joined_on=TODAY
    )
    scoped.scoped_recompute(branch=tree.phuc_xa, changed="registry", today=TODAY, from_day=D(2020, 1, 1))
    assert _computed_at_on(tree.city, earlier) == before  # the earlier dates were not recomputed
    assert _value(membership, tree.city) == (4, 30)
    assert_scoped_equals_full(
        tree.phuc_xa, "registry", today=TODAY, untouched=[tree.truc_bach, tree.hang_bac], from_day=D(2020, 1, 1)
    )


def test_a_back_dated_member_still_changes_the_past_values_it_counts_in(cast, tree, city):
    membership = Target.objects.get(indicator="cadre_membership")
    at_2018 = _value(membership, tree.city, as_of=D(2018, 12, 31))
    at_2017 = _value(membership, tree.city, as_of=D(2017, 12, 31))
    MemberFactory(
        branch=tree.phuc_xa,
        organization=city.town_hall,
        category=MemberCategory.CIVIL_SERVANT,
        joined_on=D(2018, 2, 1),
    )
    assert_scoped_equals_full(
        tree.phuc_xa, "registry", today=TODAY, untouched=[tree.truc_bach, tree.hang_bac], from_day=D(2018, 1, 1)
    )
    assert _value(membership, tree.city, as_of=D(2018, 12, 31)) == (at_2018[0] + 1, at_2018[1])
    assert _value(membership, tree.city, as_of=D(2017, 12, 31)) == at_2017


def test_a_back_dated_donation_and_award_reach_the_catalogue_values_of_their_dates(cast, tree, city):
    donate(cast.commune_clerk, city.funds.phuc_xa, 1_000_000, day=D(2019, 2, 1))
    pay(cast.commune_clerk, city.round, 200_000, day=D(2020, 6, 2), recipient_name="Trần Văn Cường")
    assert_scoped_equals_full(
        tree.phuc_xa, "money", today=TODAY, untouched=[tree.truc_bach, tree.hoan_kiem], from_day=D(2019, 1, 1)
    )


def test_on_a_reorganised_city_a_write_of_today_and_a_back_dated_one_store_what_a_full_recompute_would(cast, city_2017):
    wards = apply_2025_round(city_2017)
    catalogue_plan(city_2017.tree)
    indicators_recompute_all(today=TODAY_2026)
    today_member = {
        "branch": wards.ba_dinh,
        "organization": city_2017.town_hall,
        "category": MemberCategory.PARTY_MEMBER,
    }
    MemberFactory(**today_member, joined_on=TODAY_2026)
    with mock.patch.object(scoped, "_history_starts", wraps=scoped._history_starts) as history:
        assert_scoped_equals_full(
            wards.ba_dinh, "registry", today=TODAY_2026, untouched=[wards.hoan_kiem], from_day=D(2026, 1, 1)
        )
    history.assert_not_called()  # no date before the reorganisation was computed whole
    MemberFactory(**today_member, joined_on=D(2018, 3, 1))
    assert_scoped_equals_full(
        wards.ba_dinh, "registry", today=TODAY_2026, untouched=[wards.hoan_kiem], from_day=D(2018, 1, 1)
    )


def test_a_run_of_later_dates_does_not_stand_in_for_a_write_of_earlier_ones(cast, city_2017):
    target = Target.objects.filter(plan__is_active=True).first() or SimpleNamespace(pk=0)
    requested = timezone.now()
    scoped._history_starts(target, D(2019, 1, 1))
    assert scoped._history_due(target, requested, D(2018, 1, 1))  # 2018's dates still to compute
    assert not scoped._history_due(target, requested, D(2019, 1, 1))
    assert not scoped._history_due(target, requested, D(2020, 1, 1))
    assert scoped._history_due(target, requested, None)
    scoped._history_starts(target, None)
    assert not scoped._history_due(target, requested, None)


def _announced(capture, callback):
    # The test's own transaction never commits: forget the hooks the fixtures' writes left in
    # it, so this callback's writes register a hook of their own.
    connection = transaction.get_connection()
    connection.run_on_commit[:] = [
        entry for entry in connection.run_on_commit if not isinstance(entry[1], ChangesAfterCommit)
    ]
    with (
        mock.patch("plans.services.recompute_schedule_scoped") as scoped_schedule,
        capture(execute=True),
        transaction.atomic(),
    ):
        callback()
    return [call.kwargs for call in scoped_schedule.call_args_list]


def test_a_saved_member_carries_its_day_of_joining_to_the_scoped_run(
    cast, tree, city, django_capture_on_commit_callbacks
):
    data = {
        "full_name": "Phạm Thị Lan",
        "category": MemberCategory.CIVIL_SERVANT,
        "organization": city.town_hall,
        "branch": tree.phuc_xa,
        "joined_on": D(2019, 4, 5),
    }
    calls = _announced(django_capture_on_commit_callbacks, lambda: member_create(actor=cast.commune_clerk, data=data))
    assert calls == [{"branch_id": tree.phuc_xa.pk, "changed": "registry", "from_day": D(2019, 4, 5)}]


def test_a_membership_ended_carries_the_day_of_leaving_and_a_new_workplace_the_day_of_joining(
    cast, tree, city, django_capture_on_commit_callbacks
):
    member = city.town_hall.members.get()
    member.joined_on = D(2017, 3, 1)
    member.save()
    calls = _announced(
        django_capture_on_commit_callbacks,
        lambda: member_update(actor=cast.manager, member=member, data={"left_on": D(2020, 2, 1)}),
    )
    assert [call["from_day"] for call in calls] == [D(2020, 2, 1)]
    calls = _announced(
        django_capture_on_commit_callbacks,
        lambda: member_update(actor=cast.manager, member=member, data={"joined_on": D(2017, 1, 1), "left_on": None}),
    )
    assert [call["from_day"] for call in calls] == [D(2017, 1, 1)]
    calls = _announced(
        django_capture_on_commit_callbacks,
        lambda: member_update(
            actor=cast.manager,
            member=member,
            data={"organization": city.school, "branch": tree.truc_bach, "joined_on": D(2017, 1, 1)},
        ),
    )
    assert {call["from_day"] for call in calls} == {D(2017, 1, 1)}


def test_writes_of_one_transaction_carry_the_earliest_day_and_any_undated_write_every_day(
    tree, django_capture_on_commit_callbacks
):
    def dated():
        money_changed.send(sender=Award, branch_id=tree.phuc_xa.pk, from_day=D(2020, 6, 1))
        money_changed.send(sender=Award, branch_id=tree.truc_bach.pk, from_day=D(2018, 1, 5))

    def one_undated():
        money_changed.send(sender=Award, branch_id=tree.phuc_xa.pk, from_day=D(2020, 6, 1))
        money_changed.send(sender=Award, branch_id=tree.phuc_xa.pk)

    calls = _announced(django_capture_on_commit_callbacks, dated)
    assert calls == [{"branch_id": tree.ba_dinh.pk, "changed": "money", "from_day": D(2018, 1, 5)}]
    calls = _announced(django_capture_on_commit_callbacks, one_undated)
    assert calls == [{"branch_id": tree.phuc_xa.pk, "changed": "money", "from_day": None}]


def test_writes_of_one_year_fold_into_one_run_that_starts_on_the_first_of_january(tree):
    with mock.patch("plans.tasks.indicators_recompute.apply_async") as enqueue:
        first = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money", from_day=D(2020, 6, 1))
        assert recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money", from_day=D(2020, 2, 3)) is None
        earlier = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money", from_day=D(2018, 5, 1))
        every_day = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="money")
    assert [call.kwargs["kwargs"] for call in enqueue.call_args_list] == [
        {"run_id": first.pk, "from_day": "2020-01-01"},
        {"run_id": earlier.pk, "from_day": "2018-01-01"},
        {"run_id": every_day.pk},
    ]


def test_the_task_hands_the_first_day_to_the_scoped_run_which_then_schedules_the_next_one(cast, tree, city):
    with mock.patch("plans.tasks.indicators_recompute.apply_async"):
        run = recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="registry", from_day=D(2020, 3, 1))
    with mock.patch("plans.scoped.scoped_recompute", return_value=0) as work:
        from plans.tasks import indicators_recompute

        indicators_recompute(run_id=run.pk, from_day="2020-01-01")
    assert work.call_args.kwargs["from_day"] == D(2020, 1, 1)
    with mock.patch("plans.tasks.indicators_recompute.apply_async"):
        # the run released its lock when it began: the next write of the year has a run of its own
        assert recompute_schedule_scoped(branch_id=tree.phuc_xa.pk, changed="registry", from_day=D(2020, 4, 1))
