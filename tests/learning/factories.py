"""Factories for the learning titles: subjects are made directly with the ORM (their services
are tested elsewhere); a title with its own criteria set, so that no test depends on the seed."""

import datetime

import factory

from learning.models import Citizen, Clan, Community, CriteriaSet, Criterion, Household, Level, TitleKind

YEAR = 2024
REGISTERED_ON = datetime.date(2024, 2, 1)
EVALUATED_ON = datetime.date(2024, 9, 1)
DECIDED_ON = datetime.date(2024, 11, 20)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    head_name = factory.Sequence(lambda n: f"Nguyễn Văn Hộ {n}")
    address = factory.Sequence(lambda n: f"Số {n} phố Phúc Xá")
    people = 4
    working_people = 2


class ClanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clan

    name = factory.Sequence(lambda n: f"Dòng họ Lê {n}")
    representative = "Lê Văn Trưởng"
    residence = "Phường Phúc Xá"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"Tổ dân phố số {n}")
    households = 120


class CitizenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citizen

    full_name = factory.Sequence(lambda n: f"Trần Thị Công Dân {n}")


def make_title(
    code="gd-thu", name="Gia đình học tập (thử)", subject_type="household", *, valid_from=2021, pass_points=50
):
    """A title with one criteria set of three criteria (40 + 30 + 30 points), levels Tốt
    85–100, Khá 70–84, Trung bình 50–69, pass at 50."""
    kind = TitleKind.objects.create(code=code, name=name, abbreviation=code.upper()[:12], subject_type=subject_type)
    criteria_set = CriteriaSet.objects.create(
        kind=kind, version=1, name=f"Tiêu chí {name}", valid_from=valid_from, pass_points=pass_points
    )
    Criterion.objects.bulk_create(
        [
            Criterion(criteria_set=criteria_set, code="1", text="Học tập thường xuyên", max_points=40, ordering=1),
            Criterion(criteria_set=criteria_set, code="2", text="Con em đi học đầy đủ", max_points=30, ordering=2),
            Criterion(criteria_set=criteria_set, code="3", text="Tham gia khuyến học", max_points=30, ordering=3),
        ]
    )
    Level.objects.bulk_create(
        [
            Level(criteria_set=criteria_set, name="Tốt", min_points=85, max_points=100),
            Level(criteria_set=criteria_set, name="Khá", min_points=70, max_points=84),
            Level(criteria_set=criteria_set, name="Trung bình", min_points=50, max_points=69),
        ]
    )
    return kind, criteria_set


def scores_of(criteria_set, *points, evidence="Biên bản họp tổ dân phố"):
    """{criterion id: (points, evidence)} in the criteria's order."""
    criteria = list(criteria_set.criteria.order_by("ordering", "id"))
    assert len(criteria) == len(points)
    return {criterion.pk: (value, evidence) for criterion, value in zip(criteria, points, strict=True)}
