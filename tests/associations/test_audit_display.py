"""History and the audit log in plain words (issue 15 item 4): dates dd/mm/yyyy, Có/Không,
money grouped with '.', years as written, labels in the reader's language, "—" for nothing,
related records by name with a link, resolved in one query per model."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from associations.models import AuditAction, AuditEntry, Member
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _entry(obj, changes, branch, action=AuditAction.UPDATE):
    return AuditEntry.objects.create(
        branch=branch,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj),
        action=action,
        changes=changes,
    )


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def vietnamese():
    with translation.override("vi"):
        yield


def test_a_member_history_reads_dates_none_and_labels_in_vietnamese(client_for, cast, tree, vietnamese):
    member = MemberFactory(branch=tree.phuc_xa)
    _entry(member, {"joined on": ["2019-01-01", "2020-03-05"], "phone": [None, "0911"]}, tree.phuc_xa)
    response = client_for(cast.commune_clerk).get(
        reverse("associations:member_detail", args=[member.pk]), HTTP_ACCEPT_LANGUAGE="vi"
    )
    history = _text(response).split('data-testid="history"')[1]
    assert "ngày vào hội:</span> 01/01/2019 → 05/03/2020" in history
    assert "— → 0911" in history
    assert "None" not in history and "2019-01-01" not in history


def test_years_are_not_grouped_and_booleans_read_co_khong(client_for, cast, tree, funds, vietnamese):
    _entry(funds.phuc_xa, {"in use": [True, False], "year": 2020}, tree.phuc_xa)
    response = client_for(cast.manager).get(reverse("funds:fund_detail", args=[funds.phuc_xa.pk]))
    history = _text(response).split('data-testid="history"')[1]
    assert "Có → Không" in history
    assert "2020" in history and "2.020" not in history
    assert "True" not in history and "False" not in history


def test_money_in_a_donation_entry_is_grouped_with_dots(client_for, cast, tree, funds, vietnamese):
    from tests.factories import donate

    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_500_000)
    response = client_for(cast.manager).get(reverse("funds:donation_detail", args=[donation.pk]))
    history = _text(response).split('data-testid="history"')[1]
    assert "1.500.000 ₫" in history


def test_an_organisation_given_by_id_is_shown_by_name_with_a_link(client_for, cast, tree, vietnamese):
    organization = OrganizationFactory(branch=tree.phuc_xa, name="Trường Tiểu học Phúc Xá")
    member = MemberFactory(branch=tree.phuc_xa)
    _entry(member, {"workplace": organization.pk}, tree.phuc_xa, action=AuditAction.IMPORT)
    response = client_for(cast.manager).get(reverse("associations:audit_log"))
    url = reverse("associations:organization_detail", args=[organization.pk])
    assert f'<a href="{url}">Trường Tiểu học Phúc Xá</a>' in _text(response)
    member_url = reverse("associations:member_detail", args=[member.pk])
    assert f'<a href="{member_url}">{member.full_name}</a>' in _text(response)


def test_an_import_entry_names_its_counts_in_the_readers_language(client_for, cast, tree, vietnamese):
    member = MemberFactory(branch=tree.phuc_xa)
    _entry(member, {"file": "hoi-vien.xlsx", "rows": 12, "created": 10, "unchanged": 2}, tree.phuc_xa)
    text = _text(client_for(cast.manager).get(reverse("associations:audit_log")))
    assert "tệp:</span> hoi-vien.xlsx" in text
    assert "số dòng:</span> 12" in text
    assert "tạo mới:</span> 10" in text
    assert "rows:" not in text and "created:" not in text


def test_labels_written_in_one_language_are_read_in_the_other(client_for, cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    _entry(member, {"họ và tên": ["A", "B"]}, tree.phuc_xa)
    client = client_for(cast.manager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    text = _text(client.get(reverse("associations:audit_log")))
    assert "full name:</span> A → B" in text


def test_the_log_resolves_related_ids_in_one_query_per_model_whatever_the_entries(
    client_for, cast, tree, django_assert_num_queries, vietnamese
):
    client = client_for(cast.manager)
    url = reverse("associations:audit_log")

    def add(n):
        for _ in range(n):
            organization = OrganizationFactory(branch=tree.phuc_xa)
            member = MemberFactory(branch=tree.phuc_xa, organization=organization)
            _entry(member, {"workplace": [None, organization.pk], "joined on": "2018-03-01"}, tree.phuc_xa)

    add(2)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add(20)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert _text(response).count("/organizations/") >= 22


def test_a_leader_still_sees_birth_dates_masked_in_a_history(client_for, cast, tree, vietnamese):
    member = MemberFactory(branch=tree.phuc_xa)
    _entry(member, {"date of birth": [None, "1985-03-25"]}, tree.phuc_xa)
    response = client_for(cast.district_leader).get(reverse("associations:member_detail", args=[member.pk]))
    history = _text(response).split('data-testid="history"')[1]
    assert "25/03/1985" not in history and "1985" in history


def test_member_and_fund_models_are_the_ones_named(tree):
    # Guards the fixtures above: the labels they write are the models' own.
    with translation.override("en"):
        assert str(Member._meta.get_field("joined_on").verbose_name) == "joined on"
        assert str(Member._meta.get_field("organization").verbose_name) == "workplace"


def test_a_percentage_reads_with_a_decimal_comma(client_for, cast, tree, vietnamese):
    import datetime

    from plans.models import Plan, Target

    plan = Plan.objects.create(
        code="1/KH",
        title="Kế hoạch",
        issuing_branch=tree.phuc_xa,
        issued_on=datetime.date(2021, 1, 1),
        starts_on=datetime.date(2021, 1, 1),
        ends_on=datetime.date(2021, 12, 31),
    )
    target = Target.objects.create(
        plan=plan,
        indicator="board_coverage",
        threshold_percent=70,
        deadline=datetime.date(2021, 12, 31),
        root_branch=tree.phuc_xa,
    )
    _entry(target, {"target (%)": ["70.00", "72.50"]}, tree.phuc_xa)
    text = _text(client_for(cast.manager).get(reverse("associations:audit_log")))
    assert "70 → 72,5" in text
