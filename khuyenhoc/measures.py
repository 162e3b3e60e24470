"""The catalogue of measures: counts and sums per branch that plans and reports are built on.

A measure is one figure the portal can count from its records for any branch, at a date
(members on 31/12/2025) or over a period (money raised in 2025). Each app registers its own
measures in its AppConfig.ready() with `register`, so the catalogue grows without editing
the apps that read it (plans' indicators, the reports' fields). This module names no app.

A measure's `compute` is set-based: it answers the *own* figure of every branch of a
subtree in a fixed number of queries, keyed by the branch the records belong to (not rolled
up). The reader adds each branch's own figure to its ancestors with
`associations.rollup.roll_up_by_path` when the measure sums up the tree.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Unit:
    COUNT = "count"  # things: organisations, households, classes
    PEOPLE = "people"  # persons or person-turns
    DONG = "dong"  # money, whole đồng
    TURNS = "turns"  # award turns, participant turns


# The map a dated measure counts on (`Measure.dated`): IN_FORCE keys each record by the
# branch it belonged to on the period's last day (the tree in force then); TODAY by the
# branch it belongs to today (the reader places records still kept at a dissolved branch).
IN_FORCE = "in_force"
TODAY = "today"


class Timing:
    AT_DATE = "at_date"  # a stock on a day: members on D
    OVER_PERIOD = "over_period"  # a flow between two days, both included: money raised in a year


class ComputeFunction(Protocol):
    def __call__(
        self,
        *,
        root: Any,
        start: datetime.date | None,
        end: datetime.date,
        filters: Mapping[str, list[str]],
    ) -> dict[int, int]:
        """{branch id: own figure} for the branches of `root`'s subtree (a Branch).

        At-date measures read `end` and ignore `start`; period measures count from `start`
        to `end` inclusive. `filters` holds only the keys listed in the measure's `filters`."""


@dataclass(frozen=True)
class Measure:
    code: str  # stable, dotted: "registry.members", "funds.raised"
    label: Any  # lazy translated text
    source: Any  # where it comes from, in words: "Members register"
    unit: str
    timing: str
    compute: ComputeFunction
    sums_up_tree: bool = True
    # Optional scope filters the measure accepts: {key: (label, choices)} — e.g.
    # {"kinds": (_("Organisation kinds"), OrganizationKind.choices)}.
    filters: Mapping[str, tuple[Any, list[tuple[str, Any]]]] = field(default_factory=dict)
    description: Any = ""
    # True: `compute` takes `on_map` (IN_FORCE or TODAY) and keys records by the branch they
    # had on `end` on the map in force; a measure without it keys them by today's branch.
    dated: bool = False


_REGISTRY: dict[str, Measure] = {}


class MeasureError(LookupError):
    pass


def register(measure: Measure) -> Measure:
    """Add `measure` to the catalogue; registering the same code twice with a different
    definition is a programming error."""
    existing = _REGISTRY.get(measure.code)
    if existing is not None and existing != measure:
        raise MeasureError(f"Measure {measure.code!r} is already registered")
    _REGISTRY[measure.code] = measure
    return measure


def measure(code: str) -> Measure:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise MeasureError(f"No measure {code!r} in the catalogue") from None


def registered() -> list[Measure]:
    """Every measure, in code order."""
    return [_REGISTRY[code] for code in sorted(_REGISTRY)]


def choices() -> list[tuple[str, Any]]:
    return [(m.code, m.label) for m in registered()]


def clean_filters(measure: Measure, filters: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    """Keep only the filters `measure` accepts, with known values; an empty list means no filter."""
    cleaned: dict[str, list[str]] = {}
    for key, values in (filters or {}).items():
        if key not in measure.filters or not values:
            continue
        allowed = {value for value, _label in measure.filters[key][1]}
        cleaned[key] = [value for value in values if value in allowed]
    return cleaned


Compute = Callable[..., dict[int, int]]
