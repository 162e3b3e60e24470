"""Criteria as data: the seeded titles, who may change a set, its checks, and the freeze."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from associations.models import AuditEntry, StaffRole
from learning.models import CriteriaSet, Evaluation, TitleKind
from learning.selectors import criteria_set_in_force
from learning.services import criteria_set_new_version, criteria_set_save, evaluation_record, registration_create
from tests.factories import StaffProfileFactory, UserFactory
from tests.learning.factories import EVALUATED_ON, REGISTERED_ON, YEAR, HouseholdFactory, make_title, scores_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messages_in_english():
    """The services' messages are compared in their source language (the pages' tests and the
    bad-input corpus check the Vietnamese a clerk reads)."""
    with translation.override("en"):
        yield


@pytest.fixture
def city_manager(tree):
    user = UserFactory(username="manager_hanoi")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.MANAGER)
    return user


@pytest.fixture
def title(tree):
    return make_title()


def label(field):
    return str(CriteriaSet._meta.get_field(field).verbose_name)


def criteria_of(criteria_set):
    return list(criteria_set.criteria.order_by("ordering").values_list("code", "text", "max_points"))


def evaluate(actor, branch, kind, criteria_set, *points):
    registration = registration_create(
        actor=actor, kind=kind, year=YEAR, subject=HouseholdFactory(branch=branch), registered_on=REGISTERED_ON
    )
    return evaluation_record(
        actor=actor,
        registration=registration,
        scores=scores_of(criteria_set, *points),
        evaluator="Tổ đánh giá phường Phúc Xá",
        evaluated_on=EVALUATED_ON,
    )


# --- The seed ---------------------------------------------------------------------------------


def test_the_five_titles_are_seeded_with_what_they_are_awarded_to():
    titles = {kind.abbreviation: kind.subject_type for kind in TitleKind.objects.all()}
    assert titles == {
        "GĐHT": "household",
        "DHHT": "clan",
        "CĐHT": "community",
        "ĐVHT": "unit",
        "CDHT": "citizen",
    }


def test_the_learning_citizen_set_has_the_structure_and_levels_of_324_qd_khvn():
    criteria_set = criteria_set_in_force(TitleKind.objects.get(abbreviation="CDHT"), 2024)
    assert criteria_set.document_number == "324/QĐ-KHVN"
    assert criteria_set.document_date.strftime("%d/%m/%Y") == "25/10/2023"
    assert criteria_set.issuer == "Trung ương Hội Khuyến học Việt Nam"
    criteria = list(criteria_set.criteria.all())
    assert len(criteria) == 10
    assert len({criterion.group for criterion in criteria}) == 3
    assert sum(criterion.max_points for criterion in criteria) == 100
    assert [(level.name, level.min_points, level.max_points) for level in criteria_set.levels.all()] == [
        ("Tốt", 85, 100),
        ("Khá", 70, 84),
        ("Trung bình", 50, 69),
    ]
    assert criteria_set.pass_points == 50
    assert criteria_set.placeholder  # the indicators' wording is still to be entered


def test_a_household_is_judged_by_448_until_2020_and_by_a_placeholder_from_2021():
    kind = TitleKind.objects.get(abbreviation="GĐHT")
    old, new = criteria_set_in_force(kind, 2018), criteria_set_in_force(kind, 2023)
    assert (old.document_number, old.valid_from, old.valid_to) == ("448/QĐ-KHVN", 2016, 2020)
    assert new.document_number == "" and new.placeholder and new.previous == old
    assert all("cần nhập theo văn bản" in text for _code, text, _points in criteria_of(new))


def test_the_unit_title_follows_circular_24_2023_from_2024():
    kind = TitleKind.objects.get(abbreviation="ĐVHT")
    assert criteria_set_in_force(kind, 2023) is None
    assert criteria_set_in_force(kind, 2024).document_number == "24/2023/TT-BGDĐT"


# --- Who may change a set --------------------------------------------------------------------


def test_a_city_manager_edits_a_set_before_first_use_and_it_is_audited(tree, city_manager, title):
    _kind, criteria_set = title
    criteria_set.pass_points = 60
    criteria_set_save(
        actor=city_manager,
        criteria_set=criteria_set,
        criteria=[
            {"code": "1", "text": "Học tập suốt đời", "max_points": 50},
            {"code": "2", "text": "Con em đi học đầy đủ", "max_points": 50},
        ],
        levels=[{"name": "Đạt", "min_points": 60, "max_points": 100}],
    )
    criteria_set.refresh_from_db()
    assert criteria_set.pass_points == 60
    assert criteria_of(criteria_set) == [("1", "Học tập suốt đời", 50), ("2", "Con em đi học đầy đủ", 50)]
    assert list(criteria_set.levels.values_list("name", flat=True)) == ["Đạt"]
    entry = AuditEntry.objects.for_object(criteria_set).get()
    assert entry.actor == city_manager and entry.branch == tree.city
    assert entry.changes[label("pass_points")] == [50, 60]
    assert len(entry.changes) == 3  # with the lists of criteria and of levels, before and after


def test_a_changed_criterion_keeps_its_id(city_manager, title):
    _kind, criteria_set = title
    first = criteria_set.criteria.get(code="1")
    criteria_set_save(
        actor=city_manager,
        criteria_set=criteria_set,
        criteria=[
            {"id": first.pk, "code": "1", "text": "Học tập thường xuyên, có sách báo", "max_points": 40},
            {"code": "2", "text": "Tham gia khuyến học", "max_points": 60},
        ],
    )
    first.refresh_from_db()
    assert first.text == "Học tập thường xuyên, có sách báo"
    assert criteria_set.criteria.count() == 2


def test_a_new_set_takes_the_next_version_of_its_title(city_manager, title):
    kind, _criteria_set = title
    new = criteria_set_save(
        actor=city_manager,
        criteria_set=CriteriaSet(kind=kind, name="Tiêu chí riêng của Hà Nội", valid_from=2026, pass_points=10),
        criteria=[{"code": "1", "text": "Đọc sách", "max_points": 20}],
    )
    assert new.version == 2
    assert AuditEntry.objects.for_object(new).get().action == "create"


def test_a_superuser_may_edit_a_set_and_the_audit_row_has_no_branch(cast, title):
    _kind, criteria_set = title
    criteria_set.name = "Tiêu chí mới"
    criteria_set_save(actor=cast.admin, criteria_set=criteria_set)
    entry = AuditEntry.objects.for_object(criteria_set).get()
    assert entry.branch is None
    assert entry.changes[label("name")] == ["Tiêu chí Gia đình học tập (thử)", "Tiêu chí mới"]


@pytest.mark.parametrize("who", ["manager", "commune_clerk", "city_leader", "district_leader"])
def test_only_a_manager_of_the_whole_city_may_change_a_set(cast, title, who):
    _kind, criteria_set = title
    criteria_set.pass_points = 10
    with pytest.raises(PermissionDenied):
        criteria_set_save(actor=getattr(cast, who), criteria_set=criteria_set)
    with pytest.raises(PermissionDenied):
        criteria_set_new_version(actor=getattr(cast, who), criteria_set=criteria_set)
    criteria_set.refresh_from_db()
    assert criteria_set.pass_points == 50
    assert CriteriaSet.objects.filter(kind=criteria_set.kind).count() == 1


# --- The set's checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "levels", "pass_points", "message"),
    [
        (
            [{"code": "1", "text": "A", "max_points": 50}, {"code": "1", "text": "B", "max_points": 50}],
            [],
            50,
            "Two criteria are numbered 1",
        ),
        ([{"code": "1", "text": "A", "max_points": 40}], [], 50, "cannot exceed the total of the criteria (40)"),
        (
            [{"code": "1", "text": "A", "max_points": 100}],
            [{"name": "Tốt", "min_points": 80, "max_points": 100}, {"name": "Khá", "min_points": 70, "max_points": 80}],
            50,
            "Levels Khá and Tốt overlap",
        ),
        (
            [{"code": "1", "text": "A", "max_points": 100}],
            [{"name": "Tốt", "min_points": 85, "max_points": 120}],
            50,
            "Level Tốt goes up to 120 points, above the total of the criteria (100)",
        ),
        (
            [{"code": "1", "text": "A", "max_points": 100}],
            [{"name": "Tốt", "min_points": 90, "max_points": 85}],
            50,
            "its lower bound is above its upper bound",
        ),
        ([{"code": "1", "text": "A", "max_points": 0}], [], 0, "at least one point"),
    ],
)
def test_a_set_that_does_not_add_up_is_refused_and_nothing_changes(
    city_manager, title, criteria, levels, pass_points, message
):
    _kind, criteria_set = title
    before = criteria_of(criteria_set)
    criteria_set.pass_points = pass_points
    with pytest.raises(ValidationError) as refused:
        criteria_set_save(actor=city_manager, criteria_set=criteria_set, criteria=criteria, levels=levels)
    assert any(message in text for text in refused.value.messages)
    criteria_set.refresh_from_db()
    assert criteria_of(criteria_set) == before and criteria_set.levels.count() == 3
    assert not AuditEntry.objects.for_object(criteria_set).exists()


# --- Version freeze --------------------------------------------------------------------------


def test_the_first_evaluation_freezes_the_set_and_editing_it_is_refused(cast, city_manager, title):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, cast.commune_clerk.staff_profile.branch, kind, criteria_set, 40, 30, 20)
    criteria_set.refresh_from_db()
    assert criteria_set.is_frozen
    criteria_set.pass_points = 80
    with pytest.raises(ValidationError, match="can no longer be changed: make a new version"):
        criteria_set_save(
            actor=city_manager, criteria_set=criteria_set, criteria=[{"code": "1", "text": "A", "max_points": 100}]
        )
    criteria_set.refresh_from_db()
    assert criteria_set.pass_points == 50 and criteria_set.criteria.count() == 3


def test_a_new_version_is_editable_and_the_old_evaluation_keeps_its_set_and_total(cast, city_manager, title):
    kind, old_set = title
    clerk, phuc_xa = cast.commune_clerk, cast.commune_clerk.staff_profile.branch
    old_evaluation = evaluate(clerk, phuc_xa, kind, old_set, 40, 30, 20)

    new_set = criteria_set_new_version(actor=city_manager, criteria_set=old_set)
    assert (new_set.version, new_set.previous, new_set.is_frozen) == (2, old_set, False)
    assert criteria_of(new_set) == criteria_of(old_set)
    assert new_set.levels.count() == 3
    new_set.pass_points = 95
    criteria_set_save(
        actor=city_manager,
        criteria_set=new_set,
        criteria=[
            {"code": "1", "text": "Học tập thường xuyên", "max_points": 50},
            {"code": "2", "text": "Con em đi học đầy đủ", "max_points": 50},
        ],
    )
    assert criteria_set_in_force(kind, YEAR) == new_set

    new_evaluation = evaluate(clerk, phuc_xa, kind, new_set, 50, 40)
    assert (new_evaluation.criteria_set, new_evaluation.total_points, new_evaluation.passed) == (new_set, 90, False)
    old_evaluation = Evaluation.objects.get(pk=old_evaluation.pk)
    assert (old_evaluation.criteria_set, old_evaluation.total_points, old_evaluation.passed) == (old_set, 90, True)
    assert old_evaluation.level == "Tốt"
    assert sorted(old_evaluation.scores.values_list("points", flat=True)) == [20, 30, 40]


def test_a_set_has_only_one_next_version(city_manager, title):
    _kind, criteria_set = title
    criteria_set_new_version(actor=city_manager, criteria_set=criteria_set)
    with pytest.raises(ValidationError, match="already has a newer version"):
        criteria_set_new_version(actor=city_manager, criteria_set=criteria_set)
