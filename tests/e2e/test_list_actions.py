"""In Chromium: a clerk checks every member of a page with "select all", ends their membership
in one go with a date and a reason, and the page reports it; the background export's page
and the list pass axe-core with no serious or critical violation under the real CSP."""

from __future__ import annotations

import datetime

import pytest

from associations.models import AuditAction, AuditEntry, ExportJob, ExportStatus, Member
from tests.e2e.conftest import sign_in
from tests.e2e.test_accessibility import BLOCKING, _violations
from tests.factories import MemberFactory

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clerk_ends_the_memberships_of_a_checked_page(page, cast, tree):
    MemberFactory(branch=tree.phuc_xa, full_name="Nguyễn Văn Một")
    MemberFactory(branch=tree.phuc_xa, full_name="Trần Thị Hai")
    sign_in(page, "clerk_phucxa", cast.password)
    page.wait_for_url("**/")
    page.goto("/registry/members/")
    page.locator('[data-select-all="ids"]').check()
    assert page.locator("[data-selected-count]").inner_text() == "2"
    page.locator('[data-bs-target="#member-end-selected"]').click()
    page.locator("#member-end-selected input[name=left_on]").fill("30/06/2026")
    page.locator("#member-end-selected input[name=reason]").fill("Chuyển nơi ở")
    page.get_by_test_id("end-selected").click()
    page.wait_for_load_state("networkidle")
    assert set(Member.objects.values_list("left_on", flat=True)) == {datetime.date(2026, 6, 30)}
    assert AuditEntry.objects.filter(action=AuditAction.END).count() == 2
    assert page.locator(".alert-success").count() == 1


def test_the_export_page_and_the_list_have_no_serious_violation_and_respect_the_csp(browser, live_server, cast, tree):
    MemberFactory.create_batch(3, branch=tree.phuc_xa)
    job = ExportJob.objects.create(
        branch=tree.phuc_xa,
        requested_by=cast.commune_clerk,
        kind="members",
        status=ExportStatus.RUNNING,
        done_rows=2000,
        total_rows=35080,
    )
    report = {}
    for url in (f"/registry/exports/{job.pk}/", "/registry/exports/", "/registry/members/?sort=-joined"):
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
            sign_in(page, "clerk_phucxa", cast.password)
            page.wait_for_url("**/")
            page.goto(url)
            page.wait_for_load_state("domcontentloaded")
            if not bypass_csp:
                assert refused == [], f"{url}: {refused}"
            else:
                report[url] = _violations(page)
            context.close()
    blocking = {url: [v for v in violations if v["impact"] in BLOCKING] for url, violations in report.items()}
    assert blocking == {url: [] for url in report}, blocking
