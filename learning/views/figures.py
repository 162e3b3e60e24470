"""Pages of the learning titles. Every branch is fetched with `get_visible_or_404`: a branch
outside the user's subtree is a 404 for its figures and their exports alike."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from associations.access import get_visible_or_404, user_root_branch
from associations.models import Branch
from khuyenhoc.xlsx import xlsx_response
from learning import figures_exports
from learning.figures import RATE_ON_ELIGIBLE, RATE_ON_REGISTERED, figures_panel


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _branch(request) -> Branch:
    """`?branch=<id>` when the user may see it (404 otherwise), else the user's own branch."""
    if "branch" in request.GET:
        branch_id = _int_param(request, "branch")
        if branch_id is None:
            raise Http404
        return get_visible_or_404(request.user, Branch.objects, pk=branch_id)
    root = user_root_branch(request.user)
    if root is None and request.user.is_superuser:
        root = Branch.objects.filter(depth=1).first()
    if root is None:
        raise Http404
    return root


def _breadcrumb(user, branch: Branch) -> list[Branch]:
    """From the user's own branch (the top they may open) down to this one."""
    crumbs = branch.ancestors_and_self()
    root = user_root_branch(user)
    if root is not None:
        crumbs = crumbs.filter(path__startswith=root.path)
    return list(crumbs)


@login_required
@require_GET
def figures(request):
    """The titles' figures of a branch's subtree for one year, a row per child branch."""
    branch = _branch(request)
    panel = figures_panel(branch, year=_int_param(request, "year"))
    export = request.GET.get("format")
    if export == "xlsx":
        return xlsx_response(figures_exports.report_filename(panel, "xlsx"), figures_exports.figures_sheets(panel))
    if export == "pdf":
        response = HttpResponse(figures_exports.figures_pdf(panel), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{figures_exports.report_filename(panel, "pdf")}"'
        return response
    context = {
        "panel": panel,
        "branch": branch,
        "breadcrumb": _breadcrumb(request.user, branch),
        "rate_on_registered": RATE_ON_REGISTERED,
        "rate_on_eligible": RATE_ON_ELIGIBLE,
    }
    return render(request, "learning/figures.html", context)
