import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from funds.models import Donation, Fund, LedgerEntry
from tests.factories import DAY, donate, make_round, pay

pytestmark = pytest.mark.django_db


def donation_post(fund, **extra):
    data = {
        "fund": fund.pk,
        "donor_name": "Nguyễn Văn Ấn",
        "donor_kind": "individual",
        "amount": "1.500.000",
        "received_on": DAY.strftime("%d/%m/%Y"),
        "method": "cash",
    }
    data.update(extra)
    return data


def test_a_clerk_records_a_donation_typed_with_dots_and_is_shown_its_receipt_number(cast, funds, client_for):
    client = client_for(cast.commune_clerk)
    response = client.post(reverse("funds:donation_create"), donation_post(funds.phuc_xa))

    donation = Donation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:donation_detail", args=[donation.pk])
    assert donation.amount == 1_500_000
    page = client.get(response["Location"]).content.decode()
    assert "00001/2017" in page and "1.500.000 ₫" in page


def test_the_donation_form_offers_only_funds_of_the_clerks_subtree_and_refuses_others(cast, funds, client_for):
    client = client_for(cast.commune_clerk)
    page = client.get(reverse("funds:donation_create")).content.decode()
    assert funds.phuc_xa.name in page
    assert funds.hoan_kiem.name not in page and funds.ba_dinh.name not in page

    response = client.post(reverse("funds:donation_create"), donation_post(funds.hoan_kiem))
    assert response.status_code == 200
    assert not Donation.objects.exists()


def test_a_bad_amount_is_refused_with_a_message_and_nothing_written(cast, funds, client_for):
    response = client_for(cast.commune_clerk).post(
        reverse("funds:donation_create"), donation_post(funds.phuc_xa, amount="một triệu")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not LedgerEntry.objects.exists()


def test_the_receipt_is_a_pdf_with_vietnamese_letters_the_amount_and_the_amount_in_words(cast, funds, client_for):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_500_000, donor_name="Nguyễn Văn Ấn")

    response = client_for(cast.commune_clerk).get(reverse("funds:donation_receipt", args=[donation.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="bien-lai-2017-00001.pdf"' in response["Content-Disposition"]  # a receipt is a biên lai
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Nguyễn Văn Ấn" in text
    assert "1.500.000 ₫" in text
    assert "Một triệu năm trăm nghìn đồng" in text
    assert "00001/2017" in text
    assert "Phường Phúc Xá".upper() in text
    assert "Trần Thị Lan" in text  # the clerk who signs, family name first


def test_a_clerk_voids_a_donation_with_a_reason_and_the_fund_page_shows_both_rows(cast, funds, client_for):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 400_000)
    client = client_for(cast.commune_clerk)

    response = client.post(reverse("funds:donation_void", args=[donation.pk]), {"reason": "Nhập trùng"})

    assert response.status_code == 302
    donation.refresh_from_db()
    assert donation.is_voided
    page = client.get(reverse("funds:fund_detail", args=[funds.phuc_xa.pk])).content.decode()
    assert page.count('data-testid="ledger-row"') == 2
    assert "Nhập trùng" in page


def test_voiding_without_a_reason_changes_nothing(cast, funds, client_for):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 400_000)
    client_for(cast.commune_clerk).post(reverse("funds:donation_void", args=[donation.pk]), {"reason": ""})
    donation.refresh_from_db()
    assert not donation.is_voided
    assert LedgerEntry.objects.count() == 1


def test_voiding_needs_a_post(cast, funds, client_for):
    donation = donate(cast.commune_clerk, funds.phuc_xa, 400_000)
    response = client_for(cast.commune_clerk).get(reverse("funds:donation_void", args=[donation.pk]))
    assert response.status_code == 405


def test_the_donations_list_filters_and_totals_the_filtered_set(cast, funds, client_for):
    donate(cast.manager, funds.phuc_xa, 100_000)
    donate(cast.manager, funds.phuc_xa_clan, 250_000, donor_kind="family")
    donate(cast.manager, funds.truc_bach, 1_000_000)
    voided = donate(cast.manager, funds.truc_bach, 9_000_000)
    from funds.services import donation_void

    donation_void(actor=cast.manager, donation=voided, reason="Sai")
    client = client_for(cast.manager)

    everything = client.get(reverse("funds:donation_list"))
    assert everything.context["totals"] == {"amount": 1_350_000, "count": 3}
    by_branch = client.get(reverse("funds:donation_list"), {"branch": funds.phuc_xa.branch_id})
    assert by_branch.context["totals"] == {"amount": 350_000, "count": 2}
    by_kind = client.get(reverse("funds:donation_list"), {"donor_kind": "family"})
    assert by_kind.context["totals"] == {"amount": 250_000, "count": 1}
    voided_only = client.get(reverse("funds:donation_list"), {"state": "voided"})
    assert [d.pk for d in voided_only.context["page"]] == [voided.pk]


def test_the_donations_list_takes_the_same_number_of_queries_for_3_or_30_donations(
    cast, funds, client_for, django_assert_num_queries
):
    client = client_for(cast.manager)
    url = reverse("funds:donation_list")

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    for _ in range(3):
        donate(cast.manager, funds.phuc_xa, 1_000)
    few = count_queries()
    for _ in range(27):
        donate(cast.manager, funds.truc_bach, 1_000)
    with django_assert_num_queries(few):
        client.get(url)


def test_the_donations_list_exports_the_filtered_set_to_excel(cast, funds, client_for):
    donate(cast.manager, funds.phuc_xa, 100_000, donor_name="Trần Thị Hoà")
    donate(cast.manager, funds.truc_bach, 200_000)

    response = client_for(cast.manager).get(
        reverse("funds:donation_list"), {"branch": funds.phuc_xa.branch_id, "format": "xlsx"}
    )

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert len(rows) == 2
    assert rows[1][2] == "Trần Thị Hoà" and rows[1][4] == 100_000


def test_a_clerk_creates_a_fund_for_a_branch_of_the_subtree_only(cast, tree, fund_model, client_for):
    client = client_for(cast.commune_clerk)
    data = {"name": "Quỹ khuyến học tổ dân phố 3", "fund_model": fund_model.pk, "legal_form": "internal"}

    refused = client.post(reverse("funds:fund_create"), {**data, "branch": tree.hang_bac.pk})
    assert refused.status_code == 200 and not Fund.objects.exists()

    created = client.post(reverse("funds:fund_create"), {**data, "branch": tree.phuc_xa.pk})
    assert created.status_code == 302
    assert Fund.objects.get().balance == 0


def test_the_fund_list_totals_the_balances_of_the_subtree(cast, funds, client_for):
    donate(cast.manager, funds.phuc_xa, 100_000)
    donate(cast.manager, funds.ba_dinh, 300_000)
    donate(cast.admin, funds.hoan_kiem, 5_000_000)

    response = client_for(cast.district_leader).get(reverse("funds:fund_list"))

    assert response.context["totals"] == {"balance": 400_000, "count": 4}


# --- refused cases --------------------------------------------------------------------------


@pytest.fixture
def records(cast, funds):
    from funds.services import transfer_record

    donation = donate(cast.manager, funds.phuc_xa, 100_000)
    donate(cast.manager, funds.ba_dinh, 100_000)
    transfer = transfer_record(
        actor=cast.manager, from_fund=funds.ba_dinh, to_fund=funds.truc_bach, amount=50_000, transferred_on=DAY
    )
    return {"fund": funds.phuc_xa.pk, "donation": donation.pk, "transfer": transfer.pk}


READ_PAGES = [
    ("funds:fund_detail", "fund"),
    ("funds:donation_detail", "donation"),
    ("funds:donation_receipt", "donation"),
    ("funds:transfer_detail", "transfer"),
]
WRITE_PAGES = [
    ("funds:fund_edit", "fund", "get"),
    ("funds:donation_void", "donation", "post"),
    ("funds:transfer_void", "transfer", "post"),
]
LIST_PAGES = ["funds:fund_list", "funds:donation_list", "funds:transfer_list", "funds:report"]
CREATE_PAGES = ["funds:fund_create", "funds:donation_create", "funds:transfer_create"]


@pytest.mark.parametrize("name", LIST_PAGES + CREATE_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("name", "key"), READ_PAGES + [(n, k) for n, k, _m in WRITE_PAGES])
def test_a_clerk_of_another_district_gets_not_found_for_every_record(cast, records, client_for, name, key):
    client = client_for(cast.sibling_clerk)
    url = reverse(name, args=[records[key]])
    assert client.get(url).status_code in {404, 405}
    assert client.post(url, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("name", LIST_PAGES)
def test_lists_and_reports_show_a_clerk_of_another_district_nothing_of_ba_dinh(cast, records, client_for, name):
    page = client_for(cast.sibling_clerk).get(reverse(name)).content.decode()
    assert "Ba Đình" not in page and "Phúc Xá" not in page


@pytest.mark.parametrize(("name", "key", "method"), WRITE_PAGES)
def test_a_read_only_leader_may_look_but_not_change(cast, records, client_for, name, key, method):
    client = client_for(cast.district_leader)
    url = reverse(name, args=[records[key]])
    response = client.post(url, {"reason": "x"}) if method == "post" else client.get(url)
    assert response.status_code == 403
    assert not Donation.objects.filter(voided_at__isnull=False).exists()


@pytest.mark.parametrize("name", CREATE_PAGES)
def test_a_read_only_leader_cannot_open_the_forms_that_record_money(cast, records, client_for, name):
    assert client_for(cast.district_leader).get(reverse(name)).status_code == 403


@pytest.mark.parametrize(("name", "key"), READ_PAGES)
def test_a_read_only_leader_sees_the_records_of_the_district(cast, records, client_for, name, key):
    assert client_for(cast.district_leader).get(reverse(name, args=[records[key]])).status_code == 200


def test_a_funds_page_links_to_the_awards_paid_from_it_and_its_ledger_describes_each_payment(
    cast, tree, funds, client_for
):
    donate(cast.commune_clerk, funds.phuc_xa, 1_000_000)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa, name="Học bổng Phúc Xá 2017")
    pay(cast.commune_clerk, scholarship_round, 300_000, recipient_name="Em Lê Thị Bích")
    client = client_for(cast.commune_clerk)

    page = client.get(reverse("funds:fund_detail", args=[funds.phuc_xa.pk])).content.decode()

    link = f"{reverse('scholarships:award_list')}?fund={funds.phuc_xa.pk}&amp;state=all"
    assert f'href="{link}"' in page and "Học bổng đã chi" in page
    assert "Em Lê Thị Bích" in page  # the payment's ledger row says whom it paid
    awards = client.get(link.replace("&amp;", "&")).content.decode()
    assert "Em Lê Thị Bích" in awards


def test_links_carry_ids_without_thousand_separators(cast, tree, fund_model, client_for):
    """Vietnamese number formatting writes 12345 as 12.345: an id in a link must not be formatted."""
    fund = Fund.objects.create(
        id=12345, branch=tree.phuc_xa, name="Quỹ số lớn", fund_model=fund_model, legal_form="internal"
    )
    page = client_for(cast.commune_clerk).get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    assert "?fund=12345" in page and "12.345" not in page
