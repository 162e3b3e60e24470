"""Plans entered by a manager in the portal (issue 14): a plan and its catalogue targets
through the forms, computed by the same recompute as Plan 99; milestone years; used plans
versioned, never edited away; Hanoi's Plan 291/KH-UBND loaded from public reporting."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from associations.models import OrganizationKind
from plans.indicators import indicators_compute, target_as_of_dates
from plans.models import IndicatorDefinition, IndicatorValue, Plan, Target
from plans.services import indicators_recompute_all, plan_99_load, plan_291_load
from tests.factories import OrganizationFactory, org_with_board

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2026, 6, 30)


@pytest.fixture
def boards_definition(db):
    return IndicatorDefinition.objects.create(
        code="boards-agencies",
        name="Cơ quan có ban khuyến học",
        numerator_measure="registry.organizations_with_board",
        numerator_filters={"kinds": ["agency"]},
        denominator_measure="registry.organizations",
        denominator_filters={"kinds": ["agency"]},
    )


def plan_form(tree, **overrides):
    data = {
        "code": "12/KH-KHHN",
        "title": "Kế hoạch khuyến học giai đoạn 2021–2030",
        "issuing_branch": tree.ba_dinh.pk,
        "issued_on": "15/03/2021",
        "starts_on": "01/01/2021",
        "ends_on": "31/12/2030",
        "is_active": "on",
        "note": "",
    }
    data.update(overrides)
    return data


def target_form(tree, definition, **overrides):
    data = {
        "definition": definition.pk,
        "root_branch": tree.ba_dinh.pk,
        "applies_to_level": "commune",
        "milestones": "2025: 70\n2030: 80",
        "position": "0",
    }
    data.update(overrides)
    return data


def enter_plan(client, tree, definition) -> Plan:
    assert client.post("/plans/new/", plan_form(tree)).status_code == 302
    plan = Plan.objects.get(code="12/KH-KHHN")
    response = client.post(f"/plans/{plan.pk}/targets/new/", target_form(tree, definition))
    assert response.status_code == 302, response.content.decode()[:3000]
    return plan


def test_a_plan_entered_entirely_through_the_forms_is_computed_and_shown_to_a_leader(
    client_for, cast, tree, boards_definition
):
    org_with_board(tree.phuc_xa, kind=OrganizationKind.AGENCY)
    OrganizationFactory(branch=tree.phuc_xa, kind=OrganizationKind.AGENCY)
    OrganizationFactory(branch=tree.truc_bach, kind=OrganizationKind.AGENCY)
    OrganizationFactory(branch=tree.truc_bach, kind=OrganizationKind.ENTERPRISE)  # not counted
    plan = enter_plan(client_for(cast.manager), tree, boards_definition)

    target = Target.objects.get(plan=plan)
    assert (target.indicator, target.definition, target.applies_to_level) == ("", boards_definition, "commune")
    assert (target.threshold_percent, target.deadline) == (Decimal(80), D(2030, 12, 31))  # the last milestone
    assert [(m.year, m.percent) for m in target.milestones.all()] == [(2025, Decimal(70)), (2030, Decimal(80))]

    indicators_recompute_all(today=TODAY)
    stored = IndicatorValue.objects.get(target=target, branch=tree.ba_dinh, as_of=TODAY)
    assert (stored.numerator, stored.denominator) == (1, 3)
    assert IndicatorValue.objects.get(target=target, branch=tree.phuc_xa, as_of=D(2025, 12, 31)).denominator == 2

    page = client_for(cast.district_leader).get(f"/plans/dashboard/?plan={plan.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cơ quan có ban khuyến học" in html and 'data-testid="target-boards-agencies"' in html
    assert "33,33%" in html
    year_table = html.split('data-testid="year-table"')[1].split("</table>")[0]
    assert 'data-year="2025"' in year_table and 'data-year="2030"' in year_table
    assert "70%" in year_table and "80%" in year_table


def test_the_target_form_refuses_bad_input_with_a_message_and_writes_nothing(client_for, cast, tree, boards_definition):
    client = client_for(cast.manager)
    plan = Plan.objects.create(
        code="1",
        title="t",
        issuing_branch=tree.ba_dinh,
        issued_on=D(2021, 1, 1),
        starts_on=D(2021, 1, 1),
        ends_on=D(2030, 12, 31),
    )
    url = f"/plans/{plan.pk}/targets/new/"
    with translation.override("en"):
        no_milestone = client.post(url, target_form(tree, boards_definition, milestones=""), HTTP_ACCEPT_LANGUAGE="en")
        no_indicator = client.post(url, {**target_form(tree, boards_definition), "definition": ""})
        both = client.post(url, target_form(tree, boards_definition, indicator="board_coverage"))
        bad_line = client.post(url, target_form(tree, boards_definition, milestones="năm 2025 là 70"))
    assert "milestones" in no_milestone.context["form"].errors
    assert "definition" in no_indicator.context["form"].errors
    assert both.context["form"].non_field_errors()
    assert "milestones" in bad_line.context["form"].errors
    assert not Target.objects.exists()


def test_the_plan_form_speaks_vietnamese_about_a_bad_date(client_for, cast, tree):
    response = client_for(cast.manager).post("/plans/new/", plan_form(tree, issued_on="31/02/2021"))
    assert response.status_code == 200
    assert "issued_on" in response.context["form"].errors
    assert not Plan.objects.exists()


def test_milestone_years_are_stored_as_each_plan_years_end(tree, boards_definition, client_for, cast):
    plan = enter_plan(client_for(cast.manager), tree, boards_definition)
    target = plan.targets.get()
    dates = target_as_of_dates(target, today=TODAY)
    assert D(2025, 12, 31) in dates and D(2021, 12, 31) in dates and TODAY in dates
    assert D(2030, 12, 31) not in dates  # not reached yet


# --- Versions ----------------------------------------------------------------------------------------


def test_a_used_plan_is_not_edited_away_editing_it_makes_a_new_version(client_for, cast, tree, boards_definition):
    client = client_for(cast.manager)
    plan = enter_plan(client, tree, boards_definition)
    # Not used yet: a correction changes the plan itself.
    assert client.post(f"/plans/{plan.pk}/edit/", plan_form(tree, title="Sửa tên")).status_code == 302
    plan.refresh_from_db()
    assert (plan.title, plan.version) == ("Sửa tên", 1)

    indicators_recompute_all(today=TODAY)  # now it has figures: it is used
    response = client.post(f"/plans/{plan.pk}/edit/", plan_form(tree, title="Tên mới"))
    assert response.status_code == 302
    old = Plan.objects.get(pk=plan.pk)
    new = Plan.objects.get(previous_version=old)
    assert (old.title, old.is_active, old.version) == ("Sửa tên", False, 1)
    assert (new.title, new.is_active, new.version) == ("Tên mới", True, 2)
    assert response["Location"] == f"/plans/{new.pk}/"
    assert IndicatorValue.objects.filter(target__plan=old).exists()  # the old figures stay
    assert [t.definition for t in new.targets.all()] == [boards_definition]
    assert list(new.targets.get().milestones.values_list("year", flat=True)) == [2025, 2030]
    page = client.get(f"/plans/{old.pk}/").content.decode()
    assert 'data-testid="superseded"' in page and f"/plans/{new.pk}/" in page
    # The old version can no longer be changed.
    assert client.post(f"/plans/{old.pk}/edit/", plan_form(tree, title="Nữa")).status_code == 200
    assert Plan.objects.count() == 2


def test_changing_a_target_of_a_used_plan_makes_a_new_version_and_keeps_the_old_target(
    client_for, cast, tree, boards_definition
):
    client = client_for(cast.manager)
    plan = enter_plan(client, tree, boards_definition)
    target = plan.targets.get()
    indicators_recompute_all(today=TODAY)
    response = client.post(
        f"/plans/{plan.pk}/targets/{target.pk}/edit/",
        target_form(tree, boards_definition, milestones="2025: 75\n2030: 85"),
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.threshold_percent == Decimal(80)  # the old one, unchanged
    new_plan = Plan.objects.get(previous_version=plan)
    new_target = new_plan.targets.get()
    assert new_target.threshold_percent == Decimal(85)
    assert [m.percent for m in new_target.milestones.all()] == [Decimal(75), Decimal(85)]
    # The next recompute computes the new version only; the old keeps its figures.
    indicators_recompute_all(today=TODAY)
    assert IndicatorValue.objects.filter(target=new_target).exists()
    assert IndicatorValue.objects.filter(target=target).exists()


def test_a_past_version_stays_readable_on_the_dashboard_one_click_away(client_for, cast, tree, boards_definition):
    client = client_for(cast.manager)
    plan = enter_plan(client, tree, boards_definition)
    indicators_recompute_all(today=TODAY)
    client.post(f"/plans/{plan.pk}/edit/", plan_form(tree, title="Tên mới"))
    page = client_for(cast.district_leader).get("/plans/dashboard/").content.decode()
    chooser = page.split('data-testid="plan-chooser"')[1].split("</nav>")[0]
    past = chooser.split('data-testid="past-plans"')[1]
    assert f"?plan={plan.pk}" in past
    old_page = client_for(cast.district_leader).get(f"/plans/dashboard/?plan={plan.pk}")
    assert old_page.status_code == 200 and 'data-testid="target-boards-agencies"' in old_page.content.decode()


# --- The pipeline ---------------------------------------------------------------------------------------


def test_one_recompute_computes_plan_99_by_its_own_code_and_a_catalogue_plan_idempotently(
    plan_data, tree, boards_definition
):
    plan = Plan.objects.create(
        code="2",
        title="t",
        issuing_branch=tree.city,
        issued_on=D(2019, 1, 1),
        starts_on=D(2019, 1, 1),
        ends_on=D(2025, 12, 31),
    )
    catalogue = Target.objects.create(
        plan=plan, definition=boards_definition, threshold_percent=80, deadline=D(2025, 12, 31), root_branch=tree.city
    )
    today = D(2020, 6, 30)
    indicators_recompute_all(today=today)
    first = set(IndicatorValue.objects.values_list("target_id", "branch_id", "as_of", "numerator", "denominator"))
    indicators_recompute_all(today=today)
    again = set(IndicatorValue.objects.values_list("target_id", "branch_id", "as_of", "numerator", "denominator"))
    assert first == again
    board = plan_data.board
    expected = indicators_compute(target=board, as_of=today)
    stored = {b: (n, d) for t, b, day, n, d in first if t == board.pk and day == today}
    assert stored == expected
    assert any(t == catalogue.pk for t, *_rest in first)


def plan_99_plan_id() -> int:
    return Plan.objects.get(code="99/KH-KHHN").pk


# --- Plan 291/KH-UBND -----------------------------------------------------------------------------------


def test_plan_291_is_loaded_once_with_its_targets_for_2025_and_2030_and_its_source(tree):
    plan = plan_291_load()
    assert plan_291_load() == plan
    assert (plan.code, plan.starts_on, plan.ends_on, plan.issuing_branch) == (
        "291/KH-UBND",
        D(2021, 1, 1),
        D(2030, 12, 31),
        tree.city,
    )
    assert "thông tin công khai" in plan.source_note and "Sở Văn hóa và Thể thao" in plan.source_note
    assert "hồ sơ công dân" in plan.note  # the two CDHT targets count what is entered on the citizens
    targets = list(plan.targets.select_related("definition").order_by("position"))
    assert len(targets) == 8
    milestones = {t.definition.code: {m.year: m.percent for m in t.milestones.all()} for t in targets}
    assert milestones["title-rate-gdht"] == {2025: Decimal(70), 2030: Decimal(80)}
    assert milestones["title-rate-dhht"] == {2025: Decimal(65), 2030: Decimal(75)}
    assert milestones["title-rate-cdht"] == {2025: Decimal(65), 2030: Decimal(75)}
    assert milestones["title-rate-dvht"] == {2025: Decimal(80), 2030: Decimal(90)}
    assert milestones["cdht-among-workers-of-titled-families"] == {2025: Decimal(40), 2030: Decimal(60)}
    assert milestones["cdht-among-staff-of-titled-units"] == {2025: Decimal(60), 2030: Decimal(80)}
    assert milestones["centre-staff-taking-part-trained"] == {2025: Decimal(40), 2030: Decimal(70)}
    assert milestones["centre-chairs-on-board"] == {2025: Decimal(100), 2030: Decimal(100)}
    by_code = {t.definition.code: t for t in targets}
    gdht = by_code["title-rate-gdht"].definition
    assert (gdht.numerator_measure, gdht.denominator_measure) == ("learning.recognised", "learning.eligible")
    assert gdht.numerator_filters == {"title": ["gia-dinh-hoc-tap"]}
    gdht.full_clean()  # valid against the catalogue
    assert by_code["centre-chairs-on-board"].applies_to_level == "commune"
    # The two citizen targets are counted by the learning app's measures (tests/learning/test_cdht_*.py).
    assert by_code["cdht-among-workers-of-titled-families"].definition.is_available
    assert by_code["cdht-among-staff-of-titled-units"].definition.is_available
    assert (by_code["cdht-among-workers-of-titled-families"].threshold_percent, plan.is_active) == (Decimal(60), True)


def test_plan_291_is_computed_with_plan_99_and_shown_first_among_current_plans(tree, cast, client_for):
    plan_99_load()
    plan = plan_291_load()
    indicators_recompute_all(today=D(2026, 12, 1))
    gdht = plan.targets.get(definition__code="title-rate-gdht")
    assert IndicatorValue.objects.get(target=gdht, branch=tree.city, as_of=D(2026, 12, 1)).denominator == 0
    page = client_for(cast.city_leader).get("/plans/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    chooser = html.split('data-testid="plan-chooser"')[1].split("</nav>")[0]
    current, past = chooser.split('data-testid="past-plans"')
    assert "291/KH-UBND" in current and "99/KH-KHHN" in past  # Plan 99 ended in 2020
    assert 'data-testid="target-title-rate-gdht"' in html and 'data-testid="target-board_coverage"' not in html
    older = client_for(cast.city_leader).get(f"/plans/dashboard/?plan={plan_99_plan_id()}").content.decode()
    assert 'data-testid="target-board_coverage"' in older
    for kind in ("xlsx", "pdf"):
        export = client_for(cast.city_leader).get(f"/plans/dashboard/{tree.city.pk}/plan/{plan.pk}/report.{kind}")
        assert export.status_code in (200, 302), kind


def test_the_load_plan_291_command_loads_it_and_refuses_without_a_tree(db, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_plan_291")
    assert not Plan.objects.exists()


def test_plan_99s_targets_are_still_edited_with_their_own_fields(client_for, cast, plan_data, tree):
    from associations.models import StaffProfile

    StaffProfile.objects.filter(user=cast.manager).update(branch=tree.city)  # a manager of the city
    board = plan_data.board
    response = client_for(cast.manager).get(f"/plans/{board.plan_id}/targets/{board.pk}/edit/")
    assert "definition" not in response.context["form"].fields
    data = {
        "indicator": "board_coverage",
        "threshold_percent": "75",
        "deadline": "31/12/2020",
        "root_branch": tree.city.pk,
        "applies_to_level": "",
        "organization_kinds": ["agency", "public_service", "armed_forces"],
        "position": "0",
        "milestones": "",
    }
    response = client_for(cast.manager).post(f"/plans/{board.plan_id}/targets/{board.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    # Plan 99 has figures: the change went into a new version, the old target is as it was.
    board.refresh_from_db()
    assert board.threshold_percent == Decimal(70)
    new = Target.objects.get(plan__previous_version=board.plan, indicator="board_coverage")
    assert (new.threshold_percent, new.definition) == (Decimal(75), board.definition)


def test_each_milestone_year_has_a_row_and_stands_on_the_time_axis_by_its_date(
    client_for, cast, tree, boards_definition
):
    from plans.selectors import dashboard_for
    from plans.timeline import YearStatus, day_number, timeline_chart_data, year_rows

    org_with_board(tree.phuc_xa, kind=OrganizationKind.AGENCY)  # board founded 01/01/2018: 1 of 2 from then on
    OrganizationFactory(branch=tree.truc_bach, kind=OrganizationKind.AGENCY)
    plan = enter_plan(client_for(cast.manager), tree, boards_definition)
    indicators_recompute_all(today=TODAY)
    item = dashboard_for(tree.ba_dinh, plan=plan).targets[0]
    rows = {row.year: row for row in year_rows(item)}
    assert sorted(rows) == [2021, 2022, 2023, 2024, 2025, 2026, 2030]
    assert (rows[2025].milestone, rows[2025].figure.percent, rows[2025].status) == (
        Decimal(70),
        Decimal("50.00"),
        YearStatus.BELOW,
    )
    assert rows[2026].is_partial and rows[2026].figure.as_of == TODAY
    assert (rows[2030].figure, rows[2030].status) == (None, YearStatus.NOT_YET)
    timeline = timeline_chart_data(item)["timeline"]
    milestones = [m["x"] for m in timeline["milestones"]]
    assert milestones == [day_number(D(2025, 12, 31)), day_number(D(2030, 12, 31))]
    points = [p["x"] for p in timeline["points"]]
    assert points[-1] == day_number(TODAY) and points[-1] - points[-2] == 181  # 31/12/2025 → 30/06/2026
    assert timeline["min"] == day_number(D(2021, 1, 1)) and timeline["max"] == day_number(D(2030, 12, 31))


def test_the_excel_and_pdf_exports_work_for_a_catalogue_plan_with_its_year_table(
    client_for, cast, tree, boards_definition
):
    import io

    from openpyxl import load_workbook
    from pypdf import PdfReader

    org_with_board(tree.phuc_xa, kind=OrganizationKind.AGENCY)
    OrganizationFactory(branch=tree.truc_bach, kind=OrganizationKind.AGENCY)
    plan = enter_plan(client_for(cast.manager), tree, boards_definition)
    indicators_recompute_all(today=TODAY)
    leader = client_for(cast.district_leader)
    base = f"/plans/dashboard/{tree.ba_dinh.pk}/plan/{plan.pk}"
    response = leader.get(f"{base}/report.xlsx")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = [[cell.value for cell in row] for sheet in load_workbook(io.BytesIO(content)) for row in sheet.iter_rows()]
    assert any(row[0] and "Cơ quan có ban khuyến học" in str(row[0]) for row in rows)
    year_2025 = next(row for row in rows if row[0] == 2025)
    # the milestone (70 %) and the percentage (1 of 2) are fractions shown in percent format
    assert year_2025[1] == pytest.approx(0.70) and year_2025[3:6] == [1, 2, pytest.approx(0.50)]
    pdf = leader.get(f"{base}/report.pdf")
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Cơ quan có ban khuyến học" in text and "2030" in text and "Phường Phúc Xá" in text
