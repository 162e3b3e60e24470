"""Reads of the learning titles: the criteria set in force, deadlines and late items.

A branch's own deadline for a stage overrides its ancestors'; a registration is late when
the deadline of the step it waits for (found from its branch upwards) has passed:
- still registered after the evaluation deadline;
- evaluated after the review deadline (review is optional: where no review deadline is
  set, an evaluated registration is late only after the decision deadline);
- evaluated or reviewed, not yet recognised, after the decision deadline.
Registrations not recognised, withdrawn or recognised wait for nothing and are never late.
"""

from __future__ import annotations

import datetime

from django.db.models import Case, CharField, DateField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import StartsWith

from associations.access import staff_profile
from associations.models import Branch
from learning.models import CriteriaSet, Deadline, DeadlineStage, Registration, Stage, TitleKind


def criteria_set_in_force(kind: TitleKind, year: int) -> CriteriaSet | None:
    """The set a title is evaluated against in a year: the latest version among those in force."""
    return CriteriaSet.objects.in_force(year).filter(kind=kind).order_by("-version").first()


def ancestor_paths(branch: Branch) -> list[str]:
    """The paths of the branch and of every ancestor, root first (no query: they are prefixes)."""
    step = Branch.steplen
    return [branch.path[: step * depth] for depth in range(1, len(branch.path) // step + 1)]


def deadline_for(branch: Branch, year: int, stage: str) -> Deadline | None:
    """The deadline of a stage that holds for a branch: its own, else its nearest ancestor's (one query)."""
    return (
        Deadline.objects.filter(branch__path__in=ancestor_paths(branch), year=year, stage=stage)
        .select_related("branch")
        .order_by("-branch__depth")
        .first()
    )


def _due(stage: str) -> Subquery:
    """The due date of `stage` for each registration: the deadline of its branch or of the
    nearest ancestor (the deadline's branch path is a prefix of the registration's)."""
    return Subquery(
        Deadline.objects.filter(
            StartsWith(OuterRef("branch__path"), F("branch__path")), year=OuterRef("year"), stage=stage
        )
        .order_by("-branch__depth")
        .values("due_on")[:1],
        output_field=DateField(),
    )


def registrations_with_deadlines(queryset: QuerySet[Registration]) -> QuerySet[Registration]:
    """Each registration with `evaluation_due`, `review_due` and `decision_due` (None where no
    deadline is set): subqueries, so a list's query count does not grow with it."""
    return queryset.annotate(
        evaluation_due=_due(DeadlineStage.EVALUATION),
        review_due=_due(DeadlineStage.REVIEW),
        decision_due=_due(DeadlineStage.DECISION),
    )


def _late_conditions(today: datetime.date) -> tuple[Q, Q, Q]:
    """Late for the evaluation, the review and the decision (see the module's docstring);
    they read the annotations of `registrations_with_deadlines`."""
    return (
        Q(stage=Stage.REGISTERED, evaluation_due__lt=today),
        Q(stage=Stage.EVALUATED, review_due__lt=today),
        Q(stage__in=[Stage.EVALUATED, Stage.REVIEWED], decision_due__lt=today),
    )


def late_registrations(queryset: QuerySet[Registration], today: datetime.date) -> QuerySet[Registration]:
    """The registrations of `queryset` past the deadline of the step they wait for (see the
    module's docstring), each with `late_for`: the stage of that deadline."""
    late_evaluation, late_review, late_decision = _late_conditions(today)
    return (
        registrations_with_deadlines(queryset)
        .filter(late_evaluation | late_review | late_decision)
        .annotate(
            late_for=Case(
                When(late_evaluation, then=Value(DeadlineStage.EVALUATION.value)),
                When(late_decision, then=Value(DeadlineStage.DECISION.value)),
                default=Value(DeadlineStage.REVIEW.value),
            )
        )
    )


def registrations_with_marks(queryset: QuerySet[Registration], today: datetime.date) -> QuerySet[Registration]:
    """Each registration of `queryset` with `next_due`, the deadline of the step it waits for
    (None when none is set, or when it waits for nothing), and `late_for`, the stage of that
    deadline when it has passed (else None): what a list shows beside each row."""
    late_evaluation, late_review, late_decision = _late_conditions(today)
    return registrations_with_deadlines(queryset).annotate(
        late_for=Case(
            When(late_evaluation, then=Value(DeadlineStage.EVALUATION.value)),
            When(late_decision, then=Value(DeadlineStage.DECISION.value)),
            When(late_review, then=Value(DeadlineStage.REVIEW.value)),
            default=Value(None),
            output_field=CharField(),
        ),
        next_due=Case(
            When(late_decision, then=F("decision_due")),
            When(stage=Stage.REGISTERED, then=F("evaluation_due")),
            # Review is optional: without a review deadline, an evaluated one waits for the decision.
            When(stage=Stage.EVALUATED, then=Coalesce(F("review_due"), F("decision_due"))),
            When(stage=Stage.REVIEWED, then=F("decision_due")),
            default=Value(None),
            output_field=DateField(),
        ),
    )


def may_edit_criteria(user) -> bool:
    """Whether the user may change criteria sets: the province's data, so a superuser or a
    manager of the tree's root (the rule `learning.services.criteria.require_criteria_writer`
    enforces on every write)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    profile = staff_profile(user)
    return bool(profile and profile.can_manage and profile.branch.depth == 1)
