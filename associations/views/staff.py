"""Managers manage the staff accounts of their subtree."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from associations import services
from associations.access import get_visible_or_404, require_manage
from associations.forms import StaffAccountCreateForm, StaffAccountUpdateForm
from associations.models import StaffProfile
from khuyenhoc import form_tokens
from khuyenhoc.db import vietnamese_order
from khuyenhoc.forms_util import apply_validation_error


@login_required
def staff_list(request):
    require_manage(request.user)
    profiles = (
        StaffProfile.objects.visible_to(request.user)
        .select_related("user", "branch")
        .order_by("branch__path", vietnamese_order("user__last_name"), "user__username")
    )
    return render(request, "associations/staff_list.html", {"profiles": profiles[:500]})


@login_required
def staff_create(request):
    require_manage(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = StaffAccountCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.staff_account_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The account %(username)s was created.") % {"username": profile.user.username})
            url = reverse("associations:staff_update", kwargs={"pk": profile.pk})
            form_tokens.remember(request, url)
            return redirect("associations:staff_list")
    return render(request, "associations/staff_form.html", {"form": form})


@login_required
def staff_update(request, pk: int):
    require_manage(request.user)
    profile = get_visible_or_404(request.user, StaffProfile.objects.select_related("user", "branch"), pk=pk)
    initial = {"branch": profile.branch_id, "role": profile.role, "is_active": profile.user.is_active}
    form = StaffAccountUpdateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_account_update(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("associations:staff_list")
    return render(request, "associations/staff_form.html", {"form": form, "profile": profile})
