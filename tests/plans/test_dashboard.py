"""The leadership dashboard: figures from stored values, drill-down, exports, and who may see them."""

import datetime
import io
import socket

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader

from associations.models import BranchLevel
from plans.models import IndicatorValue
from plans.services import indicators_recompute_all
from tests.factories import TODAY, OrganizationFactory, make_branch

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture(autouse=True)
def _english(client, settings):
    """These tests read English source strings (the Vietnamese catalogue is maintained apart)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def test_a_city_leader_sees_each_target_with_its_numerator_denominator_target_and_gap(client_for, cast, plan_data):
    response = client_for(cast.city_leader).get("/plans/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = _text(response)
    # Board coverage on 30/06/2020: 3 of 5 organisations → 60%; 70% needs ceil(3.5) = 4: one more board.
    assert "3 of 5" in text and "60.00%" in text and "needs 1 more board" in text
    assert "Target: at least 70% by 31/12/2020" in text
    # Membership: 4 members of 12 people → 33.33%; 60% of 12 = 7.2 → 8 needed: 4 more.
    assert "4 of 12" in text and "needs 4 more members" in text


def test_the_projection_uses_the_pace_of_the_last_12_months(client_for, cast, plan_data):
    text = _text(client_for(cast.city_leader).get("/plans/dashboard/"))
    # Boards: 40% on 30/06/2019 → 60% on 30/06/2020, 20 points a year; 0.5 years left → 70.08% ≥ 70%.
    assert "(20.00 points a year): 70.08% by the deadline. It will be met." in text
    # Pace needed: 10 points in 184 days = 19.85 points a year.
    assert "Pace needed: 19.85 points a year." in text


def test_the_children_table_lists_districts_with_their_figures_and_status_in_words(client_for, cast, tree, plan_data):
    response = client_for(cast.city_leader).get("/plans/dashboard/")
    board = response.context["dashboard"].targets[0]
    rows = {row.branch.name: (row.now.numerator, row.now.denominator, row.status) for row in board.children}
    assert rows == {"Quận Ba Đình": (2, 4, "behind"), "Quận Hoàn Kiếm": (1, 1, "met")}
    # The table itself is the target's drill-down, loaded when opened (issue 16).
    drill_down = f"/plans/dashboard/{tree.city.pk}/target/{plan_data.board.pk}/children/"
    assert f'hx-get="{drill_down}"' in response.content.decode()
    opened = client_for(cast.city_leader).get(drill_down, HTTP_HX_REQUEST="true")
    text = _text(opened)
    assert "! Behind" in text and "✓ Target met" in text
    assert f'href="/plans/dashboard/{tree.ba_dinh.pk}/"' in opened.content.decode()


def test_drilling_into_a_district_shows_its_communes_and_a_breadcrumb_back_up(client_for, cast, tree, plan_data):
    response = client_for(cast.city_leader).get(f"/plans/dashboard/{tree.ba_dinh.pk}/")
    assert response.status_code == 200
    assert [b.name for b in response.context["breadcrumb"]] == ["Thành phố Hà Nội", "Quận Ba Đình"]
    board = response.context["dashboard"].targets[0]
    assert {row.branch.name: (row.now.numerator, row.now.denominator) for row in board.children} == {
        "Phường Phúc Xá": (2, 3),
        "Phường Trúc Bạch": (0, 1),
    }
    assert f'href="/plans/dashboard/{tree.city.pk}/"' in response.content.decode()


def test_a_district_leader_starts_at_their_district_and_sees_no_breadcrumb_above_it(client_for, cast, tree, plan_data):
    response = client_for(cast.district_leader).get("/plans/dashboard/")
    assert response.context["branch"] == tree.ba_dinh
    assert [b.name for b in response.context["breadcrumb"]] == ["Quận Ba Đình"]


def _dashboard_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_dashboard_query_count_does_not_grow_with_the_number_of_children(client_for, cast, tree, plan_data):
    client = client_for(cast.city_leader)
    client.get("/plans/dashboard/")  # warm the session and content-type caches
    before = _dashboard_queries(client, "/plans/dashboard/")
    for n in range(12):
        district = make_branch(f"Quận mới {n}", BranchLevel.DISTRICT, tree.city)
        OrganizationFactory(branch=district)
    indicators_recompute_all(today=TODAY)
    rendered = client.get("/plans/dashboard/")  # the recompute's write: rendered afresh
    after = _dashboard_queries(client, "/plans/dashboard/")
    assert len(rendered.context["dashboard"].targets[0].children) == 14
    assert before == after
    assert after <= 12


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_with_redis_down_the_dashboard_renders_the_stored_values_and_says_how_old_they_are(
    client_for, cast, plan_data, settings
):
    IndicatorValue.objects.update(computed_at=timezone.now() - datetime.timedelta(days=3))
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client_for(cast.city_leader).get("/plans/dashboard/")
    assert response.status_code == 200
    text = _text(response)
    assert "3 of 5" in text
    assert "These figures are 3 days old" in text


def test_fresh_figures_carry_no_warning(client_for, cast, plan_data):
    response = client_for(cast.city_leader).get("/plans/dashboard/")
    assert "stale-warning" not in response.content.decode()
    assert "Figures computed at" in _text(response)


def test_the_values_endpoint_answers_the_stored_values_of_the_branch_and_its_children(
    client_for, cast, tree, plan_data
):
    response = client_for(cast.district_leader).get(f"/plans/dashboard/{tree.ba_dinh.pk}/values.json")
    values = response.json()["values"]
    today = [v for v in values if v["as_of"] == TODAY.isoformat() and v["indicator"] == "board_coverage"]
    assert {(v["branch_name"], v["numerator"], v["denominator"]) for v in today} == {
        ("Quận Ba Đình", 2, 4),
        ("Phường Phúc Xá", 2, 3),
        ("Phường Trúc Bạch", 0, 1),
    }


def test_the_excel_export_has_one_sheet_per_target_with_a_row_per_child(client_for, cast, tree, plan_data):
    response = client_for(cast.district_leader).get(
        f"/plans/dashboard/{tree.ba_dinh.pk}/plan/{plan_data.plan.pk}/report.xlsx"
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(workbook.sheetnames) == 2
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    children = {row[0]: row[1:3] for row in rows if row and row[0] in {"Phường Phúc Xá", "Phường Trúc Bạch"}}
    assert children == {"Phường Phúc Xá": (2, 3), "Phường Trúc Bạch": (0, 1)}
    assert rows[0][0] == "Progress report on implementing Plan 99/KH-KHHN"


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_report_carries_the_plan_figures_and_vietnamese_names_with_their_diacritics(
    client_for, cast, tree, plan_data
):
    response = client_for(cast.city_leader).get(f"/plans/dashboard/{tree.city.pk}/plan/{plan_data.plan.pk}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "99/KH-KHHN" in text
    for name in ("Thành phố Hà Nội", "Quận Ba Đình", "Quận Hoàn Kiếm", "Đẩy mạnh học tập suốt đời"):
        assert name in text
    assert "3 of 5" in text


def test_the_pdf_report_is_titled_in_vietnamese_for_the_meeting(client_for, cast, tree, plan_data, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with translation.override("vi"):
        from django.utils.translation import gettext

        if gettext("Progress report on implementing Plan %(code)s").startswith("Progress"):
            pytest.skip("the Vietnamese catalogue has no translation of the report title yet")
        response = client_for(cast.city_leader).get(
            f"/plans/dashboard/{tree.city.pk}/plan/{plan_data.plan.pk}/report.pdf", HTTP_ACCEPT_LANGUAGE="vi"
        )
    text = _pdf_text(response.content)
    assert "Báo cáo tiến độ thực hiện Kế hoạch 99/KH-KHHN" in text


def test_a_large_report_is_built_in_the_background_and_offered_for_download(
    client_for, cast, tree, plan_data, settings
):
    settings.PLANS_PDF_BACKGROUND_ROWS = 1
    client = client_for(cast.city_leader)
    response = client.get(f"/plans/dashboard/{tree.city.pk}/plan/{plan_data.plan.pk}/report.pdf")
    assert response.status_code == 302
    status_url = response["Location"]
    from plans.models import ReportExport
    from plans.tasks import report_pdf_build

    export = ReportExport.objects.get()
    report_pdf_build.apply(args=[export.pk])  # what the worker does after commit
    page = client.get(status_url)
    assert "Download the report" in _text(page)
    download = client.get(f"/plans/reports/{export.pk}/download/")
    assert "Quận Ba Đình" in _pdf_text(b"".join(download.streaming_content) if download.streaming else download.content)


# --- Refused -----------------------------------------------------------------------------
def _urls(tree, plan):
    branch = tree.ba_dinh.pk
    return [
        f"/plans/dashboard/{branch}/",
        f"/plans/dashboard/{branch}/values.json",
        f"/plans/dashboard/{branch}/plan/{plan.pk}/report.xlsx",
        f"/plans/dashboard/{branch}/plan/{plan.pk}/report.pdf",
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, tree, plan_data):
    for url in [*_urls(tree, plan_data.plan), "/plans/dashboard/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_a_clerk_of_another_district_gets_404_for_the_dashboard_exports_and_values(client_for, cast, tree, plan_data):
    client = client_for(cast.sibling_clerk)
    for url in _urls(tree, plan_data.plan):
        assert client.get(url).status_code == 404, url


def test_a_district_leader_cannot_open_a_sibling_district_or_the_city(client_for, cast, tree, plan_data):
    client = client_for(cast.district_leader)
    for branch in (tree.hoan_kiem, tree.hang_bac, tree.city):
        assert client.get(f"/plans/dashboard/{branch.pk}/").status_code == 404
        assert client.get(f"/plans/dashboard/{branch.pk}/values.json").status_code == 404
        assert client.get(f"/plans/dashboard/{branch.pk}/plan/{plan_data.plan.pk}/report.pdf").status_code == 404
        assert client.get(f"/plans/dashboard/{branch.pk}/plan/{plan_data.plan.pk}/report.xlsx").status_code == 404


def test_a_leader_may_not_press_recompute_now(client_for, cast, plan_data):
    response = client_for(cast.city_leader).post("/plans/recompute/")
    assert response.status_code == 403
