import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations import services
from associations.access import (
    can_write,
    dissolved_message,
    get_visible_or_404,
    in_scope,
    user_root_branch,
)
from associations.forms import BranchDatesForm, BranchForm
from associations.history import branch_children_on, lineage_of
from associations.models import Branch, BranchLevel
from associations.selectors import branch_children_with_counts, history_of
from khuyenhoc import form_tokens
from khuyenhoc.forms_util import apply_validation_error


class TreeDayForm(forms.Form):
    """The day whose tree the branch page shows (dd/mm/yyyy; today when empty)."""

    on = forms.DateField(
        label=gettext_lazy("Tree in force on"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(
            format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "class": "form-control"}
        ),
    )


@login_required
def branch_root(request):
    root = user_root_branch(request.user)
    if root is not None:
        return redirect("associations:branch_detail", pk=root.pk)
    if not request.user.is_superuser:
        raise Http404
    return render(
        request,
        "associations/branch_detail.html",
        {"branch": None, "breadcrumb": [], "children": branch_children_with_counts(request.user, None)},
    )


def _breadcrumb_and_dissolved(user, branch):
    """The ancestors the user may open (from their own branch down; a predecessor's history
    shows itself alone), and the branch or nearest ancestor dissolved by today (one query)."""
    ancestors = list(branch.ancestors_and_self())
    today = timezone.localdate()
    dissolved = next((b for b in reversed(ancestors) if b.is_dissolved_on(today)), None)
    root = user_root_branch(user)
    if root is None:
        return ancestors, dissolved
    if not in_scope(user, branch):
        return [branch], dissolved
    return [b for b in ancestors if b.depth >= root.depth], dissolved


@login_required
def branch_detail(request, pk: int):
    """A branch, its lineage, and its children in the tree in force today or on the day
    asked (?on=dd/mm/yyyy). A dissolved branch (or one below it) is read-only history."""
    branch = get_visible_or_404(request.user, Branch.objects.select_related("organization"), pk=pk)
    today = timezone.localdate()
    breadcrumb, dissolved = _breadcrumb_and_dissolved(request.user, branch)
    # A dissolved branch shows, by default, its last day in force.
    default_day = branch.dissolved_on - datetime.timedelta(days=1) if branch.is_dissolved_on(today) else today
    day_form = TreeDayForm(request.GET or None)
    day = day_form.cleaned_data["on"] if day_form.is_valid() and day_form.cleaned_data["on"] else default_day
    came_from, went_to = lineage_of(branch)
    return render(
        request,
        "associations/branch_detail.html",
        {
            "branch": branch,
            "breadcrumb": breadcrumb,
            "children": branch_children_on(request.user, branch, day),
            "history": history_of(branch)[:50],
            "day_form": day_form,
            "day": day,
            "is_today": day == today,
            "is_default_day": day == default_day,
            "came_from": came_from,
            "went_to": went_to,
            "read_only_reason": dissolved_message(dissolved) if dissolved else "",
            "can_change": dissolved is None and can_write(request.user) and in_scope(request.user, branch),
        },
    )


@login_required
def branch_create(request, parent_pk: int):
    parent = get_visible_or_404(request.user, Branch.objects, pk=parent_pk, write=True)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    organization = request.GET.get("organization")
    initial = {"organization": organization, "level": BranchLevel.BOARD if organization else BranchLevel.CHAPTER}
    form = BranchForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            branch = services.branch_create(actor=request.user, parent=parent, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": branch.name})
            url = reverse("associations:branch_detail", kwargs={"pk": branch.pk})
            form_tokens.remember(request, url)
            return redirect(url)
    return render(request, "associations/branch_form.html", {"form": form, "parent": parent})


@login_required
def branch_update(request, pk: int):
    branch = get_visible_or_404(request.user, Branch.objects, pk=pk, write=True)
    form_class = BranchDatesForm if branch.is_administrative else BranchForm
    form = form_class(request.POST or None, instance=branch, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.branch_update(actor=request.user, branch=branch, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("associations:branch_detail", pk=branch.pk)
    return render(request, "associations/branch_form.html", {"form": form, "branch": branch})
