from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from associations import services
from associations.access import can_write, get_visible_or_404, require_write
from associations.forms import MemberEndForm, MemberFilterForm, MemberForm, MembersEndForm
from associations.models import Member, MemberCategory
from associations.page_cache import cached_page
from associations.privacy import mask_date, sees_personal_data
from associations.selectors import history_of, members_filtered, members_like
from khuyenhoc import form_tokens
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.page_cache import REGISTRY
from khuyenhoc.pagination import CappedPaginator, paged
from khuyenhoc.rows import choice_labels, pk_url


@login_required
@cached_page(REGISTRY)
def member_list(request):
    members = members_filtered(request.user, request.GET)
    filters = MemberFilterForm(request.GET or None, user=request.user)
    listing = paged(request, members, paginator_class=CappedPaginator)
    page = listing["page"]
    page.object_list = member_rows(request.user, page.object_list)
    return render(
        request,
        "associations/member_list.html",
        {
            "filters": filters,
            "end_form": MembersEndForm(initial={"left_on": timezone.localdate()}),
            # The status badges' words, translated once for every row.
            "left_label": _("Left"),
            "active_label": _("Active"),
            **listing,
        },
    )


def member_rows(user, members) -> list[Member]:
    """The page's members with what their row shows computed once (bench/NOTES.md: a row's
    `{% url %}`, `get_category_display`, privacy filter and dates, 50 times, were most of the
    list's template time): the detail URL from one reverse(), the category label from one
    dict, the dates as dd/mm/yyyy, the date of birth masked unless the user sees personal data."""
    labels = choice_labels(MemberCategory)
    detail_url = pk_url("associations:member_detail")
    full = sees_personal_data(user)
    select = _("Select %(name)s")
    rows = list(members)
    for member in rows:
        member.key = str(member.pk)
        member.url = detail_url(member.pk)
        member.select_label = select % {"name": member.full_name}
        member.category_label = labels.get(member.category, member.category)
        born = member.date_of_birth
        member.birth_shown = (born.strftime("%d/%m/%Y") if full else mask_date(born)) if born else ""
        member.joined_shown = member.joined_on.strftime("%d/%m/%Y") if member.joined_on else ""
        member.left_shown = member.left_on.strftime("%d/%m/%Y") if member.left_on else ""
    return rows


@login_required
@require_POST
def members_end(request):
    """The list's bulk action: end the membership of the checked members (all or nothing)."""
    require_write(request.user)
    form = MembersEndForm(request.POST)
    back = reverse("associations:member_list")
    if request.POST.get("back"):
        back += "?" + QueryDict(request.POST["back"]).urlencode()
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        count = services.members_end(
            actor=request.user,
            member_ids=form.cleaned_data["ids"],
            left_on=form.cleaned_data["left_on"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        messages.error(request, _("No membership was ended."))
    else:
        messages.success(
            request,
            ngettext(
                "The membership of %(count)d member has ended.",
                "The memberships of %(count)d members have ended.",
                count,
            )
            % {"count": count},
        )
    return redirect(back)


@login_required
def member_detail(request, pk: int):
    member = get_visible_or_404(
        request.user, Member.objects.select_related("branch", "organization").with_writable(request.user), pk=pk
    )
    return render(
        request,
        "associations/member_detail.html",
        {
            "member": member,
            "history": history_of(member)[:100],
            "end_form": MemberEndForm(),
            # Write buttons only where a write would be accepted: not on a predecessor's history.
            "user_can_write": can_write(request.user) and member.writable_by_user,
        },
    )


@login_required
def member_create(request):
    require_write(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = MemberForm(request.POST or None, user=request.user)
    look_alikes = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not request.POST.get("confirm_look_alike"):
            # The same name, date of birth and branch as a registered member: ask first.
            look_alikes = list(
                members_like(
                    full_name=data["full_name"], date_of_birth=data.get("date_of_birth"), branch=data["branch"]
                )
            )
        if not look_alikes:
            try:
                member = services.member_create(actor=request.user, data=data)
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("Member %(name)s was added.") % {"name": member.full_name})
                url = reverse("associations:member_detail", kwargs={"pk": member.pk})
                form_tokens.remember(request, url)
                return redirect(url)
    return render(request, "associations/member_form.html", {"form": form, "look_alikes": look_alikes})


@login_required
def member_update(request, pk: int):
    member = get_visible_or_404(request.user, Member.objects, pk=pk, write=True)
    form = MemberForm(request.POST or None, instance=member, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=member, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The changes were saved."))
            return redirect("associations:member_detail", pk=member.pk)
    return render(request, "associations/member_form.html", {"form": form, "member": member})


@login_required
@require_POST
def member_end(request, pk: int):
    member = get_visible_or_404(request.user, Member.objects.select_related("branch"), pk=pk, write=True)
    form = MemberEndForm(request.POST)
    if form.is_valid():
        try:
            services.member_end(
                actor=request.user,
                member=member,
                left_on=form.cleaned_data["left_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The membership of %(name)s has ended.") % {"name": member.full_name})
            return redirect("associations:member_detail", pk=member.pk)
    return render(
        request,
        "associations/member_detail.html",
        {"member": member, "history": history_of(member)[:100], "end_form": form},
        status=400,
    )
