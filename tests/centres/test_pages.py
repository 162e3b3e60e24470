"""The centres' pages as a clerk, a leader and an outsider use them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from associations.models import AuditAction, AuditEntry
from centres.models import Activity, AssociationPost, BoardRole, Centre, CentreBoardSeat, CentreStaff
from tests.centres import factories
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = timezone.localdate()
THIS_YEAR = TODAY.year


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the pages in English: the source strings
    with translation.override("en"):
        yield


@pytest.fixture
def centres(tree):
    phuc_xa = factories.centre(tree.phuc_xa, name="TTHTCĐ Phúc Xá", director_name="Lê Văn Cường")
    factories.seat(phuc_xa, "Chủ tịch Hội", BoardRole.DEPUTY, AssociationPost.CHAIR)
    factories.seat(phuc_xa, "Ủy viên", BoardRole.MEMBER)
    factories.seat(phuc_xa, "Đã thôi", BoardRole.MEMBER, to_on=D(2016, 1, 1))
    factories.activity(phuc_xa, D(THIS_YEAR, 1, 2), title="Lớp năm nay")
    factories.activity(phuc_xa, D(THIS_YEAR - 1, 5, 5), title="Lớp năm trước")
    truc_bach = factories.centre(tree.truc_bach, name="TTHTCĐ Trúc Bạch")
    hang_bac = factories.centre(tree.hang_bac, name="TTHTCĐ Hàng Bạc")
    return {"phuc_xa": phuc_xa, "truc_bach": truc_bach, "hang_bac": hang_bac}


def rows_of(response) -> dict[str, object]:
    return {centre.name: centre for centre in response.context["page"]}


def test_the_list_shows_the_users_subtree_with_director_board_chair_and_this_years_activities(
    client_for, cast, centres
):
    response = client_for(cast.district_leader).get(reverse("centres:centre_list"))
    assert response.status_code == 200
    rows = rows_of(response)
    assert set(rows) == {"TTHTCĐ Phúc Xá", "TTHTCĐ Trúc Bạch"}
    phuc_xa = rows["TTHTCĐ Phúc Xá"]
    assert (phuc_xa.board_size, phuc_xa.chair_on_board, phuc_xa.activities_in_year) == (2, True, 1)
    truc_bach = rows["TTHTCĐ Trúc Bạch"]
    assert (truc_bach.board_size, truc_bach.chair_on_board, truc_bach.activities_in_year) == (0, False, 0)
    assert "Lê Văn Cường" in response.content.decode()
    last_year = rows_of(client_for(cast.district_leader).get(reverse("centres:centre_list"), {"year": THIS_YEAR - 1}))
    assert last_year["TTHTCĐ Phúc Xá"].activities_in_year == 1


def test_the_list_costs_the_same_queries_for_a_few_or_many_centres(client_for, cast, tree, centres,
                                                                   django_assert_max_num_queries):  # fmt: skip
    client = client_for(cast.city_leader)
    client.get(reverse("centres:centre_list"))  # warm the session and the profile's caches
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("centres:centre_list"))
    for centre in centres.values():
        for number in range(5):
            factories.seat(centre, f"Người {number}", BoardRole.MEMBER, AssociationPost.VICE_CHAIR)
            factories.activity(centre, D(THIS_YEAR, 1, 1 + number), title=f"Lớp {number}")
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("centres:centre_list"))


def test_the_detail_shows_the_board_the_staff_and_the_activities_of_the_year_chosen(client_for, cast, centres):
    centre = centres["phuc_xa"]
    factories.staff(centre, THIS_YEAR, "Cán bộ năm nay", takes_part=True, it_trained=True)
    factories.staff(centre, THIS_YEAR - 1, "Cán bộ năm trước")
    client = client_for(cast.commune_clerk)
    page = client.get(reverse("centres:centre_detail", args=[centre.pk])).content.decode()
    assert "Chủ tịch Hội" in page and "Lớp năm nay" in page and "Cán bộ năm nay" in page
    assert "Lớp năm trước" not in page and "Cán bộ năm trước" not in page
    page = client.get(reverse("centres:centre_detail", args=[centre.pk]), {"year": THIS_YEAR - 1}).content.decode()
    assert "Lớp năm trước" in page and "Cán bộ năm trước" in page and "Lớp năm nay" not in page


def test_outsiders_get_404_and_leaders_403_on_the_forms(client_for, cast, centres):
    centre = centres["phuc_xa"]
    assert client_for(cast.sibling_clerk).get(reverse("centres:centre_detail", args=[centre.pk])).status_code == 404
    leader = client_for(cast.district_leader)
    assert leader.get(reverse("centres:centre_detail", args=[centre.pk])).status_code == 200
    for name in ("centres:seat_create", "centres:staff_create", "centres:activity_create"):
        assert leader.get(reverse(name, args=[centre.pk])).status_code == 403
    assert leader.get(reverse("centres:centre_create")).status_code == 403


def test_a_clerk_adds_a_centre_and_sees_the_refusal_of_a_second_one_in_words(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    form = client.get(reverse("centres:centre_create")).context["form"]
    assert [branch.name for branch in form.fields["branch"].queryset] == ["Phường Phúc Xá"]
    data = {"branch": tree.phuc_xa.pk, "name": "TTHTCĐ Phúc Xá", "founded_on": "01/09/2012",
            "decision_number": "15/QĐ-UBND", "decision_date": "20/08/2012"}  # fmt: skip
    response = client.post(reverse("centres:centre_create"), data)
    centre = Centre.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("centres:centre_detail", args=[centre.pk])
    assert (centre.founded_on, centre.decision_date) == (D(2012, 9, 1), D(2012, 8, 20))
    response = client.post(reverse("centres:centre_create"), {**data, "name": "Thứ hai"})
    assert response.status_code == 200
    assert "already has an active centre over these dates" in response.content.decode()
    assert Centre.objects.count() == 1


def test_a_clerk_edits_the_centre(client_for, cast, centres):
    centre = centres["phuc_xa"]
    response = client_for(cast.commune_clerk).post(
        reverse("centres:centre_update", args=[centre.pk]),
        {"name": "TTHTCĐ phường Phúc Xá", "director_name": "Trần Văn Đức", "founded_on": "01/01/2015"},
    )
    assert response.status_code == 302
    centre.refresh_from_db()
    assert (centre.name, centre.director_name, centre.branch.name) == (
        "TTHTCĐ phường Phúc Xá",
        "Trần Văn Đức",
        "Phường Phúc Xá",
    )


def test_a_clerk_puts_the_chair_on_the_board_and_edits_the_seat(client_for, cast, tree, centres):
    centre = centres["truc_bach"]
    member = MemberFactory(branch=tree.truc_bach, full_name="Đinh Thị Hoa")
    client = client_for(cast.manager)
    response = client.post(
        reverse("centres:seat_create", args=[centre.pk]),
        {"person_name": "Đinh Thị Hoa", "board_role": "deputy", "association_post": "chair",
         "member": member.pk, "from_on": "01/02/2024"},
    )  # fmt: skip
    assert response.status_code == 302
    seat = CentreBoardSeat.objects.get(centre=centre)
    assert (seat.member, seat.association_post, seat.from_on) == (member, "chair", D(2024, 2, 1))
    rows = rows_of(client.get(reverse("centres:centre_list")))
    assert rows["TTHTCĐ Trúc Bạch"].chair_on_board is True
    response = client.post(
        reverse("centres:seat_update", args=[seat.pk]),
        {"person_name": "Đinh Thị Hoa", "board_role": "deputy", "association_post": "chair",
         "from_on": "01/02/2024", "to_on": "01/01/2024"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "A person leaves the board after the day they joined it." in response.content.decode()


def test_a_clerk_records_the_staff_of_the_year(client_for, cast, centres):
    centre = centres["phuc_xa"]
    client = client_for(cast.commune_clerk)
    response = client.post(
        reverse("centres:staff_create", args=[centre.pk]),
        {"year": THIS_YEAR, "person_name": "Bùi Văn Khánh", "association_role": "officer",
         "takes_part": "on", "it_trained": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    staff = CentreStaff.objects.get()
    assert (staff.takes_part, staff.it_trained, staff.year) == (True, True, THIS_YEAR)
    response = client.post(
        reverse("centres:staff_update", args=[staff.pk]),
        {"year": THIS_YEAR, "person_name": "Bùi Văn Khánh", "association_role": "officer"},
    )
    staff.refresh_from_db()
    assert (staff.takes_part, staff.it_trained) == (False, False)


def test_a_clerk_records_an_activity_and_the_bad_input_is_said_in_words(client_for, cast, centres):
    centre = centres["phuc_xa"]
    client = client_for(cast.commune_clerk)
    url = reverse("centres:activity_create", args=[centre.pk])
    good = {"kind": "it", "title": "Lớp kỹ năng số", "starts_on": f"02/01/{THIS_YEAR}",
            "ends_on": f"20/01/{THIS_YEAR}", "sessions": "6", "participant_turns": "180", "funding": "2.500.000",
            "funding_source": "contributions"}  # fmt: skip
    bad = client.post(url, {**good, "funding": "2,5", "ends_on": "31/02/2024"})
    assert bad.status_code == 200
    errors = bad.context["form"].errors
    assert "Expected a whole number such as 1500000, 1.500.000 or 1,500,000 (no decimals)." in errors["funding"]
    assert errors["ends_on"] == ["Enter a valid date."]
    no_source = client.post(url, {**good, "funding_source": ""})
    assert no_source.context["form"].errors["funding_source"] == ["Say where the funding came from."]
    assert not Activity.objects.filter(title="Lớp kỹ năng số").exists()
    assert client.post(url, good).status_code == 302
    activity = Activity.objects.get(title="Lớp kỹ năng số")
    assert (activity.funding, activity.instructors, activity.created_by) == (2_500_000, 0, cast.commune_clerk)


def test_a_clerk_voids_an_activity_with_a_reason_and_the_row_stays(client_for, cast, centres):
    centre = centres["phuc_xa"]
    activity = Activity.objects.get(title="Lớp năm nay")
    client = client_for(cast.commune_clerk)
    url = reverse("centres:activity_void", args=[activity.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "Give the reason for voiding." in response.content.decode()
    activity.refresh_from_db()
    assert not activity.is_voided
    response = client.post(url, {"reason": "Nhập nhầm trung tâm"}, follow=True)
    assert "Voided on" in response.content.decode() and "Nhập nhầm trung tâm" in response.content.decode()
    activity.refresh_from_db()
    assert activity.is_voided
    assert AuditEntry.objects.for_object(activity).filter(action=AuditAction.VOID).exists()
    rows = rows_of(client.get(reverse("centres:centre_list")))
    assert rows["TTHTCĐ Phúc Xá"].activities_in_year == 0
    assert "Lớp năm nay" in client.get(reverse("centres:centre_detail", args=[centre.pk])).content.decode()


def test_the_navigation_links_to_the_centres(client_for, cast):
    page = client_for(cast.commune_clerk).get(reverse("home"), follow=True).content.decode()
    assert reverse("centres:centre_list") in page


def test_a_seat_whose_member_has_left_the_association_can_still_be_edited(client_for, cast, tree, centres):
    member = MemberFactory(branch=tree.phuc_xa, full_name="Hồ Văn Lâm", left_on=D(2024, 1, 1))
    seat = factories.seat(centres["phuc_xa"], "Hồ Văn Lâm", member=member)
    response = client_for(cast.commune_clerk).post(
        reverse("centres:seat_update", args=[seat.pk]),
        {"person_name": "Hồ Văn Lâm", "board_role": "member", "member": member.pk, "to_on": "01/01/2024"},
    )
    assert response.status_code == 302
    seat.refresh_from_db()
    assert (seat.member, seat.to_on) == (member, D(2024, 1, 1))


def test_the_list_shows_the_two_targets_of_the_users_subtree_with_their_counts(client_for, cast, tree, centres):
    factories.staff(centres["phuc_xa"], THIS_YEAR, "A", takes_part=True, it_trained=True)
    factories.staff(centres["truc_bach"], THIS_YEAR, "B", takes_part=True, it_trained=False)
    factories.staff(centres["hang_bac"], THIS_YEAR, "C", takes_part=True, it_trained=True)
    client = client_for(cast.district_leader)
    targets = client.get(reverse("centres:centre_list")).context["targets"]
    # Ba Đình: Phúc Xá's chair is on its board, Trúc Bạch's is not; one of two staff trained.
    assert {key: targets[key] for key in ("chairs", "communes", "chairs_percent")} == {
        "chairs": 1,
        "communes": 2,
        "chairs_percent": 50,
    }
    assert (targets["trained"], targets["staff"], targets["trained_percent"]) == (1, 2, 50)
    within = client.get(reverse("centres:centre_list"), {"branch": tree.truc_bach.pk})
    assert (within.context["targets"]["chairs"], within.context["targets"]["communes"]) == (0, 1)
    assert set(rows_of(within)) == {"TTHTCĐ Trúc Bạch"}
    # A branch outside the subtree is ignored, not shown.
    outside = client.get(reverse("centres:centre_list"), {"branch": tree.hang_bac.pk})
    assert outside.context["targets"]["communes"] == 2 and "TTHTCĐ Hàng Bạc" not in outside.content.decode()


def test_the_detail_costs_the_same_queries_for_a_small_or_a_busy_centre(client_for, cast, tree, centres,
                                                                       django_assert_max_num_queries):  # fmt: skip
    centre = centres["phuc_xa"]
    client = client_for(cast.commune_clerk)
    url = reverse("centres:centre_detail", args=[centre.pk])
    client.get(url)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for number in range(6):
        member = MemberFactory(branch=tree.phuc_xa)
        factories.seat(centre, f"Người {number}", member=member)
        factories.staff(centre, THIS_YEAR, f"Cán bộ {number}", member=member)
        voided = factories.activity(centre, D(THIS_YEAR, 1, 3 + number), title=f"Lớp {number}")
        Activity.objects.filter(pk=voided.pk).update(
            voided_at=timezone.now(), voided_by=cast.commune_clerk, void_reason="x"
        )
    with django_assert_max_num_queries(len(small)):
        client.get(url)
