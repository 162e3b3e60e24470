"""What the generator's stages share: results, the records planned in memory, and helpers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

CATEGORIES = ("party_member", "cadre", "civil_servant", "public_employee", "worker")
PLAN_KINDS = ("agency", "public_service", "armed_forces")
SYNTHETIC_NOTE = "Dữ liệu mẫu sinh tự động"
VN = datetime.timezone(datetime.timedelta(hours=7))


class GeneratorError(Exception):
    pass


@dataclass
class Summary:
    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


@dataclass
class _Org:
    id: int
    kind: str
    branch_id: int  # where it sits (a commune, a district or the city)
    district: int  # index of its district
    commune: int | None  # index of its commune, None above commune level
    name: str
    home_branch_id: int = 0  # where its people are registered: its board, else its branch
    headcounts: list = field(default_factory=list)  # per year of spec.YEARS: 5 columns
    members_by_year: dict = field(default_factory=dict)  # {2014..2020: active on 31/12}


@dataclass
class _Fund:
    id: int
    branch_id: int
    model: str
    name: str
    opened_on: datetime.date
    weight: float
    parent_fund: int | None  # index in funds of the fund that pays when this one cannot
    monthly_in: list = field(default_factory=list)  # donations received per month from 01/2015
    spent: int = 0
    balance: int = 0


def _date(ordinal: int) -> datetime.date:
    return datetime.date.fromordinal(ordinal)


def _at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=VN)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` into whole parts proportional to `weights` (largest remainder)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in raw]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def partition_units(total_units: int, weights: list[float]) -> list[int]:
    """Whole units proportional to weights, summing exactly to `total_units`, each ≥ 1."""
    n = len(weights)
    if n == 0:
        return []
    if total_units < n:
        raise GeneratorError("too little money for the number of records")
    weight_sum = sum(weights)
    spare = total_units - n  # everyone gets 1 unit first
    parts = [1 + int(spare * w / weight_sum) for w in weights]
    rest = total_units - sum(parts)
    for i in range(rest):
        parts[i % n] += 1
    return parts
