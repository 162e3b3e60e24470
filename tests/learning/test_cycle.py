"""The yearly cycle: registration, evaluation, review and decision, with their rules, access,
audit rows and signal; deadlines and late items."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from associations.models import AuditEntry
from khuyenhoc.signals import titles_changed
from learning.models import (
    CriteriaSet,
    DeadlineStage,
    Decision,
    EligibleCount,
    Evaluation,
    Registration,
    RegistrationQuerySet,
    Stage,
)
from learning.selectors import deadline_for, late_registrations, registrations_with_deadlines
from learning.services import (
    deadline_set,
    decision_record,
    eligible_count_set,
    evaluation_record,
    registration_withdraw,
    registrations_create,
    review_record,
)
from tests.factories import OrganizationFactory
from tests.learning.factories import (
    DECIDED_ON,
    EVALUATED_ON,
    REGISTERED_ON,
    YEAR,
    CitizenFactory,
    ClanFactory,
    CommunityFactory,
    HouseholdFactory,
    make_title,
    scores_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messages_in_english():
    """The services' messages are compared in their source language (the pages' tests and the
    bad-input corpus check the Vietnamese a clerk reads)."""
    with translation.override("en"):
        yield


@pytest.fixture
def title(tree):
    return make_title()


@pytest.fixture
def announced():
    """The branch ids `titles_changed` was sent for."""
    branch_ids = []

    def receiver(sender, branch_id, **kwargs):
        branch_ids.append(branch_id)

    titles_changed.connect(receiver, weak=False)
    yield branch_ids
    titles_changed.disconnect(receiver)


def register(actor, kind, *subjects):
    return registrations_create(actor=actor, kind=kind, year=YEAR, subjects=list(subjects), registered_on=REGISTERED_ON)


def evaluate(actor, registration, criteria_set, *points, **extra):
    return evaluation_record(
        actor=actor,
        registration=registration,
        scores=scores_of(criteria_set, *points),
        evaluator="Tổ đánh giá phường Phúc Xá",
        evaluated_on=EVALUATED_ON,
        **extra,
    )


def decide(actor, branch, kind, registrations, number="15/QĐ-UBND", body="Ủy ban nhân dân phường Phúc Xá"):
    return decision_record(
        actor=actor,
        branch=branch,
        kind=kind,
        year=YEAR,
        number=number,
        decided_on=DECIDED_ON,
        body=body,
        signer="Nguyễn Văn Chủ Tịch",
        signer_title="Chủ tịch",
        registrations=registrations,
    )


def refreshed(registration):
    return Registration.objects.get(pk=registration.pk)


# --- Registration ----------------------------------------------------------------------------


def test_a_clerk_registers_households_at_their_own_branch_with_an_audit_row_each(cast, tree, title, announced):
    kind, _criteria_set = title
    first, second = HouseholdFactory(branch=tree.phuc_xa), HouseholdFactory(branch=tree.phuc_xa)
    registrations = register(cast.commune_clerk, kind, first, second)
    assert [(r.household, r.branch, r.stage, r.registered_by) for r in registrations] == [
        (first, tree.phuc_xa, Stage.REGISTERED, cast.commune_clerk),
        (second, tree.phuc_xa, Stage.REGISTERED, cast.commune_clerk),
    ]
    for registration in registrations:
        entry = AuditEntry.objects.for_object(registration).get()
        assert (entry.action, entry.branch, entry.actor) == ("create", tree.phuc_xa, cast.commune_clerk)
    assert announced == [tree.phuc_xa.pk]


def test_a_district_clerk_registers_subjects_of_two_communes_in_one_batch(cast, tree, title):
    kind, _criteria_set = title
    registrations = register(
        cast.manager, kind, HouseholdFactory(branch=tree.phuc_xa), HouseholdFactory(branch=tree.truc_bach)
    )
    assert [r.branch for r in registrations] == [tree.phuc_xa, tree.truc_bach]


def test_a_second_registration_of_the_same_household_is_refused_naming_it(cast, tree, title):
    kind, _criteria_set = title
    household = HouseholdFactory(branch=tree.phuc_xa, head_name="Phạm Văn Đông", address="12 Phó Đức Chính")
    register(cast.commune_clerk, kind, household)
    other = HouseholdFactory(branch=tree.phuc_xa)
    with pytest.raises(ValidationError, match="Phạm Văn Đông — 12 Phó Đức Chính"):
        register(cast.commune_clerk, kind, other, household)
    assert not Registration.objects.filter(household=other).exists()  # nothing of the batch is written


def test_the_same_household_twice_in_one_batch_is_refused(cast, tree, title):
    kind, _criteria_set = title
    household = HouseholdFactory(branch=tree.phuc_xa, head_name="Phạm Văn Đông")
    with pytest.raises(ValidationError, match=r"Phạm Văn Đông .* is listed twice"):
        register(cast.commune_clerk, kind, household, HouseholdFactory(branch=tree.phuc_xa), household)
    assert not Registration.objects.exists()


def test_the_database_has_the_last_word_on_a_second_registration(cast, tree, title, monkeypatch):
    """Two clerks saving at the same moment both pass the check; the constraint refuses one."""
    kind, _criteria_set = title
    household = HouseholdFactory(branch=tree.phuc_xa, head_name="Phạm Văn Đông")
    register(cast.commune_clerk, kind, household)
    exclude = RegistrationQuerySet.exclude
    calls = []

    def blind_once(self, *args, **kwargs):  # the first check sees nothing, as in a race
        calls.append(1)
        return self.none() if len(calls) == 1 else exclude(self, *args, **kwargs)

    monkeypatch.setattr(RegistrationQuerySet, "exclude", blind_once)
    with pytest.raises(ValidationError, match=r"Already registered for .* Phạm Văn Đông"):
        register(cast.commune_clerk, kind, household)
    assert Registration.objects.filter(household=household).count() == 1


def test_a_withdrawn_registration_leaves_room_for_a_new_one(cast, tree, title):
    kind, _criteria_set = title
    household = HouseholdFactory(branch=tree.phuc_xa)
    (registration,) = register(cast.commune_clerk, kind, household)
    registration_withdraw(actor=cast.commune_clerk, registration=registration, reason="Chuyển đi nơi khác")
    assert refreshed(registration).stage == Stage.WITHDRAWN
    entry = AuditEntry.objects.for_object(registration).filter(action="end").get()
    assert "Chuyển đi nơi khác" in entry.changes.values()
    register(cast.commune_clerk, kind, household)
    assert Registration.objects.filter(household=household).count() == 2


@pytest.mark.parametrize(
    ("subject_type", "wrong_subject"),
    [
        ("household", lambda branch: ClanFactory(branch=branch)),
        ("clan", lambda branch: HouseholdFactory(branch=branch)),
        ("community", lambda branch: CitizenFactory(branch=branch)),
        ("unit", lambda branch: CommunityFactory(branch=branch)),
        ("citizen", lambda branch: OrganizationFactory(branch=branch)),
    ],
)
def test_a_subject_of_another_type_than_the_title_is_awarded_to_is_refused(cast, tree, subject_type, wrong_subject):
    kind, _criteria_set = make_title(
        code=f"thu-{subject_type}", name=f"Danh hiệu {subject_type}", subject_type=subject_type
    )
    with pytest.raises(ValidationError, match="is awarded to"):
        register(cast.commune_clerk, kind, wrong_subject(tree.phuc_xa))
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    ("subject_type", "subject"),
    [
        ("clan", lambda branch: ClanFactory(branch=branch)),
        ("community", lambda branch: CommunityFactory(branch=branch)),
        ("unit", lambda branch: OrganizationFactory(branch=branch)),
        ("citizen", lambda branch: CitizenFactory(branch=branch)),
    ],
)
def test_each_kind_of_subject_registers_for_its_title(cast, tree, subject_type, subject):
    kind, _criteria_set = make_title(
        code=f"thu-{subject_type}", name=f"Danh hiệu {subject_type}", subject_type=subject_type
    )
    made = subject(tree.phuc_xa)
    (registration,) = register(cast.commune_clerk, kind, made)
    assert refreshed(registration).subject == made


def test_a_title_no_longer_in_use_and_an_insane_year_are_refused(cast, tree, title):
    kind, _criteria_set = title
    household = HouseholdFactory(branch=tree.phuc_xa)
    with pytest.raises(ValidationError, match="year must lie between 2016"):
        registrations_create(
            actor=cast.commune_clerk, kind=kind, year=1999, subjects=[household], registered_on=REGISTERED_ON
        )
    kind.active = False
    kind.save()
    with pytest.raises(ValidationError, match="no longer in use"):
        register(cast.commune_clerk, kind, household)
    assert not Registration.objects.exists()


@pytest.mark.parametrize("who", ["sibling_clerk", "district_leader", "city_leader"])
def test_a_clerk_of_another_district_or_a_leader_may_not_register(cast, tree, title, who):
    kind, _criteria_set = title
    with pytest.raises(PermissionDenied):
        register(getattr(cast, who), kind, HouseholdFactory(branch=tree.phuc_xa))
    assert not Registration.objects.exists()


# --- Evaluation ------------------------------------------------------------------------------


@pytest.fixture
def registered(cast, tree, title):
    kind, _criteria_set = title
    return register(cast.commune_clerk, kind, *(HouseholdFactory(branch=tree.phuc_xa) for _ in range(3)))


@pytest.mark.parametrize(
    ("points", "total", "level", "passed"),
    [
        ((40, 30, 20), 90, "Tốt", True),
        ((30, 25, 20), 75, "Khá", True),
        ((20, 20, 10), 50, "Trung bình", True),
        ((20, 20, 9), 49, "", False),
    ],
)
def test_an_evaluation_adds_up_the_scores_and_finds_the_level(cast, title, registered, points, total, level, passed):
    _kind, criteria_set = title
    evaluation = evaluate(cast.commune_clerk, registered[0], criteria_set, *points)
    assert (evaluation.total_points, evaluation.level, evaluation.passed) == (total, level, passed)
    assert evaluation.criteria_set == criteria_set
    assert refreshed(registered[0]).stage == Stage.EVALUATED


def test_an_evaluation_is_audited_with_its_scores_and_announced(cast, tree, title, registered, announced):
    _kind, criteria_set = title
    evaluation = evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    entry = AuditEntry.objects.for_object(evaluation).get()
    assert (entry.action, entry.branch) == ("create", tree.phuc_xa)
    assert {"1": 40, "2": 30, "3": 20} in [value[1] for value in entry.changes.values()]
    assert announced[-1] == tree.phuc_xa.pk


def test_a_score_above_its_criterion_maximum_is_refused_and_nothing_is_written(cast, title, registered):
    _kind, criteria_set = title
    with pytest.raises(ValidationError) as refused:
        evaluate(cast.commune_clerk, registered[0], criteria_set, 41, 30, 20)
    assert refused.value.messages == ["Criterion 1 (Học tập thường xuyên) is worth at most 40 points, not 41."]
    assert not Evaluation.objects.exists()
    assert refreshed(registered[0]).stage == Stage.REGISTERED
    criteria_set.refresh_from_db()
    assert not criteria_set.is_frozen  # the freeze rolled back with the refusal


def test_every_criterion_must_be_scored_and_no_other(cast, title, registered):
    _kind, criteria_set = title
    scores = scores_of(criteria_set, 40, 30, 20)
    missing = dict(list(scores.items())[:2])
    with pytest.raises(ValidationError, match="missing: 3"):
        evaluation_record(
            actor=cast.commune_clerk,
            registration=registered[0],
            scores=missing,
            evaluator="Tổ",
            evaluated_on=EVALUATED_ON,
        )
    _other_kind, other_set = make_title(code="khac", name="Danh hiệu khác")
    foreign = {**scores, other_set.criteria.first().pk: (1, "")}
    with pytest.raises(ValidationError, match="not part of"):
        evaluation_record(
            actor=cast.commune_clerk,
            registration=registered[0],
            scores=foreign,
            evaluator="Tổ",
            evaluated_on=EVALUATED_ON,
        )
    assert not Evaluation.objects.exists()


def test_an_evaluation_without_a_criteria_set_in_force_is_refused(cast, title, registered):
    _kind, criteria_set = title
    CriteriaSet.objects.filter(pk=criteria_set.pk).update(valid_to=2022)
    with pytest.raises(ValidationError, match=r"No criteria set is in force for .* in 2024"):
        evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)


def test_a_re_evaluation_before_the_decision_replaces_the_scores_and_keeps_the_before(cast, title, registered):
    _kind, criteria_set = title
    first = evaluate(cast.commune_clerk, registered[0], criteria_set, 20, 20, 9)
    second = evaluate(cast.commune_clerk, registered[0], criteria_set, 30, 20, 10)
    assert second.pk == first.pk
    assert Evaluation.objects.get().total_points == 60
    assert sorted(Evaluation.objects.get().scores.values_list("points", flat=True)) == [10, 20, 30]
    update = AuditEntry.objects.for_object(second).get(action="update")
    assert [49, 60] in update.changes.values()
    assert [{"1": 20, "2": 20, "3": 9}, {"1": 30, "2": 20, "3": 10}] in update.changes.values()


@pytest.mark.parametrize("who", ["sibling_clerk", "district_leader"])
def test_a_clerk_of_another_district_or_a_leader_may_not_evaluate(cast, title, registered, who):
    _kind, criteria_set = title
    with pytest.raises(PermissionDenied):
        evaluate(getattr(cast, who), registered[0], criteria_set, 40, 30, 20)
    assert not Evaluation.objects.exists()


# --- Review ----------------------------------------------------------------------------------


def test_the_review_approves_a_passed_evaluation_and_refuses_with_a_reason(cast, title, registered):
    _kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    evaluate(cast.commune_clerk, registered[1], criteria_set, 40, 30, 20)
    day = datetime.date(2024, 10, 1)
    review_record(actor=cast.manager, registration=registered[0], approved=True, reviewed_on=day)
    with pytest.raises(ValidationError, match="Say why"):
        review_record(actor=cast.manager, registration=registered[1], approved=False, reviewed_on=day)
    review_record(
        actor=cast.manager, registration=registered[1], approved=False, reviewed_on=day, note="Hồ sơ thiếu minh chứng"
    )
    approved, refused = refreshed(registered[0]), refreshed(registered[1])
    assert (approved.stage, approved.reviewed_by, approved.reviewed_on) == (Stage.REVIEWED, cast.manager, day)
    assert (refused.stage, refused.review_note) == (Stage.NOT_RECOGNISED, "Hồ sơ thiếu minh chứng")
    assert AuditEntry.objects.for_object(refused).filter(action="update").exists()


def test_only_an_evaluated_registration_is_reviewed_and_a_failed_one_is_not_approved(cast, title, registered):
    _kind, criteria_set = title
    day = datetime.date(2024, 10, 1)
    with pytest.raises(ValidationError, match="Only an evaluated registration"):
        review_record(actor=cast.manager, registration=registered[0], approved=True, reviewed_on=day)
    evaluate(cast.commune_clerk, registered[0], criteria_set, 10, 10, 10)
    with pytest.raises(ValidationError, match="scored 30 points, below the 50 needed"):
        review_record(actor=cast.manager, registration=registered[0], approved=True, reviewed_on=day)
    assert refreshed(registered[0]).stage == Stage.EVALUATED


def test_a_clerk_of_another_district_may_not_review(cast, title, registered):
    _kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    with pytest.raises(PermissionDenied):
        review_record(actor=cast.sibling_clerk, registration=registered[0], approved=True, reviewed_on=DECIDED_ON)


# --- Decision --------------------------------------------------------------------------------


def test_a_decision_recognises_reviewed_and_passed_registrations(cast, tree, title, registered, announced):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    evaluate(cast.commune_clerk, registered[1], criteria_set, 30, 20, 10)
    review_record(actor=cast.manager, registration=registered[0], approved=True, reviewed_on=datetime.date(2024, 10, 1))
    decision = decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:2])
    assert {(r.pk, r.stage, r.decision) for r in Registration.objects.filter(decision=decision)} == {
        (registered[0].pk, Stage.RECOGNISED, decision),
        (registered[1].pk, Stage.RECOGNISED, decision),  # evaluated and passed: review is optional
    }
    assert refreshed(registered[2]).stage == Stage.REGISTERED
    assert AuditEntry.objects.for_object(decision).get().action == "create"
    for registration in registered[:2]:
        assert AuditEntry.objects.for_object(registration).filter(action="update", branch=tree.phuc_xa).exists()
    assert announced[-1] == tree.phuc_xa.pk


def test_no_recognition_without_an_evaluation_naming_the_subject(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    with pytest.raises(ValidationError) as refused:
        decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:2])
    assert refused.value.messages == [f"{registered[1].household} has not been evaluated: it cannot be recognised."]
    assert not Decision.objects.exists()
    assert refreshed(registered[0]).stage == Stage.EVALUATED


def test_no_recognition_of_a_failed_or_refused_evaluation(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 10, 10, 10)
    evaluate(cast.commune_clerk, registered[1], criteria_set, 40, 30, 20)
    review_record(actor=cast.manager, registration=registered[1], approved=False, reviewed_on=DECIDED_ON, note="Sai")
    with pytest.raises(ValidationError) as refused:
        decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:2])
    assert len(refused.value.messages) == 2
    assert "did not pass its evaluation (30 points)" in refused.value.messages[0]
    assert "is not recognised: it cannot be recognised" in refused.value.messages[1]
    assert not Decision.objects.exists()


def test_a_decision_is_refused_for_an_empty_list_another_title_or_outside_its_branch(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    with pytest.raises(ValidationError, match="at least one"):
        decide(cast.commune_clerk, tree.phuc_xa, kind, [])
    with pytest.raises(ValidationError, match="is not under Phường Trúc Bạch"):
        decide(cast.manager, tree.truc_bach, kind, registered[:1])
    other_kind, _other_set = make_title(code="khac", name="Danh hiệu khác")
    with pytest.raises(ValidationError, match="not this decision's title and year"):
        decide(cast.commune_clerk, tree.phuc_xa, other_kind, registered[:1])
    assert not Decision.objects.exists()


def test_a_clerk_of_another_district_may_not_decide_for_it(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    with pytest.raises(PermissionDenied):
        decide(cast.sibling_clerk, tree.phuc_xa, kind, registered[:1])
    with pytest.raises(ValidationError, match="is not under Quận Hoàn Kiếm"):
        decide(cast.sibling_clerk, tree.hoan_kiem, kind, registered[:1])
    assert not Decision.objects.exists()


def test_after_the_decision_the_evaluation_and_the_registration_are_settled(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:1])
    with pytest.raises(ValidationError, match="can no longer be changed"):
        evaluate(cast.commune_clerk, registered[0], criteria_set, 10, 10, 10)
    with pytest.raises(ValidationError, match="cannot be withdrawn"):
        registration_withdraw(actor=cast.commune_clerk, registration=registered[0], reason="Nhầm")
    with pytest.raises(ValidationError, match="cannot be recognised"):
        decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:1], number="16/QĐ-UBND")
    assert Evaluation.objects.get().total_points == 90


def test_the_same_decision_number_and_day_twice_is_refused(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    evaluate(cast.commune_clerk, registered[1], criteria_set, 40, 30, 20)
    decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:1])
    with pytest.raises(ValidationError, match="already recorded decision 15/QĐ-UBND of 20/11/2024"):
        decide(cast.commune_clerk, tree.phuc_xa, kind, registered[1:2])
    assert refreshed(registered[1]).stage == Stage.EVALUATED


def test_another_bodys_decision_of_the_same_number_and_day_is_another_document(cast, tree, title, registered):
    kind, criteria_set = title
    evaluate(cast.commune_clerk, registered[0], criteria_set, 40, 30, 20)
    evaluate(cast.commune_clerk, registered[1], criteria_set, 40, 30, 20)
    evaluate(cast.commune_clerk, registered[2], criteria_set, 40, 30, 20)
    ours = decide(cast.commune_clerk, tree.phuc_xa, kind, registered[:1])
    theirs = decide(cast.commune_clerk, tree.phuc_xa, kind, registered[1:2], body="Ủy ban nhân dân quận Ba Đình")
    assert (ours.number, ours.decided_on) == (theirs.number, theirs.decided_on)
    assert refreshed(registered[1]).decision_id == theirs.pk and refreshed(registered[0]).decision_id == ours.pk
    with pytest.raises(ValidationError, match="of 20/11/2024 by Ủy ban nhân dân quận Ba Đình"):
        decide(cast.commune_clerk, tree.phuc_xa, kind, registered[2:], body="Ủy ban nhân dân quận Ba Đình")
    assert refreshed(registered[2]).stage == Stage.EVALUATED


# --- Deadlines, late items and eligible totals -----------------------------------------------


def test_a_branch_s_own_deadline_overrides_its_ancestors(cast, tree, django_assert_num_queries):
    deadline_set(
        actor=cast.admin,
        branch=tree.city,
        year=YEAR,
        stage=DeadlineStage.EVALUATION,
        due_on=datetime.date(2024, 10, 31),
    )
    deadline_set(
        actor=cast.manager,
        branch=tree.ba_dinh,
        year=YEAR,
        stage=DeadlineStage.EVALUATION,
        due_on=datetime.date(2024, 10, 15),
    )
    with django_assert_num_queries(1):
        assert deadline_for(tree.phuc_xa, YEAR, DeadlineStage.EVALUATION).due_on == datetime.date(2024, 10, 15)
    assert deadline_for(tree.hang_bac, YEAR, DeadlineStage.EVALUATION).due_on == datetime.date(2024, 10, 31)
    assert deadline_for(tree.hang_bac, YEAR, DeadlineStage.DECISION) is None
    moved = deadline_set(
        actor=cast.manager,
        branch=tree.ba_dinh,
        year=YEAR,
        stage=DeadlineStage.EVALUATION,
        due_on=datetime.date(2024, 10, 20),
    )
    assert [entry.action for entry in AuditEntry.objects.for_object(moved).order_by("id")] == ["create", "update"]


def test_a_leader_may_not_set_a_deadline(cast, tree):
    with pytest.raises(PermissionDenied):
        deadline_set(
            actor=cast.district_leader, branch=tree.ba_dinh, year=YEAR, stage=DeadlineStage.REVIEW, due_on=DECIDED_ON
        )


def test_late_registrations_are_those_waiting_past_the_deadline_of_their_next_step(
    cast, tree, title, django_assert_num_queries
):
    kind, criteria_set = title
    waiting, evaluated, reviewed, on_time = register(
        cast.admin,
        kind,
        *(HouseholdFactory(branch=tree.phuc_xa) for _ in range(3)),
        HouseholdFactory(branch=tree.hang_bac),
    )
    evaluate(cast.admin, evaluated, criteria_set, 40, 30, 20)
    evaluate(cast.admin, reviewed, criteria_set, 40, 30, 20)
    review_record(actor=cast.admin, registration=reviewed, approved=True, reviewed_on=datetime.date(2024, 10, 1))
    deadline_set(
        actor=cast.manager,
        branch=tree.ba_dinh,
        year=YEAR,
        stage=DeadlineStage.EVALUATION,
        due_on=datetime.date(2024, 9, 30),
    )
    deadline_set(
        actor=cast.manager,
        branch=tree.ba_dinh,
        year=YEAR,
        stage=DeadlineStage.DECISION,
        due_on=datetime.date(2024, 11, 30),
    )
    deadline_set(
        actor=cast.admin,
        branch=tree.city,
        year=YEAR,
        stage=DeadlineStage.EVALUATION,
        due_on=datetime.date(2024, 12, 15),
    )

    everything = Registration.objects.order_by("pk")
    with django_assert_num_queries(1):
        late = {r.pk: r.late_for for r in late_registrations(everything, datetime.date(2024, 10, 5))}
    assert late == {waiting.pk: DeadlineStage.EVALUATION}  # Hàng Bạc's deadline is the city's, not yet due
    late = {r.pk: r.late_for for r in late_registrations(everything, datetime.date(2024, 12, 1))}
    assert late == {
        waiting.pk: DeadlineStage.EVALUATION,
        evaluated.pk: DeadlineStage.DECISION,
        reviewed.pk: DeadlineStage.DECISION,
    }
    dues = {r.pk: r.evaluation_due for r in registrations_with_deadlines(everything)}
    assert dues[on_time.pk] == datetime.date(2024, 12, 15)


def test_an_eligible_total_is_entered_then_corrected_with_an_audit_row_each(cast, tree, title, announced):
    kind, _criteria_set = title
    eligible_count_set(actor=cast.commune_clerk, branch=tree.phuc_xa, kind=kind, year=YEAR, count=1200)
    eligible = eligible_count_set(actor=cast.commune_clerk, branch=tree.phuc_xa, kind=kind, year=YEAR, count=1250)
    assert EligibleCount.objects.get().count == 1250
    assert [e.action for e in AuditEntry.objects.for_object(eligible).order_by("id")] == ["create", "update"]
    assert announced == [tree.phuc_xa.pk, tree.phuc_xa.pk]
    with pytest.raises(PermissionDenied):
        eligible_count_set(actor=cast.sibling_clerk, branch=tree.phuc_xa, kind=kind, year=YEAR, count=1)
    with pytest.raises(ValidationError):
        eligible_count_set(actor=cast.commune_clerk, branch=tree.phuc_xa, kind=kind, year=YEAR, count=-1)


def _queries_of(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def test_a_batch_costs_the_same_queries_whatever_its_size(cast, tree, title):
    kind, criteria_set = title
    small = [HouseholdFactory(branch=tree.phuc_xa) for _ in range(2)]
    large = [HouseholdFactory(branch=tree.phuc_xa) for _ in range(20)]
    first = HouseholdFactory(branch=tree.phuc_xa)
    register(cast.commune_clerk, kind, first)  # the profile and content type, cached
    assert _queries_of(lambda: register(cast.commune_clerk, kind, *small)) == _queries_of(
        lambda: register(cast.commune_clerk, kind, *large)
    )
    for registration in Registration.objects.all():
        evaluate(cast.commune_clerk, registration, criteria_set, 40, 30, 20)
    few = list(Registration.objects.filter(household__in=small))
    many = list(Registration.objects.filter(household__in=large))
    # The commune's dissolved-ancestor check is read once per branch object, then kept.
    decide(cast.commune_clerk, tree.phuc_xa, kind, [Registration.objects.get(household=first)], number="0/QĐ")
    assert _queries_of(lambda: decide(cast.commune_clerk, tree.phuc_xa, kind, few, number="1/QĐ")) == _queries_of(
        lambda: decide(cast.commune_clerk, tree.phuc_xa, kind, many, number="2/QĐ")
    )
    assert Registration.objects.filter(stage=Stage.RECOGNISED).count() == 23
