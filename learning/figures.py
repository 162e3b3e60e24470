"""The learning titles' figures per branch, title and year, each counting the branch's whole
subtree, and the panel that reads them back (docs/ARCHITECTURE.md, "Learning titles").

For every branch, title kind and year:

- eligible: how many subjects could hold the title (the base of the rate "trên tổng số");
- registered: registrations not withdrawn;
- evaluated: of those, the ones with an evaluation;
- recognised: of those, the ones a recognition decision names (stage "recognised").

`title_figures_compute(years=)` runs a fixed handful of set-based queries whatever the
size of the tree — the branches' paths, the title kinds, one GROUP BY over registrations,
the eligible totals entered, and (for titles awarded to units) one GROUP BY over
organisations — then adds each branch's own figures to its ancestors in Python by path
prefix (`associations.rollup.roll_up_by_path`). `learning.services.title_figures_recompute`
stores them as TitleFigure rows; pages and exports read only those.

Rules decided where the texts are silent:
- An eligible total entered for a branch (EligibleCount, normally per commune) covers that
  branch's subtree for its title and year. Entered totals are added up the tree as entered.
- Where nothing was entered, the registry stands in only where it holds every subject: for
  a title awarded to units (Đơn vị học tập and a province's unit titles) the eligible total
  is the number of organisations active on at least one day of the year, counted where
  each organisation is — except under a branch (or below a branch) that has its own total
  entered for that title and year, which replaces the registry's count there. For titles
  awarded to households, clans, communities and citizens the registries hold only the
  subjects that took part, so the eligible total is what was entered, or none.
- The registry's count is made for the years the cycle has data (any registration or
  entered total, any title) and for titles in use, or out of use but registered that year.
- A rate is shown with its base: "of those registered" (recognised / registered) or "of the
  eligible total" (recognised / eligible); with a base of 0 there is no rate (shown "—").
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from associations.models import Branch, Organization
from associations.rollup import branch_paths, roll_up_by_path
from khuyenhoc.db import vietnamese_order
from learning.models import EligibleCount, Registration, Stage, SubjectType, TitleFigure, TitleKind

# {(branch id, kind id, year): (eligible, registered, evaluated, recognised)}
Figures = dict[tuple[int, int, int], tuple[int, int, int, int]]
FIGURE_FIELDS = ("eligible", "registered", "evaluated", "recognised")

RATE_ON_REGISTERED = _("of those registered")
RATE_ON_ELIGIBLE = _("of the eligible total")


# --- Computing --------------------------------------------------------------------------------


def _active_in(year: int) -> Q:
    """Organisations active on at least one day of the year (active_to is the first day out)."""
    return (Q(active_from__isnull=True) | Q(active_from__lte=datetime.date(year, 12, 31))) & (
        Q(active_to__isnull=True) | Q(active_to__gt=datetime.date(year, 1, 1))
    )


def _covered(path: str, entered_paths: set[str], steplen: int) -> bool:
    """Whether the branch at `path` or one of its ancestors has an eligible total entered."""
    return any(path[:end] in entered_paths for end in range(steplen, len(path) + 1, steplen))


def title_figures_compute(*, years: Iterable[int] | None = None) -> Figures:
    """{(branch id, kind id, year): (eligible, registered, evaluated, recognised)} for every
    branch's whole subtree; only the given years when `years` is given."""
    year_filter = {} if years is None else {"year__in": sorted(set(years))}
    own: dict[tuple[int, int, int], list[int]] = {}

    registrations = (
        Registration.objects.counted()
        .order_by()
        .filter(**year_filter)
        .values("branch_id", "kind_id", "year")
        .annotate(
            registered=Count("id"),
            evaluated=Count("evaluation"),
            recognised=Count("id", filter=Q(stage=Stage.RECOGNISED)),
        )
        .values_list("branch_id", "kind_id", "year", "registered", "evaluated", "recognised")
    )
    registered_kinds: set[tuple[int, int]] = set()
    for branch_id, kind_id, year, registered, evaluated, recognised in registrations:
        own[(branch_id, kind_id, year)] = [0, registered, evaluated, recognised]
        registered_kinds.add((kind_id, year))

    entered = (
        EligibleCount.objects.order_by().filter(**year_filter).values_list("branch_id", "kind_id", "year", "count")
    )
    entered_at: dict[tuple[int, int], set[int]] = {}
    for branch_id, kind_id, year, count in entered:
        own.setdefault((branch_id, kind_id, year), [0, 0, 0, 0])[0] += count
        entered_at.setdefault((kind_id, year), set()).add(branch_id)

    path_of = branch_paths()
    cycle_years = sorted(year_filter["year__in"] if years is not None else {year for _b, _k, year in own})
    unit_kinds = list(TitleKind.objects.order_by().filter(subject_type=SubjectType.UNIT).values_list("id", "active"))
    if unit_kinds and cycle_years:
        _add_unit_registry(own, unit_kinds, cycle_years, entered_at, registered_kinds, path_of)

    return roll_up_by_path(own, path_of=path_of)


def _add_unit_registry(own, unit_kinds, cycle_years, entered_at, registered_kinds, path_of) -> None:
    """Add the organisations active each year as the eligible total of the unit titles,
    where no total was entered (one GROUP BY over organisations, a column per year)."""
    steplen = Branch.steplen
    counts = (
        Organization.objects.order_by()
        .values("branch_id")
        .annotate(**{f"y{year}": Count("id", filter=_active_in(year)) for year in cycle_years})
        .values_list("branch_id", *[f"y{year}" for year in cycle_years])
    )
    entered_paths = {
        key: {path_of[branch_id] for branch_id in branch_ids if branch_id in path_of}
        for key, branch_ids in entered_at.items()
    }
    for branch_id, *per_year in counts:
        path = path_of.get(branch_id)
        if path is None:  # pragma: no cover - a foreign key always points at a branch
            continue
        for year, count in zip(cycle_years, per_year, strict=True):
            if not count:
                continue
            for kind_id, active in unit_kinds:
                if not active and (kind_id, year) not in registered_kinds:
                    continue
                if _covered(path, entered_paths.get((kind_id, year), set()), steplen):
                    continue
                own.setdefault((branch_id, kind_id, year), [0, 0, 0, 0])[0] += count


# --- Rates ------------------------------------------------------------------------------------


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage with two decimals; None when the base is 0."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    """A rate of recognition, always shown with its base."""

    numerator: int
    denominator: int
    base_label: str

    @property
    def percent(self) -> Decimal | None:
        return percent(self.numerator, self.denominator)


@dataclass(frozen=True)
class TitleFigures:
    """One branch's figures (its whole subtree) for one title and year."""

    branch: Branch
    eligible: int = 0
    registered: int = 0
    evaluated: int = 0
    recognised: int = 0

    @classmethod
    def of(cls, row: TitleFigure) -> TitleFigures:
        return cls(row.branch, *(getattr(row, name) for name in FIGURE_FIELDS))

    @property
    def rate_on_registered(self) -> Rate:
        """Recognised of those registered ("trên số đăng ký")."""
        return Rate(self.recognised, self.registered, str(RATE_ON_REGISTERED))

    @property
    def rate_on_eligible(self) -> Rate:
        """Recognised of the eligible total ("trên tổng số")."""
        return Rate(self.recognised, self.eligible, str(RATE_ON_ELIGIBLE))


# --- The panel --------------------------------------------------------------------------------


@dataclass
class KindFigures:
    """One title's table: the branch's own line, then a line per child branch (drill-down)."""

    kind: TitleKind
    total: TitleFigures
    children: list[TitleFigures] = field(default_factory=list)


@dataclass
class FiguresPanel:
    branch: Branch
    year: int | None
    years: list[int]
    kinds: list[KindFigures]


def figures_panel(branch: Branch, *, year: int | None = None) -> FiguresPanel:
    """The stored figures of a branch and its children for one year (default: the latest
    year the branch has figures for), a table per title: two queries whatever the tree."""
    years = sorted(
        TitleFigure.objects.order_by().filter(branch=branch).values_list("year", flat=True).distinct(), reverse=True
    )
    if year is None or year not in years:
        year = years[0] if years else None
    if year is None:
        return FiguresPanel(branch=branch, year=None, years=years, kinds=[])
    rows = (
        TitleFigure.objects.in_subtree(branch)
        .filter(year=year, branch__depth__lte=branch.depth + 1)
        .select_related("branch", "kind")
        .order_by("kind__ordering", "kind__name", vietnamese_order("branch__name"))
    )
    by_kind: dict[int, KindFigures] = {}
    children: dict[int, list[TitleFigures]] = {}
    for row in rows:
        figures = TitleFigures.of(row)
        if row.branch_id == branch.pk:
            by_kind[row.kind_id] = KindFigures(kind=row.kind, total=figures)
        else:
            children.setdefault(row.kind_id, []).append(figures)
    for kind_id, lines in children.items():
        if kind_id in by_kind:  # always: a child's figures are rolled up into its parent's
            by_kind[kind_id].children = lines
    kinds = sorted(by_kind.values(), key=lambda item: (item.kind.ordering, item.kind.name))
    return FiguresPanel(branch=branch, year=year, years=years, kinds=kinds)
