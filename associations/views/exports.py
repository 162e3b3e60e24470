"""Excel export of the registry lists (members, organisations), with the current filters."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from associations import exports
from associations.access import get_visible_or_404
from associations.models import ExportJob, ExportStatus
from associations.selectors import selected_ids
from khuyenhoc.pagination import paged
from khuyenhoc.xlsx import XLSX_CONTENT_TYPE


@login_required
@require_http_methods(["GET", "POST"])
def member_export(request):
    """The members list as filtered, or the checked members (POSTed by the list's bulk form)."""
    if request.method == "POST" and not selected_ids(request.POST):
        messages.error(request, _("Check the members to export first."))
        return redirect("associations:member_list")
    return exports.list_export_response(request, "members", request.POST if request.method == "POST" else request.GET)


@login_required
@require_GET
def organization_export(request):
    return exports.list_export_response(request, "organizations")


@login_required
@require_GET
def export_job(request, pk: int):
    """A background export's page: "Exporting… x/y rows", then the download link (htmx polls the status part)."""
    job = get_visible_or_404(request.user, ExportJob.objects, pk=pk)
    template = (
        "associations/partials/export_job_status.html"
        if request.headers.get("HX-Request")
        else "associations/export_job.html"
    )
    return render(request, template, {"job": job})


@login_required
@require_GET
def export_job_download(request, pk: int):
    job = get_visible_or_404(request.user, ExportJob.objects, pk=pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=XLSX_CONTENT_TYPE)


@login_required
@require_GET
def export_job_list(request):
    """The user's own large exports of the last days, newest first, with their links."""
    jobs = ExportJob.objects.visible_to(request.user).order_by("-requested_at", "-id")
    return render(request, "associations/export_job_list.html", paged(request, jobs, size=20))
