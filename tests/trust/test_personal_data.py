"""Personal data (Law 91/2025/QH15): masked for leaders and in exports, every export recorded,
a member's copy on request, erasure on request where no money record needs the data."""

import datetime
import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from associations.models import AuditAction, AuditEntry, Member, PersonalDataExport
from associations.privacy import mask_citizen_id, mask_date
from associations.services import member_create, member_update
from tests.factories import MemberFactory, donate, make_round, pay

pytestmark = pytest.mark.django_db


CITIZEN_ID = "001185012345"  # woman born in the 20th century (4th digit 1), 1985
BORN = datetime.date(1985, 3, 25)


@pytest.fixture
def member(tree, cast):
    return member_create(
        actor=cast.commune_clerk,
        data={
            "full_name": "Nguyễn Thị Hoa",
            "branch": tree.phuc_xa,
            "category": "civil_servant",
            "joined_on": datetime.date(2018, 3, 1),
            "citizen_id": CITIZEN_ID,
            "date_of_birth": BORN,
            "gender": "female",
            "phone": "0912345678",
            "address": "Số 5 phố Phúc Xá",
        },
    )


def rows_of(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(load_workbook(io.BytesIO(body), read_only=True).active.values)


def test_a_citizen_id_is_masked_to_its_last_four_digits_and_a_birth_date_to_its_year():
    assert mask_citizen_id("001085012345") == "••••••••2345"
    assert mask_citizen_id("") == ""
    assert mask_citizen_id("123") == "•••"
    assert mask_date(BORN) == "••/••/1985"
    assert mask_date(None) == ""


def test_leaders_see_the_citizen_id_and_birth_date_masked_on_the_member_page(client_for, cast, member):
    for leader in (cast.district_leader, cast.city_leader):
        html = client_for(leader).get(reverse("associations:member_detail", args=[member.pk])).content.decode()
        assert "••••••••2345" in html and "••/••/1985" in html
        assert CITIZEN_ID not in html and "25/03/1985" not in html  # nor in the change history below


def test_the_clerk_of_the_members_branch_and_the_manager_see_them_in_full(client_for, cast, member):
    for user in (cast.commune_clerk, cast.manager, cast.admin):
        html = client_for(user).get(reverse("associations:member_detail", args=[member.pk])).content.decode()
        assert CITIZEN_ID in html and "25/03/1985" in html


def test_the_members_list_shows_leaders_the_year_of_birth_only(client_for, cast, member):
    html = client_for(cast.district_leader).get(reverse("associations:member_list")).content.decode()
    assert "••/••/1985" in html and "25/03/1985" not in html


def test_a_members_export_is_masked_and_recorded(client_for, cast, member):
    client = client_for(cast.commune_clerk)
    rows = rows_of(client.get(reverse("associations:member_export"), {"category": "civil_servant"}))
    assert rows[1][1] == "••/••/1985" and rows[1][3] == "••••••••2345"
    export = PersonalDataExport.objects.get()
    assert (export.user, export.kind, export.row_count, export.unmasked) == (cast.commune_clerk, "members", 1, False)
    assert export.query == "category=civil_servant"
    assert export.branch == cast.commune_clerk.staff_profile.branch


def test_a_clerk_may_ask_for_the_full_personal_data_and_that_is_recorded(client_for, cast, member):
    rows = rows_of(client_for(cast.commune_clerk).get(reverse("associations:member_export"), {"personal": "1"}))
    assert rows[1][3] == CITIZEN_ID
    assert PersonalDataExport.objects.get().unmasked is True


def test_a_leader_asking_for_full_personal_data_still_gets_it_masked(client_for, cast, member):
    rows = rows_of(client_for(cast.city_leader).get(reverse("associations:member_export"), {"personal": "1"}))
    assert rows[1][3] == "••••••••2345"
    assert PersonalDataExport.objects.get().unmasked is False


def test_award_recipients_ids_and_birth_dates_are_masked_in_lists_and_exports(client_for, cast, tree, funds):
    funds.phuc_xa.refresh_from_db()
    donate(cast.commune_clerk, funds.phuc_xa, 5_000_000)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)
    award = pay(cast.commune_clerk, scholarship_round, 500_000, recipient_id="HS778899")
    client = client_for(cast.district_leader)
    detail = client.get(reverse("scholarships:award_detail", args=[award.pk])).content.decode()
    assert "••••••••8899" in detail and "HS778899" not in detail and "02/04/2005" not in detail
    listing = client.get(reverse("scholarships:award_list")).content.decode()
    assert "••/••/2005" in listing and "02/04/2005" not in listing
    rows = list(
        load_workbook(
            io.BytesIO(b"".join(client.get(reverse("scholarships:award_list"), {"format": "xlsx"}).streaming_content))
        ).active.values
    )
    assert rows[1][2] == "••/••/2005" and rows[1][6] == "••••••••8899"
    client_for(cast.commune_clerk).get(reverse("scholarships:award_list"), {"format": "xlsx", "personal": "1"})
    client_for(cast.commune_clerk).get(reverse("funds:donation_list"), {"format": "xlsx"})
    assert list(PersonalDataExport.objects.order_by("id").values_list("kind", "unmasked", "row_count")) == [
        ("awards", False, 1),
        ("awards", True, 1),
        ("donations", False, 1),
    ]


def test_a_member_gets_a_copy_of_their_data_and_the_copy_is_recorded(client_for, cast, member):
    response = client_for(cast.commune_clerk).get(reverse("associations:member_personal_data_export", args=[member.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert CITIZEN_ID in json.dumps(data, ensure_ascii=False)
    assert data["history"][0]["action"]
    export = PersonalDataExport.objects.get()
    assert (export.kind, export.object_id, export.unmasked) == ("member_record", str(member.pk), True)


def test_the_personal_data_page_is_refused_to_leaders_and_outsiders(client_for, cast, member):
    url = reverse("associations:member_personal_data", args=[member.pk])
    assert client_for(cast.district_leader).get(url).status_code == 403
    assert client_for(cast.sibling_clerk).get(url).status_code == 404
    erase = reverse("associations:member_personal_data_erase", args=[member.pk])
    assert client_for(cast.city_leader).post(erase, {"confirm": "yes"}).status_code == 403
    assert client_for(cast.sibling_clerk).post(erase, {"confirm": "yes"}).status_code == 404
    assert Member.objects.get(pk=member.pk).citizen_id == CITIZEN_ID


def test_erasure_on_request_keeps_the_row_so_the_counts_stay_and_leaves_no_value_behind(client_for, cast, member):
    member_update(actor=cast.commune_clerk, member=member, data={"phone": "0987654321"})
    client = client_for(cast.commune_clerk)
    count_before = client.get(reverse("associations:member_list")).context["paginator"].count
    response = client.post(reverse("associations:member_personal_data_erase", args=[member.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    erased = Member.objects.get(pk=member.pk)
    assert (erased.citizen_id, erased.date_of_birth, erased.phone, erased.address) == (None, None, "", "")
    assert "Hoa" not in erased.full_name and "hoa" not in erased.name_search
    assert erased.branch_id == member.branch_id and erased.category == member.category
    assert client.get(reverse("associations:member_list")).context["paginator"].count == count_before
    entries = AuditEntry.objects.for_object(erased)
    stored = json.dumps([[entry.object_repr, entry.changes] for entry in entries], ensure_ascii=False)
    for value in (CITIZEN_ID, "1985-03-25", "Nguyễn Thị Hoa", "0912345678", "0987654321", "Số 5 phố Phúc Xá"):
        assert value not in stored
    erasure = entries.get(action=AuditAction.ERASE)
    assert erasure.actor == cast.commune_clerk and erasure.at is not None


def test_erasure_is_refused_while_a_donation_names_the_member(client_for, cast, member, funds):
    donate(cast.commune_clerk, funds.phuc_xa, 1_000_000, member=member)
    client = client_for(cast.commune_clerk)
    page = client.get(reverse("associations:member_personal_data", args=[member.pk])).content.decode()
    assert "cannot be erased" in page or "không thể xoá" in page.lower() or 'data-testid="erase-refused"' in page
    response = client.post(
        reverse("associations:member_personal_data_erase", args=[member.pk]), {"confirm": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert Member.objects.get(pk=member.pk).citizen_id == CITIZEN_ID
    assert not AuditEntry.objects.filter(action=AuditAction.ERASE).exists()


def test_erasure_needs_the_request_confirmed(client_for, cast, member):
    client_for(cast.commune_clerk).post(reverse("associations:member_personal_data_erase", args=[member.pk]), {})
    assert Member.objects.get(pk=member.pk).citizen_id == CITIZEN_ID


def test_a_member_is_erased_once(cast, member):
    from django.core.exceptions import ValidationError

    from associations.personal_data import member_erase

    member_erase(actor=cast.commune_clerk, member=member)
    with pytest.raises(ValidationError):
        member_erase(actor=cast.commune_clerk, member=MemberFactory.build(pk=member.pk))
