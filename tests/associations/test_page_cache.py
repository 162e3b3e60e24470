"""The page cache of the list pages (khuyenhoc/page_cache.py, associations/page_cache.py): a page
is served from the cache only until the next write to what it shows, never to another account,
never in another language, and the pages still answer when the cache is down."""

import datetime
import re

import pytest
from django.db import connection, transaction
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from associations import services as registry_services
from associations.models import Member, MemberCategory, StaffRole
from funds import services as fund_services
from imports import services as import_services
from khuyenhoc import page_cache
from plans.models import Target
from tests.associations.test_imports import GOOD_MEMBERS, MEMBER_HEADERS, xlsx
from tests.factories import MemberFactory, StaffProfileFactory, UserFactory, donate, make_round, pay

MEMBERS = reverse("associations:member_list")
DONATIONS = reverse("funds:donation_list")
AWARDS = reverse("scholarships:award_list")
REPORT = reverse("funds:report")


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response, response.content.decode()


def _served_twice(client, url) -> str:
    """The page requested twice: the second answer comes from the cache."""
    _get(client, url)
    response, page = _get(client, url)
    assert response.get("X-Page-Cache") == "hit", url
    return page


def test_the_second_request_of_a_list_is_served_from_the_cache_and_a_new_member_shows_on_the_next(
    cast, tree, client_for
):
    MemberFactory(branch=tree.phuc_xa, full_name="Nguyễn Thị Cũ")
    client = client_for(cast.commune_clerk)
    assert "Nguyễn Thị Cũ" in _served_twice(client, MEMBERS)

    registry_services.member_create(
        actor=cast.commune_clerk,
        data={
            "branch": tree.phuc_xa,
            "full_name": "Trần Văn Mới",
            "category": MemberCategory.CIVIL_SERVANT,
            "joined_on": datetime.date(2024, 5, 1),
        },
    )
    response, page = _get(client, MEMBERS)
    assert response.get("X-Page-Cache") is None
    assert "Trần Văn Mới" in page


def test_an_edited_member_and_an_ended_membership_show_on_the_next_request(cast, tree, client_for):
    member = MemberFactory(branch=tree.phuc_xa, full_name="Lê Thị Đào")
    client = client_for(cast.commune_clerk)
    _served_twice(client, MEMBERS)

    registry_services.member_update(actor=cast.commune_clerk, member=member, data={"full_name": "Lê Thị Hồng Đào"})
    assert "Lê Thị Hồng Đào" in _get(client, MEMBERS)[1]

    client.cookies["django_language"] = "en"
    before = _served_twice(client, MEMBERS)
    assert "Left" not in re.sub(r"<option[^>]*>[^<]*</option>", "", before.split("<tbody", 1)[1])
    registry_services.members_end(
        actor=cast.commune_clerk, member_ids=[member.pk], left_on=datetime.date(2025, 1, 2), reason="Chuyển công tác"
    )
    assert "02/01/2025" in _get(client, MEMBERS)[1]


def test_a_member_import_shows_on_the_next_request(cast, tree, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = client_for(cast.commune_clerk)
    assert "Nguyễn Văn An" not in _served_twice(client, MEMBERS)

    job = import_services.job_create(
        actor=cast.commune_clerk, kind="members", branch=tree.phuc_xa, upload=xlsx(MEMBER_HEADERS, GOOD_MEMBERS)
    )
    import_services.job_check(job.pk)
    assert import_services.job_start_apply(job)
    import_services.job_apply(job.pk)
    job.refresh_from_db()
    assert Member.objects.filter(full_name="Nguyễn Văn An").exists(), (job.status, job.errors)

    page = _get(client, MEMBERS)[1]
    assert "Nguyễn Văn An" in page and "Trần Thị Bình" in page


def test_a_donation_its_void_and_a_renamed_fund_show_on_the_next_request(cast, funds, client_for):
    client = client_for(cast.commune_clerk)
    ledger = reverse("funds:fund_detail", args=[funds.phuc_xa.pk])
    donation = donate(cast.commune_clerk, funds.phuc_xa, 1_250_000, donor_name="Công ty Ánh Dương")
    assert "Công ty Ánh Dương" in _served_twice(client, DONATIONS)
    assert "1.250.000" in _served_twice(client, ledger)
    _served_twice(client, REPORT)

    fund_services.donation_void(actor=cast.commune_clerk, donation=donation, reason="Ghi nhầm quỹ")
    assert _get(client, DONATIONS)[0].get("X-Page-Cache") is None
    assert "-1.250.000" in _get(client, ledger)[1]
    assert _get(client, REPORT)[0].get("X-Page-Cache") is None

    fund_services.fund_update(actor=cast.commune_clerk, fund=funds.phuc_xa, data={"name": "Quỹ Khuyến học Phúc Xá mới"})
    assert "Quỹ Khuyến học Phúc Xá mới" in _get(client, ledger)[1]


def test_a_paid_award_shows_on_the_award_list_at_the_next_request(cast, tree, funds, client_for):
    donate(cast.commune_clerk, funds.phuc_xa, 5_000_000)
    scholarship_round = make_round(cast.commune_clerk, tree.phuc_xa, funds.phuc_xa)
    client = client_for(cast.commune_clerk)
    assert "Phạm Gia Huy" not in _served_twice(client, AWARDS)

    pay(cast.commune_clerk, scholarship_round, 500_000, recipient_name="Phạm Gia Huy")
    assert "Phạm Gia Huy" in _get(client, AWARDS)[1]


def test_two_clerks_of_different_districts_never_get_each_others_cached_list(cast, tree):
    MemberFactory(branch=tree.phuc_xa, full_name="Hội viên Phúc Xá")
    MemberFactory(branch=tree.hang_bac, full_name="Hội viên Hàng Bạc")
    ba_dinh, hoan_kiem = Client(), Client()
    ba_dinh.force_login(cast.commune_clerk)
    hoan_kiem.force_login(cast.sibling_clerk)

    mine = _served_twice(ba_dinh, MEMBERS)
    theirs = _served_twice(hoan_kiem, MEMBERS)
    assert "Hội viên Phúc Xá" in mine and "Hội viên Hàng Bạc" not in mine
    assert "Hội viên Hàng Bạc" in theirs and "Hội viên Phúc Xá" not in theirs
    assert cast.sibling_clerk.last_name not in mine  # the header's name is the reader's own


def test_two_accounts_of_the_same_branch_and_role_each_get_their_own_page(cast, tree):
    colleague = UserFactory(username="clerk2_phucxa", first_name="Mai", last_name="Hoàng")
    StaffProfileFactory(user=colleague, branch=tree.phuc_xa, role=StaffRole.CLERK)
    first, second = Client(), Client()
    first.force_login(cast.commune_clerk)
    second.force_login(colleague)
    _served_twice(first, MEMBERS)
    response, page = _get(second, MEMBERS)
    assert response.get("X-Page-Cache") is None
    assert "Hoàng Mai" in page or "Mai Hoàng" in page


def test_vietnamese_and_english_pages_are_cached_apart(cast, tree, client_for):
    client = client_for(cast.commune_clerk)
    vietnamese = _served_twice(client, MEMBERS)
    client.cookies["django_language"] = "en"
    response, english = _get(client, MEMBERS)
    assert response.get("X-Page-Cache") is None
    assert "Members" in english and 'lang="en"' in english
    assert 'lang="vi"' in vietnamese and 'lang="vi"' not in english
    client.cookies["django_language"] = "vi"
    assert 'lang="vi"' in _served_twice(client, MEMBERS)


def test_a_new_role_or_branch_is_a_new_page(cast, tree, client_for):
    MemberFactory(branch=tree.hang_bac, full_name="Hội viên Hàng Bạc")
    client = client_for(cast.commune_clerk)
    assert "Hội viên Hàng Bạc" not in _served_twice(client, MEMBERS)
    profile = cast.commune_clerk.staff_profile
    profile.branch = tree.hoan_kiem
    profile.save()
    assert "Hội viên Hàng Bạc" in _get(client, MEMBERS)[1]


def test_a_cached_page_carries_a_csrf_token_of_this_session_that_a_form_can_post(cast, tree):
    member = MemberFactory(branch=tree.phuc_xa)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.commune_clerk)
    page = _served_twice(client, MEMBERS)
    assert "csrf-token" not in page
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    assert tokens
    secret = client.cookies["csrftoken"].value
    assert all(_unmask_cipher_token(token) == secret for token in tokens)
    response = client.post(
        reverse("associations:members_end"),
        {"csrfmiddlewaretoken": tokens.pop(), "ids": [member.pk], "left_on": "02/01/2025", "reason": "Chuyển đi"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.left_on == datetime.date(2025, 1, 2)


def test_a_page_with_a_message_waiting_is_rendered_afresh_and_shows_it_once(cast, tree, client_for):
    client = client_for(cast.commune_clerk)
    client.cookies["django_language"] = "en"
    _served_twice(client, MEMBERS)
    response = client.post(reverse("associations:members_end"), {"left_on": "02/01/2025", "reason": "Chuyển đi"})
    assert response.status_code == 302  # nothing ticked: an error message, nothing written
    response, page = _get(client, MEMBERS)
    assert response.get("X-Page-Cache") is None
    assert '<div class="messages">' in page
    response, page = _get(client, MEMBERS)
    assert response.get("X-Page-Cache") == "hit"
    assert '<div class="messages">' not in page


def test_the_lists_answer_when_the_cache_is_down(cast, funds, client_for, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    for method in ("get", "get_many", "set", "set_many", "add"):
        monkeypatch.setattr(page_cache.cache, method, down)
    donate(cast.commune_clerk, funds.phuc_xa, 300_000, donor_name="Bà Nguyễn Thị Thu")
    client = client_for(cast.commune_clerk)
    for url in (MEMBERS, DONATIONS, AWARDS, REPORT, reverse("funds:fund_detail", args=[funds.phuc_xa.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.get("X-Page-Cache") is None
    assert "Bà Nguyễn Thị Thu" in client.get(DONATIONS).content.decode()


def test_the_menus_follow_each_users_permissions_and_language(cast, client_for):
    clerk_page = _get(client_for(cast.commune_clerk), DONATIONS)[1]
    manager = client_for(cast.manager)
    manager_page = _get(manager, DONATIONS)[1]
    accounts = reverse("associations:staff_list")
    assert f'href="{accounts}"' not in clerk_page
    assert f'href="{accounts}"' in manager_page
    manager.cookies["django_language"] = "en"
    english = _get(manager, MEMBERS)[1]
    assert ">Accounts</a>" in english
    assert re.search(r'nav-link active" href="' + re.escape(MEMBERS), english)


@pytest.mark.parametrize("url", [MEMBERS, DONATIONS])
def test_an_export_request_is_never_answered_from_the_cache(cast, client_for, funds, url):
    client = client_for(cast.commune_clerk)
    _served_twice(client, url)
    response = client.get(url + "?format=xlsx")
    assert response.get("X-Page-Cache") is None


def test_a_page_from_the_cache_takes_three_queries_whatever_the_list(
    cast, tree, funds, client_for, django_assert_num_queries
):
    """Session, user and staff profile: the trivial page's two plus the reader's scope."""
    client = client_for(cast.district_leader)
    pages = [MEMBERS, DONATIONS, AWARDS, REPORT, reverse("funds:fund_detail", args=[funds.ba_dinh.pk])]
    for url in pages:
        _get(client, url)
    for index in range(3):
        MemberFactory(branch=tree.phuc_xa)
        donate(cast.commune_clerk, funds.phuc_xa, 10_000 + index)
    for url in pages:
        _get(client, url)
        with django_assert_num_queries(3):
            assert client.get(url).get("X-Page-Cache") == "hit"


def test_writes_that_bypass_the_services_still_show_on_the_next_request(cast, tree, funds, client_for):
    """A bulk_create, a queryset update() and raw SQL send no signal: the stamps still move."""
    client = client_for(cast.commune_clerk)
    _served_twice(client, MEMBERS)
    Member.objects.bulk_create(
        [
            Member(
                full_name="Đặng Văn Hàng Loạt",
                branch=tree.phuc_xa,
                category="civil_servant",
                joined_on=datetime.date(2020, 1, 1),
            )
        ]
    )
    assert "Đặng Văn Hàng Loạt" in _get(client, MEMBERS)[1]

    _served_twice(client, MEMBERS)
    Member.objects.filter(full_name="Đặng Văn Hàng Loạt").update(full_name="Đặng Văn Cập Nhật")
    assert "Đặng Văn Cập Nhật" in _get(client, MEMBERS)[1]

    ledger = reverse("funds:fund_detail", args=[funds.phuc_xa.pk])
    _served_twice(client, ledger)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE funds_fund SET name = %s WHERE id = %s", ["Quỹ đổi tên bằng SQL", funds.phuc_xa.pk])
    assert "Quỹ đổi tên bằng SQL" in _get(client, ledger)[1]


def test_a_write_rolled_back_leaves_the_next_write_visible(cast, tree, client_for):
    client = client_for(cast.commune_clerk)
    _served_twice(client, MEMBERS)
    with pytest.raises(RuntimeError), transaction.atomic():
        MemberFactory(branch=tree.phuc_xa, full_name="Không Bao Giờ Lưu")
        raise RuntimeError
    _served_twice(client, MEMBERS)
    with transaction.atomic():
        MemberFactory(branch=tree.phuc_xa, full_name="Lưu Sau Khi Hủy")
    assert "Lưu Sau Khi Hủy" in _get(client, MEMBERS)[1]


def test_dashboards_of_two_districts_and_two_languages_are_never_shared(cast, tree, plan_data):
    ba_dinh, hoan_kiem = Client(), Client()
    ba_dinh.force_login(cast.district_leader)
    hoan_kiem.force_login(cast.sibling_clerk)
    url = reverse("plans:dashboard")
    mine = _served_twice(ba_dinh, url)
    response, theirs = _get(hoan_kiem, url)
    assert response.get("X-Page-Cache") is None
    assert "<title>Quận Ba Đình" in mine or "Quận Ba Đình" in mine.split("</h1>")[0]
    assert "Quận Hoàn Kiếm" in theirs.split("</h1>")[0] and "Quận Ba Đình" not in theirs.split("</h1>")[0]
    ba_dinh.cookies["django_language"] = "en"
    response, english = _get(ba_dinh, url)
    assert response.get("X-Page-Cache") is None and 'lang="en"' in english


def test_a_target_changed_by_a_queryset_update_shows_on_the_next_dashboard(cast, plan_data, client_for):
    client = client_for(cast.city_leader)
    url = reverse("plans:dashboard")
    _served_twice(client, url)
    assert "31/12/2031" not in _served_twice(client, url)
    Target.objects.update(deadline=datetime.date(2031, 12, 31))
    response, page = _get(client, url)
    assert response.get("X-Page-Cache") is None
    assert "31/12/2031" in page
