"""Demo set-up for `make run`: Hanoi's maps, a synthetic sample of every district, Plan 99 with
its indicators computed, and one account per role with a published password.

The sample is the generator's `small` scale (about 1/100 of Hanoi: some 200 organisations,
10 000 members, 15 000 donations and 35 000 award turns over 2015–2020) with a fixed seed.
Every name, address and ID in it is generated; the banner of every page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from associations.maps import HANOI_MAPS, hanoi_map_load
from associations.models import Branch, BranchLevel, Member, Organization, StaffProfile, StaffRole
from demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from demo.generator import generate_hanoi
from funds.models import Donation, Fund
from plans.models import IndicatorValue, Plan
from scholarships.models import Award

DEMO_SCALE = "small"
DEMO_SEED = 2017


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    branch: str


@dataclass(frozen=True)
class DemoData:
    label: str
    count: int


def demo_data_load() -> None:
    """The synthetic sample, once: skipped when the registry already holds organisations."""
    if not Organization.objects.exists():
        generate_hanoi(scale=DEMO_SCALE, seed=DEMO_SEED)


def demo_data_counts() -> list[DemoData]:
    """What the demo database holds, counted from the tables (the same on every run)."""
    return [
        DemoData("branches (city, districts, communes, chapters, boards)", Branch.objects.count()),
        DemoData(
            "chapters and boards",
            Branch.objects.filter(level__in=[BranchLevel.CHAPTER, BranchLevel.BOARD]).count(),
        ),
        DemoData("organisations", Organization.objects.count()),
        DemoData("members", Member.objects.count()),
        DemoData("funds", Fund.objects.count()),
        DemoData("donations", Donation.objects.count()),
        DemoData("award turns", Award.objects.count()),
        DemoData("plans", Plan.objects.count()),
        DemoData("indicator values", IndicatorValue.objects.count()),
    ]


@transaction.atomic
def demo_setup() -> list[DemoAccount]:
    for vintage in HANOI_MAPS:
        hanoi_map_load(vintage=vintage)
    demo_data_load()

    User = get_user_model()
    accounts = []
    for username, full_name, role, code in DEMO_ACCOUNTS:
        last_name, _sep, first_name = full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "last_name": last_name, "email": f"{username}@example.vn"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        if role is None:
            user.is_staff = user.is_superuser = True
            user.save()
            accounts.append(DemoAccount(username, "administrator", "(all branches)"))
            continue
        user.save()
        branch = Branch.objects.get(code=code, founded_on__isnull=True)
        StaffProfile.objects.update_or_create(user=user, defaults={"branch": branch, "role": role})
        accounts.append(DemoAccount(username, str(StaffRole(role).label), branch.name))
    return accounts
