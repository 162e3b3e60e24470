"""Pages of the yearly cycle: registrations (list, registering, detail, evaluation, review,
withdrawal), recognition decisions (list, recording, detail), and a branch's deadlines and
eligible totals. Thin views: every object is fetched through `get_visible_or_404` (with
write=True for a change: a leader gets 403, an outsider 404) and every write is a service of
learning/services/cycle.py, whose ValidationError is shown on the form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations.access import get_visible_or_404, require_write, user_root_branch
from associations.models import Branch
from associations.selectors import history_of
from khuyenhoc.db import vietnamese_order
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.pagination import CappedPaginator, paged
from khuyenhoc.sorting import sort_key_allowed, sorted_by
from khuyenhoc.text import search_key
from learning import services
from learning.documents import NAME_FIELDS, decision_registrations
from learning.forms_cycle import (
    CycleScopeForm,
    CycleSettingsForm,
    DecisionFilterForm,
    DecisionForm,
    DecisionScopeForm,
    EvaluationForm,
    RegistrationCreateForm,
    RegistrationFilterForm,
    ReviewForm,
    TitleYearForm,
    WithdrawForm,
    this_year,
)
from learning.models import (
    SUBJECT_FIELDS,
    Deadline,
    DeadlineStage,
    Decision,
    EligibleCount,
    Evaluation,
    Registration,
    Stage,
    TitleKind,
)
from learning.selectors import ancestor_paths, criteria_set_in_force, late_registrations, registrations_with_marks
from learning.services.cycle import DECIDABLE, EVALUABLE, SUBJECT_MODELS

# How many subjects the registering page lists at once: beyond it, search or pick a branch.
CANDIDATES_SHOWN = 200


def _subject_name():
    """The subject's name, whatever its type: for ordering a list of registrations by name."""
    return Coalesce(*(f"{field}__{NAME_FIELDS[kind]}" for kind, field in SUBJECT_FIELDS.items()))


def _registrations(user):
    return Registration.objects.visible_to(user).select_related("kind", "branch", *SUBJECT_FIELDS.values())


def _refuse_branch_out_of_reach(request) -> None:
    """`?branch=<id>` of a branch outside the user's subtree answers 404, as its pages do."""
    value = request.GET.get("branch", "")
    if value.isdigit() and len(value) < 10:
        get_visible_or_404(request.user, Branch.objects, pk=int(value))


# --- Registrations -----------------------------------------------------------------------------


REGISTRATION_SORTS = {"subject": "subject_name", "year": "year", "branch": "branch__path"}


@login_required
@require_GET
def registration_list(request):
    """The registrations of the user's subtree, searched by the subject's name and filtered by
    title, year, branch and stage; each shows the deadline of the step it waits for, and the
    late ones (past it) are marked. Constant queries: the deadlines and late marks of a page
    are read in one query, whatever its length."""
    form = RegistrationFilterForm(request.GET, user=request.user)
    today = timezone.localdate()
    registrations = form.filter(Registration.objects.visible_to(request.user))
    if form.cleaned_data.get("late"):
        registrations = late_registrations(registrations, today)
    rows = (
        registrations.select_related("kind", "branch", "evaluation", *SUBJECT_FIELDS.values())
        .annotate(subject_name=_subject_name())
        .order_by("-year", "kind__ordering", "branch__path", vietnamese_order("subject_name"), "pk")
    )
    if sort_key_allowed(REGISTRATION_SORTS, request.GET.get("sort")):  # otherwise the order above
        rows = sorted_by(rows, REGISTRATION_SORTS, request.GET["sort"], "subject", names={"subject_name"})
    context = paged(request, rows, paginator_class=CappedPaginator)
    page = list(context["page"])
    marks = {
        pk: (next_due, late_for)
        for pk, next_due, late_for in registrations_with_marks(
            Registration.objects.filter(pk__in=[row.pk for row in page]), today
        ).values_list("pk", "next_due", "late_for")
    }
    for row in page:
        row.next_due, row.late_for = marks.get(row.pk, (None, None))
        row.late_label = DeadlineStage(row.late_for).label if row.late_for else ""
    context.update(form=form, rows=page, section="registrations")
    return render(request, "learning/registration_list.html", context)


def _available_subjects(user, kind: TitleKind, year: int):
    """The subjects of the title's type in the user's subtree not yet registered for the title
    and year (a withdrawn registration does not count)."""
    field = SUBJECT_FIELDS[kind.subject_type]
    taken = (
        Registration.objects.filter(kind=kind, year=year, **{f"{field}__isnull": False})
        .exclude(stage=Stage.WITHDRAWN)
        .values(f"{field}_id")
    )
    model = SUBJECT_MODELS[kind.subject_type]
    return model.objects.visible_to(user).exclude(pk__in=taken)


@login_required
def registration_create(request):
    """Register subjects for a title and year: first the title and year (and, to narrow the
    list, a branch or a name), then tick the subjects."""
    require_write(request.user)
    _refuse_branch_out_of_reach(request)
    scope = TitleYearForm(request.GET or None, user=request.user)
    context = {"scope": scope, "section": "registrations"}
    if scope.is_bound and scope.is_valid():
        kind, year = scope.cleaned_data["kind"], scope.cleaned_data["year"]
        available = _available_subjects(request.user, kind, year)
        form = RegistrationCreateForm(request.POST or None, subjects=available)
        if request.method == "POST" and form.is_valid():
            try:
                created = services.registrations_create(
                    actor=request.user,
                    kind=kind,
                    year=year,
                    subjects=list(form.cleaned_data["subjects"]),
                    registered_on=form.cleaned_data["registered_on"],
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(
                    request,
                    _("%(count)d registered for %(title)s %(year)d.")
                    % {"count": len(created), "title": kind, "year": year},
                )
                query = urlencode({"kind": kind.pk, "year": year})
                return HttpResponseRedirect(f"{reverse('learning:registration_list')}?{query}")
        listed = available
        if scope.cleaned_data.get("branch"):
            listed = listed.in_subtree(scope.cleaned_data["branch"])
        if scope.cleaned_data.get("q"):
            listed = listed.filter(name_search__contains=search_key(scope.cleaned_data["q"]))
        name = NAME_FIELDS[kind.subject_type]
        candidates = list(
            listed.select_related("branch").order_by("branch__path", vietnamese_order(name), "pk")[
                : CANDIDATES_SHOWN + 1
            ]
        )
        context.update(
            form=form,
            kind=kind,
            year=year,
            candidates=candidates[:CANDIDATES_SHOWN],
            more=len(candidates) > CANDIDATES_SHOWN,
            shown=CANDIDATES_SHOWN,
            ticked=set(request.POST.getlist("subjects")),
        )
    return render(request, "learning/registration_form.html", context)


@login_required
@require_GET
def registration_detail(request, pk: int):
    registration = get_visible_or_404(
        request.user,
        _registrations(request.user).select_related("decision", "registered_by", "reviewed_by"),
        pk=pk,
    )
    evaluation = (
        Evaluation.objects.filter(registration=registration).select_related("criteria_set", "recorded_by").first()
    )
    scores = []
    history = history_of(registration)
    if evaluation is not None:
        scores = evaluation.scores.select_related("criterion").order_by("criterion__ordering", "criterion__id")
        history = history | history_of(evaluation)
    return render(
        request,
        "learning/registration_detail.html",
        {
            "registration": registration,
            "evaluation": evaluation,
            "scores": scores,
            "history": history[:100],
            "can_evaluate": registration.stage in EVALUABLE,
            "can_review": registration.stage == Stage.EVALUATED,
            "can_withdraw": registration.stage not in (Stage.RECOGNISED, Stage.WITHDRAWN),
            "withdraw_form": WithdrawForm(),
            "section": "registrations",
        },
    )


@login_required
def evaluation_record(request, pk: int):
    """Score a registration against the criteria set in force for its title and year."""
    registration = get_visible_or_404(request.user, _registrations(request.user), pk=pk, write=True)
    criteria_set = criteria_set_in_force(registration.kind, registration.year)
    criteria = list(criteria_set.criteria.order_by("ordering", "id")) if criteria_set else []
    evaluation = Evaluation.objects.filter(registration=registration).first()
    if evaluation is not None and criteria_set is not None and evaluation.criteria_set_id != criteria_set.pk:
        evaluation = None  # scored against an older version: its points do not fit these criteria
    form = EvaluationForm(request.POST or None, criteria=criteria, evaluation=evaluation)
    open_ = registration.stage in EVALUABLE and bool(criteria)
    if request.method == "POST" and open_ and form.is_valid():
        try:
            recorded = services.evaluation_record(
                actor=request.user,
                registration=registration,
                scores=form.scores(),
                evaluator=form.cleaned_data["evaluator"],
                evaluated_on=form.cleaned_data["evaluated_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            outcome = _("passed") if recorded.passed else _("not passed")
            messages.success(
                request,
                _("Evaluation recorded: %(total)d points, %(outcome)s.")
                % {"total": recorded.total_points, "outcome": outcome},
            )
            return redirect("learning:registration_detail", pk=registration.pk)
    return render(
        request,
        "learning/evaluation_form.html",
        {
            "registration": registration,
            "criteria_set": criteria_set,
            "form": form,
            "open": open_,
            "max_total": sum(criterion.max_points for criterion in criteria),
            "section": "registrations",
        },
    )


@login_required
def review_record(request, pk: int):
    registration = get_visible_or_404(
        request.user, _registrations(request.user).select_related("evaluation__criteria_set"), pk=pk, write=True
    )
    form = ReviewForm(request.POST or None)
    open_ = registration.stage == Stage.EVALUATED
    if request.method == "POST" and open_ and form.is_valid():
        approved = form.cleaned_data["outcome"] == "approve"
        try:
            services.review_record(
                actor=request.user,
                registration=registration,
                approved=approved,
                reviewed_on=form.cleaned_data["reviewed_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if approved:
                messages.success(request, _("Approved: it can be recognised by a decision."))
            else:
                messages.success(request, _("Recorded as not recognised."))
            return redirect("learning:registration_detail", pk=registration.pk)
    return render(
        request,
        "learning/review_form.html",
        {"registration": registration, "form": form, "open": open_, "section": "registrations"},
    )


@login_required
@require_POST
def registration_withdraw(request, pk: int):
    registration = get_visible_or_404(request.user, Registration.objects, pk=pk, write=True)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the registration is withdrawn."))
    else:
        try:
            services.registration_withdraw(
                actor=request.user, registration=registration, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The registration was withdrawn."))
    return redirect("learning:registration_detail", pk=registration.pk)


# --- Decisions ---------------------------------------------------------------------------------


@login_required
@require_GET
def decision_list(request):
    form = DecisionFilterForm(request.GET or None)
    decisions = Decision.objects.visible_to(request.user)
    if form.is_bound and form.is_valid():
        if form.cleaned_data.get("kind"):
            decisions = decisions.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data.get("year"):
            decisions = decisions.filter(year=form.cleaned_data["year"])
    rows = (
        decisions.select_related("kind", "branch")
        .annotate(recognised=Count("registrations"))
        .order_by("-decided_on", "-pk")
    )
    return render(
        request,
        "learning/decision_list.html",
        {"form": form, "section": "decisions", **paged(request, rows)},
    )


def _default_body(branch: Branch) -> str:
    # The statutory wording of the recognising body (a commune's People's Committee); Vietnamese
    # whatever the interface language, as it is printed on the certificate.
    return f"Ủy ban nhân dân {branch.name[:1].lower()}{branch.name[1:]}"


@login_required
def decision_create(request):
    """Record a recognition decision for a branch, title and year, ticking the registrations
    of the branch's subtree that were evaluated and passed (reviewed or not refused)."""
    require_write(request.user)
    _refuse_branch_out_of_reach(request)
    scope = DecisionScopeForm(request.GET or None, user=request.user)
    context = {"scope": scope, "section": "decisions"}
    if scope.is_bound and scope.is_valid():
        branch, kind, year = (scope.cleaned_data[key] for key in ("branch", "kind", "year"))
        candidates = (
            _registrations(request.user)
            .in_subtree(branch)
            .filter(kind=kind, year=year, stage__in=DECIDABLE, evaluation__passed=True)
            .select_related("evaluation")
            .annotate(subject_name=_subject_name())
            .order_by("branch__path", vietnamese_order("subject_name"), "pk")
        )
        form = DecisionForm(request.POST or None, candidates=candidates, initial={"body": _default_body(branch)})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                decision = services.decision_record(
                    actor=request.user,
                    branch=branch,
                    kind=kind,
                    year=year,
                    number=data["number"],
                    decided_on=data["decided_on"],
                    body=data["body"],
                    signer=data["signer"],
                    signer_title=data["signer_title"],
                    registrations=list(data["registrations"]),
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(
                    request,
                    _("Decision %(number)s recorded: %(count)d recognised.")
                    % {"number": decision.number, "count": decision.registrations.count()},
                )
                return redirect("learning:decision_detail", pk=decision.pk)
        ticked = set(request.POST.getlist("registrations")) if request.method == "POST" else None
        context.update(
            form=form,
            branch=branch,
            kind=kind,
            year=year,
            candidates=list(candidates),
            ticked=ticked,
        )
    return render(request, "learning/decision_form.html", context)


@login_required
@require_GET
def decision_detail(request, pk: int):
    decision = get_visible_or_404(request.user, Decision.objects.select_related("kind", "branch", "created_by"), pk=pk)
    return render(
        request,
        "learning/decision_detail.html",
        {
            "decision": decision,
            "rows": list(decision_registrations(decision)),
            "history": history_of(decision)[:100],
            "section": "decisions",
        },
    )


# --- Deadlines and eligible totals -------------------------------------------------------------


def _settings_scope(request) -> CycleScopeForm:
    """`?branch=&year=`, by default the user's own branch (the tree's root for an
    administrator) and this year."""
    if request.GET:
        return CycleScopeForm(request.GET, user=request.user)
    root = user_root_branch(request.user) or Branch.objects.filter(depth=1).order_by("path").first()
    return CycleScopeForm({"branch": getattr(root, "pk", ""), "year": this_year()}, user=request.user)


@login_required
def cycle_settings(request):
    """A branch's deadlines for each stage of a year's cycle (they hold for its subtree, unless
    a branch below sets its own) and its eligible totals per title."""
    require_write(request.user)
    _refuse_branch_out_of_reach(request)
    scope = _settings_scope(request)
    context = {"scope": scope, "section": "settings"}
    if not scope.is_valid():
        return render(request, "learning/cycle_settings.html", context)
    branch, year = scope.cleaned_data["branch"], scope.cleaned_data["year"]
    own = {deadline.stage: deadline for deadline in Deadline.objects.filter(branch=branch, year=year)}
    inherited: dict[str, Deadline] = {}
    above = ancestor_paths(branch)[:-1]
    for deadline in (
        Deadline.objects.filter(branch__path__in=above, year=year).select_related("branch").order_by("-branch__depth")
    ):
        inherited.setdefault(deadline.stage, deadline)
    kinds = list(TitleKind.objects.filter(active=True))
    eligible = {row.kind_id: row for row in EligibleCount.objects.filter(branch=branch, year=year)}
    initial = {f"deadline_{stage}": deadline.due_on for stage, deadline in own.items()}
    initial.update({f"eligible_{kind_id}": row.count for kind_id, row in eligible.items()})
    form = CycleSettingsForm(request.POST or None, kinds=kinds, inherited=inherited, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = 0
        try:
            with transaction.atomic():  # all the changes of one save, or none
                for stage in DeadlineStage.values:
                    due_on = form.cleaned_data[f"deadline_{stage}"]
                    if due_on is not None and due_on != getattr(own.get(stage), "due_on", None):
                        services.deadline_set(actor=request.user, branch=branch, year=year, stage=stage, due_on=due_on)
                        changed += 1
                for kind in kinds:
                    count = form.cleaned_data[f"eligible_{kind.pk}"]
                    if count is not None and count != getattr(eligible.get(kind.pk), "count", None):
                        services.eligible_count_set(
                            actor=request.user, branch=branch, kind=kind, year=year, count=count
                        )
                        changed += 1
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if changed:
                messages.success(request, _("Saved: %(count)d changes.") % {"count": changed})
            else:
                messages.info(request, _("Nothing was changed."))
            query = urlencode({"branch": branch.pk, "year": year})
            return HttpResponseRedirect(f"{reverse('learning:cycle_settings')}?{query}")
    context.update(form=form, branch=branch, year=year, own=own)
    return render(request, "learning/cycle_settings.html", context)
