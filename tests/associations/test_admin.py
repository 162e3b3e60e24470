"""Non-superuser staff in Django admin see and change only their subtree."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.forms import CheckboxInput
from django.urls import reverse

from associations.models import AuditAction, AuditEntry, Branch, Member, Organization, OrganizationHeadcount
from tests.factories import HeadcountFactory, MemberFactory, OrganizationFactory, make_branch

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_manager(cast):
    """The Ba Đình manager, allowed into the admin with model permissions."""
    user = cast.manager
    user.is_staff = True
    user.save()
    codenames = [
        f"{action}_{model}"
        for action in ("view", "change", "add")
        for model in ("member", "organization", "branch", "staffprofile", "auditentry")
    ]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_the_member_changelist_shows_the_subtree_only(client_for, admin_manager, tree):
    MemberFactory(full_name="Người Ba Đình", branch=tree.phuc_xa)
    MemberFactory(full_name="Người Hoàn Kiếm", branch=tree.hang_bac)
    html = client_for(admin_manager).get(reverse("admin:associations_member_changelist")).content.decode()
    assert "Người Ba Đình" in html
    assert "Người Hoàn Kiếm" not in html


def test_a_member_outside_the_subtree_cannot_be_opened(client_for, admin_manager, tree):
    outsider = MemberFactory(branch=tree.hang_bac)
    response = client_for(admin_manager).get(reverse("admin:associations_member_change", args=[outsider.pk]))
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:index")


def test_the_branch_choices_of_a_member_form_are_the_subtree(client_for, admin_manager, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    response = client_for(admin_manager).post(
        reverse("admin:associations_member_change", args=[member.pk]),
        {
            "full_name": member.full_name,
            "category": member.category,
            "branch": tree.hang_bac.pk,
            "joined_on": "01/03/2018",
        },
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.branch == tree.phuc_xa


def test_an_admin_change_leaves_an_audit_entry(client_for, admin_manager, tree):
    member = MemberFactory(branch=tree.phuc_xa, phone="0911111111")
    response = client_for(admin_manager).post(
        reverse("admin:associations_member_change", args=[member.pk]),
        {
            "full_name": member.full_name,
            "category": member.category,
            "branch": tree.phuc_xa.pk,
            "joined_on": "01/03/2018",
            "phone": "0922222222",
            "gender": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="update")
    assert entry.actor == admin_manager
    assert list(entry.changes.values()) == [["0911111111", "0922222222"]]


def test_the_branch_tree_starts_at_the_users_branch(client_for, admin_manager, tree):
    html = client_for(admin_manager).get(reverse("admin:associations_branch_changelist")).content.decode()
    assert "Quận Ba Đình" in html
    assert "Quận Hoàn Kiếm" not in html


def test_moving_a_branch_under_a_parent_outside_the_subtree_is_refused(client_for, admin_manager, tree):
    from tests.factories import make_branch

    chapter = make_branch("Chi hội tổ 5", "chapter", tree.phuc_xa)
    response = client_for(admin_manager).post(
        reverse("admin:associations_branch_changelist") + "move/",
        {"node": chapter.pk, "target": tree.hang_bac.pk, "relation": "child"},
    )
    assert response.status_code == 403
    chapter.refresh_from_db()
    assert Branch.objects.get_parent(chapter) == tree.phuc_xa


def test_moving_a_chapter_within_the_subtree_works_and_is_recorded(client_for, admin_manager, tree):
    from tests.factories import make_branch

    chapter = make_branch("Chi hội tổ 6", "chapter", tree.phuc_xa)
    response = client_for(admin_manager).post(
        reverse("admin:associations_branch_changelist") + "move/",
        {"node": chapter.pk, "target": tree.truc_bach.pk, "relation": "child"},
    )
    assert response.status_code == 200
    chapter = Branch.objects.get(pk=chapter.pk)
    assert Branch.objects.get_parent(chapter) == tree.truc_bach
    assert AuditEntry.objects.filter(action="move", object_id=str(chapter.pk)).exists()


def test_nothing_is_deleted_from_the_admin(client_for, admin_manager, tree):
    organization = OrganizationFactory(branch=tree.phuc_xa)
    response = client_for(admin_manager).post(
        reverse("admin:associations_organization_delete", args=[organization.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Organization.objects.filter(pk=organization.pk).exists()


# --- A superuser's saves go through the services: an audit entry and a recompute ------------------


@pytest.fixture
def recompute_scheduled(django_capture_on_commit_callbacks):
    """Run the after-commit hooks of one admin save and answer the recompute runs it scheduled."""
    from django.core.cache import cache

    from plans.models import RecomputeRun
    from plans.services import RECOMPUTE_LOCK_KEY

    cache.delete(RECOMPUTE_LOCK_KEY)

    def run(request):
        with (
            mock.patch("plans.tasks.indicators_recompute.apply_async") as enqueue,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = request()
        runs = list(RecomputeRun.objects.filter(trigger=RecomputeRun.Trigger.CHANGE))
        assert enqueue.call_count == len(runs)
        return response, runs

    yield run
    cache.delete(RECOMPUTE_LOCK_KEY)


def change_form_data(response) -> dict:
    """What the browser posts back from an admin change page left as it is."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms += inline.formset.forms
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else field.field.widget.format_value(value) or ""
    return data


def test_a_headcount_edited_in_the_admin_inline_is_audited_and_schedules_a_recompute(
    client_for, cast, tree, recompute_scheduled
):
    organization = OrganizationFactory(branch=tree.phuc_xa)
    headcount = HeadcountFactory(organization=organization, year=2020, workers=10)
    client = client_for(cast.admin)
    url = reverse("admin:associations_organization_change", args=[organization.pk])
    data = change_form_data(client.get(url))
    assert data["headcounts-0-workers"] == "10"

    response, runs = recompute_scheduled(lambda: client.post(url, {**data, "headcounts-0-workers": "999"}))

    assert response.status_code == 302, response.content.decode()[:3000]
    headcount.refresh_from_db()
    assert headcount.workers == 999
    entry = AuditEntry.objects.get(object_id=str(organization.pk), action=AuditAction.UPDATE)
    assert entry.actor == cast.admin and entry.branch == tree.phuc_xa
    workers = str(OrganizationHeadcount._meta.get_field("workers").verbose_name)
    assert entry.changes == {f"2020: {workers}": [10, 999]}
    assert len(runs) == 1


def test_a_new_year_added_in_the_admin_inline_is_audited_as_created(client_for, cast, tree, recompute_scheduled):
    organization = OrganizationFactory(branch=tree.phuc_xa)
    client = client_for(cast.admin)
    url = reverse("admin:associations_organization_change", args=[organization.pk])
    data = change_form_data(client.get(url))
    new_row = {"headcounts-0-year": "2021", "headcounts-0-cadres": "7", "headcounts-0-organization": organization.pk}
    for name in ("party_members", "civil_servants", "public_employees", "workers"):
        new_row[f"headcounts-0-{name}"] = "0"

    response, runs = recompute_scheduled(lambda: client.post(url, {**data, **new_row, "headcounts-TOTAL_FORMS": "1"}))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert OrganizationHeadcount.objects.get(organization=organization, year=2021).cadres == 7
    entry = AuditEntry.objects.get(object_id=str(organization.pk), action=AuditAction.CREATE)
    cadres = str(OrganizationHeadcount._meta.get_field("cadres").verbose_name)
    assert entry.changes[f"2021: {cadres}"] == [None, 7]
    assert len(runs) == 1


def test_an_organisation_edited_in_the_admin_is_audited_and_schedules_a_recompute(
    client_for, cast, tree, recompute_scheduled
):
    organization = OrganizationFactory(branch=tree.phuc_xa, name="Trường cũ")
    client = client_for(cast.admin)
    url = reverse("admin:associations_organization_change", args=[organization.pk])
    data = change_form_data(client.get(url))

    response, runs = recompute_scheduled(lambda: client.post(url, {**data, "name": "Trường mới"}))

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(object_id=str(organization.pk), action=AuditAction.UPDATE)
    assert entry.actor == cast.admin
    assert list(entry.changes.values()) == [["Trường cũ", "Trường mới"]]
    assert len(runs) == 1


def test_a_member_edited_in_the_admin_is_audited_and_schedules_a_recompute(client_for, cast, tree, recompute_scheduled):
    member = MemberFactory(branch=tree.phuc_xa, phone="0911111111")
    client = client_for(cast.admin)
    url = reverse("admin:associations_member_change", args=[member.pk])
    data = change_form_data(client.get(url))

    response, runs = recompute_scheduled(lambda: client.post(url, {**data, "phone": "0922222222"}))

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(object_id=str(member.pk), action=AuditAction.UPDATE)
    assert entry.actor == cast.admin
    assert list(entry.changes.values()) == [["0911111111", "0922222222"]]
    assert len(runs) == 1


def test_a_member_added_in_the_admin_is_audited_and_schedules_a_recompute(client_for, cast, tree, recompute_scheduled):
    client = client_for(cast.admin)
    url = reverse("admin:associations_member_add")
    data = {"full_name": "Nguyễn Văn Mới", "category": "party_member", "branch": tree.phuc_xa.pk}
    data["joined_on"] = "01/03/2018"

    response, runs = recompute_scheduled(lambda: client.post(url, data))

    assert response.status_code == 302, response.content.decode()[:3000]
    member = Member.objects.get(full_name="Nguyễn Văn Mới")
    assert AuditEntry.objects.filter(object_id=str(member.pk), action=AuditAction.CREATE).exists()
    assert len(runs) == 1


def test_a_branch_dragged_in_the_admin_schedules_a_recompute(client_for, admin_manager, tree, recompute_scheduled):
    chapter = make_branch("Chi hội tổ 7", "chapter", tree.phuc_xa)
    url = reverse("admin:associations_branch_changelist") + "move/"
    move = {"node": chapter.pk, "target": tree.truc_bach.pk, "relation": "child"}

    response, runs = recompute_scheduled(lambda: client_for(admin_manager).post(url, move))

    assert response.status_code == 200
    assert Branch.objects.get_parent(Branch.objects.get(pk=chapter.pk)) == tree.truc_bach
    assert len(runs) == 1


def test_nothing_is_deleted_from_the_admin_even_by_a_superuser(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    client = client_for(cast.admin)
    for name, obj in (("member", member), ("organization", OrganizationFactory(branch=tree.phuc_xa))):
        response = client.post(reverse(f"admin:associations_{name}_delete", args=[obj.pk]), {"post": "yes"})
        assert response.status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists()


def test_the_admin_greets_in_vietnamese_name_order(client_for, cast):
    cast.admin.last_name, cast.admin.first_name = "Phạm", "Thị Lan"
    cast.admin.save()
    page = client_for(cast.admin).get(reverse("admin:index")).content.decode()
    assert "<strong>Phạm Thị Lan</strong>" in page
