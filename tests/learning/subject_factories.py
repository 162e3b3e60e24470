"""Subjects of the learning titles, written directly (the services are what the tests try)."""

import factory

from learning.models import Citizen, Clan, Community, Household


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    head_name = factory.Sequence(lambda n: f"Chủ Hộ Số {n}")
    address = factory.Sequence(lambda n: f"Số {n} ngõ Phúc Xá")
    people = 4
    working_people = 2


class ClanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clan

    name = factory.Sequence(lambda n: f"Dòng họ Số {n}")
    representative = "Nguyễn Văn Trưởng"
    residence = "Phường Phúc Xá"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"Tổ dân phố số {n}")
    households = 120


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    full_name = factory.Sequence(lambda n: f"Công Dân Số {n}")
