"""Many first evaluations at once (learning/services/batch.py): every row checked before
anything is written, every error of every row reported together, set-based writes."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from associations.models import AuditEntry
from khuyenhoc.signals import titles_changed
from learning.models import CriteriaSet, Evaluation, Registration, Score, Stage
from learning.services import (
    EvaluationRow,
    evaluation_record,
    evaluations_record,
    registration_withdraw,
    registrations_create,
)
from tests.factories import make_branch
from tests.learning.factories import EVALUATED_ON, REGISTERED_ON, YEAR, HouseholdFactory, make_title, scores_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messages_in_english():
    """The service's messages in their source language (the page's tests read the Vietnamese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def announced():
    branch_ids = []

    def receiver(sender, branch_id, **kwargs):
        branch_ids.append(branch_id)

    titles_changed.connect(receiver, weak=False)
    yield branch_ids
    titles_changed.disconnect(receiver)


@pytest.fixture
def title(tree):
    return make_title()


@pytest.fixture
def three(cast, tree, title):
    kind, _set = title
    households = [
        HouseholdFactory(branch=tree.phuc_xa, head_name=name)
        for name in ("Nguyễn Văn An", "Lê Thị Bình", "Phạm Văn Cư")
    ]
    return registrations_create(
        actor=cast.commune_clerk, kind=kind, year=YEAR, subjects=households, registered_on=REGISTERED_ON
    )


def row(registration, criteria_set, *points, evaluator="Ban chi hội", evaluated_on=EVALUATED_ON, note=""):
    return EvaluationRow(
        registration=registration,
        scores=scores_of(criteria_set, *points),
        evaluator=evaluator,
        evaluated_on=evaluated_on,
        note=note,
    )


def test_a_clerk_scores_three_registrations_at_once_and_one_fails(cast, tree, title, three, announced):
    _kind, criteria_set = title
    first, second, third = three
    announced.clear()
    evaluations = evaluations_record(
        actor=cast.commune_clerk,
        rows=[
            row(first, criteria_set, 40, 30, 20, note="Biên bản họp chi hội số 3"),
            row(second, criteria_set, 30, 20, 20),
            row(third, criteria_set, 10, 10, 10),
        ],
    )
    assert [(e.total_points, e.level, e.passed) for e in evaluations] == [
        (90, "Tốt", True),
        (70, "Khá", True),
        (30, "", False),
    ]
    stored = {e.registration_id: e for e in Evaluation.objects.all()}
    assert stored[first.pk].note == "Biên bản họp chi hội số 3"
    assert stored[first.pk].evaluator == "Ban chi hội"
    assert stored[first.pk].recorded_by == cast.commune_clerk
    assert stored[first.pk].criteria_set == criteria_set
    assert sorted(Score.objects.filter(evaluation=stored[first.pk]).values_list("points", flat=True)) == [20, 30, 40]
    assert set(Registration.objects.values_list("stage", flat=True)) == {Stage.EVALUATED}
    assert CriteriaSet.objects.get(pk=criteria_set.pk).is_frozen
    audit = AuditEntry.objects.filter(content_type__model="evaluation").order_by("object_id")
    assert audit.count() == 3
    assert {entry.branch_id for entry in audit} == {tree.phuc_xa.pk}
    assert audit.get(object_id=str(stored[first.pk].pk)).changes["total points"] == [None, 90]
    assert announced == [tree.phuc_xa.pk]  # one signal for the batch


def test_every_error_of_every_row_is_reported_and_nothing_is_written(cast, title, three, announced):
    _kind, criteria_set = title
    first, second, third = three
    registration_withdraw(actor=cast.commune_clerk, registration=third, reason="Chuyển đi nơi khác")
    announced.clear()
    with pytest.raises(ValidationError) as refused:
        evaluations_record(
            actor=cast.commune_clerk,
            rows=[
                row(first, criteria_set, 45, 30, 31),
                row(second, criteria_set, 30, 20, 20, evaluator=" ", evaluated_on=datetime.date(2024, 1, 1)),
                row(third, criteria_set, 30, 20, 20),
            ],
        )
    an, binh, cu = (registration.subject for registration in three)
    assert refused.value.messages == [
        f"{an}: Criterion 1 (Học tập thường xuyên) is worth at most 40 points, not 45.",
        f"{an}: Criterion 3 (Tham gia khuyến học) is worth at most 30 points, not 31.",
        f"{binh}: Say who evaluated.",
        f"{binh}: The evaluation cannot come before the registration (01/02/2024).",
        f"{cu} was withdrawn: it cannot be evaluated.",
    ]
    assert not Evaluation.objects.exists() and not Score.objects.exists()
    assert not AuditEntry.objects.filter(content_type__model="evaluation").exists()
    assert Registration.objects.get(pk=first.pk).stage == Stage.REGISTERED
    assert not CriteriaSet.objects.get(pk=criteria_set.pk).is_frozen  # the freeze rolled back too
    assert announced == []


def test_a_row_missing_a_criterion_is_refused_with_the_criterion_named(cast, title, three):
    _kind, criteria_set = title
    first, *_rest = three
    scores = scores_of(criteria_set, 30, 20, 20)
    scores.pop(max(scores))
    with pytest.raises(ValidationError) as refused:
        evaluations_record(
            actor=cast.commune_clerk,
            rows=[EvaluationRow(registration=first, scores=scores, evaluator="x", evaluated_on=EVALUATED_ON)],
        )
    assert refused.value.messages == [f"{first.subject}: Score every criterion; missing: 3."]


def test_a_registration_already_evaluated_is_left_to_its_own_page(cast, title, three):
    _kind, criteria_set = title
    first, second, _third = three
    evaluation_record(
        actor=cast.commune_clerk,
        registration=first,
        scores=scores_of(criteria_set, 30, 20, 20),
        evaluator="Ban chi hội",
        evaluated_on=EVALUATED_ON,
    )
    with pytest.raises(ValidationError) as refused:
        evaluations_record(
            actor=cast.commune_clerk, rows=[row(first, criteria_set, 40, 30, 30), row(second, criteria_set, 1, 1, 1)]
        )
    assert refused.value.messages == [f"{first.subject} is already evaluated: re-evaluate it on its own page."]
    assert Evaluation.objects.get().total_points == 70
    assert Registration.objects.get(pk=second.pk).stage == Stage.REGISTERED


def test_a_frozen_set_is_used_as_it_is_without_a_new_version(cast, title, three):
    _kind, criteria_set = title
    first, second, third = three
    evaluation_record(
        actor=cast.commune_clerk,
        registration=first,
        scores=scores_of(criteria_set, 30, 20, 20),
        evaluator="Ban chi hội",
        evaluated_on=EVALUATED_ON,
    )
    frozen_at = CriteriaSet.objects.get(pk=criteria_set.pk).frozen_at
    assert frozen_at is not None
    evaluations_record(
        actor=cast.commune_clerk, rows=[row(second, criteria_set, 40, 30, 30), row(third, criteria_set, 0, 0, 0)]
    )
    assert CriteriaSet.objects.filter(kind=criteria_set.kind).count() == 1
    assert CriteriaSet.objects.get(pk=criteria_set.pk).frozen_at == frozen_at
    assert set(Evaluation.objects.values_list("criteria_set", flat=True)) == {criteria_set.pk}


def test_a_clerk_cannot_score_a_registration_outside_their_commune(cast, tree, title, three):
    kind, criteria_set = title
    (foreign,) = registrations_create(
        actor=cast.sibling_clerk,
        kind=kind,
        year=YEAR,
        subjects=[HouseholdFactory(branch=tree.hang_bac)],
        registered_on=REGISTERED_ON,
    )
    with pytest.raises(PermissionDenied):
        evaluations_record(
            actor=cast.commune_clerk, rows=[row(three[0], criteria_set, 1, 1, 1), row(foreign, criteria_set, 1, 1, 1)]
        )
    with pytest.raises(PermissionDenied):
        evaluations_record(actor=cast.district_leader, rows=[row(three[0], criteria_set, 1, 1, 1)])
    assert not Evaluation.objects.exists()


def test_an_empty_batch_and_a_registration_listed_twice_are_refused(cast, title, three):
    _kind, criteria_set = title
    with pytest.raises(ValidationError, match="Score at least one registration"):
        evaluations_record(actor=cast.commune_clerk, rows=[])
    with pytest.raises(ValidationError, match="listed twice"):
        evaluations_record(
            actor=cast.commune_clerk, rows=[row(three[0], criteria_set, 1, 1, 1), row(three[0], criteria_set, 2, 2, 2)]
        )
    assert not Evaluation.objects.exists()


def test_rows_of_two_chapters_announce_their_commune_once(cast, tree, title, announced):
    kind, criteria_set = title
    chapters = [make_branch(f"Chi hội tổ {n}", "chapter", tree.phuc_xa, code=f"PX-{n}") for n in (1, 2)]
    registrations = registrations_create(
        actor=cast.commune_clerk,
        kind=kind,
        year=YEAR,
        subjects=[HouseholdFactory(branch=chapter) for chapter in chapters],
        registered_on=REGISTERED_ON,
    )
    announced.clear()
    evaluations_record(actor=cast.commune_clerk, rows=[row(r, criteria_set, 30, 20, 20) for r in registrations])
    assert announced == [tree.phuc_xa.pk]


def test_the_writes_do_not_grow_with_the_batch(cast, tree, title, django_assert_num_queries):
    kind, criteria_set = title

    def batch(size):
        registrations = registrations_create(
            actor=cast.commune_clerk,
            kind=kind,
            year=YEAR,
            subjects=[HouseholdFactory(branch=tree.phuc_xa) for _ in range(size)],
            registered_on=REGISTERED_ON,
        )
        return [row(registration, criteria_set, 30, 20, 20) for registration in registrations]

    small, large = batch(2), batch(20)
    evaluations_record(actor=cast.commune_clerk, rows=batch(1))  # caches the staff profile and content type
    # savepoint, lock, the branches' dissolved ancestors (one query for the batch), set in
    # force, freeze (a no-op once frozen), criteria, levels, evaluations, scores, stages,
    # audit rows, release savepoint
    with django_assert_num_queries(12):
        evaluations_record(actor=cast.commune_clerk, rows=small)
    with django_assert_num_queries(12):
        evaluations_record(actor=cast.commune_clerk, rows=large)
    assert Evaluation.objects.count() == 23
