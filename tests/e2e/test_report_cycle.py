"""The whole cycle of a report in the browser: a commune clerk fills and submits, the city
returns it with a reason, the clerk fixes it and submits again, the city approves, and the
district's consolidated PDF shows the figure."""

import io

import pytest
from pypdf import PdfReader

from associations.models import StaffRole
from reporting.models import Report, ReportState
from tests.e2e.conftest import sign_in
from tests.factories import StaffProfileFactory, UserFactory
from tests.reporting.factories import make_form, make_period, register_test_measures, unregister_test_measures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def period(transactional_db):
    register_test_measures()
    make_form()  # the data migration's forms are flushed by a transactional test: our own
    yield make_period()
    unregister_test_measures()


def test_a_report_goes_up_is_returned_fixed_approved_and_consolidated(page, cast, tree, period):
    city_clerk = UserFactory(username="clerk_hanoi", first_name="Minh", last_name="Ngô")
    StaffProfileFactory(user=city_clerk, branch=tree.city, role=StaffRole.CLERK)
    report_page = f"/reports/periods/{period.pk}/branches/{tree.phuc_xa.pk}/"

    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    page.goto(report_page + "edit/")
    page.fill("[name=so-ho]", "1.250")
    page.fill("[name=nhan-xet]", "Hoàn thành kế hoạch")
    page.get_by_test_id("save").click()
    page.wait_for_url("**" + report_page)
    page.get_by_test_id("submit").click()
    page.wait_for_url("**" + report_page)
    assert Report.objects.get(branch=tree.phuc_xa).state == ReportState.SUBMITTED

    page.context.clear_cookies()
    sign_in(page, "clerk_hanoi", cast.password)
    page.wait_for_url("**/")
    page.goto(report_page)
    page.fill("#id_reason", "Số hộ chưa khớp với sổ theo dõi")
    page.get_by_test_id("return").click()
    page.wait_for_url("**" + report_page)
    assert Report.objects.get(branch=tree.phuc_xa).state == ReportState.DRAFT

    page.context.clear_cookies()
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    page.goto(report_page)
    assert "Số hộ chưa khớp với sổ theo dõi" in page.get_by_test_id("return-reason").inner_text()
    page.get_by_test_id("edit").click()
    page.fill("[name=so-ho]", "1.300")
    page.get_by_test_id("save").click()
    page.wait_for_url("**" + report_page)
    page.get_by_test_id("submit").click()
    page.wait_for_url("**" + report_page)

    page.context.clear_cookies()
    sign_in(page, "clerk_hanoi", cast.password)
    page.wait_for_url("**/")
    page.goto(report_page)
    page.get_by_test_id("approve").click()
    page.wait_for_url("**" + report_page)
    assert page.get_by_test_id("state").inner_text().strip() != ""
    assert Report.objects.get(branch=tree.phuc_xa).state == ReportState.APPROVED
    steps = page.get_by_test_id("transitions").inner_text()
    assert "Số hộ chưa khớp với sổ theo dõi" in steps

    page.goto(f"/reports/periods/{period.pk}/branches/{tree.ba_dinh.pk}/consolidated/")
    pdf_href = page.get_by_test_id("pdf").get_attribute("href")
    response = page.request.get(pdf_href)
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "1.300" in text
    assert "Phường Phúc Xá" in text
