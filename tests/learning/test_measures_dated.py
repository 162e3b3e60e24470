"""The learning titles' measures on the dated tree (issue 14): a year's figures count under
the branch that held the records on the day, on the map in force that day, and move with
the switch to today's map — as Plan 99's do (tests/plans/test_history.py).

The city of 2024, counted by hand on 31/12/2024:
- Phường Phúc Xá: households H1, H2 recognised "Gia đình học tập" (GĐHT) 2024 of 10 eligible
  (entered); unit U1 recognised "Đơn vị học tập" (ĐVHT) 2024; U1 and U2 are its
  organisations, U4 is its chapter's (3 eligible units).
- Phường Trúc Bạch: household H3 recognised GĐHT of 5 eligible; organisation U3, not titled.
- Phường Hàng Bạc: nothing.
On 01/07/2025 Phúc Xá merges whole into the new Phường Ba Đình, Trúc Bạch is split between
it and the new Phường Hoàn Kiếm, the districts are abolished; the organisations and
households move, the registrations and eligible totals stay where they were made; Phúc Xá's
chapter is re-hung under Phường Ba Đình with its organisation.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from associations.models import BranchLevel, Organization
from learning.models import EligibleCount, TitleKind
from plans.catalogue import catalogue_compute, catalogue_compute_on_todays_map, catalogue_target_recompute
from plans.models import IndicatorDefinition, IndicatorValue, OnMap, Plan, Target
from tests.associations.reorg_factories import PART, WHOLE, found, reorganise
from tests.factories import OrganizationFactory, make_branch
from tests.learning.cdht_data import TITLES, register
from tests.learning.factories import HouseholdFactory

D = datetime.date
DAY = D(2024, 12, 31)
EFFECTIVE = D(2025, 7, 1)
TODAY = D(2026, 3, 1)


def _definition(code: str, title: str) -> IndicatorDefinition:
    return IndicatorDefinition.objects.create(
        code=code,
        name=code,
        numerator_measure="learning.recognised",
        numerator_filters={"title": [title]},
        denominator_measure="learning.eligible",
        denominator_filters={"title": [title]},
    )


@pytest.fixture
def city_2024(tree):
    px, tb = tree.phuc_xa, tree.truc_bach
    households = [HouseholdFactory(branch=px), HouseholdFactory(branch=px), HouseholdFactory(branch=tb)]
    for household in households:
        register(household, "household", household.branch, year=2024)
    gdht = TitleKind.objects.get(code=TITLES["household"])
    EligibleCount.objects.create(branch=px, kind=gdht, year=2024, count=10)
    EligibleCount.objects.create(branch=tb, kind=gdht, year=2024, count=5)
    units = [OrganizationFactory(branch=px), OrganizationFactory(branch=px), OrganizationFactory(branch=tb)]
    register(units[0], "organization", px, year=2024)
    chapter = make_branch("Chi hội Phúc Xá", BranchLevel.CHAPTER, px, founded_on=D(2010, 1, 1))
    OrganizationFactory(branch=chapter)
    return SimpleNamespace(
        tree=tree,
        chapter=chapter,
        households=households,
        units=units,
        gdht=Target(definition=_definition("gdht", TITLES["household"]), root_branch=tree.city),
        dvht=Target(definition=_definition("dvht", TITLES["organization"]), root_branch=tree.city),
    )


def apply_2025_round(city) -> SimpleNamespace:
    tree = city.tree
    ba_dinh = found("Phường Ba Đình", BranchLevel.COMMUNE, tree.city, EFFECTIVE, code="00004")
    hoan_kiem = found("Phường Hoàn Kiếm", BranchLevel.COMMUNE, tree.city, EFFECTIVE, code="00070")
    where = {tree.phuc_xa.pk: ba_dinh, tree.truc_bach.pk: hoan_kiem, tree.hang_bac.pk: hoan_kiem}
    reorganise(
        effective_on=EFFECTIVE,
        edges=[
            (tree.phuc_xa, ba_dinh, WHOLE),
            (tree.truc_bach, ba_dinh, PART),
            (tree.truc_bach, hoan_kiem, PART),
            (tree.hang_bac, hoan_kiem, WHOLE),
        ],
        records=[(record, where[record.branch_id]) for record in [*city.households, *city.units]],
        rehang=[(city.chapter, ba_dinh)],
        dissolve=[tree.ba_dinh, tree.hoan_kiem],
    )
    return SimpleNamespace(ba_dinh=ba_dinh, hoan_kiem=hoan_kiem)


def _values(city, day=DAY):
    return {name: catalogue_compute(target=getattr(city, name), as_of=day) for name in ("gdht", "dvht")}


def test_a_year_before_the_reorganisation_counts_the_same_before_and_after_it(city_2024):
    before = _values(city_2024)
    apply_2025_round(city_2024)
    assert Organization.objects.get(pk=city_2024.units[0].pk).branch_id != city_2024.tree.phuc_xa.pk
    assert _values(city_2024) == before


def test_the_2024_figures_stay_with_the_dissolved_commune_on_the_map_in_force_then(city_2024):
    tree = city_2024.tree
    wards = apply_2025_round(city_2024)
    values = _values(city_2024)
    # By hand: Phúc Xá 2 of 10 households, 1 of its 3 units (its chapter's among them, the
    # chapter then under it); Trúc Bạch 1 of 5, 0 of 1.
    assert values["gdht"][tree.phuc_xa.pk] == (2, 10)
    assert values["gdht"][tree.truc_bach.pk] == (1, 5)
    assert values["gdht"][tree.ba_dinh.pk] == (3, 15)
    assert values["dvht"][tree.phuc_xa.pk] == (1, 3)
    assert values["dvht"][city_2024.chapter.pk] == (0, 1)
    assert values["dvht"][tree.truc_bach.pk] == (0, 1)
    assert values["dvht"][tree.city.pk] == (1, 4)
    # The wards founded in 2025 were not there.
    assert wards.ba_dinh.pk not in values["gdht"] and wards.ba_dinh.pk not in values["dvht"]


def test_on_todays_map_the_2024_figures_move_with_their_commune(city_2024):
    tree = city_2024.tree
    wards = apply_2025_round(city_2024)
    gdht, gdht_split = catalogue_compute_on_todays_map(target=city_2024.gdht, as_of=DAY, today=TODAY)
    # Phúc Xá merged whole into Phường Ba Đình: its registrations and eligible total go there;
    # Trúc Bạch was split: its own (kept) records are a line "From split units" of the city.
    assert gdht[wards.ba_dinh.pk] == (2, 10)
    assert gdht_split == {tree.city.pk: (1, 5)}
    assert gdht[tree.city.pk] == (3, 15)
    assert tree.phuc_xa.pk not in gdht and tree.ba_dinh.pk not in gdht
    dvht, dvht_split = catalogue_compute_on_todays_map(target=city_2024.dvht, as_of=DAY, today=TODAY)
    # The units count where they are today: U1, U2 and the chapter's U4 in Phường Ba Đình, U3
    # in Phường Hoàn Kiếm.
    assert dvht[wards.ba_dinh.pk] == (1, 3)
    assert dvht[wards.hoan_kiem.pk] == (0, 1)
    assert dvht_split == {}


def test_a_date_after_the_reorganisation_counts_on_todays_tree(city_2024):
    wards = apply_2025_round(city_2024)
    register(city_2024.households[2], "household", wards.hoan_kiem, year=2026)
    values = catalogue_compute(target=city_2024.gdht, as_of=TODAY)
    assert values[wards.hoan_kiem.pk] == (1, 0)
    assert city_2024.tree.truc_bach.pk not in values


def test_the_dated_computation_runs_a_fixed_few_queries(city_2024, django_assert_num_queries):
    apply_2025_round(city_2024)
    # The tree (2: a chapter re-hung since); recognised: titles listed for the filter, the titles' ids, the count (3);
    # eligible: titles listed, the titles' ids (and whether records moved since), entered
    # totals, the units by their branch then, those branches' paths (5).
    with django_assert_num_queries(10):
        catalogue_compute(target=city_2024.dvht, as_of=DAY)


def test_the_recompute_stores_a_year_before_the_reorganisation_on_both_maps(city_2024):
    tree = city_2024.tree
    plan = Plan.objects.create(
        issuing_branch=tree.city,
        code="9/KH-KHHN",
        title="Kế hoạch thử",
        issued_on=D(2021, 1, 5),
        starts_on=D(2021, 1, 1),
        ends_on=D(2030, 12, 31),
    )
    target = Target.objects.create(
        plan=plan,
        definition=city_2024.gdht.definition,
        threshold_percent=Decimal(80),
        deadline=D(2030, 12, 31),
        root_branch=tree.city,
    )
    wards = apply_2025_round(city_2024)
    catalogue_target_recompute(target=target, today=TODAY, computed_at=timezone.now())
    stored = {
        (value.branch_id, value.on_map): (value.numerator, value.denominator)
        for value in IndicatorValue.objects.filter(target=target, as_of=DAY)
    }
    assert stored[(tree.phuc_xa.pk, OnMap.IN_FORCE)] == (2, 10)
    assert stored[(wards.ba_dinh.pk, OnMap.TODAY)] == (2, 10)
    assert stored[(tree.city.pk, OnMap.SPLIT)] == (1, 5)
    assert (wards.ba_dinh.pk, OnMap.IN_FORCE) not in stored and (tree.phuc_xa.pk, OnMap.TODAY) not in stored
    # After the reorganisation both maps are the same: one value, on the map in force.
    assert not IndicatorValue.objects.filter(target=target, as_of=TODAY).exclude(on_map=OnMap.IN_FORCE).exists()


def test_on_todays_map_units_covered_by_a_total_entered_then_are_not_counted_again(city_2024):
    # Phúc Xá entered 7 eligible units for 2024; its organisations (U1, U2 and its chapter's
    # U4) were covered by that total. On today's map the total goes to Phường Ba Đình with
    # the commune, and the same units, now in Phường Ba Đình, must not be added to it.
    tree = city_2024.tree
    dvht = TitleKind.objects.get(code=TITLES["organization"])
    EligibleCount.objects.create(branch=tree.phuc_xa, kind=dvht, year=2024, count=7)
    wards = apply_2025_round(city_2024)
    in_force = catalogue_compute(target=city_2024.dvht, as_of=DAY)
    assert in_force[tree.phuc_xa.pk] == (1, 7)
    today, split = catalogue_compute_on_todays_map(target=city_2024.dvht, as_of=DAY, today=TODAY)
    assert today[wards.ba_dinh.pk] == (1, 7)
    # Trúc Bạch entered nothing: its U3 counts where it is today.
    assert today[wards.hoan_kiem.pk] == (0, 1)
    assert today[tree.city.pk] == (1, 8) == (in_force[tree.city.pk][0], in_force[tree.city.pk][1])
    assert split == {}
