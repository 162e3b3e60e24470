"""axe-core (npm, served from node_modules) run in Chromium on the sign-in page, the leaders'
dashboard, a list, a form and an import preview: no serious or critical accessibility
violation. The same pages are opened under the real Content-Security-Policy first: none of
them may trip it (a refused script or style shows up as a console error)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from imports.services import job_check, job_create
from tests.e2e.conftest import sign_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def _import_preview(cast, tree) -> str:
    """An import checked and waiting for confirmation: one good row, one with errors."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "Giới tính", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội"])
    sheet.append(["Nguyễn Văn An", "Nam", "Công chức", "00001", "01/03/2018"])
    sheet.append(["Trần Thị Bình", "Nữ", "Không rõ", "99999", "31/02/2019"])
    output = io.BytesIO()
    workbook.save(output)
    job = job_create(
        actor=cast.commune_clerk,
        kind="members",
        branch=tree.phuc_xa,
        upload=SimpleUploadedFile("hoi-vien.xlsx", output.getvalue()),
    )
    job_check(job.pk)
    return f"/imports/{job.pk}/"


def _violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
            }));
        }"""
    )


def test_five_pages_have_no_serious_accessibility_violation_and_respect_the_csp(
    browser,
    live_server,
    cast,
    tree,
    plan_data,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    MemberFactory.create_batch(3, branch=tree.phuc_xa)
    preview = _import_preview(cast, tree)
    pages = [
        ("sign-in", None, "/accounts/login/"),
        ("dashboard", "leader_hanoi", "/plans/dashboard/"),
        ("list", "clerk_phucxa", "/registry/members/"),
        ("form", "clerk_phucxa", "/registry/members/add/"),
        ("import preview", "clerk_phucxa", preview),
    ]
    report = {}
    for name, username, url in pages:
        for bypass_csp in (False, True):
            context = browser.new_context(base_url=live_server.url, locale="vi-VN", bypass_csp=bypass_csp)
            page = context.new_page()
            page.set_default_timeout(15_000)
            refused = []
            page.on(
                "console",
                lambda message, refused=refused: refused.append(message.text)
                if "Content Security Policy" in message.text
                else None,
            )
            if username:
                sign_in(page, username, cast.password)
                page.wait_for_url("**/")
            page.goto(url)
            page.wait_for_load_state("networkidle")
            if not bypass_csp:
                assert refused == [], f"{name}: {refused}"
            else:
                # axe is injected as an inline script, which the policy rightly forbids.
                report[name] = _violations(page)
            context.close()
    blocking = {name: [v for v in violations if v["impact"] in BLOCKING] for name, violations in report.items()}
    print("\naxe-core violations by page:", {name: [(v["id"], v["impact"]) for v in vs] for name, vs in report.items()})
    assert blocking == {name: [] for name in report}, blocking
