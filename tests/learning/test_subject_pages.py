"""The pages of the registers of subjects: households, clans, residential communities and
citizens — list, search, detail with history, create and edit — as a commune clerk uses
them, and refused to the anonymous, the outsider and the read-only leader."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from associations.models import AuditAction, AuditEntry
from learning.models import Citizen, Clan, Community, Household
from tests.factories import MemberFactory
from tests.learning.subject_factories import CitizenFactory, ClanFactory, CommunityFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    factory: type
    data: dict  # a valid form, less the branch
    shown: str  # what the list and the detail page show of `data`
    search: str  # typed without accents, finds `data`
    change: dict  # an edit
    bad: dict  # a value the form refuses, with Django's (Vietnamese) message
    bad_message: str
    label: str  # the field the list links to the record

    def url(self, action: str, *args) -> str:
        return reverse(f"learning:{self.name}_{action}", args=args)

    def post(self, branch, **overrides) -> dict:
        return {**self.data, "branch": branch.pk, **overrides}


MUST_BE_POSITIVE = "Đảm bảo giá trị này lớn hơn hoặc bằng với 0"
REQUIRED = "Trường này là bắt buộc."

KINDS = [
    Kind(
        "household",
        Household,
        HouseholdFactory,
        {"head_name": "Nguyễn Văn Ấn", "address": "Số 1 ngõ 2 Phúc Xá", "people": "4", "working_people": "2"},
        "Nguyễn Văn Ấn",
        "nguyen van an",
        {"people": "5"},
        {"people": "-1"},
        MUST_BE_POSITIVE,
        "head_name",
    ),
    Kind(
        "clan",
        Clan,
        ClanFactory,
        {
            "name": "Dòng họ Đỗ Phúc Xá",
            "representative": "Đỗ Văn Trưởng",
            "residence": "Phúc Xá",
            "working_people": "40",
        },
        "Dòng họ Đỗ Phúc Xá",
        "dong ho do",
        {"representative": "Đỗ Thị Hoa"},
        {"working_people": "-3"},
        MUST_BE_POSITIVE,
        "name",
    ),
    Kind(
        "community",
        Community,
        CommunityFactory,
        {"name": "Thôn Đông Anh", "households": "120", "working_people": "300"},
        "Thôn Đông Anh",
        "thon dong anh",
        {"households": "130"},
        {"households": "-1"},
        MUST_BE_POSITIVE,
        "name",
    ),
    Kind(
        "citizen",
        Citizen,
        CitizenFactory,
        {"full_name": "Trần Văn Bình", "date_of_birth": "25/03/1985", "citizen_id": "001085012345", "organization": ""},
        "Trần Văn Bình",
        "tran van binh",
        {"full_name": "Trần Văn Bính"},
        {"full_name": ""},
        REQUIRED,
        "full_name",
    ),
]
BY_NAME = {kind.name: kind for kind in KINDS}
kinds = pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])


def make(kind: Kind, branch, **values):
    return kind.factory(branch=branch, **values)


def label(kind: Kind, subject) -> str:
    return getattr(subject, kind.label)


def response_history(client, kind: Kind, subject):
    return client.get(kind.url("detail", subject.pk)).context["history"]


# --- The happy paths, as a commune clerk -------------------------------------------------------


@kinds
def test_a_clerk_adds_a_subject_and_finds_it_on_its_page_with_its_history(client_for, cast, tree, kind):
    client = client_for(cast.commune_clerk)

    response = client.post(kind.url("create"), kind.post(tree.phuc_xa))

    subject = kind.model.objects.get()
    assert response.status_code == 302
    assert response["Location"] == kind.url("detail", subject.pk)
    assert subject.branch == tree.phuc_xa
    html = client.get(response["Location"]).content.decode()
    assert kind.shown in html
    assert "Phường Phúc Xá" in html
    entry = AuditEntry.objects.for_object(subject).get()
    assert entry.action == AuditAction.CREATE and entry.actor == cast.commune_clerk
    assert list(response_history(client, kind, subject)) == [entry]


@kinds
def test_a_clerk_edits_a_subject_and_the_history_keeps_the_change(client_for, cast, tree, kind):
    client = client_for(cast.commune_clerk)
    client.post(kind.url("create"), kind.post(tree.phuc_xa))
    subject = kind.model.objects.get()

    form = client.get(kind.url("update", subject.pk))
    response = client.post(kind.url("update", subject.pk), kind.post(tree.phuc_xa, **kind.change))

    assert form.status_code == 200
    assert response.status_code == 302
    subject.refresh_from_db()
    field, value = next(iter(kind.change.items()))
    assert str(getattr(subject, field)) == value
    assert AuditEntry.objects.for_object(subject).filter(action=AuditAction.UPDATE).count() == 1
    assert value in client.get(kind.url("detail", subject.pk)).content.decode()


@kinds
def test_the_list_shows_the_subtree_only_and_offers_the_forms_and_the_import(client_for, cast, tree, kind):
    mine = make(kind, tree.phuc_xa)
    beside = make(kind, tree.truc_bach)
    outside = make(kind, tree.hang_bac)

    response = client_for(cast.commune_clerk).get(kind.url("list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert label(kind, mine) in html
    assert label(kind, beside) not in html and label(kind, outside) not in html
    assert list(response.context["page"]) == [mine]
    assert kind.url("create") in html
    plural = {"household": "households", "clan": "clans", "community": "communities", "citizen": "citizens"}
    assert reverse("imports:start", args=[plural[kind.name]]) in html
    assert reverse("imports:template", args=[plural[kind.name]]) in html


@kinds
def test_the_search_ignores_accents_and_the_branch_filter_keeps_its_subtree(client_for, cast, tree, kind):
    client = client_for(cast.district_leader)
    wanted = kind.model.objects.create(**{**_values(kind), "branch": tree.phuc_xa})
    other = make(kind, tree.phuc_xa)
    beside = make(kind, tree.truc_bach)

    found = client.get(kind.url("list"), {"q": kind.search.upper()}).context["page"]
    in_truc_bach = client.get(kind.url("list"), {"branch": tree.truc_bach.pk}).context["page"]

    assert list(found) == [wanted]
    assert other not in found
    assert list(in_truc_bach) == [beside]


def _values(kind: Kind) -> dict:
    """The kind's valid form as model values (for rows written directly)."""
    values = {key: value for key, value in kind.data.items() if key != "organization"}
    if "date_of_birth" in values:
        values["date_of_birth"] = datetime.date(1985, 3, 25)
    return {key: int(value) if isinstance(value, str) and value.isdigit() and key != "citizen_id" else value
            for key, value in values.items()}  # fmt: skip


def test_a_citizen_whose_id_a_member_holds_is_linked_to_that_member(client_for, cast, tree):
    member = MemberFactory(full_name="Trần Văn Bình", citizen_id="001085012345", branch=tree.phuc_xa)
    client = client_for(cast.commune_clerk)

    client.post(BY_NAME["citizen"].url("create"), BY_NAME["citizen"].post(tree.phuc_xa))

    citizen = Citizen.objects.get()
    assert citizen.member == member
    assert (
        reverse("associations:member_detail", args=[member.pk])
        in client.get(BY_NAME["citizen"].url("detail", citizen.pk)).content.decode()
    )


def test_a_leader_sees_a_citizen_with_the_id_and_birth_date_masked(client_for, cast, tree):
    citizen = CitizenFactory(branch=tree.phuc_xa, citizen_id="001085012345", date_of_birth=datetime.date(1985, 3, 25))
    client = client_for(cast.district_leader)

    for url in (BY_NAME["citizen"].url("list"), BY_NAME["citizen"].url("detail", citizen.pk)):
        html = client.get(url).content.decode()
        assert citizen.full_name in html
        assert "001085012345" not in html and "25/03/1985" not in html


# --- Bad values -----------------------------------------------------------------------------------


@kinds
def test_a_bad_value_is_refused_in_vietnamese_and_nothing_is_written(client_for, cast, tree, kind):
    response = client_for(cast.commune_clerk).post(kind.url("create"), kind.post(tree.phuc_xa, **kind.bad))

    assert response.status_code == 200
    assert kind.bad_message in response.content.decode()
    assert not kind.model.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_rule_of_the_service_comes_back_onto_the_form_and_nothing_is_written(client_for, cast, tree):
    kind = BY_NAME["household"]

    response = client_for(cast.commune_clerk).post(
        kind.url("create"), kind.post(tree.phuc_xa, people="2", working_people="3")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["working_people"]
    assert not Household.objects.exists()


def test_a_community_placed_under_a_chapter_is_not_offered_and_not_saved(client_for, cast, tree):
    from associations.models import BranchLevel
    from tests.factories import make_branch

    chapter = make_branch("Chi hội Tổ 5", BranchLevel.CHAPTER, tree.phuc_xa)
    kind = BY_NAME["community"]
    client = client_for(cast.commune_clerk)

    choices = [branch.pk for branch in client.get(kind.url("create")).context["form"].fields["branch"].queryset]
    response = client.post(kind.url("create"), kind.post(chapter))

    assert chapter.pk not in choices and tree.phuc_xa.pk in choices
    assert response.context["form"].errors["branch"]
    assert not Community.objects.exists()


def test_a_citizen_id_of_another_citizen_is_refused_on_the_form(client_for, cast, tree):
    CitizenFactory(full_name="Người Khác", branch=tree.phuc_xa, citizen_id="001085012345")
    kind = BY_NAME["citizen"]

    response = client_for(cast.commune_clerk).post(kind.url("create"), kind.post(tree.phuc_xa))

    assert response.context["form"].errors["citizen_id"]
    assert Citizen.objects.count() == 1


# --- Refused ----------------------------------------------------------------------------------------


@kinds
def test_anonymous_visitors_are_sent_to_sign_in(client, tree, kind):
    subject = make(kind, tree.phuc_xa)
    for url in (kind.url("list"), kind.url("create"), kind.url("detail", subject.pk), kind.url("update", subject.pk)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@kinds
def test_a_clerk_of_another_district_gets_404_for_a_subject_of_ba_dinh(client_for, cast, tree, kind):
    subject = make(kind, tree.phuc_xa)
    client = client_for(cast.sibling_clerk)

    assert client.get(kind.url("detail", subject.pk)).status_code == 404
    assert client.get(kind.url("update", subject.pk)).status_code == 404
    assert client.post(kind.url("update", subject.pk), kind.post(tree.hang_bac)).status_code == 404
    assert kind.model.objects.get().branch == tree.phuc_xa


@kinds
def test_a_clerk_cannot_place_a_subject_in_another_district(client_for, cast, tree, kind):
    response = client_for(cast.commune_clerk).post(kind.url("create"), kind.post(tree.hang_bac))

    assert response.status_code == 200
    assert response.context["form"].errors["branch"]
    assert not kind.model.objects.exists()


@kinds
def test_a_leader_reads_but_gets_403_on_the_forms(client_for, cast, tree, kind):
    subject = make(kind, tree.phuc_xa)
    client = client_for(cast.district_leader)

    listing = client.get(kind.url("list")).content.decode()
    detail = client.get(kind.url("detail", subject.pk)).content.decode()

    assert label(kind, subject) in listing and kind.url("create") not in listing
    assert kind.url("update", subject.pk) not in detail
    assert client.get(kind.url("create")).status_code == 403
    assert client.post(kind.url("create"), kind.post(tree.phuc_xa)).status_code == 403
    assert client.get(kind.url("update", subject.pk)).status_code == 403
    assert client.post(kind.url("update", subject.pk), kind.post(tree.phuc_xa, **kind.change)).status_code == 403
    assert kind.model.objects.count() == 1


# --- Query counts ---------------------------------------------------------------------------------


@kinds
def test_the_list_query_count_does_not_grow_with_the_rows(client_for, cast, tree, kind):
    client = client_for(cast.district_leader)
    kind.factory.create_batch(3, branch=tree.phuc_xa)
    client.get(kind.url("list"))
    with CaptureQueriesContext(connection) as small:
        client.get(kind.url("list"))
    kind.factory.create_batch(40, branch=tree.truc_bach)
    with CaptureQueriesContext(connection) as large:
        response = client.get(kind.url("list"))
    assert len(response.context["page"]) == 43
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_household_list_takes_a_fixed_number_of_queries(client_for, cast, tree, django_assert_num_queries):
    client = client_for(cast.district_leader)
    HouseholdFactory.create_batch(30, branch=tree.phuc_xa)
    client.get(BY_NAME["household"].url("list"))
    with django_assert_num_queries(8):
        client.get(BY_NAME["household"].url("list"), {"q": "chu ho", "branch": tree.ba_dinh.pk})
