"""An award without a school shows its class alone, never "· Lớp 8D" (issue 15 item 12)."""

import pytest
from django.urls import reverse

from tests.factories import donate, make_round, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def scholarship_round(cast, tree, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 10_000_000)
    return make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)


def test_an_award_without_a_school_lists_its_class_without_a_leading_dot(client_for, cast, scholarship_round):
    award = pay(cast.commune_clerk, scholarship_round, 500_000, grade="Lớp 8D", school_or_workplace="")
    client = client_for(cast.commune_clerk)
    listed = client.get(reverse("scholarships:award_list")).content.decode()
    assert "Lớp 8D" in listed and "· Lớp 8D" not in listed
    detail = client.get(reverse("scholarships:award_detail", args=[award.pk])).content.decode()
    assert "— Lớp 8D" not in detail and "· Lớp 8D" not in detail
    assert 'data-testid="award-school">Lớp 8D</dd>' in detail


def test_an_award_with_school_and_class_shows_both(client_for, cast, scholarship_round):
    pay(cast.commune_clerk, scholarship_round, 500_000, grade="Lớp 8D", school_or_workplace="THCS Phúc Xá")
    listed = client_for(cast.commune_clerk).get(reverse("scholarships:award_list")).content.decode()
    assert "THCS Phúc Xá · Lớp 8D" in listed


def test_an_award_with_neither_shows_a_dash_on_its_page(client_for, cast, scholarship_round):
    award = pay(cast.commune_clerk, scholarship_round, 500_000, grade="", school_or_workplace="")
    detail = client_for(cast.commune_clerk).get(reverse("scholarships:award_detail", args=[award.pk])).content.decode()
    assert 'data-testid="award-school">—</dd>' in detail
