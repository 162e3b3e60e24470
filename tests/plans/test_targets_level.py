"""A target's level (Target.applies_to_level) decides how each branch is judged: a commune on
its own figure, a branch above by how many of its communes meet the target, a branch below
not at all; a target for the city alone is judged at the city. Stored values are written
directly: the dashboard reads only them."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from associations.models import BranchLevel
from plans.models import IndicatorDefinition, IndicatorValue, Plan, Target
from plans.selectors import Status, dashboard_for, level_view
from tests.factories import make_branch

D = datetime.date
NOW, YEAR_AGO = D(2025, 12, 31), D(2024, 12, 31)


def _target(tree, level: str, code: str) -> Target:
    plan, _created = Plan.objects.get_or_create(
        issuing_branch=tree.city,
        code="7/KH-KHHN",
        defaults={"title": "Kế hoạch thử", "issued_on": D(2021, 1, 5), "starts_on": D(2021, 1, 1),
                  "ends_on": D(2030, 12, 31)},
    )  # fmt: skip
    definition = IndicatorDefinition.objects.create(
        code=code,
        name=f"Chỉ tiêu {code}",
        numerator_measure="registry.organizations_with_board",
        denominator_measure="registry.organizations",
    )
    return Target.objects.create(
        plan=plan,
        definition=definition,
        threshold_percent=Decimal(80),
        deadline=D(2030, 12, 31),
        root_branch=tree.city,
        applies_to_level=level,
        position=plan.targets.count(),
    )


def _store(target, values: dict) -> None:
    """{branch: {day: (numerator, denominator)}} as the recompute stores them."""
    computed_at = timezone.now()
    IndicatorValue.objects.bulk_create(
        IndicatorValue(target=target, branch=branch, as_of=day, numerator=n, denominator=d, computed_at=computed_at)
        for branch, days in values.items()
        for day, (n, d) in days.items()
    )


def commune_target(tree) -> Target:
    """Phúc Xá 90% (met), Trúc Bạch 50% up from 20% (on track), Hàng Bạc 60% flat (behind)."""
    target = _target(tree, BranchLevel.COMMUNE, "each-commune")
    _store(
        target,
        {
            tree.phuc_xa: {NOW: (9, 10), YEAR_AGO: (8, 10)},
            tree.truc_bach: {NOW: (5, 10), YEAR_AGO: (2, 10)},
            tree.hang_bac: {NOW: (6, 10), YEAR_AGO: (6, 10)},
            tree.ba_dinh: {NOW: (14, 20), YEAR_AGO: (10, 20)},
            tree.hoan_kiem: {NOW: (6, 10), YEAR_AGO: (6, 10)},
            tree.city: {NOW: (20, 30), YEAR_AGO: (20, 30)},
        },
    )
    return target


def city_target(tree) -> Target:
    target = _target(tree, BranchLevel.CITY, "city-only")
    _store(
        target,
        {
            tree.city: {NOW: (20, 30), YEAR_AGO: (20, 30)},
            tree.ba_dinh: {NOW: (14, 20), YEAR_AGO: (10, 20)},
            tree.hoan_kiem: {NOW: (6, 10), YEAR_AGO: (6, 10)},
            tree.phuc_xa: {NOW: (9, 10)},
        },
    )
    return target


def card(html: str, key: str) -> str:
    return html.split(f'data-testid="target-{key}"')[1].split("</article>")[0]


def text_of(html: str, testid: str) -> str:
    """The text of the first element with this test id, tags removed, spaces collapsed
    (numbers are asserted, not wording: the strings are translated later)."""
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(p|td|div)>', html, re.S)
    assert match, testid
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_branch_is_judged_at_the_level_above_on_or_below_the_targets_level():
    assert level_view("commune", "commune") == "level"
    assert level_view("city", "commune") == "above"
    assert level_view("district", "commune") == "above"
    assert level_view("chapter", "commune") == "below"
    assert level_view("district", "city") == "below"
    assert level_view("district", "") == ""


def drill_down(client, branch, target, **query) -> str:
    """A target's table of the branches below, as the dashboard loads it when opened."""
    url = f"/plans/dashboard/{branch.pk}/target/{target.pk}/children/"
    return client.get(url, query, HTTP_HX_REQUEST="true").content.decode()


def test_the_city_leader_sees_how_many_communes_meet_a_target_for_each_commune(tree, cast, client_for):
    target = commune_target(tree)
    item = dashboard_for(tree.city).targets[0]
    share = item.level_share
    assert (share.met, share.total, share.on_track, share.behind) == (1, 3, 1, 1)
    # The roll-up (66.67%) is shown, but one commune behind makes the city behind.
    assert item.status == Status.BEHIND
    rows = {row.branch.name: row for row in item.children}
    assert (rows["Quận Ba Đình"].level_share.met, rows["Quận Ba Đình"].level_share.total) == (1, 2)
    assert rows["Quận Ba Đình"].status == Status.ON_TRACK  # one met, the other on track
    assert rows["Quận Hoàn Kiếm"].status == Status.BEHIND

    html = card(client_for(cast.city_leader).get(f"/plans/dashboard/{tree.city.pk}/").content.decode(), "each-commune")
    assert text_of(html, "percent") == "1/3"
    assert "1" in text_of(html, "level-share") and "(33,33%)" in text_of(html, "level-share")
    assert "status-behind" in html
    assert text_of(html, "gap").startswith("2 ")  # communes still below the target
    assert "1 " in text_of(html, "projection") and "66,67% (20" in text_of(html, "rolled-up")
    table = drill_down(client_for(cast.city_leader), tree.city, target).split('data-testid="children-each-commune"')[1]
    shares = re.findall(r'data-testid="level-share">([^<]*)<', table)
    assert [share.split()[0] for share in shares] == ["1/2", "0/1"]  # each district's communes meeting it


def test_a_district_leader_sees_her_communes_share_and_each_commune_judged_with_its_gap(tree, cast, client_for):
    commune_target(tree)
    item = dashboard_for(tree.ba_dinh).targets[0]
    assert (item.level_view, item.level_share.met, item.level_share.total, item.status) == (
        "above",
        1,
        2,
        Status.ON_TRACK,
    )
    rows = {row.branch.name: row for row in item.children}
    assert rows["Phường Phúc Xá"].status == Status.MET
    assert (rows["Phường Trúc Bạch"].status, rows["Phường Trúc Bạch"].now.gap) == (Status.ON_TRACK, 3)
    html = card(
        client_for(cast.district_leader).get(f"/plans/dashboard/{tree.ba_dinh.pk}/").content.decode(), "each-commune"
    )
    assert text_of(html, "percent") == "1/2" and "status-on_track" in html


def test_a_commune_is_judged_on_its_own_figure_and_its_chapters_are_not_judged(tree, cast, client_for):
    target = commune_target(tree)
    chapter = make_branch("Chi hội Tổ dân phố 1", BranchLevel.CHAPTER, tree.phuc_xa, code="c1")
    _store(target, {chapter: {NOW: (1, 5)}})
    item = dashboard_for(tree.truc_bach).targets[0]
    assert (item.level_view, item.status, item.now.gap) == ("level", Status.ON_TRACK, 3)
    assert item.projection.will_meet
    html = card(
        client_for(cast.commune_clerk).get(f"/plans/dashboard/{tree.phuc_xa.pk}/").content.decode(), "each-commune"
    )
    assert text_of(html, "percent") == "90,00%" and "status-met" in html
    chapter_row = drill_down(client_for(cast.commune_clerk), tree.phuc_xa, target).split("Chi hội Tổ dân phố 1")[2]
    chapter_row = chapter_row.split("</tr>")[0]
    assert "status-not_judged" in chapter_row and "—" in chapter_row


def test_a_target_for_the_city_alone_is_judged_at_the_city_and_not_at_a_district(tree, cast, client_for):
    city_target(tree)
    city = dashboard_for(tree.city).targets[0]
    assert (city.level_view, city.status, city.now.gap) == ("level", Status.BEHIND, 4)  # 24 of 30 needed
    assert {row.status for row in city.children} == {Status.NOT_JUDGED}
    district = dashboard_for(tree.ba_dinh).targets[0]
    assert (district.level_view, district.status) == ("below", Status.NOT_JUDGED)
    html = card(
        client_for(cast.district_leader).get(f"/plans/dashboard/{tree.ba_dinh.pk}/").content.decode(), "city-only"
    )
    assert text_of(html, "percent") == "70,00%"  # the district's figure is still shown
    assert "status-not_judged" in html and "“Hội Khuyến học thành phố / tỉnh”" in text_of(html, "gap")
    assert 'data-testid="projection"' not in html  # no projection where it is not judged


def test_a_target_without_a_level_is_still_judged_at_every_branch(tree):
    target = commune_target(tree)
    Target.objects.filter(pk=target.pk).update(applies_to_level="")
    item = dashboard_for(tree.city).targets[0]
    assert (item.level_view, item.level_share) == ("", None)
    assert item.status == Status.BEHIND and item.now.gap == 4


def _dashboard_queries(branch) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard_for(branch)
    return len(captured)


def test_judging_by_level_takes_one_query_more_whatever_the_number_of_communes(tree):
    target = commune_target(tree)
    small = _dashboard_queries(tree.city)
    for number in range(8):
        commune = make_branch(f"Phường Mới {number}", BranchLevel.COMMUNE, tree.hoan_kiem, code=f"09{number}")
        _store(target, {commune: {NOW: (8 + number % 2, 10), YEAR_AGO: (5, 10)}})
    assert _dashboard_queries(tree.city) == small
    share = dashboard_for(tree.city).targets[0].level_share
    assert (share.met, share.total) == (9, 11)
    Target.objects.filter(pk=target.pk).update(applies_to_level="")
    assert _dashboard_queries(tree.city) == small - 1


def test_the_exports_carry_the_judging_by_level(tree, cast, client_for):
    commune_target(tree)
    plan = city_target(tree).plan
    client = client_for(cast.city_leader)
    for kind in ("xlsx", "pdf"):
        response = client.get(f"/plans/dashboard/{tree.city.pk}/plan/{plan.pk}/report.{kind}")
        assert response.status_code in (200, 302), kind
    district = client_for(cast.district_leader).get(f"/plans/dashboard/{tree.ba_dinh.pk}/plan/{plan.pk}/report.pdf")
    assert district.status_code in (200, 302)
