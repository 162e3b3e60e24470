"""The audit log: every change to the registry, money, plans and accounts leaves one entry in the
same transaction (a failed change leaves none); managers read it for their subtree; nobody edits
or deletes it from the portal."""

import datetime
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from associations import services as registry
from associations.models import AuditAction, AuditEntry, BranchLevel, StaffRole
from funds import services as money
from plans.models import Plan, Target
from plans.services import plan_save, target_save
from tests.factories import DAY, MemberFactory, OrganizationFactory, donate, make_branch, make_round, pay

pytestmark = pytest.mark.django_db


MEMBER = {"full_name": "Phạm Văn Bình", "category": "worker", "joined_on": datetime.date(2019, 1, 1)}


def _plan(branch, **extra):
    return Plan(
        code="12/KH",
        title="Kế hoạch phường",
        issuing_branch=branch,
        issued_on=DAY,
        starts_on=DAY,
        ends_on=datetime.date(2020, 12, 31),
        **extra,
    )


# One write path each: (what it changes, the write).
WRITES = {
    "member created": lambda c, t, f: registry.member_create(
        actor=c.commune_clerk, data={**MEMBER, "branch": t.phuc_xa}
    ),
    "member changed": lambda c, t, f: registry.member_update(
        actor=c.commune_clerk, member=MemberFactory(branch=t.phuc_xa), data={"phone": "0911000111"}
    ),
    "member ended": lambda c, t, f: registry.member_end(
        actor=c.commune_clerk, member=MemberFactory(branch=t.phuc_xa), left_on=datetime.date(2020, 1, 1)
    ),
    "organisation created": lambda c, t, f: registry.organization_create(
        actor=c.commune_clerk, data={"name": "Trường Tiểu học Phúc Xá", "kind": "school", "branch": t.phuc_xa}
    ),
    "organisation changed": lambda c, t, f: registry.organization_update(
        actor=c.commune_clerk, organization=OrganizationFactory(branch=t.phuc_xa), data={"address": "Số 2"}
    ),
    "headcount set": lambda c, t, f: registry.headcount_set(
        actor=c.commune_clerk, organization=OrganizationFactory(branch=t.phuc_xa), year=2019, counts={"workers": 4}
    ),
    "branch created": lambda c, t, f: registry.branch_create(
        actor=c.commune_clerk, parent=t.phuc_xa, data={"name": "Chi hội Tổ 5", "level": BranchLevel.CHAPTER}
    ),
    "branch changed": lambda c, t, f: registry.branch_update(
        actor=c.commune_clerk, branch=t.phuc_xa, data={"founded_on": datetime.date(2000, 1, 1)}
    ),
    "branch moved": lambda c, t, f: registry.branch_move(
        actor=c.manager, branch=make_branch("Chi hội Tổ 9", BranchLevel.CHAPTER, t.phuc_xa), new_parent=t.truc_bach
    ),
    "staff account created": lambda c, t, f: registry.staff_account_create(
        actor=c.manager,
        username="clerk_trucbach",
        full_name="Hoàng Thị Mai",
        email="mai@example.vn",
        branch=t.truc_bach,
        role=StaffRole.CLERK,
        password="Mat-khau-rat-dai-2025",
    ),
    "staff account changed": lambda c, t, f: registry.staff_account_update(
        actor=c.manager, profile=c.commune_clerk.staff_profile, branch=t.phuc_xa, role=StaffRole.LEADER, is_active=True
    ),
    "fund created": lambda c, t, f: money.fund_create(
        actor=c.commune_clerk,
        branch=t.phuc_xa,
        data={"name": "Quỹ dòng họ Lê", "fund_model": f.phuc_xa.fund_model, "legal_form": "internal"},
    ),
    "fund changed": lambda c, t, f: money.fund_update(actor=c.commune_clerk, fund=f.phuc_xa, data={"name": "Quỹ mới"}),
    "donation recorded": lambda c, t, f: donate(c.commune_clerk, f.phuc_xa, 1_000_000),
    "donation voided": lambda c, t, f: money.donation_void(
        actor=c.commune_clerk, donation=donate(c.commune_clerk, f.phuc_xa, 1_000_000), reason="Ghi nhầm"
    ),
    "transfer recorded": lambda c, t, f: money.transfer_record(
        actor=c.commune_clerk,
        from_fund=donate(c.commune_clerk, f.phuc_xa, 2_000_000).fund,
        to_fund=f.phuc_xa_clan,
        amount=1_000_000,
        transferred_on=DAY,
    ),
    "round created": lambda c, t, f: make_round(c.commune_clerk, t.phuc_xa, f.phuc_xa),
    "award paid": lambda c, t, f: pay(
        c.commune_clerk,
        make_round(c.commune_clerk, t.phuc_xa, donate(c.commune_clerk, f.phuc_xa, 9_000_000).fund),
        500_000,
    ),
    "plan created": lambda c, t, f: plan_save(actor=c.manager, plan=_plan(t.ba_dinh)),
    "target created": lambda c, t, f: target_save(
        actor=c.manager,
        target=Target(
            plan=plan_save(actor=c.manager, plan=_plan(t.ba_dinh)),
            indicator="board_coverage",
            threshold_percent=70,
            deadline=datetime.date(2020, 12, 31),
            root_branch=t.ba_dinh,
            organization_kinds=["agency"],
        ),
    ),
}
# Writes that first make what they change through another audited write.
SETUP_ENTRIES = {"donation voided": 1, "transfer recorded": 1, "award paid": 2, "target created": 1}


@pytest.mark.parametrize("what", list(WRITES))
def test_each_write_leaves_one_audit_entry_naming_who_and_what(what, cast, tree, funds):
    before = AuditEntry.objects.count()
    WRITES[what](cast, tree, funds)
    entries = AuditEntry.objects.order_by("-id")[: 1 + SETUP_ENTRIES.get(what, 0)]
    assert AuditEntry.objects.count() - before == 1 + SETUP_ENTRIES.get(what, 0)
    entry = entries[0]
    assert entry.actor in (cast.commune_clerk, cast.manager)
    assert entry.at is not None and entry.object_repr and entry.changes
    assert entry.branch is not None


@pytest.mark.parametrize("what", ["member created", "donation recorded", "award paid", "plan created"])
def test_a_write_that_fails_after_its_entry_leaves_no_entry(what, cast, tree, funds):
    """The entry is written in the change's transaction: when the change fails, the entry goes too."""
    setup_done = AuditEntry.objects.count()
    if what == "award paid":
        scholarship_round = make_round(
            cast.commune_clerk, tree.phuc_xa, donate(cast.commune_clerk, funds.phuc_xa, 9_000_000).fund
        )
        setup_done = AuditEntry.objects.count()

        def write():
            pay(cast.commune_clerk, scholarship_round, 500_000)
    else:

        def write():
            WRITES[what](cast, tree, funds)

    # The failure comes after audit_record: the signal or the save that follows it.
    targets = {
        "member created": "associations.services.registry_changed.send",
        "donation recorded": "funds.services.donations.announce",
        "award paid": "scholarships.services.announce",
        "plan created": "plans.services.audit_record",
    }
    real = __import__("associations.audit", fromlist=["audit_record"]).audit_record

    def record_then_fail(*args, **kwargs):
        if kwargs.get("obj") is not None:
            real(*args, **kwargs)
        raise RuntimeError("the database went away")

    with mock.patch(targets[what], side_effect=record_then_fail), pytest.raises(RuntimeError):
        write()
    assert AuditEntry.objects.count() == setup_done


def test_a_refused_write_leaves_no_entry(cast, tree):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        registry.member_create(actor=cast.commune_clerk, data={**MEMBER, "branch": tree.phuc_xa, "citizen_id": "12"})
    assert AuditEntry.objects.count() == before


# --- The page --------------------------------------------------------------------------------------


@pytest.fixture
def history(cast, tree):
    registry.member_create(
        actor=cast.commune_clerk, data={**MEMBER, "full_name": "Người Ba Đình", "branch": tree.phuc_xa}
    )
    registry.member_create(
        actor=cast.sibling_clerk, data={**MEMBER, "full_name": "Người Hoàn Kiếm", "branch": tree.hang_bac}
    )
    registry.organization_create(
        actor=cast.manager, data={"name": "Cơ quan Ba Đình", "kind": "agency", "branch": tree.truc_bach}
    )


def test_a_manager_reads_the_log_of_their_subtree_only(client_for, cast, history):
    response = client_for(cast.manager).get(reverse("associations:audit_log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Người Ba Đình" in html and "Cơ quan Ba Đình" in html
    assert "Người Hoàn Kiếm" not in html
    assert response.context["paginator"].count == 2


def test_the_log_filters_by_action_kind_date_and_author(client_for, cast, history):
    client = client_for(cast.admin)
    url = reverse("associations:audit_log")
    assert client.get(url).context["paginator"].count == 3
    assert client.get(url, {"kind": "organization"}).context["paginator"].count == 1
    assert client.get(url, {"action": AuditAction.UPDATE}).context["paginator"].count == 0
    assert client.get(url, {"actor": "clerk_hoankiem"}).context["paginator"].count == 1
    assert client.get(url, {"actor": "manager_badinh"}).context["paginator"].count == 1
    today = datetime.date.today()
    assert client.get(url, {"since": (today + datetime.timedelta(days=2)).isoformat()}).context["paginator"].count == 0
    assert client.get(url, {"until": (today + datetime.timedelta(days=2)).isoformat()}).context["paginator"].count == 3


def test_leaders_clerks_and_anonymous_visitors_cannot_read_the_log(client, client_for, cast, history):
    for url in (reverse("associations:audit_log"), reverse("associations:personal_data_exports")):
        client.logout()
        assert client.get(url)["Location"].startswith("/accounts/login/")
        for user in (cast.commune_clerk, cast.district_leader, cast.city_leader, cast.sibling_clerk):
            assert client_for(user).get(url).status_code == 403


def test_nobody_can_change_the_log_from_the_portal(client_for, cast, history):
    entry = AuditEntry.objects.first()
    client = client_for(cast.admin)
    for url in (reverse("associations:audit_log"), reverse("associations:personal_data_exports")):
        assert client.post(url, {"action": "delete", "id": entry.pk}).status_code == 405
    for name in ("change", "delete"):
        url = reverse(f"admin:associations_auditentry_{name}", args=[entry.pk])
        response = client.post(url, {"post": "yes", "object_repr": "changed"})
        assert response.status_code in (403, 200)
    assert client.get(reverse("admin:associations_auditentry_add")).status_code == 403
    entry_after = AuditEntry.objects.get(pk=entry.pk)
    assert entry_after.object_repr == entry.object_repr
    assert AuditEntry.objects.count() == 3


def test_the_admin_log_is_read_only_for_a_staff_manager(client_for, cast, history):
    manager = cast.manager
    manager.is_staff = True
    manager.save()
    manager.user_permissions.set(Permission.objects.filter(codename__endswith="_auditentry"))
    entry = AuditEntry.objects.filter(branch__path__startswith=cast.manager.staff_profile.branch.path).first()
    client = client_for(manager)
    assert (
        client.post(reverse("admin:associations_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_log_page_makes_the_same_number_of_queries_for_3_or_60_entries(
    client_for, cast, tree, django_assert_max_num_queries
):
    client = client_for(cast.manager)
    url = reverse("associations:audit_log")
    for n in range(3):
        registry.member_create(
            actor=cast.commune_clerk, data={**MEMBER, "full_name": f"Hội viên {n}", "branch": tree.phuc_xa}
        )
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(57):
        registry.member_create(
            actor=cast.commune_clerk, data={**MEMBER, "full_name": f"Người {n}", "branch": tree.phuc_xa}
        )
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert len(response.context["page"]) == 50
