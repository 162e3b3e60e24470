"""Non-superuser staff in Django admin see and change only their subtree."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from associations.models import AuditEntry, Branch, Organization
from tests.factories import MemberFactory, OrganizationFactory

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
