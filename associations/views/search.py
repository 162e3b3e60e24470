"""The pickers' search endpoints for the registry: branches, organisations, members.

Each answers `?q=` with at most khuyenhoc.search.LIMIT results of the user's subtree, in a
constant number of queries, as the JSON of khuyenhoc.search.picker_response."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from associations import selectors
from khuyenhoc.search import picker_response


@login_required
@require_GET
def branch_search(request):
    results, more = selectors.branches_for_picker(
        request.user, request.GET.get("q", ""), levels=request.GET.getlist("level")
    )
    return picker_response(results, more=more)


@login_required
@require_GET
def organization_search(request):
    results, more = selectors.organizations_for_picker(request.user, request.GET.get("q", ""))
    return picker_response(results, more=more)


@login_required
@require_GET
def member_search(request):
    results, more = selectors.members_for_picker(request.user, request.GET.get("q", ""))
    return picker_response(results, more=more)
