from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from associations import services
from associations.access import get_visible_or_404, user_root_branch
from associations.forms import BranchDatesForm, BranchForm
from associations.models import Branch, BranchLevel
from associations.selectors import branch_children_with_counts, history_of
from khuyenhoc import form_tokens
from khuyenhoc.forms_util import apply_validation_error


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


def _visible_breadcrumb(user, branch):
    root = user_root_branch(user)
    crumbs = branch.ancestors_and_self()
    if root is not None:
        crumbs = crumbs.filter(depth__gte=root.depth)
    return list(crumbs)


@login_required
def branch_detail(request, pk: int):
    branch = get_visible_or_404(request.user, Branch.objects.select_related("organization"), pk=pk)
    return render(
        request,
        "associations/branch_detail.html",
        {
            "branch": branch,
            "breadcrumb": _visible_breadcrumb(request.user, branch),
            "children": branch_children_with_counts(request.user, branch),
            "history": history_of(branch)[:50],
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
