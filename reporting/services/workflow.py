"""A report's way up the tree: values typed, submitted, approved by the level above, accepted by
the level above that, or returned with a reason.

Rules written here (DHIS2's data approval is the model):
- Typing values and submitting follow the access rule: anyone who writes in the report's
  branch (its clerk or manager, or one of a branch above). Leaders only read.
- "The level above" is a writing user whose branch is a proper ancestor of the report's
  branch (an administrator is above every branch). Only the level above approves; only a
  level above the approver's accepts (the optional last step).
- A decision is undone (the report returned) only from the level that took it or higher: a
  submitted report is returned by the level above; an approved one by the approver's level
  or higher; an accepted one by the accepter's level or higher. The branch itself never
  changes a report once sent.
- Submitting keeps every field's value (the record fields' figures of that moment and the
  typed ones) as the report's snapshot; approving freezes it; returning clears it and the
  report is a draft again, its reason shown to the branch.
- Every write locks the report's row and checks the state (and the revision the page was
  showing, when given): of two people acting on the same state only the first wins; the
  second is told who acted and when. Every transition writes a ReportTransition and an
  audit row in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write, require_write_in
from associations.audit import audit_record
from associations.models import AuditAction, Branch
from khuyenhoc.templatetags.people import person_name
from reporting import selectors
from reporting.models import (
    FieldSource,
    Period,
    Report,
    ReportForm,
    ReportState,
    ReportTransition,
    ValueType,
)

__all__ = ["report_accept", "report_approve", "report_return", "report_submit", "report_values_save"]

TEXT_MAX = 4000
GROUPED = re.compile(r"\d{1,3}([.,])\d{3}(\1\d{3})*")
NUMBER_MAX = 10**15


# --- Values ------------------------------------------------------------------------------------
def _invisible(ch: str) -> bool:
    """NUL and other control characters (a line break is allowed), right-to-left overrides."""
    code = ord(ch)
    return (code < 32 and ch not in "\n\r\t") or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069


def clean_value(value_type: str, raw) -> int | float | str | None:
    """A typed value checked for its field's type: None when left empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if value_type == ValueType.TEXT:
        text = unicodedata.normalize("NFC", str(raw).strip())
        if any(_invisible(ch) for ch in text):
            raise ValidationError(_("This text contains invisible control characters; please retype it."))
        if len(text) > TEXT_MAX:
            raise ValidationError(_("A text is at most %(max)d characters long.") % {"max": TEXT_MAX})
        return text
    text = str(raw).strip().replace(" ", "")
    if value_type in (ValueType.INTEGER, ValueType.MONEY):
        # 1.500.000 as a Vietnamese reader types it (or 1,500,000); 12,5 is not a whole number.
        if GROUPED.fullmatch(text):
            text = text.replace(".", "").replace(",", "")
        if not text.isdigit():
            raise ValidationError(_("Enter a whole number, zero or more."))
        number = int(text)
        if number > NUMBER_MAX:
            raise ValidationError(_("This number is too large."))
        return number
    try:
        percent = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Enter a percentage between 0 and 100.")) from None
    if not percent.is_finite() or percent < 0 or percent > 100:
        raise ValidationError(_("Enter a percentage between 0 and 100."))
    percent = round(percent, 1)
    return int(percent) if percent == int(percent) else float(percent)


def _freeze_form(form: ReportForm) -> None:
    ReportForm.objects.filter(pk=form.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())


def _lock(report: Report) -> Report:
    return Report.objects.select_for_update(of=("self",)).select_related("form", "period", "branch").get(pk=report.pk)


def _already(report: Report, *, state_changed: bool = True) -> ValidationError:
    """The message for the second of two people acting on the same report: who moved it and
    when, or (the same state, saved meanwhile) to reload."""
    last = report.transitions.select_related("actor").order_by("-at", "-id").first() if state_changed else None
    if last is None:
        return ValidationError(_("This report was changed by someone else meanwhile: reload the page."))
    who = person_name(last.actor) if last.actor else _("someone")
    when = timezone.localtime(last.at).strftime("%d/%m/%Y %H:%M")
    messages = {
        ReportState.SUBMITTED: _("This report was already submitted by %(who)s at %(when)s."),
        ReportState.APPROVED: _("This report was already approved by %(who)s at %(when)s."),
        ReportState.ACCEPTED: _("This report was already accepted by %(who)s at %(when)s."),
        ReportState.DRAFT: _("This report was already returned by %(who)s at %(when)s."),
    }
    return ValidationError(messages[last.to_state] % {"who": who, "when": when})


def _check(report: Report, *, states: tuple[str, ...], expected_revision: int | None) -> None:
    if report.state not in states:
        raise _already(report)
    if expected_revision is not None and report.revision != expected_revision:
        raise _already(report, state_changed=False)


def _move(report: Report, *, actor, to_state: str, reason: str = "", extra: dict | None = None) -> Report:
    from_state = report.state
    report.state = to_state
    report.revision += 1
    report.save()
    ReportTransition.objects.create(report=report, actor=actor, from_state=from_state, to_state=to_state, reason=reason)
    changes = {str(_("state")): [str(ReportState(from_state).label), str(ReportState(to_state).label)]}
    if reason:
        changes[str(_("reason"))] = reason
    audit_record(
        actor=actor, obj=report, action=AuditAction.UPDATE, branch=report.branch, changes={**changes, **(extra or {})}
    )
    return report


@transaction.atomic
def report_values_save(
    *, actor, period: Period, branch: Branch, values: dict, expected_revision: int | None = None
) -> Report:
    """Save the hand-entered values of `branch`'s report for `period` (made, with the newest
    form of the period's kind, on its first save). Only a draft is changed."""
    require_write_in(actor, branch)
    report = Report.objects.filter(period=period, branch=branch).first()
    created = report is None
    if created:
        form = selectors.form_current(period.kind)
        if form is None:
            raise ValidationError(_("There is no report form for this kind of period."))
        report, created = Report.objects.get_or_create(period=period, branch=branch, defaults={"form": form})
    report = _lock(report)
    _check(report, states=(ReportState.DRAFT,), expected_revision=None if created else expected_revision)
    _freeze_form(report.form)
    cleaned, errors = {}, {}
    for item in report.form.fields.filter(source=FieldSource.MANUAL):
        try:
            value = clean_value(item.value_type, values.get(item.code))
        except ValidationError as error:
            errors[item.code] = error.messages
            continue
        if value is not None:
            cleaned[item.code] = value
    if errors:
        raise ValidationError(errors)
    before = report.values
    report.values = cleaned
    report.revision += 1
    report.save(update_fields=["values", "revision"])
    changes = {code: [before.get(code), cleaned.get(code)] for code in set(before) | set(cleaned)}
    changes = {code: pair for code, pair in changes.items() if pair[0] != pair[1]}
    audit_record(
        actor=actor,
        obj=report,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        branch=branch,
        changes=changes,
    )
    return report


# --- Transitions -------------------------------------------------------------------------------
@transaction.atomic
def report_submit(*, actor, report: Report, expected_revision: int | None = None) -> Report:
    require_write_in(actor, report.branch)
    report = _lock(report)
    _check(report, states=(ReportState.DRAFT,), expected_revision=expected_revision)
    now = timezone.now()
    report.snapshot = selectors.snapshot_values(
        form=report.form, branch=report.branch, period=report.period, typed=report.values
    )
    report.submitted_at, report.submitted_by = now, actor
    report.first_submitted_at = report.first_submitted_at or now
    report.return_reason = ""
    return _move(report, actor=actor, to_state=ReportState.SUBMITTED)


def _require_above(actor, report: Report) -> int:
    """Refuse anyone not of a level above the report's branch; answer the actor's depth."""
    require_write(actor)
    if not selectors.is_above(actor, report.branch):
        raise PermissionDenied(_("Only a level above this branch may decide on its report."))
    return selectors.branch_depth_of(actor)


@transaction.atomic
def report_approve(*, actor, report: Report, expected_revision: int | None = None) -> Report:
    depth = _require_above(actor, report)
    report = _lock(report)
    _check(report, states=(ReportState.SUBMITTED,), expected_revision=expected_revision)
    report.approved_at, report.approved_by, report.decided_depth = timezone.now(), actor, depth
    return _move(report, actor=actor, to_state=ReportState.APPROVED)


@transaction.atomic
def report_accept(*, actor, report: Report, expected_revision: int | None = None) -> Report:
    depth = _require_above(actor, report)
    report = _lock(report)
    _check(report, states=(ReportState.APPROVED,), expected_revision=expected_revision)
    if report.decided_depth is not None and depth >= report.decided_depth:
        raise PermissionDenied(_("Only a level above the one that approved this report may accept it."))
    report.accepted_at, report.accepted_by, report.decided_depth = timezone.now(), actor, depth
    return _move(report, actor=actor, to_state=ReportState.ACCEPTED)


@transaction.atomic
def report_return(*, actor, report: Report, reason: str, expected_revision: int | None = None) -> Report:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the report is returned.")})
    if any(_invisible(ch) for ch in reason) or len(reason) > TEXT_MAX:
        raise ValidationError(
            {"reason": _("Write the reason as plain text, at most %(max)d characters.") % {"max": TEXT_MAX}}
        )
    depth = _require_above(actor, report)
    report = _lock(report)
    _check(report, states=selectors.SENT_STATES, expected_revision=expected_revision)
    if report.state in selectors.DECIDED_STATES and report.decided_depth is not None and depth > report.decided_depth:
        raise PermissionDenied(_("A lower level cannot undo the decision of a higher level."))
    report.snapshot = None
    report.return_reason = reason
    report.approved_at = report.approved_by = report.accepted_at = report.accepted_by = None
    report.decided_depth = None
    return _move(report, actor=actor, to_state=ReportState.DRAFT, reason=reason)
