"""A long dashboard PDF is built in the background (plans.views.export_pdf → ReportExport); its
download carries the same name as a report built during the request, even when the storage had
to rename the file because an earlier export of the same report is still there."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from plans.models import Plan
from plans.services import indicators_recompute_all
from tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def test_a_background_pdf_downloads_under_the_reports_own_name_every_time(
    tree, cast, plan_data, client_for, settings, tmp_path, eager, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    settings.PLANS_PDF_BACKGROUND_ROWS = 0  # every report goes to the background
    indicators_recompute_all(today=TODAY)
    plan = Plan.objects.get(code="99/KH-KHHN")
    client = client_for(cast.manager)
    names = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(reverse("plans:export_pdf", args=[tree.ba_dinh.pk, plan.pk]))
        assert response.status_code == 302
        export_id = int(response.url.rstrip("/").rsplit("/", 1)[-1])
        download = client.get(reverse("plans:report_export_download", args=[export_id]))
        assert download.status_code == 200
        content = b"".join(download.streaming_content) if download.streaming else download.content
        assert content.startswith(b"%PDF")
        assert "Ba Đình" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
        names.append(download["Content-Disposition"])
    expected = f'attachment; filename="bao-cao-99-KH-KHHN-{tree.ba_dinh.pk}.pdf"'
    assert names == [expected, expected]
    stored = sorted(path.name for path in tmp_path.rglob("*.pdf"))
    assert len(stored) == 2 and stored[0] != stored[1]  # the storage kept both files under its own names
