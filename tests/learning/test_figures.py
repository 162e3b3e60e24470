"""The learning titles' figures: counted once per branch, rolled up the tree, stored by the
recompute with the indicators, and read back by a page (with its Excel and PDF) that keeps
to the user's subtree.

The tree is the cast's (tests/conftest.py). Hand count, 2024, "Gia đình học tập":
    Phúc Xá      eligible 10 (entered)  registered 3  evaluated 2  recognised 1   (+1 withdrawn)
    Trúc Bạch    eligible 5 (entered)   registered 2  evaluated 2  recognised 1
    Hàng Bạc     nothing entered        registered 1  evaluated 0  recognised 0
"Đơn vị học tập" 2024: Phúc Xá has 2 organisations active in 2024 (one closed in 2023, one
opens in 2025) and 1 recognised unit; Trúc Bạch entered 7, which replaces its own 2
organisations and the one of its chapter; Hàng Bạc has 1 organisation.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from associations.models import BranchLevel
from khuyenhoc.signals import titles_changed
from learning.figures import TitleFigures, title_figures_compute
from learning.models import (
    CriteriaSet,
    Decision,
    EligibleCount,
    Evaluation,
    Household,
    Registration,
    Stage,
    SubjectType,
    TitleFigure,
    TitleKind,
)
from learning.services import title_figures_recompute
from plans.models import RecomputeRun, RunStatus
from plans.services import indicators_recompute_all, recompute_run_execute
from tests.factories import OrganizationFactory, make_branch

pytestmark = pytest.mark.django_db
D = datetime.date
YEAR = 2024
FIGURES_URL = reverse("learning:figures")


# --- Factories ----------------------------------------------------------------------------------


def make_kind(code: str, name: str, subject_type: str, ordering: int = 0) -> TitleKind:
    """The seeded title of that code (the data migration enters the five national ones), or a new one."""
    return TitleKind.objects.update_or_create(
        code=code, defaults={"name": name, "subject_type": subject_type, "ordering": ordering}
    )[0]


def register(kind: TitleKind, branch, *, stage: str = Stage.REGISTERED, year: int = YEAR, evaluated: bool = False,
             subject=None) -> Registration:  # fmt: skip
    """A registration at `branch`, in `stage`; with an evaluation when asked (or when the
    stage comes after one); with a recognition decision when recognised."""
    if subject is None:
        subject = Household.objects.create(
            branch=branch, head_name=f"Hộ {Household.objects.count() + 1}", address="Số 1 phố Quán Thánh", people=4
        )
    field = {"household": "household", "organization": "organization"}[subject._meta.model_name]
    decision = None
    if stage == Stage.RECOGNISED:
        decision = Decision.objects.create(
            branch=branch, kind=kind, year=year, number=f"{Decision.objects.count() + 1}/QĐ-UBND",
            decided_on=D(year, 12, 1), body="Ủy ban nhân dân phường", signer="Nguyễn Văn A",
        )  # fmt: skip
    registration = Registration.objects.create(
        kind=kind, year=year, branch=branch, stage=stage, registered_on=D(year, 3, 1), decision=decision,
        **{field: subject},
    )  # fmt: skip
    if evaluated or stage in (Stage.EVALUATED, Stage.REVIEWED, Stage.RECOGNISED, Stage.NOT_RECOGNISED):
        criteria, _ = CriteriaSet.objects.get_or_create(
            kind=kind, version=1, defaults={"name": f"Tiêu chí {kind.name}", "valid_from": 2021, "pass_points": 70}
        )
        Evaluation.objects.create(
            registration=registration, criteria_set=criteria, total_points=80, passed=stage != Stage.NOT_RECOGNISED,
            evaluated_on=D(year, 10, 1), evaluator="Ban khuyến học phường",
        )  # fmt: skip
    return registration


@pytest.fixture
def kinds(db):
    from types import SimpleNamespace

    return SimpleNamespace(
        household=make_kind("gia-dinh-hoc-tap", "Gia đình học tập", SubjectType.HOUSEHOLD, 1),
        unit=make_kind("don-vi-hoc-tap", "Đơn vị học tập", SubjectType.UNIT, 4),
    )


@pytest.fixture
def cycle(tree, kinds):
    household, unit = kinds.household, kinds.unit
    EligibleCount.objects.create(branch=tree.phuc_xa, kind=household, year=YEAR, count=10)
    EligibleCount.objects.create(branch=tree.truc_bach, kind=household, year=YEAR, count=5)
    register(household, tree.phuc_xa, stage=Stage.RECOGNISED)
    register(household, tree.phuc_xa, stage=Stage.EVALUATED)
    register(household, tree.phuc_xa)
    register(household, tree.phuc_xa, stage=Stage.WITHDRAWN, evaluated=True)
    register(household, tree.truc_bach, stage=Stage.RECOGNISED)
    register(household, tree.truc_bach, stage=Stage.NOT_RECOGNISED)
    register(household, tree.hang_bac)
    register(household, tree.phuc_xa, year=2023)

    school = OrganizationFactory(name="Trường THCS Phúc Xá", branch=tree.phuc_xa)
    OrganizationFactory(name="Ủy ban nhân dân phường Phúc Xá", branch=tree.phuc_xa)
    OrganizationFactory(name="Công ty đã giải thể", branch=tree.phuc_xa, active_to=D(2023, 6, 30))
    OrganizationFactory(name="Trường mới mở", branch=tree.phuc_xa, active_from=D(2025, 1, 1))
    OrganizationFactory(name="Trường Tiểu học Trúc Bạch", branch=tree.truc_bach)
    OrganizationFactory(name="Bệnh viện Trúc Bạch", branch=tree.truc_bach)
    chapter = make_branch("Chi hội Trường Trúc Bạch", BranchLevel.CHAPTER, tree.truc_bach)
    OrganizationFactory(name="Nhà văn hóa Trúc Bạch", branch=chapter)
    OrganizationFactory(name="Trường Tiểu học Hàng Bạc", branch=tree.hang_bac)
    EligibleCount.objects.create(branch=tree.truc_bach, kind=unit, year=YEAR, count=7)
    register(unit, tree.phuc_xa, stage=Stage.RECOGNISED, subject=school)
    return kinds


def figures_of(figures, branch, kind, year=YEAR):
    return figures.get((branch.pk, kind.pk, year), (0, 0, 0, 0))


# --- The computation ------------------------------------------------------------------------------


def test_each_branch_counts_its_whole_subtree_as_counted_by_hand(tree, cycle):
    figures = title_figures_compute()
    household = cycle.household
    assert figures_of(figures, tree.phuc_xa, household) == (10, 3, 2, 1)
    assert figures_of(figures, tree.truc_bach, household) == (5, 2, 2, 1)
    assert figures_of(figures, tree.ba_dinh, household) == (15, 5, 4, 2)
    assert figures_of(figures, tree.hang_bac, household) == (0, 1, 0, 0)
    assert figures_of(figures, tree.hoan_kiem, household) == (0, 1, 0, 0)
    assert figures_of(figures, tree.city, household) == (15, 6, 4, 2)
    assert figures_of(figures, tree.phuc_xa, household, 2023) == (0, 1, 0, 0)


def test_units_are_counted_from_the_registry_where_no_total_was_entered(tree, cycle):
    figures = title_figures_compute()
    unit = cycle.unit
    assert figures_of(figures, tree.phuc_xa, unit) == (2, 1, 1, 1)  # closed in 2023 and opening in 2025 left out
    assert figures_of(figures, tree.truc_bach, unit) == (7, 0, 0, 0)  # entered: replaces its 3 organisations
    assert figures_of(figures, tree.ba_dinh, unit) == (9, 1, 1, 1)
    assert figures_of(figures, tree.hang_bac, unit) == (1, 0, 0, 0)
    assert figures_of(figures, tree.city, unit) == (10, 1, 1, 1)
    # 2023 had a registration (households) but no unit total entered anywhere: all from the registry.
    assert figures_of(figures, tree.phuc_xa, unit, 2023) == (3, 0, 0, 0)
    assert figures_of(figures, tree.truc_bach, unit, 2023) == (3, 0, 0, 0)
    assert figures_of(figures, tree.city, unit, 2023) == (7, 0, 0, 0)


def test_households_have_no_eligible_total_unless_one_is_entered(tree, cycle):
    figures = title_figures_compute()
    assert figures_of(figures, tree.hang_bac, cycle.household)[0] == 0


def test_both_rates_are_given_with_their_base_and_none_on_a_base_of_zero(tree, cycle):
    title_figures_recompute()
    rows = {row.branch_id: TitleFigures.of(row) for row in TitleFigure.objects.filter(kind=cycle.household, year=YEAR)}
    expected = {  # branch: (on registered, on eligible)
        tree.phuc_xa: (Decimal("33.33"), Decimal("10.00")),
        tree.truc_bach: (Decimal("50.00"), Decimal("20.00")),
        tree.ba_dinh: (Decimal("40.00"), Decimal("13.33")),
        tree.hang_bac: (Decimal("0.00"), None),
        tree.city: (Decimal("33.33"), Decimal("13.33")),
    }
    for branch, (on_registered, on_eligible) in expected.items():
        figures = rows[branch.pk]
        assert figures.rate_on_registered.percent == on_registered, branch.name
        assert figures.rate_on_eligible.percent == on_eligible, branch.name
        assert str(figures.rate_on_registered.base_label) == "trên số đăng ký"
        assert str(figures.rate_on_eligible.base_label) == "trên tổng số"
    assert TitleFigures(tree.city).rate_on_registered.percent is None


def test_the_computation_runs_the_same_five_queries_for_a_small_and_a_bigger_tree(
    tree, cycle, django_assert_num_queries
):
    with django_assert_num_queries(5):
        small = title_figures_compute()
    for number in range(12):
        commune = make_branch(f"Phường {number}", BranchLevel.COMMUNE, tree.hoan_kiem)
        OrganizationFactory(name=f"Trường {number}", branch=commune)
        register(cycle.household, commune, stage=Stage.RECOGNISED)
        EligibleCount.objects.create(branch=commune, kind=cycle.household, year=YEAR, count=3)
    with django_assert_num_queries(5):
        bigger = title_figures_compute()
    assert len(bigger) > len(small)
    assert figures_of(bigger, tree.hoan_kiem, cycle.household) == (36, 13, 12, 12)


def test_recomputing_stores_the_figures_and_a_second_run_writes_nothing(tree, cycle):
    written = title_figures_recompute()
    assert written == TitleFigure.objects.count() > 0
    stored = TitleFigure.objects.get(branch=tree.ba_dinh, kind=cycle.household, year=YEAR)
    assert (stored.eligible, stored.registered, stored.evaluated, stored.recognised) == (15, 5, 4, 2)
    assert title_figures_recompute() == 0


def test_a_withdrawal_moves_the_figures_and_only_the_years_asked_for_are_rewritten(tree, cycle):
    title_figures_recompute()
    Registration.objects.filter(kind=cycle.household, branch=tree.hang_bac).update(stage=Stage.WITHDRAWN)
    register(cycle.household, tree.hang_bac, year=2023)
    title_figures_recompute(years=[YEAR])
    assert not TitleFigure.objects.filter(branch=tree.hang_bac, kind=cycle.household, year=YEAR).exists()
    assert not TitleFigure.objects.filter(branch=tree.hang_bac, kind=cycle.household, year=2023).exists()
    title_figures_recompute()
    assert TitleFigure.objects.get(branch=tree.hang_bac, kind=cycle.household, year=2023).registered == 1


# --- The recompute --------------------------------------------------------------------------------


def test_the_recompute_run_fills_the_title_figures(tree, cycle):
    run = recompute_run_execute(run_id=None, trigger=RecomputeRun.Trigger.MANUAL)
    assert run.status == RunStatus.DONE
    assert TitleFigure.objects.get(branch=tree.city, kind=cycle.unit, year=YEAR).eligible == 10
    TitleFigure.objects.all().delete()
    indicators_recompute_all()
    assert TitleFigure.objects.get(branch=tree.city, kind=cycle.household, year=YEAR).recognised == 2


def test_a_titles_change_schedules_one_recompute_after_commit(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        titles_changed.send(sender=Registration, branch_id=tree.phuc_xa.pk)
        titles_changed.send(sender=Registration, branch_id=tree.phuc_xa.pk)
    assert len(callbacks) == 1


# --- The page and its exports ---------------------------------------------------------------------


@pytest.fixture
def stored(cycle):
    title_figures_recompute()
    return cycle


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_a_leader_reads_the_district_with_a_row_per_commune_linking_to_its_own_figures(
    english, client_for, cast, tree, stored
):
    response = client_for(cast.district_leader).get(FIGURES_URL)
    assert response.status_code == 200
    panel = response.context["panel"]
    assert panel.branch == tree.ba_dinh and panel.year == YEAR and panel.years == [YEAR, 2023]
    households = next(item for item in panel.kinds if item.kind == stored.household)
    assert (households.total.registered, households.total.recognised) == (5, 2)
    assert [row.branch for row in households.children] == [tree.phuc_xa, tree.truc_bach]
    html = response.content.decode()
    assert f'href="?branch={tree.phuc_xa.pk}&amp;year={YEAR}"' in html
    assert "of those registered" in html and "of the eligible total" in html
    assert "40.00%" in html and "13.33%" in html
    assert "Hàng Bạc" not in html


def test_drilling_down_shows_the_commune_and_a_breadcrumb_up_to_the_users_own_branch(
    english, client_for, cast, tree, stored
):
    response = client_for(cast.district_leader).get(FIGURES_URL, {"branch": tree.phuc_xa.pk, "year": YEAR})
    assert response.status_code == 200
    assert response.context["breadcrumb"] == [tree.ba_dinh, tree.phuc_xa]
    households = next(item for item in response.context["panel"].kinds if item.kind == stored.household)
    assert (households.total.eligible, households.total.registered, households.total.evaluated) == (10, 3, 2)
    assert "33.33%" in response.content.decode()


def test_another_year_is_read_when_asked_for(client_for, cast, tree, stored):
    response = client_for(cast.district_leader).get(FIGURES_URL, {"year": 2023})
    assert response.context["panel"].year == 2023


def test_a_branch_outside_the_users_subtree_is_not_found(client_for, cast, tree, stored):
    client = client_for(cast.sibling_clerk)
    assert client.get(FIGURES_URL, {"branch": tree.phuc_xa.pk}).status_code == 404
    assert client.get(FIGURES_URL, {"branch": tree.phuc_xa.pk, "format": "xlsx"}).status_code == 404
    assert client.get(FIGURES_URL, {"branch": "nonsense"}).status_code == 404
    assert client.get(FIGURES_URL, {"branch": tree.hang_bac.pk}).status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in(client, tree):
    response = client.get(FIGURES_URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_branch_with_no_figures_says_so(english, client_for, cast, tree):
    response = client_for(cast.commune_clerk).get(FIGURES_URL)
    assert response.status_code == 200
    assert "No figures have been computed for this branch yet." in response.content.decode()


def test_the_page_reads_a_constant_number_of_queries_whatever_the_number_of_children(
    client_for, cast, tree, stored, django_assert_num_queries
):
    client = client_for(cast.city_leader)
    client.get(FIGURES_URL)  # the session and the user's profile, once
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(FIGURES_URL)
    for number in range(10):
        commune = make_branch(f"Phường {number}", BranchLevel.COMMUNE, tree.city)
        register(stored.household, commune, stage=Stage.RECOGNISED)
    title_figures_recompute()
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(FIGURES_URL)
    households = next(item for item in response.context["panel"].kinds if item.kind == stored.household)
    assert len(households.children) == 12


# session, user, staff profile, years, figures of the branch and its children, breadcrumb
PAGE_QUERIES = 6


def test_the_excel_export_holds_the_figures(client_for, cast, tree, stored):
    from openpyxl import load_workbook

    client = client_for(cast.district_leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(FIGURES_URL, {"format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert [sheet.title for sheet in book.worksheets] == ["1. Gia đình học tập", "2. Đơn vị học tập"]
    rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[-1] == ["Quận Ba Đình (whole subtree)", 15, 5, 4, 2, 40.0, 13.33]
    assert ["Phường Phúc Xá", 10, 3, 2, 1, 33.33, 10.0] in rows
    assert ["Phường Trúc Bạch", 5, 2, 2, 1, 50.0, 20.0] in rows


def test_the_pdf_export_holds_the_table_with_vietnamese_letters(client_for, cast, tree, stored):
    from pypdf import PdfReader

    response = client_for(cast.district_leader).get(FIGURES_URL, {"format": "pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Gia đình học tập" in text and "Đơn vị học tập" in text
    assert "Phường Trúc Bạch" in text
    assert "Hàng Bạc" not in text
