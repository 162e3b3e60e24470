"""factory_boy factories for the registry. Branches go through treebeard's add_root/add_child."""

import datetime

import factory
from django.contrib.auth import get_user_model

from associations.models import (
    Branch,
    Member,
    MemberCategory,
    Organization,
    OrganizationHeadcount,
    OrganizationKind,
    StaffProfile,
    StaffRole,
)

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
