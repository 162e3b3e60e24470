"""The catalogue's measures of people by the title of their household, clan, village or unit
(Plan 291/KH-UBND's two Công dân học tập targets), counted by hand on a small city."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from associations.models import BranchLevel
from khuyenhoc import measures as catalogue
from tests.factories import make_branch
from tests.learning.cdht_data import YEAR, cdht_records, register
from tests.learning.factories import CitizenFactory, HouseholdFactory

END = datetime.date(YEAR, 12, 31)


def own(code, root, *, end=END, **filters):
    measure = catalogue.measure(code)
    return measure.compute(root=root, start=None, end=end, filters=catalogue.clean_filters(measure, filters))


def test_the_four_cdht_measures_are_in_the_catalogue_counting_people():
    for code in (
        "learning.workers_in_titled_communities",
        "learning.citizens_recognised_in_titled_communities",
        "learning.staff_of_titled_units",
        "learning.citizens_recognised_in_titled_units",
    ):
        assert catalogue.measure(code).unit == catalogue.Unit.PEOPLE


def test_workers_of_learning_households_clans_and_villages_count_at_the_branch_of_their_title(tree):
    cdht_records(tree)
    workers = own("learning.workers_in_titled_communities", tree.city)
    assert workers == {tree.phuc_xa.pk: 3 + 10 + 5, tree.truc_bach.pk: 4}
    citizens = own("learning.citizens_recognised_in_titled_communities", tree.city)
    # A counts for her household and her village, B for her clan; C only registered, D of 2024.
    assert citizens == {tree.phuc_xa.pk: 2 + 1, tree.truc_bach.pk: 1}


def test_a_title_filter_narrows_both_sides_to_learning_households(tree):
    cdht_records(tree)
    assert own("learning.workers_in_titled_communities", tree.city, title=["gia-dinh-hoc-tap"]) == {
        tree.phuc_xa.pk: 3,
        tree.truc_bach.pk: 4,
    }
    assert own("learning.citizens_recognised_in_titled_communities", tree.city, title=["gia-dinh-hoc-tap"]) == {
        tree.phuc_xa.pk: 1,
        tree.truc_bach.pk: 1,
    }


def test_staff_of_learning_units_is_their_latest_headcount_and_their_learning_citizens_their_cdht_staff(tree):
    cdht_records(tree)
    assert own("learning.staff_of_titled_units", tree.city) == {tree.phuc_xa.pk: 30}
    assert own("learning.citizens_recognised_in_titled_units", tree.city) == {tree.phuc_xa.pk: 1}


def test_another_year_counts_that_years_titles_only(tree):
    cdht_records(tree)
    end = datetime.date(2024, 12, 31)
    assert own("learning.workers_in_titled_communities", tree.city, end=end) == {tree.phuc_xa.pk: 4}
    # D was recognised in 2024, but her household H1 was not titled that year.
    assert own("learning.citizens_recognised_in_titled_communities", tree.city, end=end) == {}
    assert own("learning.staff_of_titled_units", tree.city, end=end) == {}


def test_a_subtree_counts_only_its_own_titled_subjects(tree):
    cdht_records(tree)
    assert own("learning.workers_in_titled_communities", tree.truc_bach) == {tree.truc_bach.pk: 4}
    assert own("learning.citizens_recognised_in_titled_communities", tree.truc_bach) == {tree.truc_bach.pk: 1}
    assert own("learning.staff_of_titled_units", tree.hoan_kiem) == {}


def _queries(root) -> int:
    with CaptureQueriesContext(connection) as captured:
        for code in (
            "learning.workers_in_titled_communities",
            "learning.citizens_recognised_in_titled_communities",
            "learning.staff_of_titled_units",
            "learning.citizens_recognised_in_titled_units",
        ):
            own(code, root)
    return len(captured)


def test_the_measures_take_the_same_number_of_queries_whatever_the_tree_size(tree):
    cdht_records(tree)
    small = _queries(tree.city)
    for number in range(6):
        commune = make_branch(f"Phường Mới {number}", BranchLevel.COMMUNE, tree.hoan_kiem, code=f"09{number}")
        household = HouseholdFactory(branch=commune, working_people=2)
        register(household, "household", commune)
        citizen = CitizenFactory(branch=commune, household=household)
        register(citizen, "citizen", commune)
    assert _queries(tree.city) == small
    assert own("learning.citizens_recognised_in_titled_communities", tree.city)[commune.pk] == 1
