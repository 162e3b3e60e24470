"""A small but complete data set written through the services: registry, money, plans."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from associations.models import BranchLevel, MemberCategory
from plans.services import indicators_recompute_all, plan_99_load
from tests.factories import (
    DAY,
    HeadcountFactory,
    MemberFactory,
    OrganizationFactory,
    donate,
    make_branch,
    make_round,
    pay,
)


def fill(tree, cast, funds, *, members: int = 20) -> SimpleNamespace:
    organizations = []
    for n, branch in enumerate([tree.phuc_xa, tree.phuc_xa, tree.truc_bach, tree.hang_bac]):
        organization = OrganizationFactory(branch=branch)
        if n % 2 == 0:
            make_branch(f"Ban {organization.name}", BranchLevel.BOARD, branch, organization=organization)
        HeadcountFactory(organization=organization, year=2019, civil_servants=10 + n, workers=n)
        organizations.append(organization)
    for n in range(members):
        organization = organizations[n % len(organizations)]
        MemberFactory(branch=organization.branch, organization=organization, category=MemberCategory.CIVIL_SERVANT)
    donations = [donate(cast.commune_clerk, funds.phuc_xa, 1_000_000 * (n + 1)) for n in range(5)]
    donate(cast.sibling_clerk, funds.hoan_kiem, 7_000_000)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)
    awards = [pay(cast.commune_clerk, scholarship_round, 500_000) for _ in range(3)]
    plan = plan_99_load()
    indicators_recompute_all(today=datetime.date(2020, 6, 30))
    return SimpleNamespace(
        organizations=organizations, donations=donations, round=scholarship_round, awards=awards, plan=plan, day=DAY
    )
