"""Reads of the reports: a report's figures (computed from the records through the catalogue of
measures, or typed), the completeness of a period and the consolidation of a branch's
children. A fixed number of queries whatever the tree's size.

Rules decided here where the issue is silent:
- A record field's figure for branch B is the sum of the measure's own figures of every
  branch of B's subtree (a measure that does not sum up the tree gives B's own figure).
  At-date measures are read at the period's end, period measures from its start to its end.
- A measure not in the catalogue (its app not installed, or not registered yet) gives no
  figure: the page says "not available" and the consolidation skips it.
- Completeness counts the active administrative branches (city, district, commune) of the
  viewer's subtree on the period's end. A report counts as sent while submitted, approved or
  accepted; on time when its first submission is on or before its level's deadline (a report
  returned and sent again is judged by when it was first sent). Without a deadline for the
  level nothing is late.
- The consolidation of branch B adds, field by field (by code), the approved or accepted
  reports of B's direct administrative children; whole numbers and money are added,
  percentages and text are not. A field none of them gives a figure for (no report
  approved yet, or a measure not available) shows no figure rather than a zero.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from associations.access import staff_profile, subtree_path
from associations.models import Branch, BranchLevel
from khuyenhoc import measures
from reporting.models import (
    REPORTING_LEVELS,
    SUMMED_TYPES,
    Deadline,
    Field,
    FieldSource,
    Period,
    Report,
    ReportForm,
    ReportState,
    ReportTransition,
)

SENT_STATES = (ReportState.SUBMITTED, ReportState.APPROVED, ReportState.ACCEPTED)
DECIDED_STATES = (ReportState.APPROVED, ReportState.ACCEPTED)


# --- Who may do what ---------------------------------------------------------------------------
def branch_depth_of(user) -> int | None:
    """The depth of the user's branch: 0 for an administrator, None for nobody."""
    if user.is_superuser:
        return 0
    profile = staff_profile(user)
    return profile.branch.depth if profile else None


def may_edit_forms(user) -> bool:
    """Report forms and deadlines are the province's: an administrator or a manager of the root."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    profile = staff_profile(user)
    return bool(profile and profile.can_manage and profile.branch.depth == 1)


def is_above(user, branch: Branch) -> bool:
    """Whether the user's branch is a proper ancestor of `branch` (an administrator is above all)."""
    path = subtree_path(user)
    return path is not None and branch.path.startswith(path) and len(path) < len(branch.path)


# --- Forms -------------------------------------------------------------------------------------
def form_current(kind: str) -> ReportForm | None:
    return ReportForm.objects.filter(kind=kind).order_by("-version").first()


def form_fields(form: ReportForm) -> list[Field]:
    return list(form.fields.select_related("section").order_by("section__order", "section_id", "order", "id"))


# --- Figures -----------------------------------------------------------------------------------
def record_figures(fields: list[Field], *, branch: Branch, period: Period) -> dict[str, int | None]:
    """{field code: figure} of the record fields, None where the measure is not available."""
    figures: dict[str, int | None] = {}
    for item in fields:
        if item.source != FieldSource.RECORDS:
            continue
        try:
            measure = measures.measure(item.measure_code)
        except measures.MeasureError:
            figures[item.code] = None
            continue
        own = measure.compute(
            root=branch,
            start=period.start if measure.timing == measures.Timing.OVER_PERIOD else None,
            end=period.end,
            filters=measures.clean_filters(measure, item.measure_filters),
        )
        figures[item.code] = sum(own.values()) if measure.sums_up_tree else own.get(branch.pk, 0)
    return figures


@dataclass
class Row:
    field: Field
    value: object  # what the report says: the snapshot once sent, else today's figure / typed value
    today: object = None  # a record field's figure from today's records
    available: bool = True

    @property
    def difference(self) -> int | None:
        """Today's records minus the figure sent, for a record field of a sent report."""
        if self.field.source != FieldSource.RECORDS or not isinstance(self.value, int):
            return None
        if not isinstance(self.today, int) or self.today == self.value:
            return None
        return self.today - self.value


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


def report_sections(*, form: ReportForm, branch: Branch, period: Period, report: Report | None) -> list[Section]:
    """The form's sections with each field's value for `branch` in `period`."""
    fields = form_fields(form)
    today = record_figures(fields, branch=branch, period=period)
    typed = report.values if report else {}
    sent = report.snapshot if report and report.snapshot is not None else None
    sections: dict[int, Section] = {}
    for item in fields:
        section = sections.setdefault(item.section_id, Section(item.section.title))
        if item.source == FieldSource.RECORDS:
            current = today.get(item.code)
            value = sent.get(item.code) if sent is not None else current
            available = value is not None or current is not None
            section.rows.append(Row(item, value, today=current, available=available))
        else:
            value = (sent if sent is not None else typed).get(item.code)
            section.rows.append(Row(item, value))
    return list(sections.values())


def snapshot_values(*, form: ReportForm, branch: Branch, period: Period, typed: dict) -> dict:
    """Every field's value as it is sent: today's record figures and the typed values."""
    fields = form_fields(form)
    figures = record_figures(fields, branch=branch, period=period)
    return {
        item.code: figures.get(item.code) if item.source == FieldSource.RECORDS else typed.get(item.code)
        for item in fields
    }


def transitions_of(report: Report):
    return ReportTransition.objects.filter(report=report).select_related("actor").order_by("at", "id")


# --- Lists -------------------------------------------------------------------------------------
def expected_branches(root: Branch, day: datetime.date):
    """The active administrative branches of `root`'s subtree that report."""
    return Branch.objects.in_subtree(root).active_on(day).filter(level__in=REPORTING_LEVELS).order_by("path")


@dataclass
class ListRow:
    branch: Branch
    report: Report | None
    deadline: datetime.date | None

    @property
    def status(self) -> str:
        """ "on_time", "late" (sent after the deadline), "missing" (not sent) or "overdue"
        (not sent, deadline passed)."""
        report = self.report
        if report is None or report.state not in SENT_STATES:
            if self.deadline and timezone.localdate() > self.deadline:
                return "overdue"
            return "missing"
        if self.deadline and timezone.localtime(report.first_submitted_at).date() > self.deadline:
            return "late"
        return "on_time"


def period_rows(period: Period, root: Branch) -> list[ListRow]:
    """Every reporting branch of `root`'s subtree with its report and deadline: three queries."""
    branches = list(expected_branches(root, period.end))
    reports = {
        report.branch_id: report
        for report in Report.objects.filter(period=period, branch__in=[b.pk for b in branches]).select_related("form")
    }
    deadlines = dict(Deadline.objects.filter(period=period).values_list("level", "due_on"))
    return [ListRow(branch, reports.get(branch.pk), deadlines.get(branch.level)) for branch in branches]


@dataclass
class LevelCompleteness:
    level: str
    label: str
    deadline: datetime.date | None
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0

    @property
    def sent(self) -> int:
        return self.on_time + self.late

    @property
    def percent(self) -> int:
        return round(100 * self.sent / self.expected) if self.expected else 0


def completeness(period: Period, root: Branch) -> tuple[list[LevelCompleteness], list[ListRow]]:
    rows = period_rows(period, root)
    deadlines = dict(Deadline.objects.filter(period=period).values_list("level", "due_on"))
    by_level = {
        level: LevelCompleteness(level, BranchLevel(level).label, deadlines.get(level)) for level in REPORTING_LEVELS
    }
    for row in rows:
        entry = by_level[row.branch.level]
        entry.expected += 1
        status = row.status
        if status == "on_time":
            entry.on_time += 1
        elif status == "late":
            entry.late += 1
        else:
            entry.missing += 1
    return [entry for entry in by_level.values() if entry.expected], rows


# --- Consolidation -----------------------------------------------------------------------------
@dataclass
class Consolidation:
    branch: Branch
    period: Period
    form: ReportForm | None
    sections: list[Section]
    included: list[Report]
    not_approved: list[tuple[Branch, Report]]
    missing: list[Branch]


def consolidation(period: Period, branch: Branch) -> Consolidation:
    """The sums of the approved reports of `branch`'s direct reporting children, and which
    children are missing or not approved yet. Four queries."""
    children = list(
        Branch.objects.active_on(period.end)
        .filter(path__startswith=branch.path, depth=branch.depth + 1, level__in=REPORTING_LEVELS)
        .order_by("path")
    )
    reports = {
        report.branch_id: report
        for report in Report.objects.filter(period=period, branch__in=[c.pk for c in children]).select_related("form")
    }
    own = Report.objects.filter(period=period, branch=branch).select_related("form").first()
    form = own.form if own else form_current(period.kind)
    included, not_approved, missing = [], [], []
    totals: dict[str, int] = defaultdict(int)
    for child in children:
        report = reports.get(child.pk)
        if report is None:
            missing.append(child)
        elif report.state not in DECIDED_STATES:
            not_approved.append((child, report))
        else:
            included.append(report)
            for code, value in (report.snapshot or {}).items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[code] += value
    sections: dict[int, Section] = {}
    if form is not None:
        for item in form_fields(form):
            section = sections.setdefault(item.section_id, Section(item.section.title))
            summed = item.value_type in SUMMED_TYPES
            section.rows.append(Row(item, totals.get(item.code) if summed else None, available=summed))
    return Consolidation(branch, period, form, list(sections.values()), included, not_approved, missing)


def periods_with_deadlines():
    return Period.objects.prefetch_related(Prefetch("deadlines", queryset=Deadline.objects.order_by("due_on")))
