"""A small city's learning records for the CDHT measures, counted by hand in the tests.

For 2025, Phường Phúc Xá holds: household H1 (3 of working age) recognised GĐHT, H2 (2)
registered only, H3 (4) recognised in 2024 only; village C1 (10) recognised CĐHT; clan K1
(5) recognised DHHT; unit U1 recognised ĐVHT with 30 staff in its 2025 headcount (20 in
2024); citizens recognised CDHT in 2025: A (H1, C1), B (H2, K1), F (works at U1), G (works
at U2, not titled); C (H1) only registered; D (H1) recognised in 2024.
Phường Trúc Bạch: household H4 (4) recognised GĐHT, citizen E (H4) recognised CDHT; unit U2
(50 staff) not titled. Phường Hàng Bạc: nothing.

By hand, 2025, own figures:
- workers in titled communities: Phúc Xá 3 + 10 + 5 = 18; Trúc Bạch 4;
- citizens recognised in titled communities: Phúc Xá A twice (H1, C1) + B once (K1) = 3;
  Trúc Bạch E = 1;
- staff of titled units: Phúc Xá 30; citizens recognised in titled units: Phúc Xá 1 (F).
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from associations.models import OrganizationHeadcount
from learning.models import SUBJECT_FIELDS, Decision, Registration, Stage, TitleKind
from tests.factories import OrganizationFactory
from tests.learning.factories import CitizenFactory, ClanFactory, CommunityFactory, HouseholdFactory

YEAR = 2025
TITLES = {
    "household": "gia-dinh-hoc-tap",
    "clan": "dong-ho-hoc-tap",
    "community": "cong-dong-hoc-tap",
    "organization": "don-vi-hoc-tap",
    "citizen": "cong-dan-hoc-tap",
}


def register(subject, field: str, branch, *, year: int = YEAR, recognised: bool = True) -> Registration:
    kind = TitleKind.objects.get(code=TITLES[field])
    assert SUBJECT_FIELDS[kind.subject_type] == field
    decision = None
    if recognised:
        decision, _created = Decision.objects.get_or_create(
            branch=branch,
            kind=kind,
            year=year,
            number=f"{kind.pk}/QĐ-UBND",
            decided_on=datetime.date(year, 11, 20),
            defaults={"body": f"Ủy ban nhân dân {branch.name}", "signer": "Nguyễn Văn Ký"},
        )
    return Registration.objects.create(
        kind=kind,
        year=year,
        branch=branch,
        stage=Stage.RECOGNISED if recognised else Stage.REGISTERED,
        registered_on=datetime.date(year, 2, 1),
        decision=decision,
        **{field: subject},
    )


def cdht_records(tree) -> SimpleNamespace:
    px, tb = tree.phuc_xa, tree.truc_bach
    h1 = HouseholdFactory(branch=px, people=5, working_people=3)
    h2 = HouseholdFactory(branch=px, people=3, working_people=2)
    h3 = HouseholdFactory(branch=px, people=6, working_people=4)
    h4 = HouseholdFactory(branch=tb, people=4, working_people=4)
    c1 = CommunityFactory(branch=px, working_people=10)
    k1 = ClanFactory(branch=px, working_people=5)
    u1 = OrganizationFactory(branch=px)
    u2 = OrganizationFactory(branch=tb)
    OrganizationHeadcount.objects.create(organization=u1, year=2024, cadres=5, workers=15)
    OrganizationHeadcount.objects.create(organization=u1, year=2025, cadres=10, workers=20)
    OrganizationHeadcount.objects.create(organization=u2, year=2025, workers=50)
    register(h1, "household", px)
    register(h2, "household", px, recognised=False)
    register(h3, "household", px, year=2024)
    register(h4, "household", tb)
    register(c1, "community", px)
    register(k1, "clan", px)
    register(u1, "organization", px)
    citizens = {
        "a": CitizenFactory(branch=px, household=h1, community=c1),
        "b": CitizenFactory(branch=px, household=h2, clan=k1),
        "c": CitizenFactory(branch=px, household=h1),
        "d": CitizenFactory(branch=px, household=h1),
        "e": CitizenFactory(branch=tb, household=h4),
        "f": CitizenFactory(branch=px, organization=u1),
        "g": CitizenFactory(branch=tb, organization=u2),
    }
    for name in ("a", "b", "e", "f", "g"):
        register(citizens[name], "citizen", citizens[name].branch)
    register(citizens["c"], "citizen", px, recognised=False)
    register(citizens["d"], "citizen", px, year=2024)
    return SimpleNamespace(h1=h1, h2=h2, h3=h3, h4=h4, c1=c1, k1=k1, u1=u1, u2=u2, **citizens)
