"""The batch evaluation page: a clerk scores many registrations of one title, year and branch
(a chapter, or a commune with its chapters) on one page. It lists only registrations the
user may write (their subtree, a writing role) still waiting for their first evaluation;
one already evaluated is re-evaluated on its own page. The write is
`learning.services.evaluations_record`: all rows or none."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from associations.access import require_write, require_write_in
from khuyenhoc.db import vietnamese_order
from learning import services
from learning.forms_batch import BatchEvaluationForm, BatchScopeForm
from learning.models import SUBJECT_FIELDS, DeadlineStage, Registration, Stage
from learning.selectors import criteria_set_in_force, deadline_for
from learning.views.cycle import _refuse_branch_out_of_reach, _subject_name

# How many registrations one page scores: beyond it, save these first and the next ones follow.
BATCH_SIZE = 50
# Django refuses a POST of more than DATA_UPLOAD_MAX_NUMBER_FIELDS (1 000) fields; a row posts
# one per criterion and three more, so a set with many criteria scores fewer rows a page.
FIELDS_PER_PAGE = 900


def batch_size(criteria: list) -> int:
    return max(1, min(BATCH_SIZE, FIELDS_PER_PAGE // (len(criteria) + 3)))


def _posted_ids(request) -> list[int]:
    values = request.POST.getlist("registration")
    return [int(value) for value in values if value.isdigit() and len(value) < 10]


@login_required
def evaluations_batch(request):
    require_write(request.user)
    _refuse_branch_out_of_reach(request)
    scope = BatchScopeForm(request.GET or None, user=request.user)
    context = {"scope": scope, "section": "registrations"}
    if not (scope.is_bound and scope.is_valid()):
        return render(request, "learning/evaluation_batch.html", context)
    branch, kind, year = (scope.cleaned_data[key] for key in ("branch", "kind", "year"))
    require_write_in(request.user, branch)
    criteria_set = criteria_set_in_force(kind, year)
    criteria = list(criteria_set.criteria.order_by("ordering", "id")) if criteria_set else []
    in_scope = (
        Registration.objects.visible_to(request.user)
        .in_subtree(branch)
        .filter(kind=kind, year=year)
        .select_related("kind", "branch", *SUBJECT_FIELDS.values())
        .annotate(subject_name=_subject_name())
        .order_by("branch__path", vietnamese_order("subject_name"), "pk")
    )
    query = urlencode({"kind": kind.pk, "year": year, "branch": branch.pk})
    more = False
    if request.method == "POST":
        # The rows posted, whatever their stage now: one withdrawn or evaluated meanwhile is
        # named among the errors rather than silently dropped.
        ids = _posted_ids(request)
        registrations = list(in_scope.filter(pk__in=ids))
    else:
        size = batch_size(criteria)
        registrations = list(in_scope.filter(stage=Stage.REGISTERED)[: size + 1])
        more = len(registrations) > size
        registrations = registrations[:size]
    form = BatchEvaluationForm(request.POST or None, registrations=registrations, criteria=criteria)
    if request.method == "POST" and criteria:
        if len(registrations) != len(set(ids)):
            form.add_error(None, _("Some rows can no longer be evaluated here: list them again."))
        elif form.is_valid():
            try:
                evaluations = services.evaluations_record(actor=request.user, rows=form.rows())
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                passed = sum(1 for evaluation in evaluations if evaluation.passed)
                messages.success(
                    request,
                    _("%(count)d evaluated: %(passed)d passed, %(failed)d not passed.")
                    % {"count": len(evaluations), "passed": passed, "failed": len(evaluations) - passed},
                )
                return HttpResponseRedirect(f"{reverse('learning:evaluations_batch')}?{query}")
    due = deadline_for(branch, year, DeadlineStage.EVALUATION)
    evaluated_query = urlencode({"kind": kind.pk, "year": year, "branch": branch.pk, "stage": Stage.EVALUATED})
    context.update(
        form=form,
        branch=branch,
        kind=kind,
        year=year,
        criteria_set=criteria_set,
        max_total=sum(criterion.max_points for criterion in criteria),
        more=more,
        evaluation_due=due.due_on if due else None,
        late=due is not None and due.due_on < timezone.localdate(),
        batch_size=batch_size(criteria),
        evaluated_link=f"{reverse('learning:registration_list')}?{evaluated_query}",
    )
    return render(request, "learning/evaluation_batch.html", context)
