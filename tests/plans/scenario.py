"""A hand-built tree whose indicator figures were counted by hand (see the tables in
test_indicators.py). Used in-process and, for the SQLite/PostgreSQL comparison, by a
subprocess on a fresh SQLite database — so it needs nothing but the ORM."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from associations.models import BranchLevel, MemberCategory, OrganizationKind
from tests.factories import HeadcountFactory, MemberFactory, OrganizationFactory, make_branch

D = datetime.date
AGENCY, PUBLIC, ARMED, ENTERPRISE = (
    OrganizationKind.AGENCY,
    OrganizationKind.PUBLIC_SERVICE,
    OrganizationKind.ARMED_FORCES,
    OrganizationKind.ENTERPRISE,
)


def _board(name, parent, organization, level=BranchLevel.BOARD, **dates):
    return make_branch(name, level, parent, organization=organization, **dates)


def build_scenario(prefix: str = "S") -> SimpleNamespace:
    """City → (Ba Đình → Phúc Xá, Trúc Bạch), (Hoàn Kiếm → Hàng Bạc), with organisations,
    boards, members and headcounts chosen to exercise every rule of the two indicators."""
    city = make_branch(f"{prefix} Thành phố Hà Nội", BranchLevel.CITY)
    ba_dinh = make_branch(f"{prefix} Quận Ba Đình", BranchLevel.DISTRICT, city)
    phuc_xa = make_branch(f"{prefix} Phường Phúc Xá", BranchLevel.COMMUNE, ba_dinh)
    truc_bach = make_branch(f"{prefix} Phường Trúc Bạch", BranchLevel.COMMUNE, ba_dinh)
    hoan_kiem = make_branch(f"{prefix} Quận Hoàn Kiếm", BranchLevel.DISTRICT, city)
    hang_bac = make_branch(f"{prefix} Phường Hàng Bạc", BranchLevel.COMMUNE, hoan_kiem)

    def org(name, kind, branch, **fields):
        return OrganizationFactory(name=f"{prefix} {name}", kind=kind, branch=branch, **fields)

    # Phúc Xá
    a1 = org("A1 UBND phường", AGENCY, phuc_xa)
    _board("Ban A1", phuc_xa, a1, founded_on=D(2018, 5, 1))
    a2 = org("A2 Trạm y tế", PUBLIC, phuc_xa)
    _board("Ban A2", phuc_xa, a2, founded_on=D(2015, 1, 1), dissolved_on=D(2019, 6, 30))
    a3 = org("A3 Đồn công an", ARMED, phuc_xa)
    _board("Chi hội A3", phuc_xa, a3, level=BranchLevel.CHAPTER)  # founding date unknown
    a4 = org("A4 Công ty may", ENTERPRISE, phuc_xa)
    _board("Ban A4", phuc_xa, a4, founded_on=D(2016, 1, 1))  # an enterprise: outside the board scope
    a5 = org("A5 Ban quản lý mới", AGENCY, phuc_xa, active_from=D(2020, 3, 1))
    _board("Ban A5", phuc_xa, a5, founded_on=D(2020, 4, 1))
    # Trúc Bạch
    org("B1 Trường mầm non", AGENCY, truc_bach)
    b2 = org("B2 Phòng văn hoá", AGENCY, truc_bach)
    _board("Ban B2", truc_bach, b2, founded_on=D(2020, 1, 15))
    b3 = org("B3 Hợp tác xã", AGENCY, truc_bach, active_to=D(2019, 12, 31))
    _board("Ban B3", truc_bach, b3, founded_on=D(2016, 1, 1))
    b4 = org("B4 Nhà văn hoá", AGENCY, truc_bach)
    _board("Ban B4", truc_bach, b4, founded_on=D(2016, 1, 1), dissolved_on=D(2019, 12, 31))
    # Ba Đình itself
    d1 = org("D1 Phòng giáo dục quận", AGENCY, ba_dinh)
    _board("Ban D1", ba_dinh, d1, founded_on=D(2017, 1, 1))
    # Hàng Bạc
    c1 = org("C1 Bệnh viện", PUBLIC, hang_bac)
    _board("Ban C1", hang_bac, c1, founded_on=D(2017, 1, 1))
    c2 = org("C2 Ủy ban phường", AGENCY, hang_bac)
    _board("Ban C2", hang_bac, c2, founded_on=D(2017, 1, 1))
    _board("Chi hội C2", hang_bac, c2, level=BranchLevel.CHAPTER, founded_on=D(2017, 6, 1))

    # Members (joined 01/03/2018 unless said otherwise)
    for _ in range(3):
        MemberFactory(branch=phuc_xa, organization=a1, category=MemberCategory.CIVIL_SERVANT)
    MemberFactory(branch=phuc_xa, organization=a1, category=MemberCategory.WORKER, left_on=D(2019, 6, 1))
    MemberFactory(branch=phuc_xa, organization=a1, category=MemberCategory.CADRE, left_on=D(2019, 12, 31))
    MemberFactory(branch=phuc_xa, organization=a1, category=MemberCategory.STUDENT)
    MemberFactory(branch=phuc_xa, organization=a1, category=MemberCategory.PARTY_MEMBER, joined_on=D(2020, 1, 1))
    for _ in range(2):
        MemberFactory(branch=phuc_xa, organization=a4, category=MemberCategory.WORKER)
    MemberFactory(branch=phuc_xa, organization=None, category=MemberCategory.CIVIL_SERVANT)
    # Lives in Hàng Bạc, works at A1 in Phúc Xá: counted in Phúc Xá.
    MemberFactory(branch=hang_bac, organization=a1, category=MemberCategory.CIVIL_SERVANT)
    MemberFactory(branch=hang_bac, organization=c1, category=MemberCategory.PUBLIC_EMPLOYEE)

    # Headcounts
    HeadcountFactory(organization=a1, year=2017, civil_servants=10, workers=5)
    HeadcountFactory(organization=a1, year=2019, civil_servants=8, workers=4, cadres=2)
    HeadcountFactory(organization=a1, year=2020, civil_servants=100)
    HeadcountFactory(organization=a4, year=2018, workers=6)
    HeadcountFactory(organization=a2, year=2016, party_members=4)
    HeadcountFactory(organization=c1, year=2021, public_employees=50)

    branches = SimpleNamespace(
        city=city, ba_dinh=ba_dinh, phuc_xa=phuc_xa, truc_bach=truc_bach, hoan_kiem=hoan_kiem, hang_bac=hang_bac
    )
    for branch in vars(branches).values():
        branch.refresh_from_db()
    return branches


def scenario_figures(branches: SimpleNamespace) -> dict:
    """Every figure of both indicators (and a one-category membership target) on the scenario's
    dates, keyed by "indicator date branch" — comparable across databases."""
    from plans.indicators import indicators_compute
    from plans.models import Indicator, Plan, Target

    plan = Plan.objects.create(
        code="S/KH",
        title="Scenario",
        issuing_branch=branches.city,
        issued_on=D(2017, 10, 23),
        starts_on=D(2017, 1, 1),
        ends_on=D(2020, 12, 31),
    )
    targets = {
        "board": Target.objects.create(
            plan=plan,
            indicator=Indicator.BOARD_COVERAGE,
            threshold_percent=70,
            deadline=D(2020, 12, 31),
            root_branch=branches.city,
            **Target.default_scope(Indicator.BOARD_COVERAGE),
        ),
        "membership": Target.objects.create(
            plan=plan,
            indicator=Indicator.CADRE_MEMBERSHIP,
            threshold_percent=60,
            deadline=D(2020, 12, 31),
            root_branch=branches.city,
            **Target.default_scope(Indicator.CADRE_MEMBERSHIP),
        ),
        "civil_servants": Target.objects.create(
            plan=plan,
            indicator=Indicator.CADRE_MEMBERSHIP,
            threshold_percent=60,
            deadline=D(2020, 12, 31),
            root_branch=branches.city,
            organization_kinds=[],
            member_categories=["civil_servant"],
        ),
    }
    names = {b.pk: key for key, b in vars(branches).items()}
    figures = {}
    for label, target in targets.items():
        for day in (D(2018, 1, 1), D(2018, 6, 30), D(2019, 12, 31)):
            values = indicators_compute(target=target, as_of=day)
            for branch_id, name in names.items():
                figures[f"{label} {day.isoformat()} {name}"] = list(values[branch_id])
    return figures
