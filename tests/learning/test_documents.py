"""The documents of a recognition decision: the certificate of each recognised subject and
the decision's list (PDF and Excel)."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from associations.models import OrganizationKind
from khuyenhoc.xlsx import write_workbook
from learning.documents import (
    certificate_filename,
    certificate_pdf,
    decision_list,
    decision_list_filename,
    decision_list_pdf,
    decision_list_sheets,
    long_date,
    place_name,
)
from learning.models import Decision, Registration, Stage, SubjectType
from tests.factories import OrganizationFactory
from tests.learning import document_factories as make

A4_LANDSCAPE = (842, 595)

# The documents' pages under the "learning" namespace, as learning/urls.py will hold them;
# the view tests below use this module as their URL conf.


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def workbook_rows(sheets) -> list[tuple]:
    output = io.BytesIO()
    write_workbook(output, sheets)
    output.seek(0)
    return list(load_workbook(output).active.iter_rows(values_only=True))


@pytest.fixture
def household_decision(tree):
    return make.decision(tree.phuc_xa, make.title_kind(SubjectType.HOUSEHOLD))


def test_the_certificate_names_the_title_the_household_and_the_decision(household_decision, tree):
    registration = make.recognised(household_decision, make.household(tree.phuc_xa, "Nguyễn Thị Hương"))

    pages = pdf_pages(certificate_pdf(registration))

    assert len(pages) == 1
    text = pages[0]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "ỦY BAN NHÂN DÂN PHƯỜNG PHÚC XÁ" in text
    assert "GIẤY CÔNG NHẬN" in text
    assert "GIA ĐÌNH HỌC TẬP" in text
    assert "Năm 2025" in text
    assert "Gia đình ông/bà Nguyễn Thị Hương" in text
    assert "Số 12 ngõ 5 phố Phúc Xá" in text
    assert "Theo Quyết định số 123/QĐ-UBND ngày 15 tháng 11 năm 2025" in text
    assert "Phúc Xá, ngày 15 tháng 11 năm 2025" in text
    assert "CHỦ TỊCH" in text
    assert "Nguyễn Văn Bình" in text


def test_the_certificate_is_one_landscape_a4_page(household_decision, tree):
    registration = make.recognised(household_decision, make.household(tree.phuc_xa))

    box = PdfReader(io.BytesIO(certificate_pdf(registration))).pages[0].mediabox

    assert float(box.width) == pytest.approx(A4_LANDSCAPE[0], abs=1)
    assert float(box.height) == pytest.approx(A4_LANDSCAPE[1], abs=1)


def test_a_long_name_and_address_wrap_and_stay_whole_on_one_page(household_decision, tree):
    # Kept under 255 characters together: the household's search key holds both.
    head_name = ("Nguyễn Phước Hoàng Thị Diệu Hương Thanh Ngọc Bảo " * 3).strip()
    address = "Số 12 ngách 34 ngõ 56 đường Hoàng Hoa Thám, tổ dân phố số 15, phường Phúc Xá, quận Ba Đình"
    registration = make.recognised(household_decision, make.household(tree.phuc_xa, head_name, address=address))

    pages = pdf_pages(certificate_pdf(registration))

    assert len(pages) == 1
    words = " ".join(pages[0].split())
    assert words.count("Diệu Hương") == 3
    assert "phường Phúc Xá, quận Ba Đình" in words
    assert "Nguyễn Văn Bình" in words  # the signature still comes after the wrapped lines


@pytest.mark.parametrize(
    ("subject_type", "build", "expected"),
    [
        (SubjectType.CLAN, lambda b: make.clan(b, "Nguyễn Đình"), ["Dòng họ Nguyễn Đình", "Nơi cư trú"]),
        (SubjectType.COMMUNITY, lambda b: make.community(b, "Tổ dân phố số 5"), ["Tổ dân phố số 5", "Phường Phúc Xá"]),
        (
            SubjectType.UNIT,
            lambda b: OrganizationFactory(
                branch=b, name="Trường Tiểu học Phúc Xá", kind=OrganizationKind.AGENCY, address="Số 1 phố Phúc Xá"
            ),
            ["Trường Tiểu học Phúc Xá", "Số 1 phố Phúc Xá"],
        ),
        (
            SubjectType.CITIZEN,
            lambda b: make.citizen(b, "Trần Văn Đức", date_of_birth=datetime.date(1978, 3, 9)),
            ["Trần Văn Đức", "Năm sinh: 1978"],
        ),
    ],
)
def test_the_certificate_names_each_kind_of_subject(tree, subject_type, build, expected):
    the_decision = make.decision(tree.phuc_xa, make.title_kind(subject_type))
    registration = make.recognised(the_decision, build(tree.phuc_xa))

    text = pdf_pages(certificate_pdf(registration))[0]

    assert make.TITLES[subject_type][1].upper() in text
    for piece in expected:
        assert piece in text


def test_a_citizen_s_full_date_of_birth_is_printed_only_when_asked_for(tree):
    the_decision = make.decision(tree.phuc_xa, make.title_kind(SubjectType.CITIZEN))
    registration = make.recognised(
        the_decision, make.citizen(tree.phuc_xa, "Trần Văn Đức", date_of_birth=datetime.date(1978, 3, 9))
    )

    assert "Ngày sinh: 09/03/1978" in pdf_pages(certificate_pdf(registration, full_birth_date=True))[0]
    assert "09/03/1978" not in pdf_pages(certificate_pdf(registration))[0]


def test_the_list_gives_a_citizen_s_year_of_birth_only(tree):
    the_decision = make.decision(tree.phuc_xa, make.title_kind(SubjectType.CITIZEN))
    make.recognised(
        the_decision,
        make.citizen(tree.phuc_xa, "Trần Văn Đức", date_of_birth=datetime.date(1978, 3, 9), citizen_id="001078012345"),
    )

    text = pdf_pages(decision_list_pdf(the_decision))[0]
    rows = workbook_rows(decision_list_sheets(the_decision))

    assert "Sinh năm 1978" in text
    assert (1, "Trần Văn Đức", "Sinh năm 1978", "Phường Phúc Xá", 92, "Tốt") in rows
    for content in (text, str(rows)):
        assert "09/03/1978" not in content
        assert "001078012345" not in content


def test_a_registration_not_recognised_has_no_certificate(household_decision, tree):
    registration = make.recognised(household_decision, make.household(tree.phuc_xa))
    registration.decision = None
    registration.stage = "reviewed"

    with pytest.raises(ValueError):
        certificate_pdf(registration)


def test_dates_and_places_follow_the_administrative_format():
    assert long_date(datetime.date(2025, 2, 5)) == "ngày 05 tháng 02 năm 2025"
    assert long_date(datetime.date(2025, 11, 15)) == "ngày 15 tháng 11 năm 2025"
    assert place_name("Phường Phúc Xá") == "Phúc Xá"
    assert place_name("Thành phố Hà Nội") == "Hà Nội"
    assert place_name("Phường 5") == "Phường 5"


def test_file_names_carry_no_diacritics(household_decision, tree):
    registration = make.recognised(household_decision, make.household(tree.phuc_xa))

    assert certificate_filename(registration) == f"giay-cong-nhan-gdht-2025-{registration.pk}.pdf"
    assert decision_list_filename(household_decision, "xlsx") == "danh-sach-cong-nhan-123-qd-ubnd.xlsx"


def test_the_list_pdf_holds_every_subject_and_repeats_the_header_on_each_page(household_decision, tree):
    for number in range(60):
        make.recognised(
            household_decision, make.household(tree.phuc_xa, f"Nguyễn Thị Hương {number:02d}"), points=70 + number % 30
        )

    pages = pdf_pages(decision_list_pdf(household_decision))

    assert len(pages) >= 2
    text = "\n".join(pages)
    assert "DANH SÁCH HỘ GIA ĐÌNH ĐƯỢC CÔNG NHẬN DANH HIỆU GIA ĐÌNH HỌC TẬP NĂM 2025" in " ".join(text.split())
    assert "Kèm theo Quyết định số 123/QĐ-UBND ngày 15 tháng 11 năm 2025" in " ".join(text.split())
    for number in range(60):
        # Each row whole on one page: never cut between two.
        assert sum(f"Nguyễn Thị Hương {number:02d}" in page for page in pages) == 1
    for index, page in enumerate(pages, start=1):
        assert "Tổng điểm" in page
        assert "Xếp loại" in page
        assert f"Trang {index}/{len(pages)}" in page


def test_a_word_wider_than_its_column_is_cut_onto_more_lines_not_lost(household_decision, tree):
    token = "https://phucxa.hanoi.gov.vn/" + "gia-dinh-hoc-tap-" * 6
    make.recognised(household_decision, make.household(tree.phuc_xa, "Nguyễn Thị Hương", address=token))

    text = pdf_pages(decision_list_pdf(household_decision))[0]

    assert token in "".join(text.split())
    assert token not in text  # it did not fit one line


def test_the_list_sheet_has_a_row_per_registration_with_its_points(household_decision, tree):
    make.recognised(household_decision, make.household(tree.phuc_xa, "Nguyễn Thị Hương"), points=92, level="Tốt")
    make.recognised(household_decision, make.household(tree.truc_bach, "Lê Văn An"), points=75, level="Khá")

    rows = workbook_rows(decision_list_sheets(household_decision))

    header = rows.index(("STT", "Chủ hộ", "Địa chỉ, thông tin", "Chi hội, xã/phường", "Tổng điểm", "Xếp loại"))
    assert rows[0][0] == "DANH SÁCH HỘ GIA ĐÌNH ĐƯỢC CÔNG NHẬN DANH HIỆU GIA ĐÌNH HỌC TẬP NĂM 2025"
    assert rows[header + 1 :] == [
        (1, "Nguyễn Thị Hương", "Số 12 ngõ 5 phố Phúc Xá", "Phường Phúc Xá", 92, "Tốt"),
        (2, "Lê Văn An", "Số 12 ngõ 5 phố Phúc Xá", "Phường Trúc Bạch", 75, "Khá"),
    ]


def test_a_name_that_looks_like_a_formula_stays_text_in_the_sheet(household_decision, tree):
    make.recognised(household_decision, make.household(tree.phuc_xa, '=HYPERLINK("http://x.vn","Bấm")'))

    output = io.BytesIO()
    write_workbook(output, decision_list_sheets(household_decision))
    output.seek(0)
    sheet = load_workbook(output).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == '=HYPERLINK("http://x.vn","Bấm")']

    assert len(cells) == 1
    assert cells[0].data_type == "s"


def test_the_list_leaves_out_registrations_of_other_decisions(household_decision, tree):
    make.recognised(household_decision, make.household(tree.phuc_xa, "Nguyễn Thị Hương"))
    other = make.decision(tree.truc_bach, household_decision.kind, number="7/QĐ-UBND")
    make.recognised(other, make.household(tree.truc_bach, "Lê Văn An"))

    assert [row.name for row in decision_list(household_decision)] == ["Nguyễn Thị Hương"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_is_read_in_one_query_whatever_its_length(household_decision, tree, count, django_assert_num_queries):
    for number in range(count):
        make.recognised(household_decision, make.household(tree.phuc_xa, f"Chủ hộ {number}"))
    the_decision = Decision.objects.select_related("kind", "branch").get(pk=household_decision.pk)

    with django_assert_num_queries(1):
        rows = decision_list(the_decision)
    with django_assert_num_queries(1):
        decision_list_pdf(the_decision)
    with django_assert_num_queries(1):
        workbook_rows(decision_list_sheets(the_decision))

    assert len(rows) == count


# --- The pages ---------------------------------------------------------------------------------
@pytest.fixture
def documents_of_phuc_xa(household_decision, tree):
    registration = make.recognised(household_decision, make.household(tree.phuc_xa, "Nguyễn Thị Hương"), points=92)
    return {
        "certificate": reverse("learning:certificate_pdf", args=[registration.pk]),
        "list_pdf": reverse("learning:decision_list_pdf", args=[household_decision.pk]),
        "list_xlsx": reverse("learning:decision_list_xlsx", args=[household_decision.pk]),
    }


def test_the_commune_clerk_opens_the_certificate_of_a_household_of_the_commune(documents_of_phuc_xa, cast, client_for):
    response = client_for(cast.commune_clerk).get(documents_of_phuc_xa["certificate"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="giay-cong-nhan-gdht-2025-' in response["Content-Disposition"]
    assert "Gia đình ông/bà Nguyễn Thị Hương" in pdf_pages(response.content)[0]


def test_the_district_leader_downloads_the_decision_list_as_pdf_and_excel(documents_of_phuc_xa, cast, client_for):
    client = client_for(cast.district_leader)

    pdf = client.get(documents_of_phuc_xa["list_pdf"])
    xlsx = client.get(documents_of_phuc_xa["list_xlsx"])

    assert pdf.status_code == 200
    assert pdf["Content-Disposition"] == 'attachment; filename="danh-sach-cong-nhan-123-qd-ubnd.pdf"'
    assert "Nguyễn Thị Hương" in pdf_pages(pdf.content)[0]
    assert xlsx.status_code == 200
    assert 'filename="danh-sach-cong-nhan-123-qd-ubnd.xlsx"' in xlsx["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active.iter_rows(values_only=True))
    assert (1, "Nguyễn Thị Hương", "Số 12 ngõ 5 phố Phúc Xá", "Phường Phúc Xá", 92, "Tốt") in rows


@pytest.mark.parametrize("document", ["certificate", "list_pdf", "list_xlsx"])
def test_an_anonymous_visitor_is_sent_to_sign_in(documents_of_phuc_xa, client, document):
    response = client.get(documents_of_phuc_xa[document])

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("document", ["certificate", "list_pdf", "list_xlsx"])
def test_a_clerk_of_another_district_gets_not_found(documents_of_phuc_xa, cast, client_for, document):
    response = client_for(cast.sibling_clerk).get(documents_of_phuc_xa[document])

    assert response.status_code == 404


def test_a_commune_clerk_cannot_open_the_list_of_a_district_decision(tree, cast, client_for):
    district_decision = make.decision(tree.ba_dinh, make.title_kind(), body="Ủy ban nhân dân quận Ba Đình")

    response = client_for(cast.commune_clerk).get(reverse("learning:decision_list_pdf", args=[district_decision.pk]))

    assert response.status_code == 404


def test_a_registration_not_yet_recognised_has_no_certificate_page(tree, cast, client_for):
    registration = Registration.objects.create(
        kind=make.title_kind(),
        year=2025,
        branch=tree.phuc_xa,
        household=make.household(tree.phuc_xa),
        stage=Stage.EVALUATED,
        registered_on=datetime.date(2025, 3, 1),
    )

    response = client_for(cast.commune_clerk).get(reverse("learning:certificate_pdf", args=[registration.pk]))

    assert response.status_code == 404


def test_a_citizen_s_certificate_shows_the_full_birth_date_to_the_clerk_and_the_year_to_a_leader(
    tree, cast, client_for
):
    the_decision = make.decision(tree.phuc_xa, make.title_kind(SubjectType.CITIZEN))
    registration = make.recognised(
        the_decision, make.citizen(tree.phuc_xa, "Trần Văn Đức", date_of_birth=datetime.date(1978, 3, 9))
    )
    url = reverse("learning:certificate_pdf", args=[registration.pk])

    for_clerk = pdf_pages(client_for(cast.commune_clerk).get(url).content)[0]
    for_leader = pdf_pages(client_for(cast.district_leader).get(url).content)[0]

    assert "Ngày sinh: 09/03/1978" in for_clerk
    assert "Năm sinh: 1978" in for_leader
    assert "09/03/1978" not in for_leader
