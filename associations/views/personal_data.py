"""A member's personal data page: a copy for the member (right of access) and erasure on request."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations import personal_data
from associations.access import get_visible_or_404
from associations.models import Member, PersonalDataExport, PersonalDataExportKind


@login_required
@require_GET
def member_personal_data(request, pk: int):
    member = get_visible_or_404(request.user, Member.objects.select_related("branch"), pk=pk, write=True)
    exports = (
        PersonalDataExport.objects.filter(kind=PersonalDataExportKind.MEMBER_RECORD, object_id=str(member.pk))
        .select_related("user")
        .order_by("-at")[:20]
    )
    return render(
        request,
        "associations/member_personal_data.html",
        {
            "member": member,
            "erased": personal_data.member_is_erased(member),
            "blockers": personal_data.member_erasure_blockers(member),
            "exports": exports,
        },
    )


@login_required
@require_GET
def member_personal_data_export(request, pk: int):
    member = get_visible_or_404(request.user, Member.objects.select_related("branch"), pk=pk, write=True)
    data = personal_data.member_data_export(actor=request.user, member=member)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-hoi-vien-{member.pk}.json"'
    return response


@login_required
@require_POST
def member_personal_data_erase(request, pk: int):
    member = get_visible_or_404(request.user, Member.objects, pk=pk, write=True)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the member asked for their data to be erased."))
        return redirect("associations:member_personal_data", pk=member.pk)
    try:
        personal_data.member_erase(actor=request.user, member=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("associations:member_personal_data", pk=member.pk)
    messages.success(
        request, _("The member's personal data was erased. The record stays, so the counts do not change.")
    )
    return redirect("associations:member_detail", pk=member.pk)
