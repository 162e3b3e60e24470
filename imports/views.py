"""The import pages: the blank template, the upload, the dry-run preview, the apply, the list.

Every register's details (title, columns, template file name, list page) come from its
adapter, found in the registry the apps fill (khuyenhoc.imports.register).
"""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from associations.access import can_write, get_visible_or_404, require_write, user_root_branch
from associations.models import Branch
from imports import services, tasks
from imports.models import RUNNING, ImportJob, ImportStatus
from khuyenhoc import imports
from khuyenhoc.pagination import paged
from khuyenhoc.sorting import sorted_by
from khuyenhoc.xlsx import XLSX_CONTENT_TYPE

LIST_PAGE_SIZE = 50


def _adapter(kind: str) -> type[imports.ImportAdapter]:
    try:
        return imports.adapter_class(kind)
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
def template(request, kind: str):
    adapter = _adapter(kind)
    output = io.BytesIO()
    imports.build_template(adapter, output)
    response = HttpResponse(output.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{adapter.template_filename}"'
    return response


@login_required
def start(request, kind: str):
    adapter = _adapter(kind)
    require_write(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        job = services.job_create(
            actor=request.user, kind=kind, branch=form.import_branch(), upload=form.cleaned_data["file"]
        )
        language = get_language()
        transaction.on_commit(lambda: tasks.job_check.delay(job.pk, language))
        return redirect("imports:detail", pk=job.pk)
    recent = ImportJob.objects.visible_to(request.user).filter(kind=kind).select_related("created_by", "branch")[:10]
    return render(
        request,
        "imports/job_start.html",
        {
            "form": form,
            "kind": kind,
            "title": adapter.title,
            "columns": adapter.columns,
            "recent": recent,
            "list_url": adapter.list_url,
        },
    )


# The list's sortable columns (khuyenhoc.sorting); newest first by default. Register and
# status are not among them: their stored keys do not sort like the words shown.
JOB_SORTS = {
    "file": "original_name",
    "branch": "branch__path",
    "by": "created_by__last_name",
    "at": "created_at",
    "rows": "total_rows",
    "errors": "error_count",
}


@login_required
@require_GET
def job_list(request):
    """Every import of the user's subtree, newest first; optionally one kind or status."""
    jobs = ImportJob.objects.visible_to(request.user).select_related("created_by", "branch")
    adapters = imports.registered()
    kind = request.GET.get("kind", "")
    if kind in adapters:
        jobs = jobs.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in ImportStatus.values:
        jobs = jobs.filter(status=status)
    return render(
        request,
        "imports/job_list.html",
        {
            **paged(
                request,
                sorted_by(
                    jobs, JOB_SORTS, request.GET.get("sort"), "-at", names={"original_name", "created_by__last_name"}
                ),
                size=LIST_PAGE_SIZE,
            ),
            "kind": kind if kind in adapters else "",
            "status": status if status in ImportStatus.values else "",
            "kinds": [(key, adapter.title) for key, adapter in adapters.items()],
            "statuses": ImportStatus.choices,
            "can_write": can_write(request.user),
        },
    )


def _progress_context(job) -> dict:
    processed, total = services.progress_of(job)
    percent = 100 if job.status not in RUNNING else (min(100, round(100 * processed / total)) if total else 0)
    return {"job": job, "processed": processed, "total": total, "percent": percent, "running": job.status in RUNNING}


@login_required
@require_GET
def detail(request, pk: int):
    job = get_visible_or_404(request.user, ImportJob.objects.select_related("created_by", "branch"), pk=pk)
    context = _progress_context(job)
    adapter = imports.registered().get(job.kind)
    context["title"] = adapter.title if adapter is not None else job.get_kind_display()
    context["can_write"] = can_write(request.user)
    context["actions"] = {
        "create": _("create"),
        "update": _("update"),
        "unchanged": _("unchanged"),
    }
    return render(request, "imports/job_detail.html", context)


@never_cache
@login_required
@require_GET
def progress(request, pk: int):
    job = get_visible_or_404(request.user, ImportJob.objects.all(), pk=pk)
    context = _progress_context(job)
    if request.headers.get("HX-Request"):
        response = render(request, "imports/job_progress.html", context)
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
def apply(request, pk: int):
    job = get_visible_or_404(request.user, ImportJob.objects.all(), pk=pk, write=True)
    if services.job_start_apply(job):
        language = get_language()
        transaction.on_commit(lambda: tasks.job_apply.delay(job.pk, language))
    else:
        messages.warning(request, _("This import cannot be applied now: it is not in the checked state."))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_GET
def annotated(request, pk: int):
    """The uploaded workbook given back with an error column and its bad cells highlighted.
    It holds the file's personal data: for those who may write the subtree's records."""
    job = get_visible_or_404(request.user, ImportJob.objects.all(), pk=pk, write=True)
    if not job.annotated:
        raise Http404
    return FileResponse(
        job.annotated.open("rb"),
        as_attachment=True,
        filename=services.annotated_name(job),
        content_type=XLSX_CONTENT_TYPE,
    )
