"""factory_boy factories for the registry (branches go through treebeard's add_root/add_child),
and the money records, which go through the services so that each has its ledger rows."""

import datetime

import factory
from django.contrib.auth import get_user_model

from associations.models import (
    Branch,
    BranchLevel,
    Member,
    MemberCategory,
    Organization,
    OrganizationHeadcount,
    OrganizationKind,
    StaffProfile,
    StaffRole,
)
from funds import services as fund_services
from scholarships import services as scholarship_services
from scholarships.models import AwardCategory, RecipientKind

PASSWORD = "Mat-khau-thu-nghiem-2025"


def make_branch(name: str, level: str, parent: Branch | None = None, **fields) -> Branch:
    if parent is None:
        return Branch.objects.add_root({"name": name, "level": level, **fields})
    parent.refresh_from_db()
    return Branch.objects.add_child(parent, {"name": name, "level": level, **fields})


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Người dùng"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.vn")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save(update_fields=["password"])


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    role = StaffRole.CLERK


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Cơ quan số {n}")
    kind = OrganizationKind.AGENCY
    active_from = datetime.date(2010, 1, 1)


class HeadcountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationHeadcount

    year = 2017


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    full_name = factory.Sequence(lambda n: f"Hội viên Thử {n}")
    category = MemberCategory.CIVIL_SERVANT
    joined_on = datetime.date(2018, 3, 1)


# --- Money: through the services, as a clerk would record it ---------------------------------

DAY = datetime.date(2017, 3, 15)


def donate(actor, fund, amount, day=DAY, **extra):
    fields = {"donor_name": "Nguyễn Văn Ấn", "donor_kind": "individual"}
    fields.update(extra)
    return fund_services.donation_record(actor=actor, fund=fund, amount=amount, received_on=day, **fields)


def make_round(actor, branch, fund, **extra):
    fields = {"name": "Học bổng năm học 2016-2017", "school_year": "2016-2017", "awarded_on": DAY}
    fields.update(extra)
    return scholarship_services.round_create(actor=actor, branch=branch, fund=fund, **fields)


def pay(actor, scholarship_round, amount, day=DAY, **extra):
    fields = {
        "recipient_kind": RecipientKind.PUPIL,
        "recipient_name": "Lê Thị Bích",
        "category": AwardCategory.HARDSHIP,
        "date_of_birth": datetime.date(2005, 4, 2),
    }
    fields.update(extra)
    return scholarship_services.award_pay(
        actor=actor, scholarship_round=scholarship_round, amount=amount, paid_on=day, **fields
    )


# --- Plan 99 on the cast's tree -----------------------------------------------------------

# The dashboards' "today": the figures are computed as of this day, before Plan 99's deadline.
TODAY = datetime.date(2020, 6, 30)


BOARD_FOUNDED = datetime.date(2018, 1, 1)


def org_with_board(branch, kind=OrganizationKind.AGENCY, founded_on=BOARD_FOUNDED, **fields):
    organization = OrganizationFactory(branch=branch, kind=kind, **fields)
    if founded_on is not None:
        make_branch(
            f"Ban {organization.name}", BranchLevel.BOARD, branch, organization=organization, founded_on=founded_on
        )
    return organization
