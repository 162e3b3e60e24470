"""Evaluating many registrations at once: a clerk scores a chapter's households of one title
and year on one page (learning/views/batch.py).

The rules are those of `learning.services.cycle.evaluation_record`, checked for every row
before anything is written, and every error of every row reported at once:
- only a registration still waiting for its first evaluation (stage "registered") is scored
  here; one already evaluated is re-evaluated on its own page (which audits the old scores),
  a withdrawn one is refused;
- every criterion of the set in force for the title and year is scored, none above its
  maximum; a frozen set is used as it is (a version in use is never edited: a change is a
  new version, made by a manager), and its first use freezes it;
- who evaluated is said, and not before the registration.
Set-based: one query locks the registrations, a few per title and year read its set, then
one INSERT of the evaluations, one of the scores, one UPDATE of the stages, one of the audit
rows, and one `titles_changed` for the branch that holds them all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from associations.access import require_write_in_many
from associations.audit import audit_record_many, diff
from associations.models import AuditAction, Branch
from khuyenhoc.signals import titles_changed
from khuyenhoc.text import clean_text
from learning.models import SUBJECT_FIELDS, CriteriaSet, Criterion, Evaluation, Registration, Score, Stage
from learning.selectors import criteria_set_in_force
from learning.services.cycle import _evaluation_snapshot, _recorder

__all__ = ["EvaluationRow", "evaluations_record"]


@dataclass(frozen=True)
class EvaluationRow:
    """One registration's scores: `scores` maps each criterion id of the set in force to
    (points, evidence), as `evaluation_record` takes them."""

    registration: Registration
    scores: dict[int, tuple[int, str]]
    evaluator: str
    evaluated_on: datetime.date
    note: str = field(default="")


@dataclass
class _Set:
    criteria_set: CriteriaSet
    criteria: list[Criterion]
    levels: list


def _sets_for(pairs: set[tuple[int, int]], kinds: dict) -> dict[tuple[int, int], _Set | None]:
    """The set in force for each (title, year), frozen by this use, with its criteria and levels."""
    found: dict[tuple[int, int], _Set | None] = {}
    for kind_id, year in sorted(pairs):
        chosen = criteria_set_in_force(kinds[kind_id], year)
        if chosen is None:
            found[(kind_id, year)] = None
            continue
        # Freeze first: the UPDATE waits for a manager's edit of the set in progress, so the
        # criteria read below are the ones the set keeps for good.
        CriteriaSet.objects.filter(pk=chosen.pk, frozen_at__isnull=True).update(frozen_at=Now())
        found[(kind_id, year)] = _Set(
            criteria_set=chosen,
            criteria=list(chosen.criteria.order_by("ordering", "id")),
            levels=list(chosen.levels.all()),
        )
    return found


def _row_errors(row: EvaluationRow, registration: Registration, scoring: _Set | None) -> list[str]:
    """Every problem of one row, in the words of the single evaluation's messages."""
    subject = registration.subject
    if registration.stage == Stage.WITHDRAWN:
        return [_("%(subject)s was withdrawn: it cannot be evaluated.") % {"subject": subject}]
    if registration.stage != Stage.REGISTERED:
        return [
            _("%(subject)s is already %(stage)s: re-evaluate it on its own page.")
            % {"subject": subject, "stage": registration.get_stage_display().lower()}
        ]
    if scoring is None:
        return [
            _("No criteria set is in force for %(title)s in %(year)d: a manager must enter one first.")
            % {"title": registration.kind, "year": registration.year}
        ]
    if not scoring.criteria:
        return [_("The criteria set %(set)s has no criteria yet.") % {"set": scoring.criteria_set}]
    errors = []
    if not clean_text(row.evaluator):
        errors.append(_("Say who evaluated."))
    if row.evaluated_on < registration.registered_on:
        errors.append(
            _("The evaluation cannot come before the registration (%(day)s).")
            % {"day": registration.registered_on.strftime("%d/%m/%Y")}
        )
    by_id = {criterion.pk for criterion in scoring.criteria}
    if any(key not in by_id for key in row.scores):
        errors.append(_("Some scores are for criteria that are not part of %(set)s.") % {"set": scoring.criteria_set})
    missing = [criterion.code for criterion in scoring.criteria if criterion.pk not in row.scores]
    if missing:
        errors.append(_("Score every criterion; missing: %(codes)s.") % {"codes": ", ".join(missing)})
    for criterion in scoring.criteria:
        if criterion.pk not in row.scores:
            continue
        points, evidence = row.scores[criterion.pk]
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            errors.append(
                _("Criterion %(code)s: the points must be a whole number, zero or more.") % {"code": criterion.code}
            )
        elif points > criterion.max_points:
            errors.append(
                _("Criterion %(code)s (%(text)s) is worth at most %(max)d points, not %(points)d.")
                % {"code": criterion.code, "text": criterion.text, "max": criterion.max_points, "points": points}
            )
        if len(clean_text(evidence)) > 500:
            errors.append(
                _("Criterion %(code)s: the evidence note is longer than 500 characters.") % {"code": criterion.code}
            )
    return [_("%(subject)s: %(problem)s") % {"subject": subject, "problem": error} for error in errors]


def _common_branch(branches: dict[int, Branch]) -> Branch:
    """The deepest branch whose subtree holds them all (one query when none of them is it)."""
    paths = [branch.path for branch in branches.values()]
    prefix = paths[0]
    for path in paths[1:]:
        while not path.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix[: len(prefix) - len(prefix) % Branch.steplen]
    for branch in branches.values():
        if branch.path == prefix:
            return branch
    return Branch.objects.get(path=prefix)


@transaction.atomic
def evaluations_record(*, actor, rows: list[EvaluationRow]) -> list[Evaluation]:
    """Record the first evaluation of many registrations, all or nothing (see the module's
    docstring). Raises one ValidationError listing every error of every row, each named by
    its subject; returns the evaluations in the order of `rows`."""
    if not rows:
        raise ValidationError(_("Score at least one registration."))
    ids = [row.registration.pk for row in rows]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("A registration is listed twice in the batch."))
    locked = {
        registration.pk: registration
        for registration in Registration.objects.select_for_update(of=("self",))
        .select_related("kind", "branch", *SUBJECT_FIELDS.values())
        .filter(pk__in=ids)
        .order_by("pk")
    }
    if len(locked) != len(ids):
        raise ValidationError(_("Some registrations no longer exist."))
    branches = {registration.branch_id: registration.branch for registration in locked.values()}
    require_write_in_many(actor, branches.values())

    kinds = {registration.kind_id: registration.kind for registration in locked.values()}
    sets = _sets_for({(registration.kind_id, registration.year) for registration in locked.values()}, kinds)
    errors: list[str] = []
    for row in rows:
        registration = locked[row.registration.pk]
        errors.extend(_row_errors(row, registration, sets[(registration.kind_id, registration.year)]))
    if errors:
        raise ValidationError(errors)

    recorder = _recorder(actor)
    evaluations: list[Evaluation] = []
    for row in rows:
        registration = locked[row.registration.pk]
        scoring = sets[(registration.kind_id, registration.year)]
        total = sum(row.scores[criterion.pk][0] for criterion in scoring.criteria)
        evaluations.append(
            Evaluation(
                registration=registration,
                criteria_set=scoring.criteria_set,
                total_points=total,
                level=next((lv.name for lv in scoring.levels if lv.min_points <= total <= lv.max_points), ""),
                passed=total >= scoring.criteria_set.pass_points,
                evaluated_on=row.evaluated_on,
                evaluator=clean_text(row.evaluator)[:200],
                recorded_by=recorder,
                note=clean_text(row.note)[:1000],
            )
        )
    Evaluation.objects.bulk_create(evaluations, batch_size=500)
    scores_of: dict[int, list[Score]] = {}
    for row, evaluation in zip(rows, evaluations, strict=True):
        scoring = sets[(evaluation.registration.kind_id, evaluation.registration.year)]
        scores_of[evaluation.pk] = [
            Score(
                evaluation=evaluation,
                criterion=criterion,
                points=row.scores[criterion.pk][0],
                evidence=clean_text(row.scores[criterion.pk][1]),
            )
            for criterion in scoring.criteria
        ]
    Score.objects.bulk_create([score for scores in scores_of.values() for score in scores], batch_size=1000)
    Registration.objects.filter(pk__in=ids).update(stage=Stage.EVALUATED)

    codes = {criterion.pk: criterion.code for scoring in sets.values() if scoring for criterion in scoring.criteria}
    stage_change = [str(Stage.REGISTERED.label), str(Stage.EVALUATED.label)]
    for evaluation in evaluations:
        evaluation.registration.stage = Stage.EVALUATED
        # The audit row's branch: an evaluation has none of its own, it is its registration's.
        evaluation.branch_id = evaluation.registration.branch_id
    audit_record_many(
        actor=actor,
        records=evaluations,
        action=AuditAction.CREATE,
        changes_of=lambda evaluation: {
            **diff({}, _evaluation_snapshot(evaluation, scores_of[evaluation.pk], codes)),
            str(_("stage")): stage_change,
        },
    )
    titles_changed.send(sender=Evaluation, branch_id=_common_branch(branches).pk)
    return evaluations
