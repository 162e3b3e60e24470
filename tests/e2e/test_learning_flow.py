"""A commune clerk runs a year of "Gia đình học tập" in the browser: registers three
households, scores them (one below the pass mark), recognises the two that passed in a
decision and opens the certificate of one."""

import io
import re
import unicodedata

import pytest
from django.db.models import Max
from django.utils import timezone
from pypdf import PdfReader

from learning.models import CriteriaSet, Criterion, Household, Registration, Stage, TitleKind
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADS = ("Nguyễn Thị Hương", "Trần Văn Đức", "Lê Thị Ánh")
POINTS = {"Nguyễn Thị Hương": (9, 8, 7), "Trần Văn Đức": (6, 5, 5), "Lê Thị Ánh": (4, 5, 3)}  # pass: 15
NUMBER = "27/QĐ-UBND"


def gdht_of_the_year(year: int) -> tuple[TitleKind, list[Criterion]]:
    """The title "Gia đình học tập" with a criteria set of this test's own in force for the
    year: the seed's sets are placeholders, and a transactional test may find them flushed."""
    kind, _created = TitleKind.objects.get_or_create(
        code="gia-dinh-hoc-tap",
        defaults={"name": "Gia đình học tập", "abbreviation": "GĐHT", "subject_type": "household"},
    )
    version = (CriteriaSet.objects.filter(kind=kind).aggregate(top=Max("version"))["top"] or 0) + 1
    criteria_set = CriteriaSet.objects.create(
        kind=kind, version=version, name="Tiêu chí Gia đình học tập (thử)", valid_from=year, pass_points=15
    )
    criteria = Criterion.objects.bulk_create(
        [
            Criterion(criteria_set=criteria_set, code="1", text="Học tập thường xuyên", max_points=10, ordering=1),
            Criterion(criteria_set=criteria_set, code="2", text="Con em đi học đầy đủ", max_points=10, ordering=2),
            Criterion(criteria_set=criteria_set, code="3", text="Tham gia khuyến học", max_points=10, ordering=3),
        ]
    )
    return kind, criteria


def pdf_text(body: bytes) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    return unicodedata.normalize("NFC", text)


def test_a_clerk_registers_scores_and_recognises_households_then_prints_a_certificate(page, cast, tree):
    year = timezone.localdate().year
    kind, criteria = gdht_of_the_year(year)
    households = {
        head: Household.objects.create(branch=tree.phuc_xa, head_name=head, address=f"Số {n} phố Phúc Xá", people=4)
        for n, head in enumerate(HEADS, start=1)
    }
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")

    # Register the three households.
    page.goto("/titles/registrations/")
    page.get_by_test_id("register-link").click()
    page.select_option("[name=kind]", str(kind.pk))
    page.fill("[name=year]", str(year))
    page.get_by_test_id("list-subjects").click()
    for household in households.values():
        page.check(f"#subject-{household.pk}")
    page.fill("[name=registered_on]", f"02/01/{year}")
    page.get_by_test_id("save-registrations").click()
    page.wait_for_url(re.compile(r"/titles/registrations/\?"))
    assert page.get_by_test_id("registration-row").count() == 3
    registrations_url = page.url

    # Score each one from the list; the third falls below the pass mark.
    for head, points in POINTS.items():
        page.goto(registrations_url)
        page.get_by_test_id("registration-table").get_by_role("link", name=re.compile(head)).click()
        page.get_by_test_id("evaluate-link").click()
        for criterion, value in zip(criteria, points, strict=True):
            page.fill(f"[name=points_{criterion.pk}]", str(value))
        page.fill(f"[name=evidence_{criteria[0].pk}]", "Sổ theo dõi học tập của gia đình")
        page.fill("[name=evaluator]", "Ban chủ nhiệm chi hội Phúc Xá")
        page.fill("[name=evaluated_on]", f"03/01/{year}")
        page.get_by_test_id("save-evaluation").click()
        page.wait_for_url(re.compile(r"/titles/registrations/\d+/$"))
        assert page.get_by_test_id("total").inner_text() == str(sum(points))
    passed = Registration.objects.select_related("evaluation", "household")
    assert {r.household.head_name: r.evaluation.passed for r in passed} == {
        "Nguyễn Thị Hương": True,
        "Trần Văn Đức": True,
        "Lê Thị Ánh": False,
    }

    # Recognise the two that passed.
    page.goto("/titles/decisions/")
    page.get_by_test_id("decision-create-link").click()
    page.select_option("[name=branch]", str(tree.phuc_xa.pk))
    page.select_option("[name=kind]", str(kind.pk))
    page.fill("[name=year]", str(year))
    page.get_by_test_id("list-registrations").click()
    candidates = page.get_by_test_id("candidates")
    assert candidates.get_by_role("checkbox").count() == 2
    assert "Lê Thị Ánh" not in candidates.inner_text()
    page.fill("[name=number]", NUMBER)
    page.fill("[name=decided_on]", f"05/01/{year}")
    page.fill("[name=signer]", "Nguyễn Văn Bình")
    page.fill("[name=signer_title]", "Chủ tịch")
    page.get_by_test_id("save-decision").click()
    page.wait_for_url(re.compile(r"/titles/decisions/\d+/$"))
    assert page.get_by_test_id("decision-number").inner_text() == NUMBER
    assert page.get_by_test_id("recognised-row").count() == 2
    assert Registration.objects.filter(stage=Stage.RECOGNISED).count() == 2

    # Open the certificate of one: a PDF in Vietnamese, with its diacritics.
    row = page.get_by_test_id("recognised-row").filter(has_text="Trần Văn Đức")
    certificate = page.request.get(row.get_by_test_id("certificate-link").get_attribute("href"))
    assert certificate.ok
    assert certificate.headers["content-type"] == "application/pdf"
    text = pdf_text(certificate.body())
    for expected in ("GIẤY CÔNG NHẬN", "GIA ĐÌNH HỌC TẬP", "Trần Văn Đức", NUMBER):
        assert expected in text, expected
    assert "Nguyễn Thị Hương" not in text
