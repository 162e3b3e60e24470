"""The reports' pages: thin views over `reporting.selectors` and `reporting.services`.

Access: a branch's report is reached through the branch (`branch_in_scope`: 404 outside the
user's subtree); a report by id through `get_visible_or_404` (404 outside, 403 for a role
that may not write). The level rules (who approves, who returns) are the services'; when
they refuse a writing user the page says why and goes back to the report. Forms, periods
and deadlines are the province's: every staff member reads them, an administrator or a
manager of the root changes them.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations.access import can_write, get_visible_or_404, user_root_branch
from associations.models import Branch
from associations.selectors import history_of
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.xlsx import xlsx_response
from reporting import documents, selectors, services
from reporting.forms import DeadlinesForm, FieldForm, PeriodForm, SectionForm, values_form_class
from reporting.models import REPORTING_LEVELS, Deadline, Field, Period, Report, ReportForm, ReportState, Section


def _root(user) -> Branch | None:
    """The branch the user's pages start from: their own, or the tree's first root for an administrator."""
    branch = user_root_branch(user)
    if branch is None and user.is_superuser:
        branch = Branch.objects.get_first_root_node()
    return branch


def _branch(user, branch_id: int, *, write: bool = False) -> Branch:
    """A reporting branch the user sees (their subtree and its history: 404 otherwise); with
    write=True, one they may change today (403 for a role that may not write, or under a
    dissolved branch: a predecessor's reports are history)."""
    return get_visible_or_404(user, Branch.objects.filter(level__in=REPORTING_LEVELS), write=write, pk=branch_id)


def _require_editor(user) -> None:
    if not selectors.may_edit_forms(user):
        raise PermissionDenied


# --- Periods -----------------------------------------------------------------------------------
@login_required
@require_GET
def period_list(request):
    context = {
        "periods": selectors.periods_with_deadlines(),
        "may_edit": selectors.may_edit_forms(request.user),
        "forms": ReportForm.objects.order_by("kind", "-version"),
    }
    return render(request, "reporting/period_list.html", context)


@login_required
def period_create(request):
    _require_editor(request.user)
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            period = services.period_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The period was opened: set its deadlines."))
            return redirect("reporting:deadlines", period_pk=period.pk)
    return render(request, "reporting/period_form.html", {"form": form})


@login_required
def deadlines(request, period_pk: int):
    _require_editor(request.user)
    period = get_object_or_404(Period, pk=period_pk)
    current = dict(Deadline.objects.filter(period=period).values_list("level", "due_on"))
    form = DeadlinesForm(request.POST or None, initial_dates=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.deadlines_save(actor=request.user, period=period, due=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The deadlines were saved."))
            return redirect("reporting:report_list", period_pk=period.pk)
    return render(request, "reporting/deadlines_form.html", {"form": form, "period": period})


@login_required
@require_GET
def report_list(request, period_pk: int):
    """Every reporting branch of the user's subtree with its report's state: three queries."""
    period = get_object_or_404(Period, pk=period_pk)
    root = _root(request.user)
    rows = selectors.period_rows(period, root) if root else []
    context = {"period": period, "rows": rows, "root": root, "may_edit": selectors.may_edit_forms(request.user)}
    return render(request, "reporting/report_list.html", context)


@login_required
@require_GET
def completeness(request, period_pk: int):
    period = get_object_or_404(Period, pk=period_pk)
    root = _root(request.user)
    levels, rows = selectors.completeness(period, root) if root else ([], [])
    return render(
        request, "reporting/completeness.html", {"period": period, "levels": levels, "rows": rows, "root": root}
    )


# --- One branch's report -----------------------------------------------------------------------
def _decisions(user, report: Report | None) -> dict:
    """Which buttons the page offers; the services decide again on the click."""
    if report is None or not can_write(user):
        return {}
    above = selectors.is_above(user, report.branch)
    depth = selectors.branch_depth_of(user)
    decided = report.decided_depth
    return {
        "submit": report.state == ReportState.DRAFT,
        "approve": above and report.state == ReportState.SUBMITTED,
        "accept": above and report.state == ReportState.APPROVED and (decided is None or depth < decided),
        "return": above
        and (
            report.state == ReportState.SUBMITTED
            or (report.state in selectors.DECIDED_STATES and (decided is None or depth <= decided))
        ),
    }


@login_required
@require_GET
def report_detail(request, period_pk: int, branch_id: int):
    period = get_object_or_404(Period, pk=period_pk)
    branch = _branch(request.user, branch_id)
    report = Report.objects.filter(period=period, branch=branch).select_related("form", "submitted_by").first()
    form = report.form if report else selectors.form_current(period.kind)
    sections = selectors.report_sections(form=form, branch=branch, period=period, report=report) if form else []
    context = {
        "period": period,
        "branch": branch,
        "report": report,
        "form": form,
        "sections": sections,
        "may": _decisions(request.user, report),
        "may_write": can_write(request.user),
        "transitions": selectors.transitions_of(report) if report else [],
        "history": history_of(report)[:50] if report else [],
    }
    return render(request, "reporting/report_detail.html", context)


@login_required
def report_edit(request, period_pk: int, branch_id: int):
    period = get_object_or_404(Period, pk=period_pk)
    branch = _branch(request.user, branch_id, write=True)
    report = Report.objects.filter(period=period, branch=branch).select_related("form").first()
    if report is not None and report.is_sent:
        messages.info(request, _("This report has been sent: it can be changed only after it is returned."))
        return redirect("reporting:report_detail", period_pk=period.pk, branch_id=branch.pk)
    form_version = report.form if report else selectors.form_current(period.kind)
    if form_version is None:
        raise Http404
    fields = selectors.form_fields(form_version)
    initial = {code: "" if value is None else value for code, value in (report.values if report else {}).items()}
    form = values_form_class(fields)(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        expected = request.POST.get("revision")
        try:
            services.report_values_save(
                actor=request.user,
                period=period,
                branch=branch,
                values=form.cleaned_data,
                expected_revision=int(expected) if expected and expected.isdigit() else None,
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The report was saved."))
            return redirect("reporting:report_detail", period_pk=period.pk, branch_id=branch.pk)
    sections = selectors.report_sections(form=form_version, branch=branch, period=period, report=report)
    context = {"period": period, "branch": branch, "report": report, "form": form, "sections": sections}
    return render(request, "reporting/report_form.html", context)


def _transition(request, pk: int, action):
    report = get_visible_or_404(request.user, Report.objects.select_related("branch", "period"), write=True, pk=pk)
    expected = request.POST.get("revision")
    try:
        action(report, int(expected) if expected and expected.isdigit() else None)
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text or _("You may not do this on this report."))
    return redirect("reporting:report_detail", period_pk=report.period_id, branch_id=report.branch_id)


@login_required
@require_POST
def report_submit(request, pk: int):
    def act(report, revision):
        services.report_submit(actor=request.user, report=report, expected_revision=revision)
        messages.success(request, _("The report was submitted."))

    return _transition(request, pk, act)


@login_required
@require_POST
def report_approve(request, pk: int):
    def act(report, revision):
        services.report_approve(actor=request.user, report=report, expected_revision=revision)
        messages.success(request, _("The report was approved."))

    return _transition(request, pk, act)


@login_required
@require_POST
def report_accept(request, pk: int):
    def act(report, revision):
        services.report_accept(actor=request.user, report=report, expected_revision=revision)
        messages.success(request, _("The report was accepted."))

    return _transition(request, pk, act)


@login_required
@require_POST
def report_return(request, pk: int):
    def act(report, revision):
        services.report_return(
            actor=request.user, report=report, reason=request.POST.get("reason", ""), expected_revision=revision
        )
        messages.success(request, _("The report was returned to its branch."))

    return _transition(request, pk, act)


# --- Consolidation -----------------------------------------------------------------------------
def _consolidation(request, period_pk: int, branch_id: int):
    period = get_object_or_404(Period, pk=period_pk)
    branch = _branch(request.user, branch_id)
    return selectors.consolidation(period, branch)


@login_required
@require_GET
def consolidated(request, period_pk: int, branch_id: int):
    result = _consolidation(request, period_pk, branch_id)
    return render(request, "reporting/consolidated.html", {"result": result, "period": result.period})


@login_required
@require_GET
def consolidated_xlsx(request, period_pk: int, branch_id: int):
    result = _consolidation(request, period_pk, branch_id)
    return xlsx_response(documents.filename(result, "xlsx"), [documents.consolidation_sheet(result)])


@login_required
@require_GET
def consolidated_pdf(request, period_pk: int, branch_id: int):
    result = _consolidation(request, period_pk, branch_id)
    response = HttpResponse(documents.consolidation_pdf(result), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.filename(result, "pdf")}"'
    return response


# --- Forms -------------------------------------------------------------------------------------
@login_required
@require_GET
def form_detail(request, pk: int):
    form = get_object_or_404(ReportForm.objects.select_related("previous"), pk=pk)
    context = {
        "report_form": form,
        "sections": form.sections.prefetch_related("fields"),
        "newer": ReportForm.objects.filter(previous=form).first(),
        "may_edit": selectors.may_edit_forms(request.user),
        "history": history_of(form)[:50],
    }
    return render(request, "reporting/form_detail.html", context)


@login_required
@require_POST
def form_new_version(request, pk: int):
    _require_editor(request.user)
    form = get_object_or_404(ReportForm, pk=pk)
    if not form.is_frozen:
        messages.info(request, _("This form is not in use yet: change it directly."))
        return redirect("reporting:form_detail", pk=form.pk)
    try:
        new = services.form_new_version(actor=request.user, form=form)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reporting:form_detail", pk=form.pk)
    messages.success(request, _("Version %(version)d was made: change it below.") % {"version": new.version})
    return redirect("reporting:form_detail", pk=new.pk)


def _editable(request, form: ReportForm):
    if form.is_frozen:
        messages.error(request, _("This form is in use and can no longer be changed: make a new version."))
        return redirect("reporting:form_detail", pk=form.pk)
    return None


def _section_page(request, report_form: ReportForm, section: Section | None):
    if refused := _editable(request, report_form):
        return refused
    initial = {"title": section.title, "order": section.order} if section else None
    form = SectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.section_save(actor=request.user, form=report_form, section=section, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("reporting:form_detail", pk=report_form.pk)
    context = {"form": form, "report_form": report_form, "section": section}
    return render(request, "reporting/section_form.html", context)


@login_required
def section_create(request, pk: int):
    _require_editor(request.user)
    return _section_page(request, get_object_or_404(ReportForm, pk=pk), None)


@login_required
def section_update(request, pk: int):
    _require_editor(request.user)
    section = get_object_or_404(Section.objects.select_related("form"), pk=pk)
    return _section_page(request, section.form, section)


def _field_page(request, report_form: ReportForm, field: Field | None):
    if refused := _editable(request, report_form):
        return refused
    initial = None
    if field is not None:
        initial = {
            "section": field.section_id,
            "order": field.order,
            "code": field.code,
            "label": field.label,
            "value_type": field.value_type,
            "source": field.source,
            "measure_code": field.measure_code,
            "measure_filters": json.dumps(field.measure_filters, ensure_ascii=False) if field.measure_filters else "",
        }
    form = FieldForm(request.POST or None, form=report_form, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["section"] = get_object_or_404(report_form.sections, pk=data["section"])
        try:
            services.field_save(actor=request.user, form=report_form, field=field, **data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The field was saved."))
            return redirect("reporting:form_detail", pk=report_form.pk)
    context = {"form": form, "report_form": report_form, "field": field}
    return render(request, "reporting/field_form.html", context)


@login_required
def field_create(request, pk: int):
    _require_editor(request.user)
    return _field_page(request, get_object_or_404(ReportForm, pk=pk), None)


@login_required
def field_update(request, pk: int):
    _require_editor(request.user)
    field = get_object_or_404(Field.objects.select_related("form"), pk=pk)
    return _field_page(request, field.form, field)


@login_required
@require_POST
def field_delete(request, pk: int):
    _require_editor(request.user)
    field = get_object_or_404(Field.objects.select_related("form"), pk=pk)
    if refused := _editable(request, field.form):
        return refused
    services.field_delete(actor=request.user, field=field)
    messages.success(request, _("The field was removed."))
    return redirect("reporting:form_detail", pk=field.form_id)
