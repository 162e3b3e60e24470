"""The reports' pages as a clerk, a leader and a manager use them."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting import services
from reporting.models import Field, PeriodKind, Report, ReportForm, ReportState
from tests.centres import factories as centre_objects
from tests.factories import MemberFactory
from tests.reporting.factories import joined, make_period

pytestmark = pytest.mark.django_db


def detail(period, branch):
    return reverse("reporting:report_detail", args=[period.pk, branch.pk])


def test_a_clerk_fills_the_report_with_the_records_prefilled_and_submits_it(client_for, cast, tree, year_form, period):
    MemberFactory.create_batch(2, branch=tree.phuc_xa, joined_on=joined())
    client = client_for(cast.commune_clerk)
    edit = reverse("reporting:report_edit", args=[period.pk, tree.phuc_xa.pk])

    page = client.get(edit)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Tổng số hội viên" in text and "Số hộ gia đình" in text
    assert "chưa có số liệu" in text.lower()  # the unregistered measure, shown as —

    response = client.post(edit, {"so-ho": "abc"})
    assert response.status_code == 200
    assert not Report.objects.filter(branch=tree.phuc_xa).exists()  # refused: nothing written

    response = client.post(edit, {"so-ho": "1.250", "tien": "3000000", "nhan-xet": "Đạt kế hoạch"})
    assert response.status_code == 302
    report = Report.objects.get(branch=tree.phuc_xa)
    page = client.get(detail(period, tree.phuc_xa))
    assert 'data-testid="submit"' in page.content.decode()
    assert "1.250" in page.content.decode()

    client.post(reverse("reporting:report_submit", args=[report.pk]), {"revision": report.revision})
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    assert report.snapshot["hoi-vien"] == 2
    assert 'data-testid="approve"' not in client.get(detail(period, tree.phuc_xa)).content.decode()


@pytest.fixture
def submitted(cast, tree, year_form, period):
    report = services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={})
    return services.report_submit(actor=cast.commune_clerk, report=report)


def test_the_level_above_returns_with_a_reason_shown_to_the_clerk(client_for, cast, tree, period, submitted):
    client = client_for(cast.manager)
    assert 'data-testid="return-form"' in client.get(detail(period, tree.phuc_xa)).content.decode()
    client.post(reverse("reporting:report_return", args=[submitted.pk]), {"reason": "Thiếu số hộ"})
    submitted.refresh_from_db()
    assert submitted.state == ReportState.DRAFT

    page = client_for(cast.commune_clerk).get(detail(period, tree.phuc_xa)).content.decode()
    assert "Thiếu số hộ" in page


def test_a_second_approval_from_a_stale_page_is_told_who_approved(client_for, cast, tree, period, submitted):
    client = client_for(cast.admin)
    seen = submitted.revision
    services.report_approve(actor=cast.manager, report=submitted)
    response = client.post(reverse("reporting:report_approve", args=[submitted.pk]), {"revision": seen}, follow=True)
    text = response.content.decode()
    assert "Vũ Thu Hà" in text
    assert Report.objects.get(pk=submitted.pk).approved_by == cast.manager


def test_the_branch_itself_cannot_approve_and_leaders_and_outsiders_are_refused(client_for, cast, period, submitted):
    url = reverse("reporting:report_approve", args=[submitted.pk])
    client_for(cast.commune_clerk).post(url)
    assert Report.objects.get(pk=submitted.pk).state == ReportState.SUBMITTED
    assert client_for(cast.district_leader).post(url).status_code == 403
    assert client_for(cast.sibling_clerk).post(url).status_code == 404


def test_the_consolidated_pdf_and_workbook_show_the_approved_figure(client_for, cast, tree, year_form, period):
    report = services.report_values_save(
        actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={"so-ho": "1234567"}
    )
    services.report_approve(actor=cast.manager, report=services.report_submit(actor=cast.commune_clerk, report=report))
    client = client_for(cast.district_leader)

    page = client.get(reverse("reporting:consolidated", args=[period.pk, tree.ba_dinh.pk])).content.decode()
    assert "1.234.567" in page
    assert "Phường Trúc Bạch" in page  # listed as missing

    pdf = client.get(reverse("reporting:consolidated_pdf", args=[period.pk, tree.ba_dinh.pk]))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "1.234.567" in text
    assert "HỘI KHUYẾN HỌC QUẬN BA ĐÌNH" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "Ba Đình, ngày" in text

    xlsx = client.get(reverse("reporting:consolidated_xlsx", args=[period.pk, tree.ba_dinh.pk]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)), read_only=True)
    cells = [value for row in book.active.iter_rows(values_only=True) for value in row if value is not None]
    assert "HỘI KHUYẾN HỌC QUẬN BA ĐÌNH" in cells
    assert "Độc lập - Tự do - Hạnh phúc" in cells
    assert 1_234_567 in cells  # a number the spreadsheet can add, not text


def test_completeness_page_shows_the_percentage_per_level(client_for, cast, tree, period, submitted):
    page = client_for(cast.district_leader).get(reverse("reporting:completeness", args=[period.pk])).content.decode()
    assert "50%" in page  # Phúc Xá of Ba Đình's two communes


def test_a_province_manager_edits_an_unused_form_and_versions_a_used_one(client_for, cast, tree, year_form, period):
    admin = client_for(cast.admin)
    response = admin.post(
        reverse("reporting:field_create", args=[year_form.pk]),
        {"section": year_form.sections.first().pk, "order": 9, "code": "lop-hoc", "label": "Số lớp học",
         "value_type": "integer", "source": "manual"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Field.objects.filter(form=year_form, code="lop-hoc").exists()

    services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={})
    response = admin.get(reverse("reporting:field_create", args=[year_form.pk]))
    assert response.status_code == 302  # frozen: sent back to the form
    admin.post(reverse("reporting:form_new_version", args=[year_form.pk]))
    new = ReportForm.objects.get(previous=year_form)
    assert sorted(new.fields.values_list("code", flat=True)) == sorted(year_form.fields.values_list("code", flat=True))
    assert Report.objects.get(branch=tree.phuc_xa).form == year_form  # the past report keeps its version


def test_a_district_manager_may_not_edit_the_provinces_forms(client_for, cast, year_form):
    assert client_for(cast.manager).get(reverse("reporting:field_create", args=[year_form.pk])).status_code == 403


def test_the_shipped_year_form_prefills_the_members_and_centre_activity_from_the_records(client_for, cast, tree):
    """With the registry's and the centres' own measures, not test ones: members at 31/12,
    centre activities started in the year."""
    period = make_period(PeriodKind.YEAR, 2020)
    MemberFactory.create_batch(3, branch=tree.phuc_xa, joined_on=joined())
    MemberFactory(branch=tree.truc_bach, joined_on=joined())
    MemberFactory(branch=tree.phuc_xa, joined_on=joined(2021))  # joined after the period
    centre_objects.activity(centre_objects.centre(tree.phuc_xa), datetime.date(2020, 5, 4), turns=120)
    centre_objects.activity(centre_objects.centre(tree.truc_bach), datetime.date(2021, 1, 9), turns=80)  # 2021
    shipped = ReportForm.objects.get(kind=PeriodKind.YEAR, version=1)

    client = client_for(cast.manager)
    page = client.get(detail(period, tree.ba_dinh))
    rows = {row.field.code: row for section in page.context["sections"] for row in section.rows}
    assert page.context["form"] == shipped
    assert rows["hoi-vien"].value == 4
    assert rows["hoi-vien-moi"].value == 4
    assert (rows["ttht-hoat-dong"].value, rows["ttht-luot"].value) == (1, 120)  # the centres' measures

    report = services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={})
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    assert report.form == shipped
    assert report.snapshot["hoi-vien"] == 3


def test_a_reports_page_reads_the_same_number_of_queries_whatever_the_data(client_for, cast, tree, year_form, period):
    report = services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={})
    services.report_submit(actor=cast.commune_clerk, report=report)
    client = client_for(cast.manager)
    url = detail(period, tree.phuc_xa)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    MemberFactory.create_batch(20, branch=tree.phuc_xa, joined_on=joined())
    with CaptureQueriesContext(connection) as more:
        page = client.get(url)
    assert len(more) == len(few)
    rows = {row.field.code: row for section in page.context["sections"] for row in section.rows}
    assert rows["hoi-vien"].difference == 20
