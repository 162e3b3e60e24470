"""The registration list: search by the subject's name without diacritics, whatever the
subject's type; filters by title, year, chapter and stage; pages of 50; each row's next
deadline with the late ones flagged; a constant number of queries."""

import datetime

import pytest
from django.urls import reverse

from learning.models import DeadlineStage
from learning.services import deadline_set, evaluation_record, registrations_create
from tests.factories import OrganizationFactory, make_branch
from tests.learning.factories import (
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


def register(actor, kind, *subjects, year=YEAR):
    return registrations_create(actor=actor, kind=kind, year=year, subjects=list(subjects), registered_on=REGISTERED_ON)


def listed(client, **query):
    response = client.get(reverse("learning:registration_list"), {"year": YEAR, **query})
    assert response.status_code == 200
    return response


def names(response) -> set[str]:
    return {str(row.subject) for row in response.context["rows"]}


@pytest.fixture
def titles(tree):
    return {
        subject_type: make_title(code=f"t-{subject_type}", name=f"Danh hiệu {subject_type}", subject_type=subject_type)
        for subject_type in ("household", "clan", "community", "unit", "citizen")
    }


def test_a_name_typed_without_diacritics_finds_every_kind_of_subject(client_for, cast, tree, titles):
    clerk = cast.commune_clerk
    here = tree.phuc_xa
    household = HouseholdFactory(branch=here, head_name="Nguyễn Văn An", address="Số 1 phố Đội Cấn")
    register(clerk, titles["household"][0], household, HouseholdFactory(branch=here, head_name="Trần Văn Bảo"))
    register(clerk, titles["clan"][0], ClanFactory(branch=here, name="Dòng họ Nguyễn Văn"))
    register(clerk, titles["community"][0], CommunityFactory(branch=here, name="Tổ dân phố Nguyễn Văn Ân"))
    register(clerk, titles["unit"][0], OrganizationFactory(branch=here, name="Trường Tiểu học Nguyễn Văn Anh"))
    register(clerk, titles["citizen"][0], CitizenFactory(branch=here, full_name="Nguyễn Văn An"))
    client = client_for(clerk)
    found = names(listed(client, q="nguyen van an"))
    assert found == {str(household), "Tổ dân phố Nguyễn Văn Ân", "Trường Tiểu học Nguyễn Văn Anh", "Nguyễn Văn An"}
    assert names(listed(client, q="  NGUYEN   van  ")) >= {"Dòng họ Nguyễn Văn"}
    assert names(listed(client, q="đội cấn")) == {str(household)}  # a household's address too
    # with a title chosen, only its subjects
    assert names(listed(client, q="nguyen van an", kind=titles["citizen"][0].pk)) == {"Nguyễn Văn An"}
    assert names(listed(client, q="khong co ai")) == set()


def test_the_search_stays_inside_the_users_subtree(client_for, cast, tree, titles):
    kind, _set = titles["household"]
    register(cast.sibling_clerk, kind, HouseholdFactory(branch=tree.hang_bac, head_name="Nguyễn Văn An"))
    assert names(listed(client_for(cast.commune_clerk), q="nguyen van an")) == set()
    assert len(names(listed(client_for(cast.city_leader), q="nguyen van an"))) == 1


def test_filters_by_title_year_chapter_and_stage_combine_with_the_search(client_for, cast, tree, titles):
    kind, criteria_set = titles["household"]
    other_kind, _other = titles["clan"]
    chapter = make_branch("Chi hội tổ dân phố 5", "chapter", tree.phuc_xa, code="PX-5")
    in_chapter = HouseholdFactory(branch=chapter, head_name="Nguyễn Văn Chi")
    outside = HouseholdFactory(branch=tree.phuc_xa, head_name="Nguyễn Văn Ngoài")
    (first, _second) = register(cast.commune_clerk, kind, in_chapter, outside)
    register(cast.commune_clerk, other_kind, ClanFactory(branch=chapter, name="Dòng họ Nguyễn Văn"))
    last_year = HouseholdFactory(branch=chapter, head_name="Nguyễn Văn Năm Trước")
    register(cast.commune_clerk, kind, last_year, year=2023)
    evaluation_record(
        actor=cast.commune_clerk,
        registration=first,
        scores=scores_of(criteria_set, 30, 20, 20),
        evaluator="Ban chi hội",
        evaluated_on=EVALUATED_ON,
    )
    client = client_for(cast.commune_clerk)
    assert names(listed(client, q="nguyen van", branch=chapter.pk)) == {str(in_chapter), "Dòng họ Nguyễn Văn"}
    assert names(listed(client, q="nguyen van", branch=chapter.pk, kind=kind.pk)) == {str(in_chapter)}
    assert names(listed(client, q="nguyen van", kind=kind.pk, stage="registered")) == {str(outside)}
    assert names(listed(client, q="nguyen van", year=2023)) == {str(last_year)}


def test_the_list_is_paged_by_fifty_and_the_pages_keep_the_search(client_for, cast, tree, titles):
    kind, _set = titles["household"]
    register(cast.commune_clerk, kind, *[HouseholdFactory(branch=tree.phuc_xa) for _ in range(51)])
    register(cast.commune_clerk, kind, HouseholdFactory(branch=tree.phuc_xa, head_name="Đỗ Thị Khác"))
    client = client_for(cast.commune_clerk)
    first = listed(client, q="nguyen van ho")
    assert len(first.context["rows"]) == 50 and first.context["paginator"].count == 51
    assert "q=nguyen+van+ho" in first.context["query"]
    second = listed(client, q="nguyen van ho", page=2)
    assert len(second.context["rows"]) == 1


def test_each_row_shows_the_deadline_of_its_next_step_and_the_late_ones_are_flagged(client_for, cast, tree, titles):
    kind, criteria_set = titles["household"]
    _waiting, evaluated = register(
        cast.commune_clerk,
        kind,
        HouseholdFactory(branch=tree.phuc_xa, head_name="Chờ Đánh Giá"),
        HouseholdFactory(branch=tree.phuc_xa, head_name="Đã Đánh Giá"),
    )
    evaluation_record(
        actor=cast.commune_clerk,
        registration=evaluated,
        scores=scores_of(criteria_set, 30, 20, 20),
        evaluator="Ban chi hội",
        evaluated_on=EVALUATED_ON,
    )
    for stage, day in (
        (DeadlineStage.EVALUATION, datetime.date(2024, 9, 30)),
        (DeadlineStage.DECISION, datetime.date(2099, 12, 15)),
    ):
        deadline_set(actor=cast.manager, branch=tree.ba_dinh, year=YEAR, stage=stage, due_on=day)
    response = listed(client_for(cast.commune_clerk), kind=kind.pk)
    rows = {
        row.subject.head_name: (row.next_due.strftime("%d/%m/%Y"), row.late_for) for row in response.context["rows"]
    }
    # No review deadline: the evaluated one waits for the decision.
    assert rows == {"Chờ Đánh Giá": ("30/09/2024", DeadlineStage.EVALUATION), "Đã Đánh Giá": ("15/12/2099", None)}
    text = response.content.decode()
    assert "30/09/2024" in text and "15/12/2099" in text
    assert text.count('data-testid="late"') == 1


def test_the_search_adds_no_query_and_the_count_does_not_grow_with_the_list(
    client_for, cast, tree, titles, django_assert_num_queries
):
    kind, _set = titles["household"]
    register(cast.commune_clerk, kind, HouseholdFactory(branch=tree.phuc_xa, head_name="Nguyễn Văn An"))
    client = client_for(cast.commune_clerk)
    address = reverse("learning:registration_list")
    query = {"year": YEAR, "kind": kind.pk, "q": "nguyen van"}
    client.get(address, query)
    # session, user, staff profile, the title filtered on, count, page, deadlines and late
    # marks, then the title and branch choices of the filters
    with django_assert_num_queries(9):
        assert len(client.get(address, query).context["rows"]) == 1
    register(
        cast.commune_clerk,
        kind,
        *[HouseholdFactory(branch=tree.phuc_xa, head_name=f"Nguyễn Văn {n}") for n in range(12)],
    )
    with django_assert_num_queries(9):
        assert len(client.get(address, query).context["rows"]) == 13
