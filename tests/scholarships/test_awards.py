import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from associations.models import AuditAction, AuditEntry
from funds.models import Fund, LedgerEntry, LedgerKind
from funds.periods import Period
from scholarships import reports
from scholarships.models import Award, ScholarshipRound
from scholarships.services import award_void
from tests.factories import DAY, donate, make_round, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def scholarship_round(cast, tree, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 10_000_000)
    return make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)


def test_paying_an_award_debits_the_rounds_fund_in_the_same_transaction(cast, funds, scholarship_round):
    award = pay(cast.commune_clerk, scholarship_round, 2_000_000)

    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 8_000_000
    entry = LedgerEntry.objects.get(payment__award=award)
    assert (entry.amount, entry.kind) == (-2_000_000, LedgerKind.PAYMENT)
    assert (award.payment.fund, award.payment.amount, award.payment.paid_on) == (
        funds.phuc_xa,
        2_000_000,
        award.paid_on,
    )
    assert award.recipient_name in entry.payment.description
    assert AuditEntry.objects.for_object(award).get().action == AuditAction.CREATE


def test_voiding_an_award_returns_its_money_and_keeps_the_award_and_both_rows(cast, funds, scholarship_round):
    award = pay(cast.commune_clerk, scholarship_round, 2_000_000)

    award_void(actor=cast.commune_clerk, award=award, reason="Trao nhầm người")

    award.refresh_from_db()
    assert award.is_voided
    assert award.payment.is_voided and award.payment.void_reason == "Trao nhầm người"
    funds.phuc_xa.refresh_from_db()
    assert funds.phuc_xa.balance == 10_000_000
    assert list(LedgerEntry.objects.filter(payment__award=award).order_by("id").values_list("amount", flat=True)) == [
        -2_000_000,
        2_000_000,
    ]


def test_an_in_kind_award_needs_a_description_and_a_school_year_must_be_two_consecutive_years(
    cast, tree, funds, scholarship_round
):
    with pytest.raises(ValidationError):
        pay(cast.commune_clerk, scholarship_round, 500_000, form="in_kind", in_kind_description="")
    with pytest.raises(ValidationError):
        make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa, school_year="2016-2018")
    assert not Award.objects.exists()


def test_a_clerk_cannot_pay_from_a_round_of_another_district(cast, scholarship_round):
    with pytest.raises(PermissionDenied):
        pay(cast.sibling_clerk, scholarship_round, 1_000)
    assert not Award.objects.exists()


def test_turns_count_every_award_and_recipients_count_each_person_once(cast, tree, scholarship_round):
    born = datetime.date(2006, 5, 1)
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_name="Lê Thị Bích", date_of_birth=born)
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_name="Lê Thị  Bích", date_of_birth=born)
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_name="Le Thi Bich", date_of_birth=born)
    pay(
        cast.commune_clerk,
        scholarship_round,
        100_000,
        recipient_name="Lê Thị Bích",
        date_of_birth=datetime.date(2007, 1, 1),
    )
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_name="Phạm An", recipient_id="001206000001")
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_name="Phạm Văn An", recipient_id="001206000001")
    voided = pay(cast.commune_clerk, scholarship_round, 100_000, recipient_name="Người Khác")
    award_void(actor=cast.commune_clerk, award=voided, reason="Sai")

    totals = reports.awards_total(tree.ba_dinh, Period.school_year(2016))

    assert totals == {"turns": 6, "recipients": 3, "amount": 600_000}


def test_award_reports_by_kind_category_and_branch_match_independent_sums(cast, tree, funds):
    donate(cast.manager, funds.phuc_xa, 50_000_000)
    donate(cast.manager, funds.truc_bach, 50_000_000)
    phuc_xa_round = make_round(cast.manager, tree.phuc_xa, funds.phuc_xa)
    truc_bach_round = make_round(cast.manager, tree.truc_bach, funds.truc_bach)
    plan = [
        (phuc_xa_round, "pupil", "hardship", 1_000_000, datetime.date(2016, 9, 5)),
        (phuc_xa_round, "pupil", "excellent", 2_000_000, datetime.date(2016, 12, 1)),
        (phuc_xa_round, "teacher", "excellent", 3_000_000, datetime.date(2017, 8, 31)),
        (truc_bach_round, "pupil", "hardship", 500_000, datetime.date(2017, 1, 10)),
        (truc_bach_round, "worker", "other", 700_000, datetime.date(2017, 9, 1)),  # next school year
        (truc_bach_round, "pupil", "hardship", 400_000, datetime.date(2016, 8, 31)),  # previous school year
    ]
    for index, (rnd, kind, category, amount, day) in enumerate(plan):
        pay(cast.manager, rnd, amount, day=day, recipient_kind=kind, category=category, recipient_name=f"Em {index}")
    period = Period.school_year(2016)
    inside = [p for p in plan if period.start <= p[4] <= period.end]

    by_kind = {
        row.filters["recipient_kind"]: row.figures for row in reports.awards_by_recipient_kind(tree.ba_dinh, period)
    }
    by_category = {row.filters["category"]: row.figures for row in reports.awards_by_category(tree.ba_dinh, period)}
    by_branch = {row.label: row.figures for row in reports.awards_by_branch(tree.ba_dinh, period)}

    for kind in ("pupil", "teacher"):
        chosen = [p for p in inside if p[1] == kind]
        assert by_kind[kind]["turns"] == len(chosen)
        assert by_kind[kind]["amount"] == sum(p[3] for p in chosen)
    assert "worker" not in by_kind
    assert by_category["hardship"]["amount"] == 1_500_000
    assert by_branch[tree.phuc_xa.name]["amount"] == 6_000_000
    assert by_branch[tree.truc_bach.name]["amount"] == 500_000
    assert reports.awards_total(tree.ba_dinh, period)["amount"] == sum(p[3] for p in inside)


# --- pages ------------------------------------------------------------------------------------


def test_a_clerk_pays_an_award_through_the_page_and_the_balance_falls(cast, funds, scholarship_round, client_for):
    client = client_for(cast.commune_clerk)
    response = client.post(
        reverse("scholarships:award_pay", args=[scholarship_round.pk]),
        {
            "recipient_kind": "pupil",
            "recipient_name": "Đặng Thu Trang",
            "date_of_birth": "02/04/2006",
            "school_or_workplace": "Trường THCS Phúc Xá",
            "grade": "6A",
            "category": "hardship",
            "amount": "1.000.000",
            "form": "cash",
            "paid_on": DAY.strftime("%d/%m/%Y"),
        },
    )
    assert response.status_code == 302
    assert Fund.objects.get(pk=funds.phuc_xa.pk).balance == 9_000_000


def test_an_award_the_fund_cannot_afford_is_refused_on_the_page_with_the_balance_in_the_message(
    cast, funds, scholarship_round, client_for
):
    response = client_for(cast.commune_clerk).post(
        reverse("scholarships:award_pay", args=[scholarship_round.pk]),
        {
            "recipient_kind": "pupil",
            "recipient_name": "Đặng Thu Trang",
            "category": "hardship",
            "amount": "10.000.001",
            "form": "cash",
            "paid_on": DAY.strftime("%d/%m/%Y"),
        },
    )
    assert response.status_code == 200
    assert "10.000.000 ₫" in response.content.decode()
    assert not Award.objects.exists()


def test_the_awards_list_totals_turns_and_recipients_and_exports_to_excel(cast, scholarship_round, client_for):
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_id="HS001")
    pay(cast.commune_clerk, scholarship_round, 200_000, recipient_id="HS001")
    pay(cast.commune_clerk, scholarship_round, 300_000, recipient_id="HS002", category="excellent")
    client = client_for(cast.district_leader)

    response = client.get(reverse("scholarships:award_list"))
    assert response.context["totals"] == {"turns": 3, "recipients": 2, "amount": 600_000}
    filtered = client.get(reverse("scholarships:award_list"), {"category": "excellent"})
    assert filtered.context["totals"] == {"turns": 1, "recipients": 1, "amount": 300_000}

    export = client.get(reverse("scholarships:award_list"), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.values)
    assert len(rows) == 4


def test_the_award_report_page_links_each_figure_to_its_awards(cast, scholarship_round, client_for):
    pay(cast.commune_clerk, scholarship_round, 100_000, recipient_id="HS001")
    pay(cast.commune_clerk, scholarship_round, 200_000, recipient_id="HS001", recipient_kind="teacher")
    client = client_for(cast.district_leader)

    response = client.get(reverse("scholarships:report"), {"period": "school_year", "year": 2016})

    for key in ("by_kind", "by_category", "by_kind_and_category", "by_branch"):
        for row in response.context[key]:
            listed = client.get(row.url).context["totals"]
            assert (listed["turns"], listed["amount"]) == (row.figures["turns"], row.figures["amount"]), row.url
    assert client.get(reverse("scholarships:report"), {"format": "xlsx"}).status_code == 200


@pytest.fixture
def award(cast, scholarship_round):
    return pay(cast.commune_clerk, scholarship_round, 100_000)


@pytest.mark.parametrize("name", ["scholarships:round_list", "scholarships:award_list", "scholarships:report"])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, name):
    assert client.get(reverse(name))["Location"].startswith("/accounts/login/")


def test_a_clerk_of_another_district_gets_not_found_for_rounds_and_awards(cast, award, client_for):
    client = client_for(cast.sibling_clerk)
    assert client.get(reverse("scholarships:round_detail", args=[award.round_id])).status_code == 404
    assert client.get(reverse("scholarships:award_pay", args=[award.round_id])).status_code == 404
    assert client.get(reverse("scholarships:award_detail", args=[award.pk])).status_code == 404
    assert client.post(reverse("scholarships:award_void", args=[award.pk]), {"reason": "x"}).status_code == 404
    for name in ("scholarships:round_list", "scholarships:award_list", "scholarships:report"):
        assert "Phúc Xá" not in client.get(reverse(name)).content.decode()


def test_a_read_only_leader_sees_awards_but_cannot_pay_or_void(cast, award, client_for):
    client = client_for(cast.district_leader)
    assert client.get(reverse("scholarships:award_detail", args=[award.pk])).status_code == 200
    assert client.get(reverse("scholarships:award_pay", args=[award.round_id])).status_code == 403
    assert client.post(reverse("scholarships:award_void", args=[award.pk]), {"reason": "x"}).status_code == 403
    assert client.get(reverse("scholarships:round_create")).status_code == 403
    award.refresh_from_db()
    assert not award.is_voided


def test_the_round_form_refuses_a_fund_outside_the_subtree(cast, tree, funds, client_for):
    response = client_for(cast.commune_clerk).post(
        reverse("scholarships:round_create"),
        {
            "name": "Học bổng",
            "school_year": "2016-2017",
            "branch": tree.phuc_xa.pk,
            "fund": funds.hoan_kiem.pk,
            "awarded_on": "15/03/2017",
        },
    )
    assert response.status_code == 200
    assert not ScholarshipRound.objects.exists()


def test_the_awards_list_takes_the_same_number_of_queries_for_2_or_20_awards(
    cast, scholarship_round, client_for, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.commune_clerk)
    url = reverse("scholarships:award_list")
    for index in range(2):
        pay(cast.commune_clerk, scholarship_round, 1_000, recipient_name=f"Em {index}")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(18):
        pay(cast.commune_clerk, scholarship_round, 1_000, recipient_name=f"Em {index}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)
