"""The yearly cycle's pages: registrations, evaluation, review, withdrawal, decisions, deadlines
and eligible totals — each page's happy path and its refusals (anonymous, outsider, leader)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from associations.models import AuditEntry
from learning.models import Deadline, DeadlineStage, Decision, EligibleCount, Evaluation, Registration, Stage
from learning.services import (
    deadline_set,
    decision_record,
    evaluation_record,
    registrations_create,
)
from tests.learning.factories import (
    DECIDED_ON,
    EVALUATED_ON,
    REGISTERED_ON,
    YEAR,
    HouseholdFactory,
    make_title,
    scores_of,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def title(tree):
    return make_title()


def register(actor, kind, *subjects):
    return registrations_create(actor=actor, kind=kind, year=YEAR, subjects=list(subjects), registered_on=REGISTERED_ON)


def evaluate(actor, registration, criteria_set, *points):
    return evaluation_record(
        actor=actor,
        registration=registration,
        scores=scores_of(criteria_set, *points),
        evaluator="Tổ đánh giá phường Phúc Xá",
        evaluated_on=EVALUATED_ON,
    )


def decide(actor, branch, kind, registrations, number="15/QĐ-UBND"):
    return decision_record(
        actor=actor,
        branch=branch,
        kind=kind,
        year=YEAR,
        number=number,
        decided_on=DECIDED_ON,
        body="Ủy ban nhân dân phường Phúc Xá",
        signer="Nguyễn Văn Bình",
        signer_title="Chủ tịch",
        registrations=registrations,
    )


def in_vietnamese(message: str, **values) -> str:
    """A message as the page shows it: the interface speaks Vietnamese by default."""
    with translation.override("vi"):
        return gettext(message) % values


@pytest.fixture
def cycle(cast, tree, title):
    """Households of Phúc Xá (inside Ba Đình) and of Hàng Bạc (in Hoàn Kiếm), registered."""
    kind, criteria_set = title
    inside = HouseholdFactory(branch=tree.phuc_xa, head_name="Nguyễn Thị Hương")
    outside = HouseholdFactory(branch=tree.hang_bac, head_name="Đỗ Văn Ngoài")
    (registration,) = register(cast.commune_clerk, kind, inside)
    (foreign,) = register(cast.sibling_clerk, kind, outside)
    return kind, criteria_set, registration, foreign


def url(name, *args, **query):
    address = reverse(f"learning:{name}", args=args)
    if query:
        from django.utils.http import urlencode

        address += "?" + urlencode(query)
    return address


# --- Anonymous, outsiders, leaders -----------------------------------------------------------------


def test_every_page_sends_the_anonymous_to_sign_in(client, cycle):
    _kind, _set, registration, _foreign = cycle
    for name, args in [
        ("registration_list", ()),
        ("registration_create", ()),
        ("registration_detail", (registration.pk,)),
        ("evaluation_record", (registration.pk,)),
        ("review_record", (registration.pk,)),
        ("decision_list", ()),
        ("decision_create", ()),
        ("cycle_settings", ()),
    ]:
        response = client.get(url(name, *args))
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), name
    response = client.post(url("registration_withdraw", registration.pk), {"reason": "Chuyển đi"})
    assert response["Location"].startswith(LOGIN)
    assert Registration.objects.get(pk=registration.pk).stage == Stage.REGISTERED


def test_a_registration_of_another_district_answers_404_on_every_page(client_for, cast, cycle):
    _kind, _set, _registration, foreign = cycle
    client = client_for(cast.commune_clerk)
    for name in ("registration_detail", "evaluation_record", "review_record"):
        assert client.get(url(name, foreign.pk)).status_code == 404, name
    assert client.post(url("registration_withdraw", foreign.pk), {"reason": "x"}).status_code == 404
    assert Registration.objects.get(pk=foreign.pk).stage == Stage.REGISTERED


def test_a_leader_reads_a_registration_but_every_change_answers_403(client_for, cast, cycle):
    _kind, criteria_set, registration, _foreign = cycle
    client = client_for(cast.district_leader)
    detail = client.get(url("registration_detail", registration.pk))
    assert detail.status_code == 200
    assert b'data-testid="evaluate-link"' not in detail.content
    assert b'data-testid="withdraw-form"' not in detail.content
    for name in ("evaluation_record", "review_record"):
        assert client.get(url(name, registration.pk)).status_code == 403, name
    assert client.post(url("registration_withdraw", registration.pk), {"reason": "x"}).status_code == 403
    for name in ("registration_create", "decision_create", "cycle_settings"):
        assert client.get(url(name)).status_code == 403, name
    points = {f"points_{c.pk}": 10 for c in criteria_set.criteria.all()}
    response = client.post(
        url("evaluation_record", registration.pk), {**points, "evaluator": "x", "evaluated_on": "01/09/2024"}
    )
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


# --- The registration list -------------------------------------------------------------------------


def test_the_list_shows_the_users_subtree_and_filters_by_title_year_and_stage(client_for, cast, tree, cycle):
    kind, criteria_set, registration, _foreign = cycle
    second = HouseholdFactory(branch=tree.truc_bach, head_name="Lê Văn Bên")
    (beside,) = register(cast.manager, kind, second)
    evaluate(cast.commune_clerk, registration, criteria_set, 30, 20, 20)

    clerk = client_for(cast.commune_clerk)
    page = clerk.get(url("registration_list", kind=kind.pk, year=YEAR)).content.decode()
    assert "Nguyễn Thị Hương" in page
    assert "Lê Văn Bên" not in page  # beside Phúc Xá, in Trúc Bạch
    assert "Đỗ Văn Ngoài" not in page  # in Hoàn Kiếm

    manager = client_for(cast.manager)
    page = manager.get(url("registration_list", kind=kind.pk, year=YEAR)).content.decode()
    assert "Nguyễn Thị Hương" in page and "Lê Văn Bên" in page and "Đỗ Văn Ngoài" not in page
    page = manager.get(url("registration_list", kind=kind.pk, year=YEAR, stage=Stage.EVALUATED)).content.decode()
    assert "Nguyễn Thị Hương" in page and "Lê Văn Bên" not in page
    page = manager.get(url("registration_list", kind=kind.pk, year=YEAR, branch=tree.truc_bach.pk)).content.decode()
    assert "Lê Văn Bên" in page and "Nguyễn Thị Hương" not in page
    page = manager.get(url("registration_list", kind=kind.pk, year=YEAR - 1)).content.decode()
    assert "Lê Văn Bên" not in page and "Nguyễn Thị Hương" not in page
    assert beside.branch == tree.truc_bach


def test_late_registrations_are_marked_and_can_be_listed_alone(client_for, cast, tree, cycle):
    kind, criteria_set, registration, _foreign = cycle
    on_time = HouseholdFactory(branch=tree.phuc_xa, head_name="Phạm Văn Đúng Hạn")
    (evaluated,) = register(cast.commune_clerk, kind, on_time)
    evaluate(cast.commune_clerk, evaluated, criteria_set, 30, 20, 20)
    # The evaluation was due long ago: the registration still waiting for it is late.
    deadline_set(
        actor=cast.manager, branch=tree.ba_dinh, year=YEAR, stage=DeadlineStage.EVALUATION, due_on=EVALUATED_ON
    )
    client = client_for(cast.commune_clerk)
    response = client.get(url("registration_list", kind=kind.pk, year=YEAR))
    late = {row.subject.head_name: row.late_for for row in response.context["rows"]}
    assert late == {"Nguyễn Thị Hương": DeadlineStage.EVALUATION, "Phạm Văn Đúng Hạn": None}
    assert response.content.decode().count('data-testid="late"') == 1
    response = client.get(url("registration_list", kind=kind.pk, year=YEAR, late="on"))
    assert [row.pk for row in response.context["rows"]] == [registration.pk]


def test_the_list_reads_a_constant_number_of_queries_whatever_its_length(
    client_for, cast, tree, cycle, django_assert_num_queries
):
    kind, criteria_set, registration, _foreign = cycle
    evaluate(cast.commune_clerk, registration, criteria_set, 30, 20, 20)
    client = client_for(cast.commune_clerk)
    address = url("registration_list", kind=kind.pk, year=YEAR)
    client.get(address)  # warm the session and the content types
    # session, user, staff profile, the title filtered on, count, page, late marks, then the
    # title and branch choices of the filters
    with django_assert_num_queries(9):
        assert len(client.get(address).context["rows"]) == 1
    more = [HouseholdFactory(branch=tree.phuc_xa) for _ in range(12)]
    register(cast.commune_clerk, kind, *more)
    with django_assert_num_queries(9):
        assert len(client.get(address).context["rows"]) == 13


# --- Registering -------------------------------------------------------------------------------------


def test_a_clerk_ticks_households_of_their_commune_and_registers_them(client_for, cast, tree, cycle):
    kind, _set, _registration, _foreign = cycle
    first = HouseholdFactory(branch=tree.phuc_xa, head_name="Trần Văn Đức")
    second = HouseholdFactory(branch=tree.phuc_xa, head_name="Lê Thị Ánh")
    HouseholdFactory(branch=tree.truc_bach, head_name="Hoàng Văn Bên Cạnh")
    client = client_for(cast.commune_clerk)
    address = url("registration_create", kind=kind.pk, year=YEAR)
    listed = client.get(address)
    names = [str(subject) for subject in listed.context["candidates"]]
    assert names == [str(second), str(first)]  # Vietnamese order; the one registered already is left out
    searched = client.get(url("registration_create", kind=kind.pk, year=YEAR, q="duc"))
    assert [subject.pk for subject in searched.context["candidates"]] == [first.pk]

    response = client.post(address, {"subjects": [first.pk, second.pk], "registered_on": "15/02/2024"})
    assert response.status_code == 302
    assert response["Location"] == url("registration_list", kind=kind.pk, year=YEAR)
    registered = Registration.objects.filter(household__in=[first, second])
    assert {(r.household_id, r.stage, r.registered_on, r.registered_by) for r in registered} == {
        (first.pk, Stage.REGISTERED, datetime.date(2024, 2, 15), cast.commune_clerk),
        (second.pk, Stage.REGISTERED, datetime.date(2024, 2, 15), cast.commune_clerk),
    }


def test_a_subject_out_of_reach_cannot_be_ticked_and_nothing_is_registered(client_for, cast, tree, cycle):
    kind, _set, _registration, _foreign = cycle
    mine = HouseholdFactory(branch=tree.phuc_xa)
    theirs = HouseholdFactory(branch=tree.hang_bac)
    client = client_for(cast.commune_clerk)
    response = client.post(
        url("registration_create", kind=kind.pk, year=YEAR),
        {"subjects": [mine.pk, theirs.pk], "registered_on": "15/02/2024"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["subjects"]
    assert not Registration.objects.filter(household__in=[mine, theirs]).exists()
    assert client.get(url("registration_create", kind=kind.pk, year=YEAR, branch=tree.hang_bac.pk)).status_code == 404


# --- Detail, evaluation, review, withdrawal ------------------------------------------------------------


def test_the_evaluation_form_has_an_input_per_criterion_bounded_by_its_maximum(client_for, cast, cycle):
    _kind, criteria_set, registration, _foreign = cycle
    client = client_for(cast.commune_clerk)
    page = client.get(url("evaluation_record", registration.pk)).content.decode()
    for criterion in criteria_set.criteria.all():
        assert f'name="points_{criterion.pk}"' in page
        assert f'max="{criterion.max_points}"' in page
        assert criterion.text in page
    assert 'min="0"' in page


def test_a_clerk_scores_a_registration_and_its_detail_shows_the_scores(client_for, cast, cycle):
    _kind, criteria_set, registration, _foreign = cycle
    criteria = list(criteria_set.criteria.order_by("ordering"))
    client = client_for(cast.commune_clerk)
    response = client.post(
        url("evaluation_record", registration.pk),
        {
            f"points_{criteria[0].pk}": "35",
            f"evidence_{criteria[0].pk}": "Sổ theo dõi học tập",
            f"points_{criteria[1].pk}": "25",
            f"points_{criteria[2].pk}": "20",
            "evaluator": "Ban chủ nhiệm chi hội",
            "evaluated_on": "01/09/2024",
            "note": "",
        },
    )
    assert response.status_code == 302
    evaluation = Evaluation.objects.get(registration=registration)
    assert (evaluation.total_points, evaluation.level, evaluation.passed) == (80, "Khá", True)
    detail = client.get(response["Location"])
    page = detail.content.decode()
    assert "35 / 40" in page and "Sổ theo dõi học tập" in page and "01/09/2024" in page
    assert 'data-testid="review-link"' in page
    assert detail.context["registration"].stage == Stage.EVALUATED
    assert AuditEntry.objects.for_object(evaluation).exists()
    assert any(entry.object_id == str(evaluation.pk) for entry in detail.context["history"])


def test_a_score_above_the_maximum_is_shown_on_its_criterion_and_nothing_is_written(client_for, cast, cycle):
    _kind, criteria_set, registration, _foreign = cycle
    criteria = list(criteria_set.criteria.order_by("ordering"))
    client = client_for(cast.commune_clerk)
    response = client.post(
        url("evaluation_record", registration.pk),
        {
            f"points_{criteria[0].pk}": "45",
            f"points_{criteria[1].pk}": "",
            f"points_{criteria[2].pk}": "20",
            "evaluator": "Ban chủ nhiệm chi hội",
            "evaluated_on": "01/09/2024",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    too_many = in_vietnamese(
        "Criterion %(code)s takes from 0 to %(max)d points, not %(points)d.", code="1", max=40, points=45
    )
    missing = in_vietnamese("Give the points of criterion %(code)s.", code="2")
    assert form.errors[f"points_{criteria[0].pk}"] == [too_many]
    assert form.errors[f"points_{criteria[1].pk}"] == [missing]
    assert too_many in response.content.decode()
    assert not Evaluation.objects.exists()
    assert Registration.objects.get(pk=registration.pk).stage == Stage.REGISTERED


def test_a_reviewer_approves_and_another_refuses_with_a_reason(client_for, cast, tree, cycle):
    kind, criteria_set, registration, _foreign = cycle
    evaluate(cast.commune_clerk, registration, criteria_set, 30, 20, 20)
    client = client_for(cast.manager)
    response = client.post(url("review_record", registration.pk), {"outcome": "approve", "reviewed_on": "10/09/2024"})
    assert response.status_code == 302
    assert Registration.objects.get(pk=registration.pk).stage == Stage.REVIEWED

    (other,) = register(cast.commune_clerk, kind, HouseholdFactory(branch=tree.phuc_xa))
    evaluate(cast.commune_clerk, other, criteria_set, 30, 20, 20)
    response = client.post(url("review_record", other.pk), {"outcome": "refuse", "reviewed_on": "10/09/2024"})
    assert response.status_code == 200
    assert response.context["form"].errors["note"]
    assert Registration.objects.get(pk=other.pk).stage == Stage.EVALUATED
    response = client.post(
        url("review_record", other.pk),
        {"outcome": "refuse", "reviewed_on": "10/09/2024", "note": "Thiếu minh chứng"},
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert (other.stage, other.review_note) == (Stage.NOT_RECOGNISED, "Thiếu minh chứng")
    # Reviewed: the review page no longer offers a form.
    assert b'data-testid="review-form"' not in client.get(url("review_record", other.pk)).content


def test_a_clerk_withdraws_a_registration_with_a_reason_and_post_only(client_for, cast, cycle):
    _kind, _set, registration, _foreign = cycle
    client = client_for(cast.commune_clerk)
    assert client.get(url("registration_withdraw", registration.pk)).status_code == 405
    response = client.post(url("registration_withdraw", registration.pk), {"reason": ""})
    assert response.status_code == 302
    assert Registration.objects.get(pk=registration.pk).stage == Stage.REGISTERED
    response = client.post(url("registration_withdraw", registration.pk), {"reason": "Gia đình chuyển đi"}, follow=True)
    assert Registration.objects.get(pk=registration.pk).stage == Stage.WITHDRAWN
    assert b'data-testid="withdraw-form"' not in response.content
    entry = AuditEntry.objects.for_object(registration).filter(action="end").get()
    assert "Gia đình chuyển đi" in str(entry.changes)


# --- Decisions ----------------------------------------------------------------------------------------


def test_a_clerk_recognises_the_passed_registrations_in_a_decision(client_for, cast, tree, cycle):
    kind, criteria_set, registration, _foreign = cycle
    failed_household = HouseholdFactory(branch=tree.phuc_xa, head_name="Bùi Văn Chưa Đạt")
    (failed,) = register(cast.commune_clerk, kind, failed_household)
    evaluate(cast.commune_clerk, registration, criteria_set, 30, 20, 20)
    evaluate(cast.commune_clerk, failed, criteria_set, 10, 10, 10)
    client = client_for(cast.commune_clerk)
    address = url("decision_create", branch=tree.phuc_xa.pk, kind=kind.pk, year=YEAR)
    listed = client.get(address)
    assert [r.pk for r in listed.context["candidates"]] == [registration.pk]
    assert listed.context["form"]["body"].value() == "Ủy ban nhân dân phường Phúc Xá"

    response = client.post(
        address,
        {
            "number": "15/QĐ-UBND",
            "decided_on": "20/11/2024",
            "body": "Ủy ban nhân dân phường Phúc Xá",
            "signer": "Nguyễn Văn Bình",
            "signer_title": "Chủ tịch",
            "registrations": [registration.pk],
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert response["Location"] == url("decision_detail", decision.pk)
    assert (decision.number, decision.decided_on, decision.branch) == (
        "15/QĐ-UBND",
        datetime.date(2024, 11, 20),
        tree.phuc_xa,
    )
    assert Registration.objects.get(pk=registration.pk).stage == Stage.RECOGNISED
    detail = client.get(response["Location"]).content.decode()
    assert url("certificate_pdf", registration.pk) in detail
    assert url("decision_list_pdf", decision.pk) in detail and url("decision_list_xlsx", decision.pk) in detail
    assert "Nguyễn Thị Hương" in detail and "Bùi Văn Chưa Đạt" not in detail
    registration_page = client.get(url("registration_detail", registration.pk)).content.decode()
    assert 'data-testid="certificate-link"' in registration_page
    assert 'data-testid="evaluate-link"' not in registration_page


def test_a_failed_registration_posted_to_a_decision_is_refused_and_nothing_is_decided(client_for, cast, tree, cycle):
    kind, criteria_set, registration, _foreign = cycle
    evaluate(cast.commune_clerk, registration, criteria_set, 10, 10, 10)
    client = client_for(cast.commune_clerk)
    response = client.post(
        url("decision_create", branch=tree.phuc_xa.pk, kind=kind.pk, year=YEAR),
        {
            "number": "15/QĐ-UBND",
            "decided_on": "20/11/2024",
            "body": "Ủy ban nhân dân phường Phúc Xá",
            "signer": "Nguyễn Văn Bình",
            "registrations": [registration.pk],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["registrations"]
    assert not Decision.objects.exists()


def test_decisions_of_another_district_are_neither_listed_nor_opened(client_for, cast, tree, cycle):
    kind, criteria_set, registration, foreign = cycle
    evaluate(cast.commune_clerk, registration, criteria_set, 30, 20, 20)
    evaluate(cast.sibling_clerk, foreign, criteria_set, 30, 20, 20)
    mine = decide(cast.commune_clerk, tree.phuc_xa, kind, [registration], number="15/QĐ-UBND")
    theirs = decide(cast.sibling_clerk, tree.hang_bac, kind, [foreign], number="77/QĐ-UBND")
    client = client_for(cast.commune_clerk)
    listed = client.get(url("decision_list")).content.decode()
    assert "15/QĐ-UBND" in listed and "77/QĐ-UBND" not in listed
    assert client.get(url("decision_detail", mine.pk)).status_code == 200
    assert client.get(url("decision_detail", theirs.pk)).status_code == 404
    assert client.get(url("decision_create", branch=tree.hang_bac.pk, kind=kind.pk, year=YEAR)).status_code == 404
    assert client.get(url("certificate_pdf", foreign.pk)).status_code == 404


# --- Deadlines and eligible totals ---------------------------------------------------------------------


def test_a_manager_sets_the_deadlines_and_eligible_totals_of_a_district(client_for, cast, tree, title):
    kind, _set = title
    deadline_set(actor=cast.admin, branch=tree.city, year=YEAR, stage=DeadlineStage.REPORT, due_on=DECIDED_ON)
    client = client_for(cast.manager)
    address = url("cycle_settings", branch=tree.ba_dinh.pk, year=YEAR)
    page = client.get(address).content.decode()
    assert "Thành phố Hà Nội: 20/11/2024" in page  # the city's deadline, inherited
    response = client.post(
        address,
        {"deadline_evaluation": "30/09/2024", "deadline_decision": "30/11/2024", f"eligible_{kind.pk}": "1200"},
    )
    assert response.status_code == 302 and response["Location"] == address
    assert dict(Deadline.objects.filter(branch=tree.ba_dinh).values_list("stage", "due_on")) == {
        "evaluation": datetime.date(2024, 9, 30),
        "decision": datetime.date(2024, 11, 30),
    }
    assert EligibleCount.objects.get(branch=tree.ba_dinh, kind=kind, year=YEAR).count == 1200
    form = client.get(address).context["form"]
    assert form["deadline_evaluation"].value() == datetime.date(2024, 9, 30)
    assert form[f"eligible_{kind.pk}"].value() == 1200


def test_settings_refuse_a_branch_out_of_reach_and_a_negative_total(client_for, cast, tree, title):
    kind, _set = title
    client = client_for(cast.commune_clerk)
    assert client.get(url("cycle_settings", branch=tree.hang_bac.pk, year=YEAR)).status_code == 404
    assert client.get(url("cycle_settings")).context["scope"]["branch"].value() == tree.phuc_xa.pk
    response = client.post(url("cycle_settings", branch=tree.phuc_xa.pk, year=YEAR), {f"eligible_{kind.pk}": "-3"})
    assert response.status_code == 200
    assert response.context["form"].errors[f"eligible_{kind.pk}"]
    assert not EligibleCount.objects.exists()


def test_a_registration_not_yet_evaluated_cannot_be_reviewed(client_for, cast, cycle):
    _kind, _set, registration, _foreign = cycle
    client = client_for(cast.commune_clerk)
    response = client.post(url("review_record", registration.pk), {"outcome": "approve", "reviewed_on": "10/09/2024"})
    assert response.status_code == 200
    assert b'data-testid="review-form"' not in response.content
    assert Registration.objects.get(pk=registration.pk).stage == Stage.REGISTERED
