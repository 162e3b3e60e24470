"""The criteria-set pages: every staff member reads the titles' criteria; managers and
administrators edit a set not yet used and make a new version of a frozen one.

The criteria are the province's: only an administrator or a manager of the tree's root
changes them (a district manager reads, like everyone else)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from associations.models import StaffRole
from learning.models import CriteriaSet, Criterion, Level, SubjectType, TitleKind
from tests.factories import StaffProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("learning:criteria_list")


@pytest.fixture(autouse=True)
def _only_the_tests_titles(db):
    """The pages are checked against the titles each test makes: the seeded catalogue (present
    or already flushed, depending on the tests before) is set aside."""
    CriteriaSet.objects.filter(previous__isnull=False).delete()  # newer versions first (PROTECT)
    CriteriaSet.objects.all().delete()
    TitleKind.objects.all().delete()


@pytest.fixture
def city_manager(tree):
    user = UserFactory(username="manager_hanoi")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.MANAGER)
    return user


def detail(criteria_set) -> str:
    return reverse("learning:criteria_detail", args=[criteria_set.pk])


def edit(criteria_set) -> str:
    return reverse("learning:criteria_update", args=[criteria_set.pk])


def new_version(criteria_set) -> str:
    return reverse("learning:criteria_new_version", args=[criteria_set.pk])


@pytest.fixture
def household_title(db):
    # Not the seeded "Gia đình học tập" (present or flushed, depending on the tests before).
    return TitleKind.objects.create(
        code="gia-dinh-thu", name="Gia đình học tập (thử)", subject_type=SubjectType.HOUSEHOLD
    )


def make_set(title, *, version=1, frozen=False, placeholder=False, **extra) -> CriteriaSet:
    criteria_set = CriteriaSet.objects.create(
        kind=title,
        version=version,
        name="Bộ tiêu chí Gia đình học tập",
        document_number="387/QĐ-TTg",
        document_date=datetime.date(2022, 3, 25),
        pass_points=70,
        placeholder=placeholder,
        frozen_at=timezone.now() if frozen else None,
        **{"valid_from": 2022, "valid_to": 2025, **extra},
    )
    Criterion.objects.create(criteria_set=criteria_set, group="Học tập", code="1.1", text="Đọc sách", max_points=40)
    Criterion.objects.create(criteria_set=criteria_set, group="Học tập", code="1.2", text="Học nghề", max_points=30)
    Criterion.objects.create(criteria_set=criteria_set, group="Gia đình", code="2.1", text="Con đi học", max_points=30)
    Level.objects.create(criteria_set=criteria_set, name="Tốt", min_points=85, max_points=100)
    Level.objects.create(criteria_set=criteria_set, name="Khá", min_points=70, max_points=84)
    return criteria_set


def formset_post(criteria_set, *, criteria: list[dict], levels: list[dict], **fields) -> dict:
    data = {
        "name": criteria_set.name,
        "document_number": criteria_set.document_number,
        "document_date": "25/03/2022",
        "issuer": "",
        "valid_from": "2022",
        "valid_to": "2025",
        "pass_points": str(criteria_set.pass_points),
        **fields,
    }
    for prefix, rows in (("criteria", criteria), ("levels", levels)):
        initial = sum(1 for row in rows if row.get("id"))
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})  # fmt: skip
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def current_rows(criteria_set) -> tuple[list[dict], list[dict]]:
    criteria = [
        {"id": c.pk, "group": c.group, "code": c.code, "text": c.text, "max_points": c.max_points, "ordering": ""}
        for c in criteria_set.criteria.order_by("ordering", "id")
    ]
    levels = [
        {"id": level.pk, "name": level.name, "min_points": level.min_points, "max_points": level.max_points}
        for level in criteria_set.levels.all()
    ]
    return criteria, levels


# --- Reading ----------------------------------------------------------------------------------------


def test_the_list_shows_each_title_with_its_sets_years_document_and_state(client_for, cast, household_title):
    old = make_set(household_title, frozen=True)
    make_set(household_title, version=2, previous=old, placeholder=True, valid_from=2026, valid_to=None)
    TitleKind.objects.create(code="dong-ho-thu", name="Dòng họ học tập (thử)", subject_type=SubjectType.CLAN)

    html = client_for(cast.district_leader).get(LIST).content.decode()

    assert "Gia đình học tập (thử)" in html and "Dòng họ học tập (thử)" in html
    assert "387/QĐ-TTg (25/03/2022)" in html
    assert "2022–2025" in html and "2026–<" in html
    assert html.count('data-testid="frozen"') == 1
    assert html.count('data-testid="placeholder"') == 1
    assert detail(old) in html


def test_the_list_takes_the_same_queries_for_many_sets(client_for, cast, household_title):
    client = client_for(cast.commune_clerk)
    make_set(household_title)
    client.get(LIST)
    with CaptureQueriesContext(connection) as small:
        client.get(LIST)
    for code in ("a", "b", "c"):
        title = TitleKind.objects.create(code=code, name=f"Danh hiệu {code}", subject_type=SubjectType.UNIT)
        make_set(title)
        make_set(title, version=2)
    with CaptureQueriesContext(connection) as large:
        client.get(LIST)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_detail_groups_the_criteria_and_shows_the_total_the_pass_mark_and_the_levels(
    client_for, cast, household_title
):
    criteria_set = make_set(household_title)

    response = client_for(cast.commune_clerk).get(detail(criteria_set))

    html = response.content.decode()
    assert [(group, [c.code for c in rows]) for group, rows in response.context["groups"]] == [
        ("Học tập", ["1.1", "1.2"]),
        ("Gia đình", ["2.1"]),
    ]
    assert response.context["total"] == 100
    assert 'data-testid="total">100<' in html
    assert "70" in html.split('data-testid="pass-points">')[1].split("</dd>")[0]
    assert "Tốt" in html and "85–100" in html and "70–84" in html


def test_the_city_manager_sees_edit_on_a_set_not_in_use_and_new_version_on_a_frozen_one(
    client_for, city_manager, household_title
):
    open_set = make_set(household_title)
    frozen = make_set(household_title, version=2, frozen=True)
    client = client_for(city_manager)

    open_page = client.get(detail(open_set)).content.decode()
    frozen_page = client.get(detail(frozen)).content.decode()

    assert edit(open_set) in open_page and new_version(open_set) not in open_page
    assert new_version(frozen) in frozen_page and edit(frozen) not in frozen_page


@pytest.mark.parametrize("who", ["commune_clerk", "district_leader", "manager"])
def test_clerks_and_leaders_read_without_buttons_and_get_403_on_the_changes(client_for, cast, household_title, who):
    open_set = make_set(household_title)
    frozen = make_set(household_title, version=2, frozen=True)
    client = client_for(getattr(cast, who))

    assert edit(open_set) not in client.get(detail(open_set)).content.decode()
    assert new_version(frozen) not in client.get(detail(frozen)).content.decode()
    assert client.get(edit(open_set)).status_code == 403
    _criteria, levels = current_rows(open_set)
    assert client.post(edit(open_set), formset_post(open_set, criteria=[], levels=levels)).status_code == 403
    assert client.post(new_version(frozen)).status_code == 403
    assert open_set.criteria.count() == 3
    assert CriteriaSet.objects.count() == 2


def test_anonymous_visitors_are_sent_to_sign_in(client, household_title):
    criteria_set = make_set(household_title)
    for url in (LIST, detail(criteria_set), edit(criteria_set)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(new_version(criteria_set))["Location"].startswith("/accounts/login/")


def test_a_set_that_does_not_exist_answers_404(client_for, cast):
    client = client_for(cast.admin)
    assert client.get(reverse("learning:criteria_detail", args=[987654])).status_code == 404
    assert client.get(reverse("learning:criteria_update", args=[987654])).status_code == 404


# --- Changing ---------------------------------------------------------------------------------------


def test_the_edit_page_of_a_frozen_set_sends_the_manager_back_to_make_a_new_version(client_for, cast, household_title):
    frozen = make_set(household_title, frozen=True)
    criteria, levels = current_rows(frozen)
    client = client_for(cast.admin)

    page = client.get(edit(frozen))
    post = client.post(edit(frozen), formset_post(frozen, criteria=criteria[:1], levels=levels, pass_points="10"))

    assert page.status_code == 302 and page["Location"] == detail(frozen)
    assert post.status_code == 302
    frozen.refresh_from_db()
    assert frozen.pass_points == 70 and frozen.criteria.count() == 3


def test_a_set_not_in_use_gets_no_copy_it_is_edited_in_place(client_for, cast, household_title):
    open_set = make_set(household_title)

    response = client_for(cast.admin).post(new_version(open_set))

    assert response.status_code == 302 and response["Location"] == detail(open_set)
    assert CriteriaSet.objects.count() == 1


def test_the_edit_page_shows_the_rows_and_a_bad_value_is_refused_in_vietnamese(client_for, cast, household_title):
    criteria_set = make_set(household_title)
    criteria, levels = current_rows(criteria_set)
    client = client_for(cast.admin)

    page = client.get(edit(criteria_set))
    criteria[0]["max_points"] = "-5"
    response = client.post(edit(criteria_set), formset_post(criteria_set, criteria=criteria, levels=levels))

    assert page.status_code == 200
    assert len(page.context["criteria"].forms) == 3 + 3  # the three criteria and three empty rows
    assert "Đọc sách" in page.content.decode()
    assert response.status_code == 200
    assert "lớn hơn hoặc bằng với 0" in response.content.decode()
    assert sorted(criteria_set.criteria.values_list("max_points", flat=True)) == [30, 30, 40]


def test_an_administrator_changes_the_criteria_and_levels_of_a_set_not_in_use(client_for, cast, household_title):
    criteria_set = make_set(household_title)
    criteria, levels = current_rows(criteria_set)
    criteria[0]["max_points"] = 30
    criteria[2]["DELETE"] = "on"
    criteria.append({"group": "Cộng đồng", "code": "3.1", "text": "Tham gia khuyến học", "max_points": 40})
    levels = [{**levels[0], "min_points": 80}, {**levels[1], "max_points": 79}]

    response = client_for(cast.admin).post(
        edit(criteria_set), formset_post(criteria_set, criteria=criteria, levels=levels, pass_points="60")
    )

    assert response.status_code == 302 and response["Location"] == detail(criteria_set)
    criteria_set.refresh_from_db()
    assert criteria_set.pass_points == 60
    assert list(criteria_set.criteria.order_by("ordering").values_list("code", "max_points")) == [
        ("1.1", 30),
        ("1.2", 30),
        ("3.1", 40),
    ]
    assert sorted(criteria_set.levels.values_list("name", "min_points", "max_points")) == [
        ("Khá", 70, 79),
        ("Tốt", 80, 100),
    ]


def test_a_new_version_of_a_frozen_set_is_made_and_opened_for_editing(client_for, cast, household_title):
    frozen = make_set(household_title, frozen=True)

    response = client_for(cast.admin).post(new_version(frozen))

    copy = CriteriaSet.objects.get(previous=frozen)
    assert copy.version == 2 and not copy.is_frozen
    assert response.status_code == 302 and response["Location"] == edit(copy)
    assert copy.criteria.count() == 3 and frozen.criteria.count() == 3
