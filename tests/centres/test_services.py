"""The centres' writes: one active centre per commune, creation for every commune, people,
activities voided and never deleted, and the messages for bad input."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from associations.models import AuditAction, AuditEntry, BranchLevel
from centres import services
from centres.models import Activity, ActivityKind, AssociationPost, BoardRole, Centre, FundingSource
from khuyenhoc.signals import centres_changed
from tests.centres import factories
from tests.factories import MemberFactory, make_branch

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def announced():
    calls = []

    def receiver(sender, branch_id, **kwargs):
        calls.append((sender, branch_id))

    centres_changed.connect(receiver, dispatch_uid="test-centres")
    yield calls
    centres_changed.disconnect(dispatch_uid="test-centres")


def messages_of(error: ValidationError) -> list[str]:
    return error.messages


# --- One active centre per commune ---------------------------------------------------------------


def test_a_clerk_creates_the_communes_centre_with_an_audit_row_and_a_signal(cast, tree, announced):
    centre = services.centre_create(
        actor=cast.commune_clerk,
        branch=tree.phuc_xa,
        data={"name": "  TTHTCĐ  Phúc Xá ", "founded_on": D(2010, 5, 1), "director_name": "Lê Văn Cường"},
    )
    assert centre.name == "TTHTCĐ Phúc Xá"
    entry = AuditEntry.objects.for_object(centre).get()
    assert (entry.action, entry.branch, entry.actor) == (AuditAction.CREATE, tree.phuc_xa, cast.commune_clerk)
    assert announced == [(Centre, tree.phuc_xa.pk)]


def test_a_second_centre_over_the_same_dates_is_refused_with_the_first_ones_name(cast, tree):
    factories.centre(tree.phuc_xa, name="TTHTCĐ cũ", founded_on=D(2010, 1, 1))
    with pytest.raises(ValidationError) as refused:
        services.centre_create(
            actor=cast.commune_clerk, branch=tree.phuc_xa, data={"name": "TTHTCĐ mới", "founded_on": D(2020, 1, 1)}
        )
    assert "Phường Phúc Xá already has an active centre over these dates: TTHTCĐ cũ (from 01/01/2010)" in str(
        refused.value
    )
    assert Centre.objects.filter(branch=tree.phuc_xa).count() == 1


def test_a_new_centre_may_start_the_day_the_old_one_was_dissolved_but_not_before(cast, tree):
    factories.centre(tree.phuc_xa, founded_on=D(2010, 1, 1), dissolved_on=D(2025, 7, 1))
    with pytest.raises(ValidationError):
        services.centre_create(
            actor=cast.commune_clerk, branch=tree.phuc_xa, data={"name": "Mới", "founded_on": D(2025, 6, 30)}
        )
    # Undated: it would be active on every day, the old centre's too.
    with pytest.raises(ValidationError):
        services.centre_create(actor=cast.commune_clerk, branch=tree.phuc_xa, data={"name": "Mới"})
    new = services.centre_create(
        actor=cast.commune_clerk, branch=tree.phuc_xa, data={"name": "Mới", "founded_on": D(2025, 7, 1)}
    )
    assert list(Centre.objects.filter(branch=tree.phuc_xa).active_on(D(2025, 7, 1))) == [new]
    assert Centre.objects.filter(branch=tree.phuc_xa).active_on(D(2025, 6, 30)).get() != new


def test_moving_an_old_centres_dates_over_the_new_one_is_refused(cast, tree):
    old = factories.centre(tree.phuc_xa, founded_on=D(2010, 1, 1), dissolved_on=D(2025, 7, 1))
    factories.centre(tree.phuc_xa, name="Mới", founded_on=D(2025, 7, 1))
    with pytest.raises(ValidationError):
        services.centre_update(actor=cast.commune_clerk, centre=old, data={"dissolved_on": None})
    old.refresh_from_db()
    assert old.dissolved_on == D(2025, 7, 1)


def test_the_database_refuses_two_open_centres_of_one_commune(tree):
    factories.centre(tree.phuc_xa)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.centre(tree.phuc_xa, name="Thứ hai", founded_on=D(2020, 1, 1))


def test_a_centre_belongs_to_a_commune_association_only(cast, tree):
    with pytest.raises(ValidationError) as refused:
        services.centre_create(actor=cast.manager, branch=tree.ba_dinh, data={"name": "TTHTCĐ quận"})
    assert refused.value.message_dict["branch"] == [
        "A community learning centre belongs to a commune or ward association."
    ]


def test_outsiders_and_leaders_may_not_create_or_change_a_centre(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    for user in (cast.sibling_clerk, cast.district_leader):
        with pytest.raises(PermissionDenied):
            services.centre_create(actor=user, branch=tree.truc_bach, data={"name": "X"})
        with pytest.raises(PermissionDenied):
            services.centre_update(actor=user, centre=centre, data={"name": "X"})


def test_bad_centre_dates_are_refused_with_clear_messages(cast, tree):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.centre_create(
            actor=cast.commune_clerk,
            branch=tree.phuc_xa,
            data={"name": " ", "founded_on": tomorrow, "dissolved_on": D(2000, 1, 1), "decision_date": tomorrow},
        )
    assert refused.value.message_dict == {
        "name": ["Give the centre's name."],
        "dissolved_on": ["The centre must be dissolved after the day it was founded."],
        "founded_on": ["The date of founding cannot be in the future."],
        "decision_date": ["The decision's date cannot be in the future."],
    }
    assert not Centre.objects.exists()


# --- One centre for every commune ----------------------------------------------------------------


def test_creating_centres_for_communes_gives_each_active_commune_one_and_is_idempotent(tree, announced):
    factories.centre(tree.truc_bach)  # already has one
    gone = make_branch("Phường Cũ", BranchLevel.COMMUNE, tree.hoan_kiem, dissolved_on=D(2020, 1, 1))
    later = make_branch("Phường Mới", BranchLevel.COMMUNE, tree.hoan_kiem, founded_on=D(2025, 7, 1))

    created = services.centres_create_for_communes(actor=None, as_of=D(2024, 1, 1))

    assert created == 2
    made = Centre.objects.exclude(branch=tree.truc_bach)
    assert {c.branch for c in made} == {tree.phuc_xa, tree.hang_bac}
    assert {c.name for c in made} == {"Trung tâm học tập cộng đồng Phường Phúc Xá",
                                      "Trung tâm học tập cộng đồng Phường Hàng Bạc"}  # fmt: skip
    assert all(c.founded_on == D(2024, 1, 1) for c in made)
    assert not Centre.objects.filter(branch__in=[gone, later]).exists()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id__in=[str(c.pk) for c in made]).count() == 2
    assert len(announced) == 1
    assert services.centres_create_for_communes(actor=None, as_of=D(2024, 1, 1)) == 0
    assert Centre.objects.count() == 3
    # On the new map's day the new commune gets one too, and nobody a second.
    assert services.centres_create_for_communes(actor=None, as_of=D(2025, 7, 1)) == 1
    assert Centre.objects.get(branch=later).founded_on == D(2025, 7, 1)


def test_creating_centres_for_communes_costs_the_same_queries_for_one_or_many_communes(tree, django_assert_num_queries):
    ContentType.objects.get_for_model(Centre)  # cached for the process: not part of the count
    # The communes, one INSERT, one INSERT of audit rows, the tree's root for the signal; a savepoint.
    with django_assert_num_queries(6):
        assert services.centres_create_for_communes(actor=None, as_of=D(2024, 1, 1)) == 3
    for number in range(20):
        make_branch(f"Phường Số {number}", BranchLevel.COMMUNE, tree.ba_dinh)
    with django_assert_num_queries(6):
        assert services.centres_create_for_communes(actor=None, as_of=D(2024, 1, 1)) == 20


def test_a_clerk_creates_centres_only_for_the_communes_of_their_subtree(cast, tree):
    assert services.centres_create_for_communes(actor=cast.commune_clerk, as_of=D(2024, 1, 1)) == 1
    assert [c.branch for c in Centre.objects.all()] == [tree.phuc_xa]
    with pytest.raises(PermissionDenied):
        services.centres_create_for_communes(actor=cast.district_leader, as_of=D(2024, 1, 1))


def test_the_command_creates_the_centres_and_says_how_many(tree, capsys):
    from django.core.management import call_command

    call_command("create_centres", "--as-of", "01/07/2025")
    call_command("create_centres", "--as-of", "2025-07-01")
    out = capsys.readouterr().out
    assert "3 community learning centre(s) created for 01/07/2025." in out
    assert "0 community learning centre(s) created for 01/07/2025." in out
    assert Centre.objects.count() == 3


# --- The board and the staff ---------------------------------------------------------------------


def test_a_board_seat_links_a_member_of_the_commune_only(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    inside = MemberFactory(branch=tree.phuc_xa, full_name="Phạm Thị Dung")
    beside = MemberFactory(branch=tree.truc_bach)
    data = {"person_name": "Phạm Thị Dung", "board_role": BoardRole.DEPUTY, "association_post": AssociationPost.CHAIR}
    seat = services.board_seat_create(actor=cast.commune_clerk, centre=centre, data={**data, "member": inside})
    assert seat.is_chair_or_vice_chair and seat.member == inside
    with pytest.raises(ValidationError) as refused:
        services.board_seat_create(actor=cast.manager, centre=centre, data={**data, "member": beside})
    assert refused.value.message_dict["member"] == ["Choose a member of this commune's association."]


def test_a_board_seat_ends_after_it_starts(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    with pytest.raises(ValidationError) as refused:
        services.board_seat_create(
            actor=cast.commune_clerk,
            centre=centre,
            data={"person_name": "", "board_role": BoardRole.MEMBER, "from_on": D(2020, 1, 1), "to_on": D(2019, 1, 1)},
        )
    assert refused.value.message_dict == {
        "person_name": ["Give the person's full name."],
        "to_on": ["A person leaves the board after the day they joined it."],
    }


def test_a_board_seat_change_is_audited_with_before_and_after(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    seat = factories.seat(centre, name="Đỗ Văn Em")
    services.board_seat_update(actor=cast.commune_clerk, seat=seat, data={"to_on": D(2024, 12, 31)})
    entry = AuditEntry.objects.for_object(seat).get()
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {"left the board on": [None, "2024-12-31"]}


def test_staff_of_a_future_year_or_a_member_listed_twice_are_refused(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    member = MemberFactory(branch=tree.phuc_xa)
    year = timezone.localdate().year
    data = {"year": year, "person_name": "Vũ Thị Giang", "association_role": "officer", "member": member}
    services.staff_create(actor=cast.commune_clerk, centre=centre, data=data)
    with pytest.raises(ValidationError) as twice:
        services.staff_create(actor=cast.commune_clerk, centre=centre, data=data)
    assert twice.value.message_dict["member"] == ["This member is already on the centre's staff list for that year."]
    with pytest.raises(ValidationError) as future:
        services.staff_create(actor=cast.commune_clerk, centre=centre, data={**data, "member": None, "year": year + 1})
    assert future.value.message_dict["year"] == ["The year cannot be in the future."]


# --- Activities ----------------------------------------------------------------------------------

GOOD = {
    "kind": ActivityKind.LAW,
    "title": "Chuyên đề Luật Giao thông",
    "starts_on": D(2024, 3, 4),
    "ends_on": D(2024, 3, 4),
    "sessions": 1,
    "participant_turns": 80,
    "instructors": 1,
    "funding": 1_500_000,
    "funding_source": FundingSource.STATE,
}


def test_an_activity_is_recorded_with_its_audit_row(cast, tree, announced):
    centre = factories.centre(tree.phuc_xa)
    activity = services.activity_create(actor=cast.commune_clerk, centre=centre, data=GOOD)
    assert (activity.funding, activity.created_by) == (1_500_000, cast.commune_clerk)
    entry = AuditEntry.objects.for_object(activity).get()
    assert (entry.action, entry.branch) == (AuditAction.CREATE, tree.phuc_xa)
    assert entry.changes["funding (đồng)"] == 1_500_000
    assert announced == [(Activity, tree.phuc_xa.pk)]


def test_every_problem_of_an_activity_is_named_at_once(cast, tree):
    centre = factories.centre(tree.phuc_xa, founded_on=D(2020, 1, 1))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.activity_create(
            actor=cast.commune_clerk,
            centre=centre,
            data={**GOOD, "title": "", "starts_on": tomorrow, "ends_on": D(2019, 1, 1), "sessions": 0,
                  "participant_turns": 0, "funding_source": ""},
        )  # fmt: skip
    assert refused.value.message_dict == {
        "title": ["Give the class or topic."],
        "starts_on": ["An activity is recorded once it has started: the start date cannot be in the future."],
        "ends_on": ["The activity cannot end before it starts."],
        "sessions": ["An activity has at least one session."],
        "participant_turns": ["An activity has at least one participant-turn."],
        "funding_source": ["Say where the funding came from."],
    }
    with pytest.raises(ValidationError) as closed:
        services.activity_create(actor=cast.commune_clerk, centre=centre, data={**GOOD, "starts_on": D(2019, 5, 2)})
    assert closed.value.message_dict == {"starts_on": [f"The centre {centre.name} was not active on 02/05/2019."]}
    assert not Activity.objects.exists()


def test_an_activity_without_funding_keeps_no_source(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    activity = services.activity_create(
        actor=cast.commune_clerk, centre=centre, data={**GOOD, "funding": 0, "funding_source": FundingSource.STATE}
    )
    assert (activity.funding, activity.funding_source) == (0, "")


def test_voiding_an_activity_keeps_the_row_with_its_reason_and_an_audit_row(cast, tree, announced):
    centre = factories.centre(tree.phuc_xa)
    activity = factories.activity(centre, D(2024, 3, 4), funding=2_000_000)
    services.activity_void(actor=cast.commune_clerk, activity=activity, reason="  Nhập trùng  ")
    activity.refresh_from_db()
    assert activity.is_voided and activity.void_reason == "Nhập trùng" and activity.voided_by == cast.commune_clerk
    assert activity.funding == 2_000_000  # nothing else changed
    assert Activity.objects.count() == 1 and not Activity.objects.valid().exists()
    entry = AuditEntry.objects.for_object(activity).get()
    assert (entry.action, entry.changes) == (AuditAction.VOID, {"reason for voiding": "Nhập trùng"})
    assert announced == [(Activity, tree.phuc_xa.pk)]
    with pytest.raises(ValidationError, match="already voided"):
        services.activity_void(actor=cast.commune_clerk, activity=activity, reason="again")


def test_voiding_needs_a_reason_and_a_writer_of_the_subtree(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    activity = factories.activity(centre, D(2024, 3, 4))
    with pytest.raises(ValidationError) as refused:
        services.activity_void(actor=cast.commune_clerk, activity=activity, reason="  ")
    assert refused.value.message_dict == {"reason": ["Give the reason for voiding."]}
    for user in (cast.sibling_clerk, cast.city_leader):
        with pytest.raises(PermissionDenied):
            services.activity_void(actor=user, activity=activity, reason="sai")
    activity.refresh_from_db()
    assert not activity.is_voided


def test_the_database_refuses_to_void_without_a_reason_or_fund_without_a_source(tree):
    centre = factories.centre(tree.phuc_xa)
    activity = factories.activity(centre, D(2024, 3, 4))
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(voided_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(funding=5, funding_source="")


def test_a_value_outside_the_lists_is_refused_in_words_not_by_the_database(cast, tree):
    centre = factories.centre(tree.phuc_xa)
    with pytest.raises(ValidationError) as seat:
        services.board_seat_create(
            actor=cast.commune_clerk,
            centre=centre,
            data={"person_name": "An", "board_role": "president", "association_post": "secretary"},
        )
    assert seat.value.message_dict == {
        "board_role": ["Choose a position on the board from the list."],
        "association_post": ["Choose a post in the association from the list."],
    }
    with pytest.raises(ValidationError) as staff:
        services.staff_create(
            actor=cast.commune_clerk,
            centre=centre,
            data={"person_name": "An", "year": 2024, "association_role": "boss"},
        )
    assert staff.value.message_dict == {"association_role": ["Choose a role in the association from the list."]}
    with pytest.raises(ValidationError) as activity:
        services.activity_create(actor=cast.commune_clerk, centre=centre, data={**GOOD, "kind": "karaoke"})
    assert activity.value.message_dict == {"kind": ["Choose a kind of activity from the list."]}
