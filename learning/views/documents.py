"""The pages that send the documents of a recognition decision (learning/documents.py):
each fetches through the one access rule, so an object outside the user's subtree is a 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from associations.access import get_visible_or_404
from associations.privacy import sees_personal_data
from khuyenhoc.xlsx import xlsx_response
from learning import documents
from learning.models import Decision, Registration, Stage


def _pdf_response(content: bytes, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


def _decision(request, pk: int) -> Decision:
    return get_visible_or_404(request.user, Decision.objects.select_related("kind", "branch"), pk=pk)


@login_required
@require_GET
def certificate_pdf(request, pk: int):
    # Only a recognised registration has a certificate; any other answers 404 like one out of reach.
    registration = get_visible_or_404(
        request.user,
        Registration.objects.filter(stage=Stage.RECOGNISED).select_related(
            "kind", "branch", "decision__branch", "household", "clan", "community__branch", "organization", "citizen"
        ),
        pk=pk,
    )
    return _pdf_response(
        documents.certificate_pdf(registration, full_birth_date=sees_personal_data(request.user)),
        documents.certificate_filename(registration),
        inline=True,
    )


@login_required
@require_GET
def decision_list_pdf(request, pk: int):
    decision = _decision(request, pk)
    return _pdf_response(
        documents.decision_list_pdf(decision), documents.decision_list_filename(decision, "pdf"), inline=False
    )


@login_required
@require_GET
def decision_list_xlsx(request, pk: int):
    decision = _decision(request, pk)
    return xlsx_response(documents.decision_list_filename(decision, "xlsx"), documents.decision_list_sheets(decision))
