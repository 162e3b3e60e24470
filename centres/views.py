"""The centres' pages: the list of the user's subtree, a centre with its board, staff and
activities, and the forms that write through `centres/services.py`. Records are fetched with
`get_visible_or_404` (404 outside the subtree, 403 to a read-only role asking for a form);
children are fetched through their own visible queryset, which follows their centre's branch.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations.access import get_visible_or_404, require_write, user_root_branch
from associations.selectors import branch_in_scope, history_of
from centres import selectors, services
from centres.forms import ActivityForm, BoardSeatForm, CentreFilterForm, CentreForm, StaffForm, VoidForm
from centres.models import MAX_YEAR, MIN_YEAR, Activity, Centre, CentreBoardSeat, CentreStaff
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.pagination import paged


def _year(request) -> int:
    """?year=…, or this year when absent or not a sane year."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if MIN_YEAR <= year <= MAX_YEAR else timezone.localdate().year


@login_required
@require_GET
def centre_list(request):
    today = timezone.localdate()
    year = _year(request)
    branch = branch_in_scope(request.user, request.GET.get("branch"))
    centres = selectors.centres_listed(request.user, day=today, year=year, branch=branch)
    root = branch or user_root_branch(request.user)  # an administrator sees the targets of a branch chosen
    filters = CentreFilterForm(request.GET or None, user=request.user, initial={"year": year})
    return render(
        request,
        "centres/centre_list.html",
        {
            "year": year,
            "today": today,
            "branch": branch,
            "root": root,
            "filters": filters,
            "targets": selectors.targets_of(root, today) if root is not None else None,
            **paged(request, centres),
        },
    )


@login_required
def centre_create(request):
    require_write(request.user)
    form = CentreForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            centre = services.centre_create(actor=request.user, branch=data.pop("branch"), data=data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": centre})
            return redirect("centres:centre_detail", pk=centre.pk)
    return render(request, "centres/centre_form.html", {"form": form, "centre": None})


@login_required
@require_GET
def centre_detail(request, pk: int):
    centre = get_visible_or_404(request.user, Centre.objects.select_related("branch"), pk=pk)
    year = _year(request)
    today = timezone.localdate()
    seats = list(centre.board_seats.select_related("member"))
    return render(
        request,
        "centres/centre_detail.html",
        {
            "centre": centre,
            "year": year,
            "years": sorted({year, today.year, *selectors.activity_years(centre)}, reverse=True),
            "today": today,
            "seats": seats,
            "active_seats": [seat for seat in seats if _seat_active(seat, today)],
            "staff": centre.staff.filter(year=year).select_related("member"),
            "activities": centre.activities.filter(starts_on__year=year).select_related("voided_by"),
            "history": history_of(centre)[:50],
        },
    )


def _seat_active(seat: CentreBoardSeat, day) -> bool:
    return (seat.from_on is None or seat.from_on <= day) and (seat.to_on is None or seat.to_on > day)


@login_required
def centre_update(request, pk: int):
    centre = get_visible_or_404(request.user, Centre.objects.select_related("branch"), pk=pk, write=True)
    form = CentreForm(request.POST or None, instance=centre, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            centre = services.centre_update(actor=request.user, centre=centre, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": centre})
            return redirect("centres:centre_detail", pk=centre.pk)
    return render(request, "centres/centre_form.html", {"form": form, "centre": centre})


def _child_form(request, *, centre: Centre, form, save, title: str, template: str = "centres/child_form.html"):
    """A form for one of the centre's people or activities: save through the service, then back to the centre."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": saved})
            return redirect("centres:centre_detail", pk=centre.pk)
    return render(request, template, {"form": form, "centre": centre, "title": title})


@login_required
def seat_create(request, centre_pk: int):
    centre = get_visible_or_404(request.user, Centre.objects.select_related("branch"), pk=centre_pk, write=True)
    form = BoardSeatForm(request.POST or None, centre=centre, user=request.user)
    return _child_form(
        request,
        centre=centre,
        form=form,
        save=lambda data: services.board_seat_create(actor=request.user, centre=centre, data=data),
        title=_("Add a person to the board"),
    )


@login_required
def seat_update(request, pk: int):
    seat = get_visible_or_404(request.user, CentreBoardSeat.objects.select_related("centre__branch"), pk=pk, write=True)
    form = BoardSeatForm(request.POST or None, instance=seat, centre=seat.centre, user=request.user)
    return _child_form(
        request,
        centre=seat.centre,
        form=form,
        save=lambda data: services.board_seat_update(actor=request.user, seat=seat, data=data),
        title=_("Edit a board seat"),
    )


@login_required
def staff_create(request, centre_pk: int):
    centre = get_visible_or_404(request.user, Centre.objects.select_related("branch"), pk=centre_pk, write=True)
    form = StaffForm(request.POST or None, centre=centre, user=request.user)
    return _child_form(
        request,
        centre=centre,
        form=form,
        save=lambda data: services.staff_create(actor=request.user, centre=centre, data=data),
        title=_("Add a member of the association's staff"),
    )


@login_required
def staff_update(request, pk: int):
    staff = get_visible_or_404(request.user, CentreStaff.objects.select_related("centre__branch"), pk=pk, write=True)
    form = StaffForm(request.POST or None, instance=staff, centre=staff.centre, user=request.user)
    return _child_form(
        request,
        centre=staff.centre,
        form=form,
        save=lambda data: services.staff_update(actor=request.user, staff=staff, data=data),
        title=_("Edit a member of the association's staff"),
    )


@login_required
def activity_create(request, centre_pk: int):
    centre = get_visible_or_404(request.user, Centre.objects.select_related("branch"), pk=centre_pk, write=True)
    form = ActivityForm(request.POST or None)
    return _child_form(
        request,
        centre=centre,
        form=form,
        save=lambda data: services.activity_create(actor=request.user, centre=centre, data=data),
        title=_("Record an activity"),
    )


@login_required
@require_GET
def activity_detail(request, pk: int):
    activity = get_visible_or_404(
        request.user, Activity.objects.select_related("centre__branch", "created_by", "voided_by"), pk=pk
    )
    return render(
        request,
        "centres/activity_detail.html",
        {"activity": activity, "void_form": VoidForm(), "history": history_of(activity)[:50]},
    )


@login_required
@require_POST
def activity_void(request, pk: int):
    activity = get_visible_or_404(request.user, Activity.objects.select_related("centre__branch"), pk=pk, write=True)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.activity_void(actor=request.user, activity=activity, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The activity was voided."))
    else:
        messages.error(request, _("Give the reason for voiding."))
    return redirect("centres:activity_detail", pk=activity.pk)
