"""Excel import (template, upload, dry-run preview, apply) and Excel export of the registry."""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from associations import exports
from associations.access import can_write, get_visible_or_404, require_write, user_root_branch
from associations.models import Branch, ImportJob, ImportStatus
from associations.tasks import imports_apply, imports_check
from khuyenhoc import imports
from khuyenhoc.xlsx import XLSX_CONTENT_TYPE

ADAPTERS = {kind: imports.adapter_class(kind) for kind in imports.ADAPTERS}
TEMPLATE_FILES = {
    "members": "mau-nhap-hoi-vien.xlsx",
    "organizations": "mau-nhap-to-chuc.xlsx",
    "donations": "mau-nhap-ung-ho.xlsx",
    "awards": "mau-nhap-hoc-bong.xlsx",
}
# Where each register's list lives, for the link back from the import pages.
LIST_URLS = {
    "members": "associations:member_list",
    "organizations": "associations:organization_list",
    "donations": "funds:donation_list",
    "awards": "scholarships:award_list",
}
LIST_PAGE_SIZE = 50
RUNNING = {ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.APPLYING}


def _adapter(kind: str):
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise Http404 from None


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        help_text=gettext_lazy("Fill in the template, then upload it here. Nothing is written before you confirm."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX_CONTENT_TYPE}),
    )
    branch = forms.ModelChoiceField(
        queryset=Branch.objects.none(),
        label=gettext_lazy("Branch whose subtree the file may change"),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = user_root_branch(user)
        if self.root is None and user.is_superuser:
            # An administrator belongs to no branch: they name the tree (one per map) to import into.
            self.fields["branch"].queryset = Branch.objects.filter(depth=1)
            self.fields["branch"].required = True
        else:
            del self.fields["branch"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB: split it into several files.")
                % {"limit": imports.MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        if not zipfile.is_zipfile(upload):
            raise forms.ValidationError(_("This is not an Excel .xlsx file. Use the template and save it as .xlsx."))
        upload.seek(0)
        return upload

    def import_branch(self):
        return self.root if self.root is not None else self.cleaned_data["branch"]


@login_required
@require_GET
def import_template(request, kind: str):
    adapter = _adapter(kind)
    output = io.BytesIO()
    imports.build_template(adapter, output)
    response = HttpResponse(output.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILES[kind]}"'
    return response


@login_required
def import_start(request, kind: str):
    adapter = _adapter(kind)
    require_write(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        job = imports.job_create(
            actor=request.user, kind=kind, branch=form.import_branch(), upload=form.cleaned_data["file"]
        )
        language = get_language()
        transaction.on_commit(lambda: imports_check.delay(job.pk, language))
        return redirect("associations:import_detail", pk=job.pk)
    recent = ImportJob.objects.visible_to(request.user).filter(kind=kind).select_related("created_by", "branch")[:10]
    return render(
        request,
        "associations/import_start.html",
        {
            "form": form,
            "kind": kind,
            "title": adapter.title,
            "columns": adapter.columns,
            "recent": recent,
            "list_url": LIST_URLS[kind],
        },
    )


@login_required
@require_GET
def import_list(request):
    """Every import of the user's subtree, newest first; optionally one kind or status."""
    jobs = ImportJob.objects.visible_to(request.user).select_related("created_by", "branch")
    kind = request.GET.get("kind", "")
    if kind in ADAPTERS:
        jobs = jobs.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in ImportStatus.values:
        jobs = jobs.filter(status=status)
    page = Paginator(jobs.order_by("-created_at", "-id"), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "associations/import_list.html",
        {
            "page": page,
            "kind": kind if kind in ADAPTERS else "",
            "status": status if status in ImportStatus.values else "",
            "kinds": [(key, ADAPTERS[key].title) for key in ADAPTERS],
            "statuses": ImportStatus.choices,
            "can_write": can_write(request.user),
        },
    )


def _progress_context(job) -> dict:
    processed, total = imports.progress_of(job)
    percent = 100 if job.status not in RUNNING else (min(100, round(100 * processed / total)) if total else 0)
    return {"job": job, "processed": processed, "total": total, "percent": percent, "running": job.status in RUNNING}


@login_required
@require_GET
def import_detail(request, pk: int):
    job = get_visible_or_404(request.user, ImportJob.objects.select_related("created_by", "branch"), pk=pk)
    context = _progress_context(job)
    context["title"] = _adapter(job.kind).title if job.kind in ADAPTERS else job.get_kind_display()
    context["can_write"] = can_write(request.user)
    context["actions"] = {
        "create": _("create"),
        "update": _("update"),
        "unchanged": _("unchanged"),
    }
    return render(request, "associations/import_detail.html", context)


@never_cache
@login_required
@require_GET
def import_progress(request, pk: int):
    job = get_visible_or_404(request.user, ImportJob.objects.all(), pk=pk)
    context = _progress_context(job)
    if request.headers.get("HX-Request"):
        response = render(request, "associations/import_progress.html", context)
        if not context["running"]:
            response["HX-Refresh"] = "true"  # show the finished job's counts and errors
        return response
    return JsonResponse(
        {
            "status": job.status,
            "processed": context["processed"],
            "total": context["total"],
            "percent": context["percent"],
            "done": not context["running"],
        }
    )


@login_required
@require_POST
def import_apply(request, pk: int):
    job = get_visible_or_404(request.user, ImportJob.objects.all(), pk=pk, write=True)
    if imports.job_start_apply(job):
        language = get_language()
        transaction.on_commit(lambda: imports_apply.delay(job.pk, language))
    else:
        messages.warning(request, _("This import cannot be applied now: it is not in the checked state."))
    return redirect("associations:import_detail", pk=job.pk)


# --- Exports --------------------------------------------------------------------------------------


@login_required
@require_GET
def member_export(request):
    return exports.member_export(user=request.user, params=request.GET)


@login_required
@require_GET
def organization_export(request):
    return exports.organization_export(user=request.user, params=request.GET)
