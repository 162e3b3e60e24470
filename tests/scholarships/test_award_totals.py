"""The award list's totals line: turns and amount from stored monthly totals (funds.totals),
equal to a live recount after pay, void and import; distinct recipients counted exactly, or
not shown (never a wrong number)."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funds.totals import totals_check
from scholarships import selectors, services
from scholarships.forms import AwardFilterForm
from scholarships.models import Award
from scholarships.selectors import award_totals
from scholarships.totals import AWARDS
from tests.factories import donate, make_round, pay

D = datetime.date


@pytest.fixture
def paid(cast, tree, funds):
    admin = cast.admin
    donate(admin, funds.phuc_xa, 50_000_000, day=D(2017, 1, 2))
    donate(admin, funds.hoan_kiem, 50_000_000, day=D(2017, 1, 2))
    phuc_xa = make_round(admin, tree.phuc_xa, funds.phuc_xa)
    hoan_kiem = make_round(admin, tree.hoan_kiem, funds.hoan_kiem)
    awards = [
        pay(admin, phuc_xa, 500_000, day=D(2017, 3, 15)),
        pay(admin, phuc_xa, 700_000, day=D(2017, 3, 20), recipient_name="Ngô Văn Hải", category="excellent"),
        pay(admin, phuc_xa, 400_000, day=D(2017, 4, 2)),  # Lê Thị Bích again: a second turn, one recipient
        pay(admin, phuc_xa, 900_000, day=D(2017, 5, 9), recipient_name="Trần Thu Hà", recipient_kind="teacher"),
        pay(admin, hoan_kiem, 600_000, day=D(2017, 3, 3), recipient_name="Phan Văn Tú"),
    ]
    services.award_void(actor=admin, award=awards[3], reason="Trả nhầm")
    return {"rounds": (phuc_xa, hoan_kiem), "awards": awards}


def live(user, params) -> dict:
    form = AwardFilterForm(params or None, user=user)
    awards = form.filter(Award.objects.visible_to(user)).valid()
    figures = awards.aggregate(
        turns=Count("id"), amount=Sum("amount"), recipients=Count("recipient_key", distinct=True)
    )
    return {"turns": figures["turns"], "amount": figures["amount"] or 0, "recipients": figures["recipients"]}


def stored(user, params) -> dict:
    return award_totals(user, AwardFilterForm(params or None, user=user))


def test_the_award_totals_equal_a_live_recount_for_every_filter_and_user(cast, tree, paid):
    filters = [
        {},
        {"start": "2017-03-16"},
        {"start": "2017-03-01", "end": "2017-03-31"},
        {"end": "2017-04-01"},
        {"category": "hardship"},
        {"recipient_kind": "teacher", "state": "all"},
        {"state": "voided"},
        {"round": paid["rounds"][0].pk},
        {"q": "Bích"},
        {"branch": tree.ba_dinh.pk, "start": "2017-03-10", "end": "2017-04-20"},
    ]
    for user in (cast.commune_clerk, cast.district_leader, cast.city_leader, cast.sibling_clerk, cast.admin):
        for params in filters:
            assert stored(user, params) == live(user, params), (user.username, params)
    assert stored(cast.city_leader, {}) == {"turns": 4, "amount": 2_200_000, "recipients": 3}
    assert totals_check(AWARDS) == []


def test_above_the_limit_the_distinct_recipients_are_not_shown(client_for, cast, paid, monkeypatch):
    monkeypatch.setattr(selectors, "RECIPIENTS_LIMIT", 3)
    assert stored(cast.city_leader, {})["recipients"] is None
    assert stored(cast.city_leader, {"start": "2017-03-16"}) == {"turns": 2, "amount": 1_100_000, "recipients": 2}
    # A category is read only after the branch and period: their 4 turns are above the limit.
    assert stored(cast.city_leader, {"category": "excellent"}) == {"turns": 1, "amount": 700_000, "recipients": None}
    assert stored(cast.city_leader, {"category": "excellent", "round": paid["rounds"][0].pk})["recipients"] == 1
    page = client_for(cast.city_leader).get(reverse("scholarships:award_list")).content.decode()
    assert 'data-testid="recipients-not-counted"' in page
    assert "distinct recipients" not in page.split('data-testid="totals"')[1].split("</span>")[0]


def test_an_award_shows_in_the_totals_on_the_next_request(client_for, cast, paid):
    client = client_for(cast.city_leader)
    url = reverse("scholarships:award_list")
    client.cookies["django_language"] = "en"
    assert "4 award turns, 3 distinct recipients" in client.get(url).content.decode()
    pay(cast.admin, paid["rounds"][1], 250_000, day=D(2017, 6, 1), recipient_name="Mai Anh")
    page = client.get(url).content.decode()
    assert "5 award turns, 4 distinct recipients" in page and "2.450.000" in page
    services.award_void(actor=cast.admin, award=paid["awards"][0], reason="Trùng")
    assert "4 award turns, 4 distinct recipients" in client.get(url).content.decode()


def test_the_award_list_query_count_does_not_grow_with_the_awards(
    client_for, cast, paid, django_assert_num_queries, settings
):
    settings.PAGE_CACHE = False  # the rendering's queries; a page from the cache: tests/associations/test_page_cache.py
    client = client_for(cast.city_leader)
    url = reverse("scholarships:award_list")
    params = {"start": "2017-03-10", "end": "2017-08-20"}
    client.get(url, params)
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    for month in range(3, 9):
        for number in range(3):
            pay(
                cast.admin, paid["rounds"][1], 100_000, day=D(2017, month, 11), recipient_name=f"Người {month}-{number}"
            )
    with django_assert_num_queries(len(few)):
        client.get(url, params)
