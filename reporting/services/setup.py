"""Report forms, periods and deadlines: the province's settings, changed by an administrator or a
manager of the tree's root (`selectors.may_edit_forms`).

Rules written here:
- A form version used by a report is frozen (the first report saved with it freezes it);
  a frozen form is never changed: `form_new_version` copies it, sections and fields, as the
  next version, which new reports then use. Past reports keep theirs.
- A field's code is unique in its form (the consolidation adds fields by code); a field from
  the records names a measure of the catalogue; its filters are checked against the
  measure's (unknown keys or values are dropped).
- A period is (kind, year); a deadline per reporting level lies after the period's start.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from associations.audit import audit_record
from associations.models import AuditAction, Branch
from khuyenhoc import measures
from khuyenhoc.text import clean_text, search_key
from reporting import selectors
from reporting.models import (
    MAX_YEAR,
    MIN_YEAR,
    REPORTING_LEVELS,
    Deadline,
    Field,
    FieldSource,
    Period,
    PeriodKind,
    ReportForm,
    Section,
    ValueType,
)

__all__ = [
    "deadlines_save",
    "field_delete",
    "field_save",
    "form_new_version",
    "period_create",
    "section_save",
]


def _require_editor(actor) -> Branch | None:
    """Refuse (403) anyone who may not change the province's report settings; the branch the
    audit rows are filed under (the root; None for an administrator)."""
    if not selectors.may_edit_forms(actor):
        raise PermissionDenied
    return None if actor.is_superuser else Branch.objects.get_root(actor.staff_profile.branch)


def _unfrozen(form: ReportForm) -> ReportForm:
    form = ReportForm.objects.select_for_update().get(pk=form.pk)
    if form.is_frozen:
        raise ValidationError(_("This form is in use and can no longer be changed: make a new version."))
    return form


@transaction.atomic
def form_new_version(*, actor, form: ReportForm) -> ReportForm:
    root = _require_editor(actor)
    form = ReportForm.objects.select_for_update().get(pk=form.pk)
    if ReportForm.objects.filter(previous=form).exists():
        raise ValidationError(_("This form already has a newer version."))
    version = (ReportForm.objects.filter(kind=form.kind).aggregate(top=Max("version"))["top"] or 0) + 1
    new = ReportForm.objects.create(kind=form.kind, name=form.name, version=version, previous=form)
    fields = list(form.fields.all())
    for section in form.sections.all():
        copy = Section.objects.create(form=new, order=section.order, title=section.title)
        Field.objects.bulk_create(
            Field(
                form=new,
                section=copy,
                order=item.order,
                code=item.code,
                label=item.label,
                value_type=item.value_type,
                source=item.source,
                measure_code=item.measure_code,
                measure_filters=item.measure_filters,
            )
            for item in fields
            if item.section_id == section.pk
        )
    audit_record(
        actor=actor, obj=new, action=AuditAction.CREATE, branch=root, changes={"version": [form.version, version]}
    )
    return new


@transaction.atomic
def section_save(*, actor, form: ReportForm, section: Section | None = None, title: str, order: int) -> Section:
    root = _require_editor(actor)
    form = _unfrozen(form)
    title = clean_text(title)
    if not title:
        raise ValidationError({"title": _("Give the section a title.")})
    section = section or Section(form=form)
    if section.form_id != form.pk:
        raise ValidationError(_("This section belongs to another form."))
    before = section.title or None
    section.title, section.order = title, order
    section.save()
    audit_record(
        actor=actor,
        obj=form,
        action=AuditAction.UPDATE,
        branch=root,
        changes={str(_("section")): [before, title]},
    )
    return section


def _clean_filters(measure_code: str, filters) -> dict:
    if not filters:
        return {}
    if not isinstance(filters, dict) or not all(
        isinstance(values, list) and all(isinstance(value, str) for value in values) for values in filters.values()
    ):
        raise ValidationError({"measure_filters": _('Filters are written as {"key": ["value", …]}.')})
    try:
        return measures.clean_filters(measures.measure(measure_code), filters)
    except measures.MeasureError:
        return filters  # an unregistered measure's filters are kept as written, checked once it is


@transaction.atomic
def field_save(
    *,
    actor,
    form: ReportForm,
    field: Field | None = None,
    section: Section,
    order: int,
    code: str,
    label: str,
    value_type: str,
    source: str,
    measure_code: str = "",
    measure_filters: dict | None = None,
) -> Field:
    root = _require_editor(actor)
    form = _unfrozen(form)
    errors: dict[str, str] = {}
    code = slugify(search_key(code or ""))[:40]
    label = clean_text(label)
    measure_code = (measure_code or "").strip()
    if section.form_id != form.pk:
        errors["section"] = _("Choose a section of this form.")
    if not code:
        errors["code"] = _("Give the field a code.")
    elif form.fields.filter(code=code).exclude(pk=getattr(field, "pk", None)).exists():
        errors["code"] = _("Another field of this form has the code %(code)s.") % {"code": code}
    if not label:
        errors["label"] = _("Give the field a label.")
    if value_type not in ValueType.values:
        errors["value_type"] = _("Choose a type of value.")
    if source not in FieldSource.values:
        errors["source"] = _("Choose where the value comes from.")
    if source == FieldSource.RECORDS:
        unchanged = field is not None and field.measure_code == measure_code
        if not measure_code:
            errors["measure_code"] = _("A field from the records names a measure.")
        elif not unchanged and measure_code not in {m.code for m in measures.registered()}:
            errors["measure_code"] = _("There is no measure %(code)s in the catalogue.") % {"code": measure_code}
        elif value_type == ValueType.TEXT:
            errors["value_type"] = _("A figure from the records is a number, not a text.")
    else:
        measure_code, measure_filters = "", {}
    if errors:
        raise ValidationError(errors)
    before = f"{field.code}: {field.label}" if field is not None else None
    field = field or Field(form=form)
    field.section, field.order, field.code, field.label = section, order, code, label
    field.value_type, field.source, field.measure_code = value_type, source, measure_code
    field.measure_filters = _clean_filters(measure_code, measure_filters) if measure_code else {}
    field.save()
    audit_record(
        actor=actor,
        obj=form,
        action=AuditAction.UPDATE,
        branch=root,
        changes={str(_("field")): [before, f"{code}: {label}"]},
    )
    return field


@transaction.atomic
def field_delete(*, actor, field: Field) -> None:
    root = _require_editor(actor)
    form = _unfrozen(field.form)
    audit_record(
        actor=actor, obj=form, action=AuditAction.UPDATE, branch=root, changes={str(_("field")): [field.code, None]}
    )
    field.delete()


@transaction.atomic
def period_create(*, actor, kind: str, year: int) -> Period:
    root = _require_editor(actor)
    if kind not in PeriodKind.values:
        raise ValidationError({"kind": _("Choose half-year or year.")})
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            {"year": _("The year must lie between %(low)d and %(high)d.") % {"low": MIN_YEAR, "high": MAX_YEAR}}
        )
    period, created = Period.objects.get_or_create(kind=kind, year=year)
    if created:
        audit_record(actor=actor, obj=period, action=AuditAction.CREATE, branch=root)
    return period


@transaction.atomic
def deadlines_save(*, actor, period: Period, due: dict[str, datetime.date | None]) -> list[Deadline]:
    """Set (or clear, with None) the deadline of each reporting level for `period`."""
    root = _require_editor(actor)
    errors = {}
    for level, day in due.items():
        if level not in REPORTING_LEVELS:
            errors[level] = _("Deadlines are set for the city, district and commune levels.")
        elif day is not None and day < period.start:
            errors[level] = _("A deadline cannot come before the period starts.")
    if errors:
        raise ValidationError(errors)
    before = {d.level: d.due_on for d in Deadline.objects.filter(period=period)}
    for level, day in due.items():
        if day is None:
            Deadline.objects.filter(period=period, level=level).delete()
        else:
            Deadline.objects.update_or_create(period=period, level=level, defaults={"due_on": day})
    changes = {
        level: [before[level].isoformat() if before.get(level) else None, day.isoformat() if day else None]
        for level, day in due.items()
        if before.get(level) != day
    }
    audit_record(actor=actor, obj=period, action=AuditAction.UPDATE, branch=root, changes=changes)
    return list(Deadline.objects.filter(period=period))
