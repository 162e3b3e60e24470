import pytest

from funds.models import Fund, FundModel
from tests.e2e.conftest import sign_in
from tests.factories import make_round

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clerk_records_a_donation_prints_its_receipt_pays_an_award_and_sees_the_balance_fall(page, cast, tree):
    fund_model, _created = FundModel.objects.get_or_create(code="hoi-cac-cap", defaults={"name": "Quỹ khuyến học Hội"})
    fund = Fund.objects.create(branch=tree.phuc_xa, name="Quỹ Khuyến học phường Phúc Xá", fund_model=fund_model)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, fund)
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")

    page.goto(f"/funds/donations/new/?fund={fund.pk}")
    page.fill("[name=donor_name]", "Nguyễn Văn Ấn")
    page.select_option("[name=donor_kind]", "individual")
    page.fill("[name=amount]", "1.500.000")
    page.fill("[name=received_on]", "15/03/2017")
    page.select_option("[name=method]", "cash")
    page.get_by_test_id("save-donation").click()
    page.wait_for_url("**/funds/donations/*/")
    assert page.get_by_test_id("receipt-number").inner_text() == "00001/2017"
    assert page.get_by_test_id("donation-amount").inner_text() == "1.500.000 ₫"

    receipt_href = page.get_by_test_id("receipt-link").get_attribute("href")
    receipt = page.request.get(receipt_href)
    assert receipt.ok
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")

    page.goto(f"/funds/{fund.pk}/")
    assert page.get_by_test_id("fund-balance").inner_text() == "1.500.000 ₫"

    page.goto(f"/scholarships/rounds/{scholarship_round.pk}/pay/")
    page.select_option("[name=recipient_kind]", "pupil")
    page.fill("[name=recipient_name]", "Đặng Thu Trang")
    page.fill("[name=date_of_birth]", "02/04/2006")
    page.select_option("[name=category]", "hardship")
    page.fill("[name=amount]", "600.000")
    page.fill("[name=paid_on]", "20/03/2017")
    page.locator("button[name=save]").click()
    page.wait_for_url(f"**/scholarships/rounds/{scholarship_round.pk}/")
    assert "Đặng Thu Trang" in page.content()

    page.goto(f"/funds/{fund.pk}/")
    assert page.get_by_test_id("fund-balance").inner_text() == "900.000 ₫"
    assert page.get_by_test_id("ledger").locator("[data-testid=ledger-row]").count() == 2
    assert Fund.objects.get(pk=fund.pk).balance == 900_000
