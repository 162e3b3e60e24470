"""The batch evaluation page: a clerk scores the registrations of one title, year and branch
on one page; every error of every row is shown at once, in Vietnamese, and nothing is saved
while any remains."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext

from learning.models import DeadlineStage, Evaluation, Registration, Stage
from learning.services import deadline_set, evaluation_record, registration_withdraw, registrations_create
from learning.views.batch import batch_size
from tests.factories import make_branch
from tests.learning.factories import EVALUATED_ON, REGISTERED_ON, YEAR, HouseholdFactory, make_title, scores_of

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def in_vietnamese(message: str, **values) -> str:
    with translation.override("vi"):
        return gettext(message) % values


@pytest.fixture
def title(tree):
    return make_title()


@pytest.fixture
def waiting(cast, tree, title):
    """Three households of Phúc Xá registered, one of Hàng Bạc (Hoàn Kiếm)."""
    kind, _set = title
    names = ("Nguyễn Văn An", "Lê Thị Bình", "Phạm Văn Cư")
    households = [HouseholdFactory(branch=tree.phuc_xa, head_name=name) for name in names]
    mine = registrations_create(
        actor=cast.commune_clerk, kind=kind, year=YEAR, subjects=households, registered_on=REGISTERED_ON
    )
    (foreign,) = registrations_create(
        actor=cast.sibling_clerk,
        kind=kind,
        year=YEAR,
        subjects=[HouseholdFactory(branch=tree.hang_bac, head_name="Đỗ Văn Ngoài")],
        registered_on=REGISTERED_ON,
    )
    return mine, foreign


def page(kind, branch, year=YEAR):
    return f"{reverse('learning:evaluations_batch')}?{urlencode({'kind': kind.pk, 'year': year, 'branch': branch.pk})}"


def posted(criteria_set, rows, *, evaluator="Ban chi hội Phúc Xá", evaluated_on="01/09/2024"):
    """The form's data: rows = [(registration, points or None for an empty row, evidence, evaluator)]."""
    criteria = list(criteria_set.criteria.order_by("ordering", "id"))
    data = {"evaluator": evaluator, "evaluated_on": evaluated_on, "registration": []}
    for registration, points, evidence, own_evaluator in rows:
        data["registration"].append(str(registration.pk))
        for index, criterion in enumerate(criteria):
            value = "" if points is None or points[index] is None else str(points[index])
            data[f"points_{registration.pk}_{criterion.pk}"] = value
        data[f"evidence_{registration.pk}"] = evidence
        data[f"evaluator_{registration.pk}"] = own_evaluator
    return data


def test_the_anonymous_are_sent_to_sign_in_and_a_leader_is_refused(client, client_for, cast, tree, title, waiting):
    kind, criteria_set = title
    mine, _foreign = waiting
    address = page(kind, tree.phuc_xa)
    assert client.get(address)["Location"].startswith(LOGIN)
    leader = client_for(cast.district_leader)
    assert leader.get(address).status_code == 403
    response = leader.post(address, posted(criteria_set, [(mine[0], (40, 30, 30), "", "")]))
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_a_branch_out_of_reach_answers_404(client_for, cast, tree, title, waiting):
    kind, _set = title
    assert client_for(cast.commune_clerk).get(page(kind, tree.hang_bac)).status_code == 404


def test_it_lists_only_the_users_registrations_waiting_for_their_first_evaluation(
    client_for, cast, tree, title, waiting
):
    kind, criteria_set = title
    (an, binh, cu), _foreign = waiting
    evaluation_record(
        actor=cast.commune_clerk,
        registration=binh,
        scores=scores_of(criteria_set, 30, 20, 20),
        evaluator="Ban chi hội",
        evaluated_on=EVALUATED_ON,
    )
    registration_withdraw(actor=cast.commune_clerk, registration=cu, reason="Chuyển đi")
    response = client_for(cast.manager).get(page(kind, tree.ba_dinh))
    assert [row["registration"].pk for row in response.context["form"].table()] == [an.pk]
    text = response.content.decode()
    assert "Đỗ Văn Ngoài" not in text  # Hoàn Kiếm
    assert reverse("learning:evaluation_record", args=[an.pk]) in text  # to score it on its own page
    assert 'data-testid="evaluated-link"' in text  # the evaluated ones, to re-evaluate one by one
    # one input per criterion, bounded by its maximum
    assert text.count('class="form-control points"') == 3
    for maximum in (40, 30, 30):
        assert f'max="{maximum}"' in text


def test_a_clerk_scores_three_on_one_page_and_one_fails(client_for, cast, tree, title, waiting):
    kind, criteria_set = title
    (an, binh, cu), _foreign = waiting
    client = client_for(cast.commune_clerk)
    address = page(kind, tree.phuc_xa)
    data = posted(
        criteria_set,
        [
            (an, (40, 30, 20), "Biên bản họp chi hội số 3", ""),
            (binh, (30, 20, 20), "", "Tổ trưởng Lê Văn Tổ"),
            (cu, (10, 10, 10), "", ""),
        ],
    )
    response = client.post(address, data, follow=True)
    assert response.redirect_chain == [(address, 302)]
    stored = {e.registration_id: e for e in Evaluation.objects.all()}
    assert {pk: (e.total_points, e.passed) for pk, e in stored.items()} == {
        an.pk: (90, True),
        binh.pk: (70, True),
        cu.pk: (30, False),
    }
    assert stored[an.pk].note == "Biên bản họp chi hội số 3"
    assert stored[an.pk].evaluator == "Ban chi hội Phúc Xá"  # the page's default
    assert stored[binh.pk].evaluator == "Tổ trưởng Lê Văn Tổ"  # the row's own
    summary = "%(count)d evaluated: %(passed)d passed, %(failed)d not passed."
    message = in_vietnamese(summary, count=3, passed=2, failed=1)
    assert message in response.content.decode()
    assert response.context["form"].table() == []  # nothing left waiting


def test_a_row_left_empty_is_not_saved(client_for, cast, tree, title, waiting):
    kind, criteria_set = title
    (an, binh, cu), _foreign = waiting
    data = posted(criteria_set, [(an, (40, 30, 20), "", ""), (binh, None, "", ""), (cu, None, "", "")])
    assert client_for(cast.commune_clerk).post(page(kind, tree.phuc_xa), data).status_code == 302
    assert list(Evaluation.objects.values_list("registration", flat=True)) == [an.pk]
    assert Registration.objects.get(pk=binh.pk).stage == Stage.REGISTERED


def test_every_error_of_every_row_is_shown_at_once_in_vietnamese_and_nothing_is_saved(
    client_for, cast, tree, title, waiting
):
    kind, criteria_set = title
    (an, binh, cu), _foreign = waiting
    data = posted(
        criteria_set,
        [(an, (45, 30, 31), "", ""), (binh, (30, None, 20), "", ""), (cu, (10, 10, 10), "", "")],
        evaluator="",
    )
    response = client_for(cast.commune_clerk).post(page(kind, tree.phuc_xa), data)
    assert response.status_code == 200
    text = response.content.decode()
    over = "Criterion %(code)s takes from 0 to %(max)d points, not %(points)d."
    expected = [  # in the page's order: Lê, Nguyễn, Phạm
        f"{binh.subject}: " + in_vietnamese("Give the points of criterion %(code)s.", code="2"),
        f"{binh.subject}: " + in_vietnamese("Say who evaluated."),
        f"{an.subject}: " + in_vietnamese(over, code="1", max=40, points=45),
        f"{an.subject}: " + in_vietnamese(over, code="3", max=30, points=31),
        f"{an.subject}: " + in_vietnamese("Say who evaluated."),
        f"{cu.subject}: " + in_vietnamese("Say who evaluated."),
    ]
    assert response.context["form"].problems == expected
    assert "Tiêu chí 1 chỉ được chấm từ 0 đến 40 điểm, không thể là 45." in text
    assert "Hãy nhập điểm của tiêu chí 2." in text
    assert text.count('data-testid="points-error"') == 3  # beside their inputs too
    assert 'value="45"' in text  # what was typed is kept
    assert not Evaluation.objects.exists()
    assert set(Registration.objects.filter(kind=kind).values_list("stage", flat=True)) == {Stage.REGISTERED}


def test_a_registration_withdrawn_meanwhile_is_named_and_nothing_is_saved(client_for, cast, tree, title, waiting):
    kind, criteria_set = title
    (an, binh, _cu), _foreign = waiting
    client = client_for(cast.commune_clerk)
    client.get(page(kind, tree.phuc_xa))
    registration_withdraw(actor=cast.commune_clerk, registration=binh, reason="Chuyển đi nơi khác")
    data = posted(criteria_set, [(an, (40, 30, 30), "", ""), (binh, (40, 30, 30), "", "")])
    response = client.post(page(kind, tree.phuc_xa), data)
    assert response.context["form"].problems == [
        f"{binh.subject}: " + in_vietnamese("It was withdrawn: it cannot be evaluated.")
    ]
    assert not Evaluation.objects.exists()


def test_a_registration_of_another_district_slipped_into_the_post_is_refused(client_for, cast, tree, title, waiting):
    kind, criteria_set = title
    (an, _binh, _cu), foreign = waiting
    data = posted(criteria_set, [(an, (40, 30, 30), "", ""), (foreign, (40, 30, 30), "", "")])
    response = client_for(cast.commune_clerk).post(page(kind, tree.phuc_xa), data)
    assert response.status_code == 200
    assert in_vietnamese("Some rows can no longer be evaluated here: list them again.") in response.content.decode()
    assert not Evaluation.objects.exists()


def test_a_chapter_lists_only_its_own_households(client_for, cast, tree, title):
    kind, _set = title
    chapter = make_branch("Chi hội tổ dân phố 5", "chapter", tree.phuc_xa, code="PX-5")
    registrations_create(
        actor=cast.commune_clerk,
        kind=kind,
        year=YEAR,
        subjects=[
            HouseholdFactory(branch=chapter, head_name="Vũ Thị Chi Hội"),
            HouseholdFactory(branch=tree.phuc_xa, head_name="Hộ Ngoài Chi Hội"),
        ],
        registered_on=REGISTERED_ON,
    )
    text = client_for(cast.commune_clerk).get(page(kind, chapter)).content.decode()
    assert "Vũ Thị Chi Hội" in text and "Hộ Ngoài Chi Hội" not in text


def test_the_evaluation_deadline_is_shown_and_flagged_when_past(client_for, cast, tree, title, waiting):
    kind, _set = title
    deadline_set(
        actor=cast.manager, branch=tree.ba_dinh, year=YEAR, stage=DeadlineStage.EVALUATION, due_on=EVALUATED_ON
    )
    text = client_for(cast.commune_clerk).get(page(kind, tree.phuc_xa)).content.decode()
    assert "01/09/2024" in text and 'data-testid="late"' in text


def test_the_page_reads_a_constant_number_of_queries_whatever_its_length(
    client_for, cast, tree, title, waiting, django_assert_num_queries
):
    kind, _set = title
    client = client_for(cast.commune_clerk)
    address = page(kind, tree.phuc_xa)
    client.get(address)
    # session, user, staff profile, the branch checked for reach, whether it lies under a
    # dissolved branch, the title and branch chosen, the set in force, its criteria, the
    # registrations, the evaluation deadline, then the title and branch choices
    with django_assert_num_queries(13):
        assert len(client.get(address).context["form"].registrations) == 3
    registrations_create(
        actor=cast.commune_clerk,
        kind=kind,
        year=YEAR,
        subjects=[HouseholdFactory(branch=tree.phuc_xa) for _ in range(12)],
        registered_on=REGISTERED_ON,
    )
    with django_assert_num_queries(13):
        assert len(client.get(address).context["form"].registrations) == 15


def test_a_long_list_is_scored_fifty_at_a_time_and_the_next_ones_follow(client_for, cast, tree, title):
    kind, criteria_set = title
    registrations = registrations_create(
        actor=cast.commune_clerk,
        kind=kind,
        year=YEAR,
        subjects=[HouseholdFactory(branch=tree.phuc_xa) for _ in range(52)],
        registered_on=REGISTERED_ON,
    )
    client = client_for(cast.commune_clerk)
    response = client.get(page(kind, tree.phuc_xa))
    listed = [row["registration"] for row in response.context["form"].table()]
    assert len(listed) == 50 and 'data-testid="more"' in response.content.decode()
    data = posted(criteria_set, [(registration, (40, 30, 30), "", "") for registration in listed])
    assert client.post(page(kind, tree.phuc_xa), data).status_code == 302
    response = client.get(page(kind, tree.phuc_xa))
    assert len(response.context["form"].table()) == 2 and 'data-testid="more"' not in response.content.decode()
    assert Evaluation.objects.count() == 50 and len(registrations) == 52


def test_a_set_with_many_criteria_scores_fewer_rows_a_page_to_stay_under_django_s_field_limit():
    assert batch_size([object()] * 3) == 50
    assert batch_size([object()] * 30) == 27  # 27 rows × 33 fields = 891
    assert batch_size([object()] * 40) * 43 < 1000


def test_a_registration_evaluated_meanwhile_is_named_and_nothing_is_saved(client_for, cast, tree, title, waiting):
    kind, criteria_set = title
    (an, binh, _cu), _foreign = waiting
    evaluation_record(
        actor=cast.commune_clerk,
        registration=binh,
        scores=scores_of(criteria_set, 1, 1, 1),
        evaluator="Ban chi hội",
        evaluated_on=EVALUATED_ON,
    )
    data = posted(criteria_set, [(an, (40, 30, 30), "", ""), (binh, (40, 30, 30), "", "")])
    response = client_for(cast.commune_clerk).post(page(kind, tree.phuc_xa), data)
    stage = in_vietnamese("Evaluated").lower()
    assert response.context["form"].problems == [
        f"{binh.subject}: " + in_vietnamese("It is already %(stage)s: re-evaluate it on its own page.", stage=stage)
    ]
    assert Evaluation.objects.get().total_points == 3


def test_points_that_are_not_whole_numbers_or_below_zero_are_refused_beside_their_input(
    client_for, cast, tree, title, waiting
):
    kind, criteria_set = title
    (an, _binh, _cu), _foreign = waiting
    data = posted(criteria_set, [(an, (40, 30, 30), "", "")])
    first, _second, third = criteria_set.criteria.order_by("ordering", "id")
    data[f"points_{an.pk}_{first.pk}"] = "mười"
    data[f"points_{an.pk}_{third.pk}"] = "-1"
    data[f"evidence_{an.pk}"] = "<script>alert(1)</script>"
    response = client_for(cast.commune_clerk).post(page(kind, tree.phuc_xa), data)
    over = "Criterion %(code)s takes from 0 to %(max)d points, not %(points)d."
    assert response.context["form"].problems == [
        f"{an.subject}: " + in_vietnamese("Write a whole number of points."),
        f"{an.subject}: " + in_vietnamese(over, code="3", max=30, points=-1),
    ]
    text = response.content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert not Evaluation.objects.exists()
