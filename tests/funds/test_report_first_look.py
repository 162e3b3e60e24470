"""A report's first look (issue 15 item 6): it opens on the latest year that has data in the
user's subtree, not on a current year of zeros, and steps to the years beside it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import donate, make_round, pay

pytestmark = pytest.mark.django_db


def test_the_fund_report_opens_on_the_latest_year_with_donations(client_for, cast, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 2_000_000, day=datetime.date(2019, 6, 1))
    donate(cast.commune_clerk, funds.phuc_xa, 3_000_000, day=datetime.date(2020, 4, 1))
    response = client_for(cast.commune_clerk).get(reverse("funds:report"))
    assert response.context["period"].start == datetime.date(2020, 1, 1)
    assert response.context["raised_total"]["amount"] == 3_000_000
    assert response.context["form"]["year"].value() == 2020
    page = response.content.decode()
    assert 'data-testid="period-previous"' in page and "?period=year&amp;year=2019" in page


def test_a_year_asked_for_is_the_year_shown(client_for, cast, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 3_000_000, day=datetime.date(2020, 4, 1))
    response = client_for(cast.commune_clerk).get(reverse("funds:report"), {"period": "year", "year": 2019})
    assert response.context["period"].start == datetime.date(2019, 1, 1)
    assert response.context["raised_total"]["amount"] == 0


def test_the_latest_year_is_the_subtrees_own(client_for, cast, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 2_000_000, day=datetime.date(2018, 6, 1))
    donate(cast.sibling_clerk, funds.hoan_kiem, 2_000_000, day=datetime.date(2021, 6, 1))
    response = client_for(cast.commune_clerk).get(reverse("funds:report"))
    assert response.context["period"].start.year == 2018


def test_without_any_donation_the_report_opens_on_this_year(client_for, cast, funds):
    response = client_for(cast.commune_clerk).get(reverse("funds:report"))
    assert response.context["period"].start.year == timezone.localdate().year


def test_the_scholarship_report_opens_on_the_latest_year_with_awards(client_for, cast, tree, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 10_000_000)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)
    pay(cast.commune_clerk, scholarship_round, 500_000, day=datetime.date(2017, 9, 5))
    response = client_for(cast.district_leader).get(reverse("scholarships:report"))
    assert response.context["period"].start == datetime.date(2017, 1, 1)
    assert response.context["total"]["amount"] == 500_000
