from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from associations import services
from associations.access import can_write, get_visible_or_404, require_write
from associations.forms import HeadcountForm, OrganizationFilterForm, OrganizationForm
from associations.models import Organization
from associations.selectors import history_of, organizations_filtered
from khuyenhoc import form_tokens
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.pagination import CappedPaginator, paged


@login_required
def organization_list(request):
    organizations = organizations_filtered(request.user, request.GET)
    filters = OrganizationFilterForm(request.GET or None, user=request.user)
    return render(
        request,
        "associations/organization_list.html",
        {"filters": filters, **paged(request, organizations, paginator_class=CappedPaginator)},
    )


def _detail_context(request, organization, headcount_form=None):
    return {
        "organization": organization,
        "boards": organization.boards.order_by("founded_on", "name"),
        "headcounts": organization.headcounts.order_by("-year"),
        "headcount_form": headcount_form or HeadcountForm(),
        "history": history_of(organization)[:100],
        # Write buttons only where a write would be accepted: not on a predecessor's history.
        "user_can_write": can_write(request.user) and getattr(organization, "writable_by_user", False),
    }


@login_required
def organization_detail(request, pk: int):
    organization = get_visible_or_404(
        request.user, Organization.objects.select_related("branch").with_writable(request.user), pk=pk
    )
    return render(request, "associations/organization_detail.html", _detail_context(request, organization))


@login_required
def organization_create(request):
    require_write(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = OrganizationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Organisation %(name)s was added.") % {"name": organization.name})
            url = reverse("associations:organization_detail", kwargs={"pk": organization.pk})
            form_tokens.remember(request, url)
            return redirect(url)
    return render(request, "associations/organization_form.html", {"form": form})


@login_required
def organization_update(request, pk: int):
    organization = get_visible_or_404(request.user, Organization.objects, pk=pk, write=True)
    form = OrganizationForm(request.POST or None, instance=organization, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(actor=request.user, organization=organization, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("associations:organization_detail", pk=organization.pk)
    return render(request, "associations/organization_form.html", {"form": form, "organization": organization})


@login_required
@require_POST
def organization_headcount(request, pk: int):
    organization = get_visible_or_404(request.user, Organization.objects.select_related("branch"), pk=pk, write=True)
    form = HeadcountForm(request.POST)
    if form.is_valid():
        counts = {key: value for key, value in form.cleaned_data.items() if key != "year"}
        try:
            services.headcount_set(
                actor=request.user, organization=organization, year=form.cleaned_data["year"], counts=counts
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The headcount for %(year)s was saved.") % {"year": form.cleaned_data["year"]})
            return redirect("associations:organization_detail", pk=organization.pk)
    return render(
        request, "associations/organization_detail.html", _detail_context(request, organization, form), status=400
    )
