import datetime
from types import SimpleNamespace

import pytest

from associations.models import BranchLevel, MemberCategory, OrganizationKind
from plans.services import indicators_recompute_all, plan_99_load
from tests.factories import HeadcountFactory, MemberFactory, OrganizationFactory, make_branch

D = datetime.date
# The dashboards' "today": the figures are computed as of this day, before Plan 99's deadline.
TODAY = D(2020, 6, 30)


BOARD_FOUNDED = D(2018, 1, 1)


def _org_with_board(branch, kind=OrganizationKind.AGENCY, founded_on=BOARD_FOUNDED, **fields):
    organization = OrganizationFactory(branch=branch, kind=kind, **fields)
    if founded_on is not None:
        make_branch(
            f"Ban {organization.name}", BranchLevel.BOARD, branch, organization=organization, founded_on=founded_on
        )
    return organization


@pytest.fixture
def plan_data(tree):
    """Plan 99 on the cast's tree with a few organisations, members and headcounts, computed as of TODAY.

    Board coverage on TODAY: Phúc Xá 2/3, Trúc Bạch 0/1, Ba Đình 2/4, Hàng Bạc 1/1, city 3/5.
    Membership on TODAY: Phúc Xá 3 of 10, Hàng Bạc 1 of 2, city 4 of 12.
    """
    a1 = _org_with_board(tree.phuc_xa)
    _org_with_board(tree.phuc_xa, founded_on=D(2019, 9, 1))  # after 30/06/2019: not a year ago
    _org_with_board(tree.phuc_xa, founded_on=None)
    _org_with_board(tree.truc_bach, founded_on=None)
    c1 = _org_with_board(tree.hang_bac, kind=OrganizationKind.PUBLIC_SERVICE)
    for _ in range(3):
        MemberFactory(branch=tree.phuc_xa, organization=a1, category=MemberCategory.CIVIL_SERVANT)
    MemberFactory(branch=tree.hang_bac, organization=c1, category=MemberCategory.WORKER)
    HeadcountFactory(organization=a1, year=2019, civil_servants=10)
    HeadcountFactory(organization=c1, year=2018, workers=2)
    plan = plan_99_load()
    indicators_recompute_all(today=TODAY)
    return SimpleNamespace(
        plan=plan,
        board=plan.targets.get(indicator="board_coverage"),
        membership=plan.targets.get(indicator="cadre_membership"),
    )
