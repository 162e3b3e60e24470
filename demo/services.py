"""Demo set-up for `make run`: Hanoi's maps, a synthetic sample of every district, Hanoi's
three reorganisations applied with the demo's own decisions (today's map of 126 communes, with
its history), community learning centres and some of their activities, Plans 99 and 291 with
their indicators computed, the report periods of 2026 open with some reports sent, and one
account per role with a published password.

The sample is the generator's `small` scale (about 1/100 of Hanoi: some 200 organisations,
10 000 members, 15 000 donations and some 1 750 awards of a few hundred thousand to a few
million đồng over 2015–2020) with a fixed seed.
Every name, address and ID in it is generated; the banner of every page says so. The
reorganisations' decisions (demo/data/hanoi-rounds-decisions.csv) are the demo's choice for
its synthetic records, not official decisions.

Idempotent: a second run changes nothing (rounds already applied are a no-op, also when
`generate_hanoi` applied them; centres, activities, plans, periods and reports are made once).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from associations.maps import HANOI_MAPS, hanoi_map_load
from associations.models import (
    Branch,
    BranchLevel,
    LineageEdge,
    Member,
    Organization,
    Reorganisation,
    StaffProfile,
    StaffRole,
)
from centres.models import Activity, ActivityKind, Centre, FundingSource
from centres.services import activities_record, centres_create_for_communes
from demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccountSpec
from demo.generator import generate_hanoi
from demo.generator.rounds import scheduled_recomputes_dropped, split_totals_reentered
from funds.models import Donation, Fund
from plans.models import IndicatorValue, Plan
from plans.services import indicators_recompute_all, plan_291_load
from reorganisation.rounds import hanoi_rounds_run, parse_policy
from reporting.models import Period, PeriodKind, Report
from reporting.services import deadlines_save, period_create, report_approve, report_submit, report_values_save
from scholarships.models import Award

DEMO_SCALE = "small"
DEMO_SEED = 2017
DECISIONS_FILE = Path(__file__).resolve().parent / "data" / "hanoi-rounds-decisions.csv"
NEW_MAP_DAY = datetime.date(2025, 7, 1)
# The days centres are founded for the communes then in force: the oldest map's, then after each round.
CENTRE_DAYS = [datetime.date(2015, 1, 1), datetime.date(2020, 1, 1), datetime.date(2025, 1, 1), NEW_MAP_DAY]
REPORT_YEAR = 2026
# Deadlines of the 2026 periods, per reporting level (there is no district level since 01/07/2025).
REPORT_DEADLINES = {
    PeriodKind.HALF_YEAR: {
        BranchLevel.COMMUNE: datetime.date(2026, 7, 15),
        BranchLevel.CITY: datetime.date(2026, 7, 31),
    },
    PeriodKind.YEAR: {
        BranchLevel.COMMUNE: datetime.date(2027, 1, 15),
        BranchLevel.CITY: datetime.date(2027, 1, 31),
    },
}
REPORTING_COMMUNES = 10  # the half-year 2026 reports sent, of today's first communes by code
APPROVED_COMMUNES = 6  # of which approved by the city
ACTIVITY_COMMUNES = ["00004", "00097", "00070", "00008", "00025"]  # today's codes
ACTIVITIES = [
    (ActivityKind.IT, "Kỹ năng số cho người cao tuổi", 8, 160, 2, 4_000_000, FundingSource.ASSOCIATION),
    (ActivityKind.LAW, "Phổ biến pháp luật về đất đai", 2, 120, 1, 0, FundingSource.NONE),
    (ActivityKind.HEALTH, "Chăm sóc sức khỏe gia đình", 3, 90, 1, 1_500_000, FundingSource.CONTRIBUTIONS),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    branch: str
    note: str = ""


@dataclass(frozen=True)
class DemoData:
    label: str
    count: int


def demo_data_load() -> None:
    """The synthetic sample, once: skipped when the registry already holds organisations."""
    if not Organization.objects.exists():
        # On the 2017 map only: the demo's accounts are made there, then its own recorded
        # decisions apply the rounds (generate_hanoi's default applies them by rule). The money
        # of 2020 already avoids the funds the first round will close.
        generate_hanoi(scale=DEMO_SCALE, seed=DEMO_SEED, rounds=0, rounds_later=True)


def demo_data_counts() -> list[DemoData]:
    """What the demo database holds, counted from the tables (the same on every run)."""
    today = timezone.localdate()
    return [
        DemoData("branches (city, districts, communes, chapters, boards)", Branch.objects.count()),
        DemoData(
            "communes in force today",
            Branch.objects.active_on(today).filter(level=BranchLevel.COMMUNE).count(),
        ),
        DemoData(
            "chapters and boards",
            Branch.objects.filter(level__in=[BranchLevel.CHAPTER, BranchLevel.BOARD]).count(),
        ),
        DemoData(
            "reorganisations applied",
            Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED).count(),
        ),
        DemoData("lineage edges (predecessor → successor)", LineageEdge.objects.count()),
        DemoData("organisations", Organization.objects.count()),
        DemoData("members", Member.objects.count()),
        DemoData("funds", Fund.objects.count()),
        DemoData("donations", Donation.objects.count()),
        DemoData("award turns", Award.objects.count()),
        DemoData("community learning centres", Centre.objects.count()),
        DemoData("centre activities", Activity.objects.count()),
        DemoData("plans", Plan.objects.count()),
        DemoData("report periods", Period.objects.count()),
        DemoData("reports", Report.objects.count()),
        DemoData("indicator values", IndicatorValue.objects.count()),
    ]


def demo_decisions():
    """The demo's decisions for Hanoi's rounds, read from its data file ('#' lines skipped)."""
    lines = DECISIONS_FILE.read_bytes().splitlines(keepends=True)
    return parse_policy(b"".join(line for line in lines if not line.startswith(b"#")))


def _today_branch(spec: DemoAccountSpec) -> Branch:
    code, founded = spec.branch
    founded_on = datetime.date.fromisoformat(founded) if founded else None
    return Branch.objects.get(code=code, founded_on=founded_on)


def _user(spec: DemoAccountSpec):
    user_model = get_user_model()
    last_name, _sep, first_name = spec.full_name.partition(" ")
    user, created = user_model.objects.get_or_create(
        username=spec.username,
        defaults={"first_name": first_name, "last_name": last_name, "email": f"{spec.username}@example.vn"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user, created


def accounts_before_rounds() -> None:
    """The accounts whose story starts on the 2017 map, made there before the rounds so that the
    demo's decisions move them; skipped once they exist or when their branch is already dissolved
    (the rounds were applied without them: they are then made on today's map)."""
    for spec in DEMO_ACCOUNTS:
        if spec.starts_on_2017 is None or get_user_model().objects.filter(username=spec.username).exists():
            continue
        branch = Branch.objects.filter(
            code=spec.starts_on_2017, founded_on__isnull=True, dissolved_on__isnull=True
        ).first()
        if branch is None:
            continue
        user, _created = _user(spec)
        StaffProfile.objects.create(user=user, branch=branch, role=spec.role)


def accounts_on_todays_map() -> list[DemoAccount]:
    """Every demo account where it is on today's map (a no-op for those the rounds moved there)."""
    accounts = []
    for spec in DEMO_ACCOUNTS:
        user, _created = _user(spec)
        if spec.role is None:
            if not (user.is_staff and user.is_superuser):
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            accounts.append(DemoAccount(spec.username, "administrator", "(all branches)"))
            continue
        branch = _today_branch(spec)
        profile = StaffProfile.objects.filter(user=user).first()
        if profile is None:
            StaffProfile.objects.create(user=user, branch=branch, role=spec.role)
        elif (profile.branch_id, profile.role) != (branch.pk, spec.role):
            profile.branch, profile.role = branch, spec.role
            profile.save(update_fields=["branch", "role"])
        note = ""
        if spec.starts_on_2017:
            before = Branch.objects.filter(code=spec.starts_on_2017, founded_on__isnull=True).first()
            if before is not None and before.dissolved_on:
                note = f"was {before.name}, dissolved {before.dissolved_on:%d/%m/%Y}"
        if branch.founded_on:
            since = f"from {branch.founded_on:%d/%m/%Y}"
            note = f"{since}; {note}" if note else since
        accounts.append(DemoAccount(spec.username, str(StaffRole(spec.role).label), branch.name, note))
    return accounts


def rounds_apply() -> bool:
    """Hanoi's three rounds with the demo's decisions; rounds already applied are a no-op.
    Each apply re-homes the learning titles' records dated on or after its effective day
    itself; after each round applied, the demo's clerks enter again, for a new unit, the
    eligible totals the apply left on the units it split (`split_totals_reentered`, as
    `generate_hanoi` does), before the next round is planned. Answers whether a round was
    applied now."""
    outcomes = hanoi_rounds_run(actor=None, policy=demo_decisions(), apply=True, after_apply=split_totals_reentered)
    return any(outcome.result is not None and outcome.result.applied for outcome in outcomes)


def centres_load(actor) -> int:
    """Centres for the communes in force on each map, and a few activities of today's centres of
    a handful of communes (once). Answers how many rows it wrote."""
    written = sum(centres_create_for_communes(actor=None, as_of=day) for day in CENTRE_DAYS)
    centres = list(
        Centre.objects.filter(
            branch__code__in=ACTIVITY_COMMUNES, branch__founded_on=NEW_MAP_DAY, founded_on=NEW_MAP_DAY
        ).select_related("branch")
    )
    if not centres or Activity.objects.filter(centre__in=centres).exists():
        return written
    today = timezone.localdate()
    root = Branch.objects.city_root()
    activities = []
    for number, centre in enumerate(sorted(centres, key=lambda c: c.branch.code)):
        for offset, (kind, title, sessions, turns, instructors, funding, source) in enumerate(ACTIVITIES):
            starts_on = min(NEW_MAP_DAY + datetime.timedelta(days=30 * (number + 2 * offset) + 10), today)
            activities.append(
                Activity(
                    centre=centre,
                    kind=kind,
                    title=title,
                    starts_on=starts_on,
                    ends_on=starts_on + datetime.timedelta(days=7 * sessions),
                    sessions=sessions,
                    participant_turns=turns + 10 * number,
                    instructors=instructors,
                    funding=funding,
                    funding_source=source,
                )
            )
    return written + len(activities_record(actor=actor, root=root, activities=activities))


def reports_load(*, manager, admin) -> int:
    """The 2026 half-year and year periods with deadlines; some communes' half-year reports
    sent and approved (once). Answers how many periods or reports it made."""
    made = 0
    periods = {}
    for kind, due in REPORT_DEADLINES.items():
        existed = Period.objects.filter(kind=kind, year=REPORT_YEAR).exists()
        periods[kind] = period_create(actor=admin, kind=kind, year=REPORT_YEAR)
        if not existed:
            deadlines_save(actor=admin, period=periods[kind], due=dict(due))
            made += 1
    half_year = periods[PeriodKind.HALF_YEAR]
    if Report.objects.filter(period=half_year).exists():
        return made
    communes = list(
        Branch.objects.active_on(timezone.localdate())
        .filter(level=BranchLevel.COMMUNE)
        .order_by("code")[:REPORTING_COMMUNES]
    )
    clerks = {
        profile.branch_id: profile.user
        for profile in StaffProfile.objects.filter(
            branch__in=communes, role=StaffRole.CLERK, user__username__in=[s.username for s in DEMO_ACCOUNTS]
        ).select_related("user")
    }
    for number, commune in enumerate(communes):
        clerk = clerks.get(commune.pk, admin)
        report = report_values_save(actor=clerk, period=half_year, branch=commune, values={})
        report = report_submit(actor=clerk, report=report)
        if number < APPROVED_COMMUNES:
            report_approve(actor=manager, report=report)
        made += 1
    return made


@transaction.atomic
def demo_setup() -> list[DemoAccount]:
    for vintage in HANOI_MAPS:
        hanoi_map_load(vintage=vintage)
    demo_data_load()
    accounts_before_rounds()
    changed = rounds_apply()
    accounts = accounts_on_todays_map()
    user_model = get_user_model()
    admin = user_model.objects.get(username="admin")
    manager = user_model.objects.get(username="quanly.hanoi")
    changed |= bool(centres_load(admin))
    plans_before = Plan.objects.count()
    plan_291_load()
    changed |= Plan.objects.count() != plans_before
    changed |= bool(reports_load(manager=manager, admin=admin))
    if changed:
        indicators_recompute_all(today=timezone.localdate())
        scheduled_recomputes_dropped()  # just done: not again after the commit
    return accounts
