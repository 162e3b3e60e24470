import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from associations.models import AuditAction, AuditEntry
from funds.models import Donation, LedgerEntry
from tests.factories import donate, make_round, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_clerk(cast):
    """The commune clerk with admin access and the view/change permissions of the money apps."""
    user = cast.commune_clerk
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["funds", "scholarships"]))
    return user


def test_the_admin_lists_only_the_funds_and_donations_of_the_users_subtree(cast, funds, staff_clerk, client_for):
    donate(cast.admin, funds.phuc_xa, 100_000, donor_name="Người Phúc Xá")
    donate(cast.admin, funds.hoan_kiem, 100_000, donor_name="Người Hoàn Kiếm")
    client = client_for(staff_clerk)

    fund_page = client.get(reverse("admin:funds_fund_changelist")).content.decode()
    donation_page = client.get(reverse("admin:funds_donation_changelist")).content.decode()

    assert funds.phuc_xa.name in fund_page and funds.hoan_kiem.name not in fund_page
    assert "Người Phúc Xá" in donation_page and "Người Hoàn Kiếm" not in donation_page


def test_money_records_cannot_be_added_changed_or_deleted_in_the_admin(cast, funds, staff_clerk, client_for):
    donation = donate(cast.admin, funds.phuc_xa, 100_000)
    client = client_for(staff_clerk)

    assert client.get(reverse("admin:funds_donation_add")).status_code == 403
    assert client.get(reverse("admin:funds_donation_delete", args=[donation.pk])).status_code == 403
    client.post(reverse("admin:funds_donation_change", args=[donation.pk]), {"amount": 1})
    donation.refresh_from_db()
    assert donation.amount == 100_000


def test_the_admin_void_action_asks_for_a_reason_then_voids_through_the_service(cast, funds, staff_clerk, client_for):
    donation = donate(cast.admin, funds.phuc_xa, 100_000)
    client = client_for(staff_clerk)
    url = reverse("admin:funds_donation_changelist")
    selected = {"action": "void_selected", "_selected_action": [donation.pk]}

    asked = client.post(url, selected)
    assert asked.status_code == 200 and "void_reason" in asked.content.decode()
    assert not Donation.objects.get(pk=donation.pk).is_voided

    client.post(url, {**selected, "apply_void": "1", "void_reason": "Nhập trùng"})
    donation.refresh_from_db()
    assert donation.is_voided and donation.void_reason == "Nhập trùng"
    assert LedgerEntry.objects.filter(donation=donation).count() == 2


def test_the_admin_hides_awards_of_another_district(cast, tree, funds, staff_clerk, client_for):
    donate(cast.admin, funds.hoan_kiem, 1_000_000)
    pay(cast.admin, make_round(cast.admin, tree.hoan_kiem, funds.hoan_kiem), 1_000, recipient_name="Em Hoàn Kiếm")
    page = client_for(staff_clerk).get(reverse("admin:scholarships_award_changelist")).content.decode()
    assert "Em Hoàn Kiếm" not in page


def test_scholarships_never_write_the_funds_tables_themselves():
    from pathlib import Path

    import scholarships

    for path in Path(scholarships.__file__).parent.rglob("*.py"):
        source = path.read_text()
        assert "LedgerEntry" not in source, path
        assert "balance=" not in source, path


def test_an_administrator_switching_a_fund_model_off_leaves_an_audit_entry(cast, fund_model, client_for):
    client = client_for(cast.admin)
    url = reverse("admin:funds_fundmodel_change", args=[fund_model.pk])
    response = client.post(
        url, {"name": fund_model.name, "code": fund_model.code, "ordering": fund_model.ordering, "active": ""}
    )
    assert response.status_code == 302
    fund_model.refresh_from_db()
    assert fund_model.active is False
    entry = AuditEntry.objects.get(content_type__model="fundmodel", object_id=str(fund_model.pk))
    assert entry.action == AuditAction.UPDATE and entry.actor == cast.admin
    assert list(entry.changes.values()) == [[True, False]]
    # A fund model is switched off, never deleted: past funds and reports name it.
    assert client.get(reverse("admin:funds_fundmodel_delete", args=[fund_model.pk])).status_code == 403


def test_payments_are_shown_in_the_admin_but_never_changed_there(cast, tree, funds, staff_clerk, client_for):
    donate(cast.admin, funds.phuc_xa, 1_000_000)
    award = pay(cast.admin, make_round(cast.admin, tree.phuc_xa, funds.phuc_xa), 300_000, recipient_name="Em Phúc Xá")
    client = client_for(staff_clerk)
    page = client.get(reverse("admin:funds_payment_changelist")).content.decode()
    assert "Em Phúc Xá" in page
    assert client.get(reverse("admin:funds_payment_add")).status_code == 403
    assert client.get(reverse("admin:funds_payment_delete", args=[award.payment_id])).status_code == 403
    client.post(reverse("admin:funds_payment_change", args=[award.payment_id]), {"amount": 1})
    award.payment.refresh_from_db()
    assert award.payment.amount == 300_000
