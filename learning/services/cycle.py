"""The yearly cycle of a learning title: registration → evaluation → (review) → decision.

Rules written here (docs/ARCHITECTURE.md, "Learning titles"):
- One subject registers once for a title and year (a withdrawn registration does not count):
  checked for the whole batch in Python, with the database's unique constraints as the last
  word (a clash they catch is turned into the same message).
- A registration belongs to its subject's branch; every write checks `require_write_in` on
  the registration's branch.
- An evaluation scores every criterion of the set in force for the title and year (the
  latest version), none above its maximum; its first use freezes the set. One evaluation per
  registration: re-evaluating before a decision replaces it and its scores (audited before
  and after) and clears a review, which judged the old scores.
- Review is optional: a decision may recognise a registration that was reviewed, or one
  evaluated and passed that no review refused. A commune evaluates and proposes its own
  households by the hundred; a required click per row would add no check. A review that
  refuses (not recognised) does block the decision.
- No recognition without an evaluation that passed; a decision covers registrations of its
  title and year in its branch's subtree, and nothing is decided twice.
- Nothing is written when a rule refuses: every function is one transaction.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in, require_write_in_many
from associations.audit import audit_record, audit_record_many, diff, snapshot
from associations.models import AuditAction, Branch, Organization
from khuyenhoc.signals import titles_changed
from khuyenhoc.text import clean_text
from learning.models import (
    MAX_YEAR,
    MIN_YEAR,
    SUBJECT_FIELDS,
    Citizen,
    Clan,
    Community,
    CriteriaSet,
    Deadline,
    DeadlineStage,
    Decision,
    EligibleCount,
    Evaluation,
    Household,
    Registration,
    Score,
    Stage,
    SubjectType,
    TitleKind,
)
from learning.selectors import criteria_set_in_force

__all__ = [
    "deadline_set",
    "decision_record",
    "eligible_count_set",
    "evaluation_record",
    "registration_create",
    "registration_withdraw",
    "registrations_create",
    "review_record",
]

SUBJECT_MODELS: dict[str, type[Model]] = {
    SubjectType.HOUSEHOLD: Household,
    SubjectType.CLAN: Clan,
    SubjectType.COMMUNITY: Community,
    SubjectType.UNIT: Organization,
    SubjectType.CITIZEN: Citizen,
}
# Stages from which an evaluation may be (re)recorded: any before a decision or a withdrawal.
EVALUABLE = {Stage.REGISTERED, Stage.EVALUATED, Stage.REVIEWED, Stage.NOT_RECOGNISED}
DECIDABLE = {Stage.EVALUATED, Stage.REVIEWED}


def _recorder(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _announce(branch_ids, sender) -> None:
    for branch_id in sorted(set(branch_ids)):
        titles_changed.send(sender=sender, branch_id=branch_id)


def _check_year(year) -> None:
    latest = timezone.localdate().year + 1
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= min(latest, MAX_YEAR):
        raise ValidationError(
            {"year": _("The year must lie between %(low)d and %(high)d.") % {"low": MIN_YEAR, "high": latest}}
        )


def _not_before(day: datetime.date, earliest: datetime.date, field: str, message: str) -> None:
    if day < earliest:
        raise ValidationError({field: message % {"day": earliest.strftime("%d/%m/%Y")}})


def _lock_registration(registration: Registration) -> Registration:
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("kind", "branch", *SUBJECT_FIELDS.values())
        .get(pk=registration.pk)
    )


# --- Registration ----------------------------------------------------------------------------


def _already_registered(kind: TitleKind, year: int, subjects: list) -> ValidationError:
    return ValidationError(
        _("Already registered for %(title)s %(year)d: %(subjects)s.")
        % {"title": kind, "year": year, "subjects": ", ".join(str(subject) for subject in subjects)}
    )


@transaction.atomic
def registrations_create(
    *, actor, kind: TitleKind, year: int, subjects: list, registered_on: datetime.date
) -> list[Registration]:
    """Register subjects (households, clans, communities, organisations or citizens, as the
    title says) for a title and year, all or nothing. Each registration is placed at its
    subject's branch. One query reads the branches, one the clashes, one inserts."""
    if not kind.active:
        raise ValidationError(_("The title %(kind)s is no longer in use.") % {"kind": kind})
    _check_year(year)
    if not subjects:
        raise ValidationError(_("Choose at least one subject to register."))
    model = SUBJECT_MODELS[kind.subject_type]
    field = SUBJECT_FIELDS[kind.subject_type]
    seen: set[int] = set()
    for subject in subjects:
        if not isinstance(subject, model) or subject.pk is None:
            raise ValidationError(
                _("%(title)s is awarded to a %(type)s: %(subject)s is not one.")
                % {"title": kind, "type": model._meta.verbose_name, "subject": subject}
            )
        if subject.pk in seen:
            raise ValidationError(
                _("%(subject)s is listed twice for %(title)s %(year)d.")
                % {"subject": subject, "title": kind, "year": year}
            )
        seen.add(subject.pk)
    branches = Branch.objects.in_bulk({subject.branch_id for subject in subjects})
    require_write_in_many(actor, branches.values())
    taken = set(
        Registration.objects.filter(kind=kind, year=year, **{f"{field}__in": seen})
        .exclude(stage=Stage.WITHDRAWN)
        .values_list(f"{field}_id", flat=True)
    )
    if taken:
        raise _already_registered(kind, year, [subject for subject in subjects if subject.pk in taken])
    registrations = [
        Registration(
            kind=kind,
            year=year,
            branch=branches[subject.branch_id],
            registered_on=registered_on,
            registered_by=_recorder(actor),
            **{field: subject},
        )
        for subject in subjects
    ]
    try:
        with transaction.atomic():
            Registration.objects.bulk_create(registrations, batch_size=1000)
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
        if not constraint.startswith("registration_once_per_"):
            raise
        # Registered by someone else between the check above and the insert: the savepoint
        # is rolled back, so the clash can be read again to name it.
        taken = set(
            Registration.objects.filter(kind=kind, year=year, **{f"{field}__in": seen})
            .exclude(stage=Stage.WITHDRAWN)
            .values_list(f"{field}_id", flat=True)
        )
        raise _already_registered(kind, year, [subject for subject in subjects if subject.pk in taken]) from error
    audit_record_many(
        actor=actor,
        records=registrations,
        action=AuditAction.CREATE,
        changes_of=lambda registration: {
            str(_("learning title")): str(kind),
            str(_("year")): year,
            str(_("subject")): str(registration.subject),
            str(_("registered on")): registered_on.isoformat(),
        },
    )
    _announce(branches, Registration)
    return registrations


def registration_create(*, actor, kind: TitleKind, year: int, subject, registered_on: datetime.date) -> Registration:
    """Register one subject: a batch of one."""
    return registrations_create(actor=actor, kind=kind, year=year, subjects=[subject], registered_on=registered_on)[0]


@transaction.atomic
def registration_withdraw(*, actor, registration: Registration, reason: str) -> Registration:
    """Withdraw a registration before a decision; the reason goes to the audit trail. The
    subject may register again for that title and year."""
    registration = _lock_registration(registration)
    require_write_in(actor, registration.branch)
    reason = clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the registration is withdrawn.")})
    if registration.stage == Stage.RECOGNISED:
        raise ValidationError(
            _("%(subject)s was recognised by a decision: it cannot be withdrawn.") % {"subject": registration.subject}
        )
    if registration.stage == Stage.WITHDRAWN:
        raise ValidationError(_("This registration was already withdrawn."))
    before = snapshot(registration, ["stage"])
    registration.stage = Stage.WITHDRAWN
    registration.save(update_fields=["stage"])
    changes = diff(before, snapshot(registration, ["stage"]))
    changes[str(_("reason"))] = reason
    audit_record(actor=actor, obj=registration, action=AuditAction.END, branch=registration.branch, changes=changes)
    _announce([registration.branch_id], Registration)
    return registration


# --- Evaluation ------------------------------------------------------------------------------


def _evaluation_snapshot(evaluation: Evaluation, scores: list[Score], codes: dict[int, str]) -> dict:
    return {
        str(_("criteria set")): str(evaluation.criteria_set),
        str(_("total points")): evaluation.total_points,
        str(_("grade")): evaluation.level,
        str(_("passed")): evaluation.passed,
        str(_("evaluated on")): evaluation.evaluated_on.isoformat(),
        str(_("evaluated by")): evaluation.evaluator,
        str(_("note")): evaluation.note,
        str(_("scores")): {codes[score.criterion_id]: score.points for score in scores},
    }


@transaction.atomic
def evaluation_record(
    *,
    actor,
    registration: Registration,
    scores: dict[int, tuple[int, str]],
    evaluator: str,
    evaluated_on: datetime.date,
    note: str = "",
) -> Evaluation:
    """Record (or, before a decision, replace) a registration's evaluation.

    `scores` maps each criterion id of the set in force to (points, evidence). The total, the
    level (the one whose range holds the total, else none) and whether it passed are computed
    here; the registration moves to "evaluated"; the set is frozen by its first use.
    """
    registration = _lock_registration(registration)
    require_write_in(actor, registration.branch)
    subject = registration.subject
    if registration.stage not in EVALUABLE:
        raise ValidationError(
            _("%(subject)s is %(stage)s: its evaluation can no longer be changed.")
            % {"subject": subject, "stage": registration.get_stage_display().lower()}
        )
    evaluator = clean_text(evaluator)
    if not evaluator:
        raise ValidationError({"evaluator": _("Say who evaluated.")})
    _not_before(
        evaluated_on,
        registration.registered_on,
        "evaluated_on",
        _("The evaluation cannot come before the registration (%(day)s)."),
    )
    chosen = criteria_set_in_force(registration.kind, registration.year)
    if chosen is None:
        raise ValidationError(
            _("No criteria set is in force for %(title)s in %(year)d: a manager must enter one first.")
            % {"title": registration.kind, "year": registration.year}
        )
    # Freeze first: the UPDATE waits for a manager's edit of the set in progress, so the
    # criteria read below are the ones the set keeps for good.
    CriteriaSet.objects.filter(pk=chosen.pk, frozen_at__isnull=True).update(frozen_at=Now())
    criteria_set = CriteriaSet.objects.get(pk=chosen.pk)
    criteria = list(criteria_set.criteria.order_by("ordering", "id"))
    if not criteria:
        raise ValidationError(_("The criteria set %(set)s has no criteria yet.") % {"set": criteria_set})
    by_id = {criterion.pk: criterion for criterion in criteria}
    foreign = [key for key in scores if key not in by_id]
    if foreign:
        raise ValidationError(_("Some scores are for criteria that are not part of %(set)s.") % {"set": criteria_set})
    missing = [criterion.code for criterion in criteria if criterion.pk not in scores]
    if missing:
        raise ValidationError(_("Score every criterion; missing: %(codes)s.") % {"codes": ", ".join(missing)})
    errors = []
    rows = []
    for criterion in criteria:
        points, evidence = scores[criterion.pk]
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            errors.append(
                _("Criterion %(code)s: the points must be a whole number, zero or more.") % {"code": criterion.code}
            )
        elif points > criterion.max_points:
            errors.append(
                _("Criterion %(code)s (%(text)s) is worth at most %(max)d points, not %(points)d.")
                % {"code": criterion.code, "text": criterion.text, "max": criterion.max_points, "points": points}
            )
        evidence = clean_text(evidence)
        if len(evidence) > 500:
            errors.append(
                _("Criterion %(code)s: the evidence note is longer than 500 characters.") % {"code": criterion.code}
            )
        rows.append((criterion, points, evidence))
    if errors:
        raise ValidationError(errors)
    total = sum(points for _criterion, points, _evidence in rows)
    level = next(
        (lv.name for lv in criteria_set.levels.all() if lv.min_points <= total <= lv.max_points),
        "",
    )
    codes = {criterion.pk: criterion.code for criterion in criteria}

    evaluation = Evaluation.objects.filter(registration=registration).select_related("criteria_set").first()
    created = evaluation is None
    if created:
        before = {}
        evaluation = Evaluation(registration=registration)
    else:
        old_codes = codes
        if evaluation.criteria_set_id != criteria_set.pk:  # a newer version came into force since
            old_codes = dict(evaluation.criteria_set.criteria.values_list("pk", "code"))
        before = _evaluation_snapshot(evaluation, list(evaluation.scores.all()), old_codes)
        evaluation.scores.all().delete()
    evaluation.criteria_set = criteria_set
    evaluation.total_points = total
    evaluation.level = level
    evaluation.passed = total >= criteria_set.pass_points
    evaluation.evaluated_on = evaluated_on
    evaluation.evaluator = evaluator
    evaluation.recorded_by = _recorder(actor)
    evaluation.note = clean_text(note)[:1000]
    evaluation.save()
    new_scores = Score.objects.bulk_create(
        [Score(evaluation=evaluation, criterion=c, points=p, evidence=e) for c, p, e in rows]
    )

    stage_before = registration.stage
    registration.stage = Stage.EVALUATED
    registration.reviewed_on = registration.reviewed_by = None
    registration.review_note = ""
    registration.save(update_fields=["stage", "reviewed_on", "reviewed_by", "review_note"])

    changes = diff(before, _evaluation_snapshot(evaluation, new_scores, codes))
    if stage_before != registration.stage:
        changes[str(_("stage"))] = [str(Stage(stage_before).label), str(Stage.EVALUATED.label)]
    audit_record(
        actor=actor,
        obj=evaluation,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        branch=registration.branch,
        changes=changes,
    )
    _announce([registration.branch_id], Evaluation)
    return evaluation


# --- Review and decision ---------------------------------------------------------------------


@transaction.atomic
def review_record(
    *, actor, registration: Registration, approved: bool, reviewed_on: datetime.date, note: str = ""
) -> Registration:
    """The recognising level's review of an evaluated registration: approved → reviewed (ready
    for the decision), refused → not recognised, with the reason in `note`."""
    registration = _lock_registration(registration)
    require_write_in(actor, registration.branch)
    subject = registration.subject
    if registration.stage != Stage.EVALUATED:
        raise ValidationError(
            _("Only an evaluated registration can be reviewed; %(subject)s is %(stage)s.")
            % {"subject": subject, "stage": registration.get_stage_display().lower()}
        )
    evaluation = registration.evaluation
    note = clean_text(note)
    if approved and not evaluation.passed:
        raise ValidationError(
            _("%(subject)s scored %(total)d points, below the %(pass)d needed: it cannot be approved.")
            % {"subject": subject, "total": evaluation.total_points, "pass": evaluation.criteria_set.pass_points}
        )
    if not approved and not note:
        raise ValidationError({"note": _("Say why it is not recognised.")})
    _not_before(
        reviewed_on,
        evaluation.evaluated_on,
        "reviewed_on",
        _("The review cannot come before the evaluation (%(day)s)."),
    )
    before = snapshot(registration, ["stage", "reviewed_on", "reviewed_by", "review_note"])
    registration.stage = Stage.REVIEWED if approved else Stage.NOT_RECOGNISED
    registration.reviewed_on = reviewed_on
    registration.reviewed_by = _recorder(actor)
    registration.review_note = note[:500]
    registration.save(update_fields=["stage", "reviewed_on", "reviewed_by", "review_note"])
    audit_record(
        actor=actor,
        obj=registration,
        action=AuditAction.UPDATE,
        branch=registration.branch,
        changes=diff(before, snapshot(registration, ["stage", "reviewed_on", "reviewed_by", "review_note"])),
    )
    _announce([registration.branch_id], Registration)
    return registration


@transaction.atomic
def decision_record(
    *,
    actor,
    branch: Branch,
    kind: TitleKind,
    year: int,
    number: str,
    decided_on: datetime.date,
    body: str,
    signer: str,
    signer_title: str = "",
    registrations: list[Registration],
) -> Decision:
    """Record a recognition decision and recognise the registrations it lists.

    Each must be of the decision's title and year, in the branch's subtree, and evaluated with
    a passing total — reviewed, or evaluated and not (yet) reviewed: review is optional (see
    the module's docstring). Locks the registrations; one UPDATE recognises them all.
    """
    require_write_in(actor, branch)
    _check_year(year)
    number, body, signer = clean_text(number), clean_text(body), clean_text(signer)
    errors = {}
    if not number:
        errors["number"] = _("Give the decision's number.")
    if not body:
        errors["body"] = _("Say which body recognises.")
    if not signer:
        errors["signer"] = _("Say who signed the decision.")
    if errors:
        raise ValidationError(errors)
    if decided_on.year < year:
        raise ValidationError(
            {"decided_on": _("A decision for %(year)d cannot be dated before that year.") % {"year": year}}
        )
    ids = {registration.pk for registration in registrations}
    if not ids:
        raise ValidationError(_("A decision must recognise at least one registration."))
    locked = list(
        Registration.objects.select_for_update(of=("self",))
        .select_related("kind", "branch", "evaluation", *SUBJECT_FIELDS.values())
        .filter(pk__in=ids)
        .order_by("pk")
    )
    problems = []
    for registration in locked:
        subject = registration.subject
        evaluation = getattr(registration, "evaluation", None)
        if registration.kind_id != kind.pk or registration.year != year:
            problems.append(
                _("%(subject)s is registered for %(title)s %(year)d, not this decision's title and year.")
                % {"subject": subject, "title": registration.kind, "year": registration.year}
            )
        elif not registration.branch.path.startswith(branch.path):
            problems.append(_("%(subject)s is not under %(branch)s.") % {"subject": subject, "branch": branch})
        elif evaluation is None:
            problems.append(_("%(subject)s has not been evaluated: it cannot be recognised.") % {"subject": subject})
        elif registration.stage not in DECIDABLE:
            problems.append(
                _("%(subject)s is %(stage)s: it cannot be recognised.")
                % {"subject": subject, "stage": registration.get_stage_display().lower()}
            )
        elif not evaluation.passed:
            problems.append(
                _("%(subject)s did not pass its evaluation (%(total)d points): it cannot be recognised.")
                % {"subject": subject, "total": evaluation.total_points}
            )
    if len(locked) != len(ids):
        problems.append(_("Some registrations no longer exist."))
    if problems:
        raise ValidationError(problems)

    decision = Decision(
        branch=branch,
        kind=kind,
        year=year,
        number=number,
        decided_on=decided_on,
        body=body,
        signer=signer,
        signer_title=clean_text(signer_title),
        created_by=_recorder(actor),
    )
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError as error:
        raise ValidationError(
            {
                "number": _("%(branch)s already recorded decision %(number)s of %(day)s by %(body)s.")
                % {"branch": branch, "number": number, "day": decided_on.strftime("%d/%m/%Y"), "body": body}
            }
        ) from error
    Registration.objects.filter(pk__in=ids).update(stage=Stage.RECOGNISED, decision=decision)
    audit_record(
        actor=actor,
        obj=decision,
        action=AuditAction.CREATE,
        branch=branch,
        changes={**snapshot(decision), str(_("recognised")): len(locked)},
    )
    audit_record_many(
        actor=actor,
        records=locked,
        action=AuditAction.UPDATE,
        changes_of=lambda registration: {
            str(_("stage")): [registration.get_stage_display(), str(Stage.RECOGNISED.label)],
            str(_("recognition decision")): [None, str(decision)],
        },
    )
    for registration in locked:
        registration.stage, registration.decision = Stage.RECOGNISED, decision
    _announce([branch.pk], Decision)
    return decision


# --- Deadlines and eligible totals -----------------------------------------------------------


@transaction.atomic
def deadline_set(*, actor, branch: Branch, year: int, stage: str, due_on: datetime.date) -> Deadline:
    """Set (or move) when a stage of a year's cycle is due in a branch's subtree; it overrides
    the deadlines of the branch's ancestors (`learning.selectors.deadline_for`)."""
    require_write_in(actor, branch)
    _check_year(year)
    if stage not in DeadlineStage.values:
        raise ValidationError({"stage": _("Choose a stage of the cycle.")})
    deadline, created = Deadline.objects.select_for_update().get_or_create(
        branch=branch, year=year, stage=stage, defaults={"due_on": due_on}
    )
    before = {} if created else snapshot(deadline)
    deadline.due_on = due_on
    if not created:
        deadline.save(update_fields=["due_on"])
    changes = diff(before, snapshot(deadline))
    if changes:
        audit_record(
            actor=actor,
            obj=deadline,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            branch=branch,
            changes=changes,
        )
    return deadline


@transaction.atomic
def eligible_count_set(*, actor, branch: Branch, kind: TitleKind, year: int, count: int) -> EligibleCount:
    """Enter how many subjects could hold a title in a branch that year (the base of the rate
    "trên tổng số")."""
    require_write_in(actor, branch)
    _check_year(year)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValidationError({"count": _("The eligible total must be a whole number, zero or more.")})
    eligible, created = EligibleCount.objects.select_for_update().get_or_create(
        branch=branch, kind=kind, year=year, defaults={"count": count}
    )
    before = {} if created else snapshot(eligible)
    eligible.count = count
    if not created:
        eligible.save(update_fields=["count"])
    changes = diff(before, snapshot(eligible))
    if changes:
        audit_record(
            actor=actor,
            obj=eligible,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            branch=branch,
            changes=changes,
        )
        _announce([branch.pk], EligibleCount)
    return eligible
