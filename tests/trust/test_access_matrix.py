"""The access matrix, generated from the URL configuration itself.

Every URL the project answers is listed by walking the resolver; each must have an
expectation below (the admin's model pages follow one generic rule), so a new page without
one fails `test_every_url_has_an_expectation`. Then every URL is tried by every member of the
cast — anonymous, commune clerk, clerk of a sibling district, district leader, city leader,
manager, administrator — on an object inside Ba Đình and one inside Hoàn Kiếm, by GET and by
POST, and each answer is checked against the rule:

- anonymous → the sign-in page (except the public pages: health, sign-in, password reset);
- an object outside the user's subtree → 404;
- a role that may not do it (a leader writing, a clerk managing) → 403;
- otherwise the page works (200, or the redirect it is written to give);
- and nothing planted outside the user's subtree appears in any answer: pages, lists, counts,
  exports (.xlsx and .pdf are read back as text), JSON, error pages; leaders never see a full
  citizen ID or date of birth.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import Workbook

from associations.models import BranchLevel, ExportJob, ExportStatus, StaffProfile
from funds import services as fund_services
from imports.models import ImportJob, ImportStatus
from khuyenhoc.xlsx import Sheet, write_workbook
from learning.models import Citizen, Clan, Community, CriteriaSet, Criterion, Household, Level, TitleKind
from plans.models import Plan, RecomputeRun, ReportExport, RunStatus, Target
from plans.services import plan_99_load
from reorganisation import services as reorganisation_services
from reorganisation.tables import PART, TableRow
from tests.centres import factories as centre_objects
from tests.factories import DAY, MemberFactory, OrganizationFactory, donate, make_branch, make_round, pay
from tests.learning import document_factories as learning_data
from tests.reporting.matrix import plant_reports

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


# Distinctive tokens planted in every kind of object, by the branch they belong to.
IN = "QXPHUCXA"  # Phường Phúc Xá, inside Ba Đình
SIDE = "QXTRUCBACH"  # Phường Trúc Bạch, inside Ba Đình but beside Phúc Xá
OUT = "QXHANGBAC"  # Phường Hàng Bạc, inside Hoàn Kiếm
# Personal data planted inside Ba Đình: leaders must only ever see it masked.
CITIZEN_IN = "001085012345"
BIRTH_IN = datetime.date(1985, 3, 25)
PUPIL_ID_IN = "HS778899"
PUPIL_BIRTH_IN = datetime.date(2009, 11, 17)
CITIZEN_OUT = "001090067891"

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
CAST = ("anonymous", "commune_clerk", "sibling_clerk", "district_leader", "city_leader", "manager", "admin")


@dataclass(frozen=True)
class Expect:
    """What one URL allows.

    obj: which planted object fills the URL (tried inside and outside each user's subtree);
    get / post: what a GET / a POST needs — "public", "login", "read" (any staff member who
    sees the object), "write" (clerks, managers), "manage" (managers), "province" (an administrator or a manager of the
    tree's root: data the whole province shares), "owner" (the user who
    asked for it), "same" (a page that writes nothing: a POST is answered like a GET, or
    refused with 405), None (method refused, 405);
    ok: the answers that mean "it worked".
    """

    obj: str | None = None
    get: str | None = "read"
    post: str | None = "same"
    ok: frozenset = frozenset({200})
    post_ok: frozenset = frozenset({200, 302, 400})
    kwargs: dict = field(default_factory=dict)
    lists: bool = False  # a list, export or report: the inside user must see their planted rows


FORM = frozenset({200})
REDIRECT = frozenset({302})
XLSX = frozenset({200})

EXPECTATIONS: dict[str, Expect] = {
    # Project pages
    "home": Expect(get="read", ok=frozenset({200, 302})),  # leaders are sent on to their dashboard
    "healthz": Expect(get="public", post=None, ok=frozenset({200, 503})),
    "login": Expect(get="public", post="public", ok=frozenset({200, 302})),
    "logout": Expect(get=None, post="public", post_ok=frozenset({200, 302})),
    "password_change": Expect(get="login", post="login"),
    "password_change_done": Expect(get="login", post=None),
    "password_reset": Expect(get="public", post="public", ok=frozenset({200, 302})),
    "password_reset_done": Expect(get="public", post=None),
    "password_reset_confirm": Expect(get="public", post="public", kwargs={"uidb64": "MQ", "token": "set-password"}),
    "password_reset_complete": Expect(get="public", post=None),
    "set_language": Expect(get="public", post="public", ok=frozenset({200, 302, 204})),
    # Registry
    "associations:branch_root": Expect(ok=frozenset({200, 302})),
    "associations:branch_detail": Expect(obj="branch", lists=True),
    "associations:branch_update": Expect(obj="branch", get="write", post="write"),
    "associations:branch_create": Expect(obj="commune", get="write", post="write"),
    "associations:organization_list": Expect(post="same", lists=True),
    "associations:organization_create": Expect(get="write", post="write"),
    "associations:organization_detail": Expect(obj="organization"),
    "associations:organization_update": Expect(obj="organization", get="write", post="write"),
    "associations:organization_headcount": Expect(obj="organization", get=None, post="write"),
    "associations:member_list": Expect(post="same", lists=True),
    "associations:member_create": Expect(get="write", post="write"),
    "associations:member_detail": Expect(obj="member"),
    "associations:member_update": Expect(obj="member", get="write", post="write"),
    "associations:member_end": Expect(obj="member", get=None, post="write"),
    "associations:member_personal_data": Expect(obj="member", get="write"),
    "associations:member_personal_data_export": Expect(obj="member", get="write"),
    "associations:member_personal_data_erase": Expect(obj="member", get=None, post="write"),
    "associations:audit_log": Expect(get="manage", lists=True),
    "associations:personal_data_exports": Expect(get="manage"),
    "associations:staff_list": Expect(get="manage", post="manage"),
    "associations:staff_create": Expect(get="manage", post="manage"),
    "associations:staff_update": Expect(obj="staff", get="manage", post="manage"),
    "associations:organization_export": Expect(ok=XLSX, lists=True),
    # Lists' bulk actions and background exports (issue 15 items 7–8); the members export also
    # takes the list's checked rows by POST (none checked: back to the list, 302)
    "associations:member_export": Expect(ok=XLSX, lists=True, post="read", post_ok=frozenset({200, 302})),
    "associations:members_end": Expect(get=None, post="write", post_ok=frozenset({302})),
    "associations:export_job_list": Expect(get="read"),
    "associations:export_job": Expect(obj="export_job", get="owner"),
    "associations:export_job_download": Expect(obj="export_job", get="owner"),
    # Excel imports
    "imports:job_list": Expect(),
    "imports:template": Expect(kwargs={"kind": "members"}),
    "imports:start": Expect(get="write", post="write", kwargs={"kind": "members"}),
    "imports:detail": Expect(obj="import"),
    "imports:progress": Expect(obj="import"),
    "imports:apply": Expect(obj="import", get=None, post="write"),
    # Funds
    "funds:fund_list": Expect(post="same", lists=True),
    "funds:fund_create": Expect(get="write", post="write"),
    "funds:fund_detail": Expect(obj="fund"),
    "funds:fund_edit": Expect(obj="fund", get="write", post="write"),
    "funds:donation_list": Expect(post="same", lists=True),
    "funds:donation_create": Expect(get="write", post="write"),
    "funds:donation_detail": Expect(obj="donation"),
    "funds:donation_receipt": Expect(obj="donation"),
    "funds:donation_void": Expect(obj="donation", get=None, post="write"),
    "funds:transfer_list": Expect(post="same", lists=True),
    "funds:transfer_create": Expect(get="write", post="write"),
    "funds:transfer_detail": Expect(obj="transfer"),
    "funds:transfer_void": Expect(obj="transfer", get=None, post="write"),
    "funds:report": Expect(post="same", lists=True),
    # Scholarships
    "scholarships:round_list": Expect(post="same", lists=True),
    "scholarships:round_create": Expect(get="write", post="write"),
    "scholarships:round_detail": Expect(obj="round", lists=True),
    "scholarships:award_pay": Expect(obj="round", get="write", post="write"),
    "scholarships:award_list": Expect(post="same", lists=True),
    "scholarships:award_detail": Expect(obj="award"),
    "scholarships:award_void": Expect(obj="award", get=None, post="write"),
    "scholarships:report": Expect(post="same", lists=True),
    # Plans
    "plans:dashboard": Expect(),
    "plans:dashboard_branch": Expect(obj="commune"),
    "plans:values": Expect(obj="commune"),
    # A target's drill-down loaded on demand (issue 16): the target planted in the branch.
    "plans:dashboard_children": Expect(obj="dashboard_target"),
    "plans:export_xlsx": Expect(obj="dashboard_plan"),
    "plans:export_pdf": Expect(obj="dashboard_plan", ok=frozenset({200, 302})),  # 302: built in the background
    "plans:report_export": Expect(obj="report_export", get="owner"),
    "plans:report_export_download": Expect(obj="report_export", get="owner"),
    # The dashboard's date picker (issue 11, item 5): any staff member who sees the branch.
    "plans:picked_date": Expect(obj="commune", get=None, post="read", ok=REDIRECT, post_ok=REDIRECT),
    "plans:picked_date_status": Expect(obj="commune"),
    "plans:recompute": Expect(get=None, post="manage"),
    "plans:recompute_status": Expect(obj="recompute_run", get="manage"),
    "plans:plan_list": Expect(),
    "plans:plan_create": Expect(get="manage", post="manage"),
    "plans:plan_detail": Expect(obj="plan"),
    "plans:plan_edit": Expect(obj="plan", get="manage", post="manage"),
    "plans:target_create": Expect(obj="plan_target_new", get="manage", post="manage"),
    "plans:target_edit": Expect(obj="target", get="manage", post="manage"),
    # Indicator definitions (issue 14): shared by every plan of the province.
    "plans:indicator_list": Expect(),
    "plans:indicator_create": Expect(get="province", post="province"),
    # Learning titles (`?branch=<id>` outside the subtree: tests/learning/test_figures.py and
    # tests/learning/test_cycle_pages.py)
    "learning:figures": Expect(),
    "learning:household_list": Expect(lists=True),
    "learning:household_create": Expect(get="write", post="write"),
    "learning:household_detail": Expect(obj="household"),
    "learning:household_update": Expect(obj="household", get="write", post="write"),
    "learning:clan_list": Expect(lists=True),
    "learning:clan_create": Expect(get="write", post="write"),
    "learning:clan_detail": Expect(obj="clan"),
    "learning:clan_update": Expect(obj="clan", get="write", post="write"),
    "learning:community_list": Expect(lists=True),
    "learning:community_create": Expect(get="write", post="write"),
    "learning:community_detail": Expect(obj="community"),
    "learning:community_update": Expect(obj="community", get="write", post="write"),
    "learning:citizen_list": Expect(lists=True),
    "learning:citizen_create": Expect(get="write", post="write"),
    "learning:citizen_detail": Expect(obj="citizen"),
    "learning:citizen_update": Expect(obj="citizen", get="write", post="write"),
    # Criteria sets are the province's, not a branch's: every staff member reads them.
    "learning:criteria_list": Expect(),
    "learning:criteria_detail": Expect(obj="criteria_set"),
    "learning:criteria_update": Expect(obj="criteria_set", get="province", post="province"),
    # The planted set is not frozen: the page sends the manager back to edit it in place.
    "learning:criteria_new_version": Expect(obj="criteria_set", get=None, post="province", post_ok=REDIRECT),
    "learning:registration_list": Expect(post="same", lists=True),
    "learning:registration_create": Expect(get="write", post="write"),
    "learning:registration_detail": Expect(obj="registration"),
    "learning:evaluation_record": Expect(obj="registration", get="write", post="write"),
    "learning:review_record": Expect(obj="registration", get="write", post="write"),
    "learning:registration_withdraw": Expect(obj="registration", get=None, post="write"),
    "learning:certificate_pdf": Expect(obj="registration"),
    "learning:decision_list": Expect(post="same", lists=True),
    "learning:decision_create": Expect(get="write", post="write"),
    "learning:decision_detail": Expect(obj="decision"),
    "learning:decision_list_pdf": Expect(obj="decision"),
    "learning:decision_list_xlsx": Expect(obj="decision", ok=XLSX),
    "learning:cycle_settings": Expect(get="write", post="write"),
    # Many first evaluations at once (the branch out of reach, a leader and the rows listed:
    # tests/learning/test_batch_evaluation_page.py)
    "learning:evaluations_batch": Expect(get="write", post="write"),
    # Community learning centres (issue 13, item 6); objects: tests/centres/factories.py
    "centres:centre_list": Expect(post="same", lists=True),
    "centres:centre_create": Expect(get="write", post="write"),
    "centres:centre_detail": Expect(obj="centre"),
    "centres:centre_update": Expect(obj="centre", get="write", post="write"),
    "centres:seat_create": Expect(obj="centre", get="write", post="write"),
    "centres:seat_update": Expect(obj="centre_seat", get="write", post="write"),
    "centres:staff_create": Expect(obj="centre", get="write", post="write"),
    "centres:staff_update": Expect(obj="centre_staff", get="write", post="write"),
    "centres:activity_create": Expect(obj="centre", get="write", post="write"),
    "centres:activity_detail": Expect(obj="centre_activity"),
    "centres:activity_void": Expect(obj="centre_activity", get=None, post="write", post_ok=REDIRECT),
    # Issue 15 (forms): the pickers' search endpoints (JSON, the user's subtree only)
    "associations:branch_search": Expect(),
    "associations:organization_search": Expect(),
    "associations:member_search": Expect(),
    "funds:fund_search": Expect(),
    # Issue 16 (pages under load): the award list's round filter searches
    "scholarships:round_search": Expect(),
    "imports:annotated": Expect(obj="import", get="write", ok=XLSX),
    # Reports (tests/reporting/matrix.py plants them). A writing user refused by the level
    # rule (a branch approving its own report) or by the state is sent back to the report
    # with a message (302); forms, periods and deadlines are the province's.
    "reporting:period_list": Expect(),
    "reporting:period_create": Expect(get="province", post="province"),
    "reporting:report_list": Expect(obj="report_period"),
    "reporting:deadlines": Expect(obj="report_period", get="province", post="province"),
    "reporting:completeness": Expect(obj="report_period"),
    "reporting:report_detail": Expect(obj="report_branch"),
    "reporting:report_edit": Expect(obj="report_branch", get="write", post="write", ok=frozenset({200, 302})),
    "reporting:consolidated": Expect(obj="report_branch"),
    "reporting:consolidated_xlsx": Expect(obj="report_branch", ok=XLSX),
    "reporting:consolidated_pdf": Expect(obj="report_branch"),
    "reporting:report_submit": Expect(obj="report", get=None, post="write", post_ok=REDIRECT),
    "reporting:report_approve": Expect(obj="report", get=None, post="write", post_ok=REDIRECT),
    "reporting:report_accept": Expect(obj="report", get=None, post="write", post_ok=REDIRECT),
    "reporting:report_return": Expect(obj="report", get=None, post="write", post_ok=REDIRECT),
    "reporting:form_detail": Expect(obj="report_form"),
    "reporting:form_new_version": Expect(obj="report_form", get=None, post="province", post_ok=REDIRECT),
    # The planted form is frozen by the planted reports: its editing pages send back to it.
    "reporting:section_create": Expect(obj="report_form", get="province", post="province", ok=frozenset({200, 302})),
    "reporting:section_update": Expect(obj="report_section", get="province", post="province", ok=frozenset({200, 302})),
    "reporting:field_create": Expect(obj="report_form", get="province", post="province", ok=frozenset({200, 302})),
    "reporting:field_update": Expect(obj="report_field", get="province", post="province", ok=frozenset({200, 302})),
    "reporting:field_delete": Expect(obj="report_field", get=None, post="province", post_ok=REDIRECT),
    # Reorganisation (issue 11): the city's operation, for an administrator or a manager of the root.
    "reorganisation:list": Expect(get="province", post="province"),
    "reorganisation:detail": Expect(obj="reorganisation", get="province", post=None),
    "reorganisation:decide": Expect(obj="reorganisation", get=None, post="province"),
    "reorganisation:decide_unit": Expect(obj="reorganisation", get=None, post="province"),
    "reorganisation:workbook": Expect(obj="reorganisation", get="province", post=None, ok=XLSX),
    "reorganisation:workbook_upload": Expect(obj="reorganisation", get=None, post="province"),
    "reorganisation:apply": Expect(obj="reorganisation", get=None, post="province"),
}


def _annotated_workbook(token: str) -> bytes:
    """A planted import's workbook given back with its errors (issue 15): it names the token."""
    workbook = Workbook()
    workbook.active.append(["Họ và tên", "Lỗi cần sửa"])
    workbook.active.append([f"Nguyễn Văn {token}", "Ngày sinh: sai"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Admin pages beside the per-model ones: only staff accounts may enter (the cast's staff
# members are not admin users, so they are sent to the admin's sign-in like the anonymous).
ADMIN_PAGES: dict[str, dict] = {
    "admin:index": {},
    "admin:login": {"public": True},
    "admin:logout": {"public": True},  # GET is refused (405): signing out is a POST
    "admin:password_change": {},
    "admin:password_change_done": {},
    "admin:autocomplete": {},
    "admin:jsi18n": {},
    "admin:view_on_site": {"kwargs": {"content_type_id": "1", "object_id": "1"}},
    "admin:app_list": {"kwargs": {"app_label": "associations"}},
    "admin:javascript-catalog": {"public": True},  # treebeard's translations for its JavaScript
    # treebeard's views of the branch tree, and Django's fall-through
    "admin/associations/branch/move/": {"path": "/admin/associations/branch/move/", "post": True},
    "admin/associations/branch/children/<str:parent_id>/": {"path": "/admin/associations/branch/children/{branch}/"},
    "admin/(?P<url>.*)$": {"path": "/admin/no-such-page/"},
}
ADMIN_MODEL_VIEWS = ("changelist", "add", "change", "history", "delete")


# --- Listing every URL -----------------------------------------------------------------------


@functools.cache
def all_url_keys() -> dict[str, str]:
    """{namespace:name (or the route of an unnamed pattern): route} for every URL of the project."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                key = f"{namespace}{pattern.name}" if pattern.name else route
                found.setdefault(key, route)

    walk(get_resolver().url_patterns, "", "")
    return found


def admin_model_keys() -> dict[str, type]:
    """The generic admin rule: every registered model's changelist, add, change, history, delete."""
    keys = {}
    for model in admin.site._registry:
        base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for view in ADMIN_MODEL_VIEWS:
            keys[f"{base}_{view}"] = model
        keys[f"admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"] = model
    if "auth.User" in {m._meta.label for m in admin.site._registry}:
        from django.contrib.auth import get_user_model

        keys["admin:auth_user_password_change"] = get_user_model()
    return keys


def test_every_url_has_an_expectation():
    urls = set(all_url_keys())
    expected = set(EXPECTATIONS) | set(ADMIN_PAGES) | set(admin_model_keys())
    missing = sorted(urls - expected)
    stale = sorted(expected - urls)
    assert not missing, f"URLs without an access expectation: {missing}"
    assert not stale, f"Expectations for URLs that no longer exist: {stale}"


# --- The world: one object of every kind inside and outside each subtree -----------------------


@pytest.fixture
def world(tree, cast, funds, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    plan99 = plan_99_load()
    objects: dict[str, dict[str, SimpleNamespace]] = {}

    def plant(where: str, token: str, branch, clerk, fund, other_fund, citizen_id, birth, pupil_id, pupil_birth):
        chapter = make_branch(f"Chi hội {token}", BranchLevel.CHAPTER, branch)
        organization = OrganizationFactory(name=f"Trường {token}", branch=branch, address=f"Số 1 phố {token}")
        member = MemberFactory(
            full_name=f"Nguyễn Văn {token}",
            branch=branch,
            organization=organization,
            citizen_id=citizen_id,
            date_of_birth=birth,
            gender="male",
            phone="0912345678",
        )
        fund.name = f"Quỹ {token}"
        fund.save(update_fields=["name"])
        donation = donate(clerk, fund, 3_000_000, donor_name=f"Công ty {token}", donor_kind="enterprise")
        transfer = fund_services.transfer_record(
            actor=clerk, from_fund=fund, to_fund=other_fund, amount=1_000_000, transferred_on=DAY, note=token
        )
        scholarship_round = make_round(clerk, branch, fund, name=f"Học bổng {token}")
        award = pay(
            clerk,
            scholarship_round,
            500_000,
            recipient_name=f"Lê Thị {token}",
            recipient_id=pupil_id,
            date_of_birth=pupil_birth,
        )
        job = ImportJob.objects.create(
            kind="members",
            status=ImportStatus.INVALID,
            created_by=clerk,
            branch=branch,
            file="imports/none.xlsx",
            original_name=f"{token}.xlsx",
        )
        job.annotated.save(f"{token}-loi.xlsx", ContentFile(_annotated_workbook(token)), save=True)
        plan = Plan.objects.create(
            code=f"{token}/KH",
            title=f"Kế hoạch {token}",
            issuing_branch=branch,
            issued_on=DAY,
            starts_on=DAY,
            ends_on=datetime.date(2020, 12, 31),
        )
        target = Target.objects.create(
            plan=plan,
            indicator="board_coverage",
            threshold_percent=70,
            deadline=datetime.date(2020, 12, 31),
            root_branch=branch,
        )
        export = ReportExport.objects.create(branch=branch, plan=plan99, requested_by=clerk, status=RunStatus.DONE)
        export.file.save(f"{token}.pdf", ContentFile(f"%PDF-1.4 {token}".encode()), save=True)
        staff = StaffProfile.objects.get(user=clerk)
        # A household recognised by the commune's decision this year, so that its certificate exists.
        kind = learning_data.title_kind()
        year = timezone.localdate().year
        decision = learning_data.decision(
            branch,
            kind,
            year=year,
            number=f"15/QĐ-{token}",
            decided_on=datetime.date(year, 1, 15),
            body=f"Ủy ban nhân dân phường {token}",
        )
        registration = learning_data.recognised(decision, learning_data.household(branch, f"Nguyễn Văn Hộ {token}"))

        def put(kind, obj, kwargs=None, owner=None):
            objects.setdefault(kind, {})[where] = SimpleNamespace(
                obj=obj, branch=branch, kwargs=kwargs or {"pk": obj.pk}, owner=owner
            )

        put("branch", chapter)
        put("commune", branch, {"parent_pk": branch.pk, "branch_id": branch.pk})
        put("organization", organization)
        put("member", member)
        put("fund", fund)
        put("donation", donation)
        put("transfer", transfer)
        put("round", scholarship_round)
        put("award", award)
        put("import", job)
        put("plan", plan)
        put("plan_target_new", plan, {"plan_pk": plan.pk})
        put("target", target, {"plan_pk": plan.pk, "pk": target.pk})
        put("staff", staff)
        put("report_export", export, owner=clerk)
        list_export = ExportJob.objects.create(
            branch=branch, requested_by=clerk, kind="members", status=ExportStatus.DONE, filename=f"{token}.xlsx"
        )
        workbook = io.BytesIO()
        write_workbook(workbook, [Sheet("Hội viên", ["Họ và tên"], [[f"Nguyễn Văn {token}"]])])
        list_export.file.save(f"{token}.xlsx", ContentFile(workbook.getvalue()), save=True)
        put("export_job", list_export, owner=clerk)
        put("dashboard_plan", branch, {"branch_id": branch.pk, "plan_id": plan99.pk})
        put("dashboard_target", target, {"branch_id": branch.pk, "target_id": target.pk})  # issue 16: the drill-down
        put("household", Household.objects.create(branch=branch, head_name=f"Chủ hộ {token}", address=token, people=3))
        put("clan", Clan.objects.create(branch=branch, name=f"Dòng họ {token}", representative=token, residence=token))
        put("community", Community.objects.create(branch=branch, name=f"Tổ dân phố {token}"))
        citizen = Citizen.objects.create(
            branch=branch, full_name=f"Công dân {token}", citizen_id=citizen_id, date_of_birth=birth, member=member
        )
        put("citizen", citizen)
        put("registration", registration)
        put("decision", decision)
        centre_objects.plant_for_access_matrix(put, branch, token)
        return member

    plant("in", IN, tree.phuc_xa, cast.commune_clerk, funds.phuc_xa, funds.phuc_xa_clan,
          CITIZEN_IN, BIRTH_IN, PUPIL_ID_IN, PUPIL_BIRTH_IN)  # fmt: skip
    from funds.models import Fund

    hang_bac_fund = Fund.objects.create(
        branch=tree.hang_bac, name="Quỹ phường Hàng Bạc", fund_model=funds.hoan_kiem.fund_model, legal_form="internal"
    )
    plant("out", OUT, tree.hang_bac, cast.sibling_clerk, hang_bac_fund, funds.hoan_kiem,
          CITIZEN_OUT, datetime.date(1990, 6, 1), "HS445566", datetime.date(2010, 1, 9))  # fmt: skip
    # Beside Phúc Xá in Ba Đình: the commune clerk must not see it, the district must.
    MemberFactory(full_name=f"Trần Thị {SIDE}", branch=tree.truc_bach)
    OrganizationFactory(name=f"Trường {SIDE}", branch=tree.truc_bach)
    run = RecomputeRun.objects.create(requested_by=cast.manager)
    # A run nobody in the cast asked for recomputes the whole city: it belongs to the city.
    nightly = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.NIGHTLY)
    title = TitleKind.objects.get(code="gia-dinh-hoc-tap")  # seeded by the data migration
    criteria_set = CriteriaSet.objects.create(
        kind=title, version=98, name="Tiêu chí Gia đình học tập", valid_from=2021, pass_points=5
    )
    Criterion.objects.create(criteria_set=criteria_set, code="1", text="Có kế hoạch học tập", max_points=10)
    Level.objects.create(criteria_set=criteria_set, name="Tốt", min_points=8, max_points=10)
    objects["criteria_set"] = {
        "any": SimpleNamespace(obj=criteria_set, branch=None, kwargs={"pk": criteria_set.pk}, owner=None)
    }
    objects["recompute_run"] = {
        "any": SimpleNamespace(obj=run, branch=None, kwargs={"pk": run.pk}, owner=None),
        "city": SimpleNamespace(obj=nightly, branch=tree.city, kwargs={"pk": nightly.pk}, owner=None),
    }
    objects.update(plant_reports(tree, cast, token_in=IN, token_out=OUT))
    # Reorganisation (issue 11): a draft splitting Phúc Xá, waiting for decisions (an apply is refused).
    split = [
        TableRow(
            row=3, old_code="00001", old_name="Phường Phúc Xá", new_code="00004", new_name="Phường Ba Đình", kind=PART
        ),
        TableRow(
            row=4, old_code="00001", old_name="Phường Phúc Xá", new_code="00061", new_name="Phường Hàng Bạc", kind=PART
        ),
    ]
    reorganisation = reorganisation_services.reorganisation_create(
        actor=cast.admin, name="Sắp xếp thử", legal_basis="", effective_on=datetime.date(2025, 7, 1), rows=split
    )
    reorganisation_services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
    objects["reorganisation"] = {
        "any": SimpleNamespace(obj=reorganisation, branch=None, kwargs={"pk": reorganisation.pk}, owner=None)
    }
    return SimpleNamespace(objects=objects, plan99=plan99)


# --- The rule ------------------------------------------------------------------------------------


def role_of(cast, who):
    return None if who == "anonymous" else getattr(cast, who)


def allowed(user, need: str, place) -> bool:
    from associations.access import can_manage, can_write

    if need in ("public", "login", "same"):
        return True
    if need == "owner":
        return place is not None and place.owner == user
    if need == "read":
        return True
    if need == "write":
        return can_write(user)
    if need == "manage":
        return can_manage(user)
    if need == "province":  # province-wide data: an administrator or a manager of the tree's root
        profile = StaffProfile.for_user(user)
        return user.is_superuser or (can_manage(user) and profile is not None and profile.branch.depth == 1)
    raise AssertionError(need)


def sees(user, place) -> bool:
    if place is None or place.branch is None:
        return True
    if place.owner is not None:
        return place.owner == user
    if user.is_superuser:
        return True
    return place.branch.path.startswith(StaffProfile.for_user(user).branch.path)


def expected_statuses(expect: Expect, method: str, user, place) -> frozenset:
    if method == "POST" and expect.post == "same":
        return expected_statuses(expect, "GET", user, place) | frozenset({405})
    need = expect.get if method == "GET" else expect.post
    ok = expect.ok if method == "GET" else expect.post_ok
    if need == "public":
        return ok | frozenset({302}) if method == "POST" else ok
    if user is None:
        return frozenset({302, 405}) if need is None else frozenset({302})
    if need is None:
        return frozenset({405})
    may = allowed(user, need, place)
    visible = sees(user, place)
    if visible and may:
        return ok
    if visible:
        return frozenset({403})
    if may:
        return frozenset({404})
    # Refused either way: a 403 that does not depend on the object reveals nothing.
    return frozenset({403, 404})


def forbidden_for(who: str) -> list[str]:
    """What must never appear in an answer to this member of the cast."""
    inside_ids = [CITIZEN_IN, BIRTH_IN.strftime("%d/%m/%Y"), BIRTH_IN.isoformat(), PUPIL_ID_IN,
                  PUPIL_BIRTH_IN.strftime("%d/%m/%Y"), PUPIL_BIRTH_IN.isoformat()]  # fmt: skip
    return {
        "anonymous": [IN, OUT, SIDE, CITIZEN_IN, CITIZEN_OUT],
        "commune_clerk": [OUT, SIDE, CITIZEN_OUT],
        "sibling_clerk": [IN, SIDE, *inside_ids],
        "district_leader": [OUT, CITIZEN_OUT, *inside_ids],
        "city_leader": [CITIZEN_OUT, *inside_ids],
        "manager": [OUT, CITIZEN_OUT],
        "admin": [],
        "staff_manager": [OUT, CITIZEN_OUT],
    }[who]


def text_of(response) -> str:
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            " ".join("" if value is None else str(value) for value in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if "pdf" in kind:
        from pypdf import PdfReader

        try:
            return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
        except Exception:
            return body.decode("latin-1")
    return body.decode("utf-8", errors="replace")


def reverse_with(name: str, expect: Expect, place) -> str:
    kwargs = dict(expect.kwargs)
    if place is not None:
        route_kwargs = set(re.findall(r"<(?:\w+:)?(\w+)>", all_url_keys()[name]))
        kwargs.update({key: value for key, value in place.kwargs.items() if key in route_kwargs})
    return reverse(name, kwargs=kwargs)


class Tally:
    def __init__(self):
        self.requests = 0
        self.urls: set[str] = set()
        self.users: set[str] = set()
        self.objects = Counter()
        self.seconds = Counter()
        self.failures: list[str] = []

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.failures.append(message)


def try_one(client, tally: Tally, *, name, url, method, who, user, expected, forbidden, place_label, sign_in=False):
    started = time.perf_counter()
    response = client.get(url) if method == "GET" else client.post(url, {})
    tally.seconds[name] += time.perf_counter() - started
    tally.requests += 1
    tally.urls.add(name)
    tally.users.add(who)
    tally.objects[place_label] += 1
    label = f"{method} {url} [{name}] as {who} ({place_label})"
    tally.check(response.status_code in expected, f"{label}: {response.status_code}, expected {sorted(expected)}")
    if response.status_code == 302 and sign_in:
        location = response["Location"]
        tally.check(
            location.startswith(LOGIN) or location.startswith(ADMIN_LOGIN),
            f"{label}: anonymous sent to {location}, not the sign-in page",
        )
    if response.status_code < 500 and forbidden:
        text = text_of(response)
        for token in forbidden:
            tally.check(token not in text, f"{label}: answer shows {token!r}")
    return response


def test_every_url_against_every_member_of_the_cast_and_both_sides_of_the_tree(client, cast, world):
    tally = Tally()
    for who in CAST:
        user = role_of(cast, who)
        client.logout()
        if user is not None:
            client.force_login(user)
        for name, expect in EXPECTATIONS.items():
            places = {"no object": None}
            if expect.obj:
                places = {f"{expect.obj} {where}": place for where, place in world.objects[expect.obj].items()}
            for place_label, place in places.items():
                url = reverse_with(name, expect, place)
                for method in ("GET", "POST"):
                    expected = expected_statuses(expect, method, user, place)
                    need = expect.get if method == "GET" else expect.post
                    try_one(
                        client, tally, name=name, url=url, method=method, who=who, user=user,
                        expected=expected, forbidden=forbidden_for(who), place_label=place_label,
                        sign_in=user is None and need != "public",
                    )  # fmt: skip
                    if name == "logout" and user is not None:
                        client.force_login(user)
    print(
        f"\naccess matrix: {len(tally.urls)} URLs × {len(tally.users)} users × objects inside/outside "
        f"→ {tally.requests} requests; by object: {dict(tally.objects)}"
    )
    print("slowest:", [(name, round(sec, 1)) for name, sec in tally.seconds.most_common(12)])
    assert not tally.failures, "\n".join(tally.failures[:60]) + f"\n({len(tally.failures)} failures)"


# --- Lists, counts and exports: the inside user sees theirs, nobody sees another's ---------------


def test_lists_and_exports_show_each_user_their_own_rows(client, cast, world):
    """A check that cannot pass by showing nothing: the planted rows appear where they belong."""
    shows = {
        "commune_clerk": [IN],
        "sibling_clerk": [OUT],
        "district_leader": [IN, SIDE],
        "manager": [IN, SIDE],
        "city_leader": [IN, OUT, SIDE],
        "admin": [IN, OUT, SIDE],
    }
    lists = {
        "associations:member_list": "",
        "associations:organization_list": "",
        "associations:member_export": "",
        "associations:organization_export": "",
    }
    missing = []
    for who, tokens in shows.items():
        client.force_login(getattr(cast, who))
        for name in lists:
            text = text_of(client.get(reverse(name)))
            missing += [f"{name} as {who} lacks {token}" for token in tokens if token not in text]
        money_tokens = [token for token in tokens if token != SIDE]
        for name in ("funds:fund_list", "funds:donation_list", "scholarships:award_list", "scholarships:round_list",
                     "learning:household_list", "learning:clan_list", "learning:community_list",
                     "learning:citizen_list"):  # fmt: skip
            text = text_of(client.get(reverse(name)))
            missing += [f"{name} as {who} lacks {token}" for token in money_tokens if token not in text]
        for name in ("learning:registration_list", "learning:decision_list"):
            text = text_of(client.get(reverse(name)))
            missing += [f"{name} as {who} lacks {token}" for token in money_tokens if token not in text]
        for name in ("funds:donation_list", "scholarships:award_list"):
            text = text_of(client.get(reverse(name), {"format": "xlsx"}))
            missing += [f"{name} xlsx as {who} lacks {token}" for token in money_tokens if token not in text]
    assert not missing, missing


def test_the_counts_shown_are_those_of_the_users_subtree(client, cast, world):
    # Planted per commune: 1 member and 1 organisation (+1 of each beside, in Trúc Bạch),
    # 1 donation, 1 award, 1 round.
    expected = {
        "commune_clerk": {"members": 1, "organizations": 1, "donations": 1, "awards": 1},
        "sibling_clerk": {"members": 1, "organizations": 1, "donations": 1, "awards": 1},
        "district_leader": {"members": 2, "organizations": 2, "donations": 1, "awards": 1},
        "city_leader": {"members": 3, "organizations": 3, "donations": 2, "awards": 2},
    }
    for who, counts in expected.items():
        client.force_login(getattr(cast, who))
        seen = {
            "members": client.get(reverse("associations:member_list")).context["paginator"].count,
            "organizations": client.get(reverse("associations:organization_list")).context["paginator"].count,
            "donations": client.get(reverse("funds:donation_list")).context["totals"]["count"],
            "awards": client.get(reverse("scholarships:award_list")).context["totals"]["turns"],
        }
        assert seen == counts, who


# --- The admin: one generic rule for every registered model --------------------------------------


@pytest.fixture
def staff_manager(cast):
    """The Ba Đình manager, let into the admin with every permission on the portal's models."""
    user = cast.manager
    user.is_staff = True
    user.save()
    apps = ["associations", "funds", "scholarships", "plans", "imports"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
    return user


def admin_places(world, model) -> dict[str, object]:
    """The planted objects of a model, inside and outside Ba Đình (or any one row of it)."""
    by_model = {}
    for _kind, places in world.objects.items():
        for where, place in places.items():
            if isinstance(place.obj, model):
                by_model.setdefault(where, place.obj)
    if not by_model:
        row = model._default_manager.first()
        if row is not None:
            by_model["any"] = row
    return by_model


def test_every_admin_page_against_the_cast(client, cast, world, staff_manager):
    tally = Tally()
    # Only staff accounts enter the admin: the cast's clerks and leaders are all turned away
    # at the door the same way (tried with two of them); the manager is tried as an admin user.
    cast_users = {who: role_of(cast, who) for who in ("anonymous", "commune_clerk", "city_leader", "admin")}
    cast_users["staff_manager"] = staff_manager
    branch_in = world.objects["commune"]["in"].obj
    for key, model in admin_model_keys().items():
        if key.startswith("admin/"):
            continue  # the object-id fall-through redirects to the change page, tried below
        view = key.rsplit("_", 1)[1]
        if key == "admin:auth_user_password_change":
            places = {"any": cast.commune_clerk}
            view = "change"
        elif view in ("changelist", "add"):
            places = {"no object": None}
        else:
            places = admin_places(world, model)
        for where, obj in places.items():
            url = reverse(key, args=[obj.pk]) if obj is not None else reverse(key)
            for who, user in cast_users.items():
                client.logout()
                if user is not None:
                    client.force_login(user)
                if user is None or not user.is_staff:
                    expected = frozenset({302})
                elif user.is_superuser:
                    expected = frozenset({200, 403})
                elif where == "out":
                    expected = frozenset({302, 403, 404})  # "does not exist" → back to the admin index
                else:
                    expected = frozenset({200, 302, 403})
                response = try_one(
                    client, tally, name=key, url=url, method="GET", who=who, user=user, expected=expected,
                    forbidden=forbidden_for(who), place_label=f"{model._meta.model_name} {where}",
                )  # fmt: skip
                if response.status_code == 302 and (user is None or not user.is_staff):
                    tally.check(response["Location"].startswith(ADMIN_LOGIN), f"{url} as {who}: not to sign-in")
                if user is staff_manager and where == "out" and response.status_code == 302:
                    tally.check(response["Location"] == reverse("admin:index"), f"{url}: {response['Location']}")
    for key, spec in ADMIN_PAGES.items():
        if "path" in spec:
            url = spec["path"].format(branch=branch_in.pk)
        else:
            url = reverse(key, kwargs=spec.get("kwargs", {}))
        for who, user in cast_users.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            if spec.get("public"):
                expected = frozenset({200, 302, 405})
            elif user is None or not user.is_staff:
                expected = frozenset({302, 404})
            else:
                expected = frozenset({200, 302, 400, 403, 404, 405})
            try_one(
                client, tally, name=key, url=url, method="GET", who=who, user=user, expected=expected,
                forbidden=forbidden_for(who), place_label="admin page",
            )  # fmt: skip
    print(f"\nadmin: {len(tally.urls)} URLs × {len(tally.users)} users → {tally.requests} requests")
    assert not tally.failures, "\n".join(tally.failures[:60]) + f"\n({len(tally.failures)} failures)"


def test_admin_autocomplete_answers_only_the_subtree(client, world, staff_manager):
    client.force_login(staff_manager)
    for model_name, term in (("member", "Chi"), ("organization", "Chi")):
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "associations", "model_name": model_name, "field_name": "branch", "term": term},
        )
        assert response.status_code == 200
        names = [row["text"] for row in response.json()["results"]]
        assert f"Chi hội {IN}" in names
        assert not [name for name in names if OUT in name]
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "associations", "model_name": "member", "field_name": "organization", "term": "Trường"},
    )
    names = [row["text"] for row in response.json()["results"]]
    assert f"Trường {IN}" in names and not [name for name in names if OUT in name]


def test_a_refusal_looks_the_same_for_an_object_outside_and_one_that_does_not_exist(client, cast, world):
    client.force_login(cast.sibling_clerk)
    for name, expect in EXPECTATIONS.items():
        if not expect.obj or expect.get in (None, "owner") or "in" not in world.objects[expect.obj]:
            continue
        place = world.objects[expect.obj]["in"]
        outside = client.get(reverse_with(name, expect, place))
        missing_place = SimpleNamespace(
            kwargs=dict.fromkeys(place.kwargs, 987654321), branch=place.branch, owner=place.owner
        )
        missing = client.get(reverse_with(name, expect, missing_place))
        assert outside.status_code == missing.status_code, name
        assert IN not in text_of(outside), name


# --- Across a reorganisation (issue 11): dissolved branches and their successors ------------------
# Hanoi's 2025 round on the cast's tree: Phúc Xá whole and Trúc Bạch in part become Phường Ba
# Đình (W1); the rest of Trúc Bạch and all of Hàng Bạc become Phường Hoàn Kiếm (W2); the
# districts are abolished. Trúc Bạch's organisation and member (SIDE) went to W2; everything
# planted on Phúc Xá (IN) and Hàng Bạc (OUT) stayed there as history. W1's staff read Phúc Xá's
# history and never see what went to W2; W2's staff read Hàng Bạc's; nobody changes history.
REORGANISED_AT = datetime.date(2025, 7, 1)
HISTORY_CAST = ("ward_clerk", "ward_leader", "sibling_ward_clerk", "admin")


@pytest.fixture
def reorganised(world, tree, cast):
    from associations.models import Member, Organization, StaffRole
    from tests.associations.reorg_factories import PART, WHOLE, found, reorganise
    from tests.factories import StaffProfileFactory, UserFactory

    w1 = found("Phường Ba Đình", BranchLevel.COMMUNE, tree.city, REORGANISED_AT, code="00004")
    w2 = found("Phường Hoàn Kiếm", BranchLevel.COMMUNE, tree.city, REORGANISED_AT, code="00070")
    side = [*Organization.objects.filter(name__contains=SIDE), *Member.objects.filter(full_name__contains=SIDE)]
    reorganise(
        effective_on=REORGANISED_AT,
        edges=[(tree.phuc_xa, w1, WHOLE), (tree.truc_bach, w1, PART), (tree.truc_bach, w2, PART),
               (tree.hang_bac, w2, WHOLE)],
        records=[(record, w2) for record in side],
        dissolve=[tree.ba_dinh, tree.hoan_kiem],
    )  # fmt: skip

    def staff(username, branch, role):
        user = UserFactory(username=username)
        StaffProfileFactory(user=user, branch=branch, role=role)
        return user

    users = {
        "ward_clerk": staff("clerk_w1", w1, StaffRole.CLERK),
        "ward_leader": staff("leader_w1", w1, StaffRole.LEADER),
        "sibling_ward_clerk": staff("clerk_w2", w2, StaffRole.CLERK),
        "admin": cast.admin,
    }
    # Whose history each planted side is: Phúc Xá's (IN) is W1's, Hàng Bạc's (OUT) is W2's.
    readers = {"in": {"ward_clerk", "ward_leader", "admin"}, "out": {"sibling_ward_clerk", "admin"}}
    never = {"ward_clerk": [OUT, SIDE], "ward_leader": [OUT, SIDE], "sibling_ward_clerk": [IN], "admin": []}
    return SimpleNamespace(users=users, readers=readers, never=never, w1=w1, w2=w2)


def test_successors_read_their_predecessors_history_and_nobody_changes_it(client, world, reorganised):
    tally = Tally()
    for name, expect in EXPECTATIONS.items():
        if not expect.obj or expect.obj not in world.objects:
            continue
        for where in ("in", "out"):
            place = world.objects[expect.obj].get(where)
            if place is None or place.branch is None or place.owner is not None:
                continue
            url = reverse_with(name, expect, place)
            for who, user in reorganised.users.items():
                client.force_login(user)
                reads = who in reorganised.readers[where]
                for method, need in (("GET", expect.get), ("POST", expect.post)):
                    if need == "same":
                        need = expect.get
                        if method == "POST":
                            continue
                    if need == "read":
                        expected = expect.ok if reads else frozenset({404})
                    elif need == "write":
                        # History is read-only for everyone; a leader may be refused for the role first.
                        refused = frozenset({403, 404}) if who == "ward_leader" else frozenset({404})
                        expected = frozenset({403}) if reads else refused
                    elif need == "manage" and who != "admin":
                        # Nobody in this cast manages; what an administrator decides for an account
                        # or a plan of a dissolved branch is the reorganisation's business.
                        expected = frozenset({403}) if reads else frozenset({403, 404})
                    else:
                        continue
                    try_one(
                        client, tally, name=name, url=url, method=method, who=who, user=user, expected=expected,
                        forbidden=reorganised.never[who], place_label=f"{expect.obj} {where} (dissolved)",
                    )  # fmt: skip
    print(f"\nhistory: {len(tally.urls)} URLs × {len(tally.users)} users → {tally.requests} requests")
    assert not tally.failures, "\n".join(tally.failures[:60]) + f"\n({len(tally.failures)} failures)"


def test_successors_work_in_their_own_ward_and_not_in_the_sibling_ward(client, reorganised):
    from associations.models import Organization

    moved = Organization.objects.get(name__contains=SIDE)  # went from Trúc Bạch to W2
    for who, status in (("sibling_ward_clerk", 200), ("ward_clerk", 404), ("ward_leader", 404)):
        client.force_login(reorganised.users[who])
        for name in ("associations:organization_detail", "associations:organization_update"):
            assert client.get(reverse(name, args=[moved.pk])).status_code == status, (who, name)
    client.force_login(reorganised.users["ward_clerk"])
    assert client.get(reverse("associations:branch_update", args=[reorganised.w1.pk])).status_code == 200
    assert client.get(reverse("associations:branch_create", args=[reorganised.w1.pk])).status_code == 200
    listed = text_of(client.get(reverse("associations:organization_list")))
    assert IN in listed and SIDE not in listed and OUT not in listed
