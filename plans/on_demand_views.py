"""The dashboard's date picker (issue 11, item 5): any past date, on either map.

A date already stored shows at once (the dashboard's `?as_of=`); any other date between the
plan's start and today is computed once by a Celery task (`plans.on_demand`) while the page
says "Đang tính số liệu cho ngày dd/mm/yyyy…" and polls `picked_date_status` (htmx), which
reloads the page when the values are stored. The branch is fetched with
`get_visible_or_404`: the figures shown are the user's subtree's only; the computation
itself stores every branch's values, as the nightly run does."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from associations.access import get_visible_or_404
from associations.models import Branch
from plans.models import OnMap, Target
from plans.on_demand import PickedDate, picked_date_request, picked_date_state
from plans.selectors import dashboard_targets, plan_for_branch_or_none
from plans.timeline import plan_choices


def parse_picked_date(value: str) -> datetime.date | None:
    """A date as the picker sends it (yyyy-mm-dd) or as a clerk types it (dd/mm/yyyy)."""
    value = (value or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _targets(branch: Branch, plan_id: str, today: datetime.date) -> tuple[list[Target], int | None]:
    """The targets the dashboard shows (the chosen plan's, else the current plans'), as the
    dashboard view picks them."""
    chosen = None
    if plan_id.isdigit():
        chosen = plan_for_branch_or_none(branch, int(plan_id))
        if chosen is None:
            raise Http404
    choices = plan_choices(branch, today=today)
    targets = dashboard_targets(branch, plan=chosen, plans=None if chosen else choices.current or None)
    return targets, chosen.pk if chosen else None


def _dashboard_url(branch: Branch, *, on_map: str, as_of: datetime.date | None, plan_id: int | None) -> str:
    keep = {"map": OnMap.TODAY} if on_map == OnMap.TODAY else {}
    if as_of is not None:
        keep["as_of"] = as_of.isoformat()
    if plan_id is not None:
        keep["plan"] = plan_id
    url = reverse("plans:dashboard_branch", args=[branch.pk])
    return url + ("?" + urlencode(keep) if keep else "")


def picked_date_context(branch: Branch, state: PickedDate | None, *, on_map: str, plan_id: int | None) -> dict:
    """What the picker partial reads besides the branch."""
    query = {"as_of": state.as_of.isoformat()} if state else {}
    if on_map == OnMap.TODAY:
        query["map"] = OnMap.TODAY
    if plan_id is not None:
        query["plan"] = plan_id
    return {
        "picked": state,
        "picked_status_url": reverse("plans:picked_date_status", args=[branch.pk]) + "?" + urlencode(query),
        "picked_plan_id": plan_id,
    }


@login_required
@require_POST
def picked_date(request, branch_id: int):
    """The picker's form: queue the computation of the date for the plans shown (nothing
    when it is stored) and go to the dashboard on that date and map."""
    branch = get_visible_or_404(request.user, Branch.objects, pk=branch_id)
    today = timezone.localdate()
    on_map = OnMap.TODAY if request.POST.get("map") == OnMap.TODAY else OnMap.IN_FORCE
    as_of = parse_picked_date(request.POST.get("as_of", ""))
    targets, plan_id = _targets(branch, request.POST.get("plan", ""), today)
    if as_of is not None:
        for plan in {target.plan_id: target.plan for target in targets}.values():
            try:
                picked_date_request(plan=plan, as_of=as_of, today=today)
            except ValidationError as error:
                if error.code == "busy":  # the plan stays "not asked for": the page offers it again
                    messages.warning(request, error.message)
                break  # a date outside the plan: the dashboard says why (picked_date_state)
    return redirect(_dashboard_url(branch, on_map=on_map, as_of=as_of, plan_id=plan_id))


@login_required
@require_GET
def picked_date_status(request, branch_id: int):
    """The picker's status, polled by htmx while the date is being computed; when it is
    stored the page reloads (HX-Refresh) to show the figures."""
    branch = get_visible_or_404(request.user, Branch.objects, pk=branch_id)
    today = timezone.localdate()
    on_map = OnMap.TODAY if request.GET.get("map") == OnMap.TODAY else OnMap.IN_FORCE
    as_of = parse_picked_date(request.GET.get("as_of", ""))
    if as_of is None:  # nothing picked: nothing to say
        return HttpResponse('<div id="picked-status" data-testid="picked-status"></div>')
    targets, plan_id = _targets(branch, request.GET.get("plan", ""), today)
    state = picked_date_state(targets=targets, as_of=as_of, today=today)
    context = {
        "branch": branch,
        "on_map": on_map,
        **picked_date_context(branch, state, on_map=on_map, plan_id=plan_id),
    }
    response: HttpResponse = render(request, "plans/partials/date_picker_status.html", context)
    if state.ready:
        response["HX-Refresh"] = "true"
    return response
