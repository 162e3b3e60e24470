"""The services that create and change the subjects of the learning titles."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation

from associations.models import AuditAction, AuditEntry, BranchLevel, PersonalDataExport, PersonalDataExportKind
from khuyenhoc.signals import titles_changed
from learning import services
from learning.models import Citizen, Clan, Community, Household
from tests.factories import MemberFactory, make_branch
from tests.learning.subject_factories import CitizenFactory, CommunityFactory, HouseholdFactory

AN_ID = "001080012345"  # Hà Nội, male, born 1980


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def chapter(tree):
    branch = make_branch("Chi hội Tổ 5", BranchLevel.CHAPTER, tree.phuc_xa)
    branch.refresh_from_db()
    return branch


@pytest.fixture
def signals():
    sent = []

    def receiver(sender, branch_id, **kwargs):
        sent.append((sender, branch_id))

    titles_changed.connect(receiver)
    yield sent
    titles_changed.disconnect(receiver)


def household_data(branch, **extra):
    return {"branch": branch, "head_name": "Nguyễn Văn An", "address": "Số 1 Phúc Xá", "people": 4, **extra}


# --- Households ---------------------------------------------------------------------------------


def test_a_clerk_registers_a_household_of_her_chapter_and_the_audit_trail_says_so(cast, chapter, signals):
    household = services.household_save(
        actor=cast.commune_clerk, household=Household(), data=household_data(chapter, working_people=2)
    )

    household.refresh_from_db()
    assert (household.head_name, household.people, household.working_people) == ("Nguyễn Văn An", 4, 2)
    assert household.name_search == "nguyen van an — so 1 phuc xa"
    entry = AuditEntry.objects.for_object(household).get()
    assert entry.action == AuditAction.CREATE
    assert entry.actor == cast.commune_clerk
    assert entry.changes["head of household"] == "Nguyễn Văn An"
    assert entry.changes["branch"] == "Chi hội Tổ 5"
    assert signals == [(Household, chapter.pk)]


def test_a_change_records_the_values_before_and_after(cast, tree):
    household = HouseholdFactory(branch=tree.phuc_xa, people=4, working_people=2)

    services.household_save(actor=cast.commune_clerk, household=household, data={"people": 5, "working_people": 3})

    household.refresh_from_db()
    assert (household.people, household.working_people) == (5, 3)
    entry = AuditEntry.objects.for_object(household).get()
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {"number of people": [4, 5], "people of working age": [2, 3]}


def test_saving_a_household_unchanged_writes_no_audit_entry(cast, tree, signals):
    household = HouseholdFactory(branch=tree.phuc_xa, people=4)

    services.household_save(actor=cast.commune_clerk, household=household, data={"people": 4})

    assert not AuditEntry.objects.exists()
    assert signals == []


def test_a_clerk_may_not_register_a_household_in_another_district(cast, tree):
    with pytest.raises(PermissionDenied):
        services.household_save(actor=cast.commune_clerk, household=Household(), data=household_data(tree.hang_bac))
    assert not Household.objects.exists()


def test_a_clerk_may_not_change_a_household_outside_her_subtree_nor_move_one_out_of_it(cast, tree):
    theirs = HouseholdFactory(branch=tree.hang_bac)
    mine = HouseholdFactory(branch=tree.phuc_xa)

    with pytest.raises(PermissionDenied):
        services.household_save(actor=cast.commune_clerk, household=theirs, data={"branch": tree.phuc_xa})
    with pytest.raises(PermissionDenied):
        services.household_save(actor=cast.commune_clerk, household=mine, data={"branch": tree.hang_bac})

    assert Household.objects.filter(branch=tree.phuc_xa).get() == mine
    assert not AuditEntry.objects.exists()


def test_a_leader_may_read_but_not_register_a_household(cast, tree):
    with pytest.raises(PermissionDenied):
        services.household_save(actor=cast.district_leader, household=Household(), data=household_data(tree.phuc_xa))
    assert not Household.objects.exists()


def test_a_household_without_people_or_with_more_working_people_than_people_is_refused(cast, tree):
    with pytest.raises(ValidationError) as empty:
        services.household_save(
            actor=cast.commune_clerk, household=Household(), data=household_data(tree.phuc_xa, people=0)
        )
    with pytest.raises(ValidationError) as crowded:
        services.household_save(
            actor=cast.commune_clerk,
            household=Household(),
            data=household_data(tree.phuc_xa, people=3, working_people=4),
        )

    assert empty.value.message_dict == {"people": ["A household has at least one person."]}
    assert crowded.value.message_dict == {
        "working_people": ["A household cannot have more people of working age than people."]
    }
    assert not Household.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_household_belongs_to_a_chapter_or_a_commune_not_to_a_district(cast, tree):
    with pytest.raises(ValidationError) as refused:
        services.household_save(actor=cast.manager, household=Household(), data=household_data(tree.ba_dinh))

    assert refused.value.message_dict == {"branch": ["Choose a chapter or a commune or ward association."]}
    assert not Household.objects.exists()


# --- Clans and communities ----------------------------------------------------------------------


def test_a_clan_is_registered_and_renamed_with_its_audit_entries(cast, tree):
    clan = services.clan_save(
        actor=cast.commune_clerk,
        clan=Clan(),
        data={
            "branch": tree.phuc_xa,
            "name": "Dòng họ Nguyễn",
            "representative": "Nguyễn Văn Bình",
            "residence": "Phúc Xá",
        },
    )
    services.clan_save(actor=cast.commune_clerk, clan=clan, data={"name": "Dòng họ Nguyễn Văn"})

    clan.refresh_from_db()
    assert clan.name == "Dòng họ Nguyễn Văn"
    assert [entry.action for entry in AuditEntry.objects.for_object(clan).order_by("id")] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
    ]
    assert AuditEntry.objects.for_object(clan).latest("id").changes == {
        "clan": ["Dòng họ Nguyễn", "Dòng họ Nguyễn Văn"]
    }


def test_a_clan_without_a_representative_is_refused(cast, tree):
    with pytest.raises(ValidationError) as refused:
        services.clan_save(
            actor=cast.commune_clerk,
            clan=Clan(),
            data={"branch": tree.phuc_xa, "name": "Dòng họ Lê", "representative": "", "residence": "Phúc Xá"},
        )
    assert list(refused.value.message_dict) == ["representative"]
    assert not Clan.objects.exists()


def test_a_village_lies_under_a_commune_not_under_a_chapter(cast, tree, chapter):
    community = services.community_save(
        actor=cast.commune_clerk, community=Community(), data={"branch": tree.phuc_xa, "name": "Tổ dân phố số 5"}
    )
    with pytest.raises(ValidationError) as refused:
        services.community_save(
            actor=cast.commune_clerk, community=Community(), data={"branch": chapter, "name": "Tổ dân phố số 6"}
        )

    assert community.pk is not None
    assert refused.value.message_dict == {
        "branch": ["A village or residential group belongs to a commune or ward association."]
    }
    assert Community.objects.count() == 1


def test_two_villages_of_one_commune_cannot_share_a_name(cast, tree):
    CommunityFactory(branch=tree.phuc_xa, name="Tổ dân phố số 5")
    with pytest.raises(ValidationError):
        services.community_save(
            actor=cast.commune_clerk, community=Community(), data={"branch": tree.phuc_xa, "name": "Tổ dân phố số 5"}
        )
    assert Community.objects.count() == 1


# --- Citizens -----------------------------------------------------------------------------------


def citizen_data(branch, **extra):
    return {"branch": branch, "full_name": "Nguyễn Văn An", "date_of_birth": datetime.date(1980, 3, 25), **extra}


def test_a_citizen_with_the_id_of_a_member_of_the_subtree_is_linked_to_that_member(cast, tree):
    member = MemberFactory(branch=tree.truc_bach, citizen_id=AN_ID)

    citizen = services.citizen_save(
        actor=cast.manager,
        citizen=Citizen(),
        data=citizen_data(tree.phuc_xa, citizen_id=AN_ID),
    )

    assert citizen.member == member
    assert AuditEntry.objects.for_object(citizen).get().changes["member"] == str(member)


def test_a_member_outside_the_subtree_is_not_linked_and_nothing_is_said_about_them(cast, tree):
    MemberFactory(branch=tree.hang_bac, citizen_id=AN_ID)

    citizen = services.citizen_save(
        actor=cast.commune_clerk, citizen=Citizen(), data=citizen_data(tree.phuc_xa, citizen_id=AN_ID)
    )

    assert citizen.member is None
    assert citizen.citizen_id == AN_ID


def test_a_citizen_id_held_by_a_citizen_of_another_district_is_refused_without_saying_where(cast, tree):
    holder = CitizenFactory(branch=tree.hang_bac, citizen_id=AN_ID)

    with pytest.raises(ValidationError) as refused:
        services.citizen_save(
            actor=cast.commune_clerk, citizen=Citizen(), data=citizen_data(tree.phuc_xa, citizen_id=AN_ID)
        )

    message = refused.value.message_dict["citizen_id"][0]
    assert message.startswith("This citizen ID is already registered to a learning citizen.")
    assert "Hàng Bạc" not in message and holder.full_name not in message
    lookup = PersonalDataExport.objects.get(kind=PersonalDataExportKind.CITIZEN_ID_LOOKUP)
    assert (lookup.user, lookup.object_id) == (cast.commune_clerk, f"learning.citizen:{holder.pk}")
    assert Citizen.objects.count() == 1


def test_a_citizen_id_held_by_a_citizen_of_ones_own_subtree_names_them(cast, tree):
    CitizenFactory(branch=tree.phuc_xa, citizen_id=AN_ID, full_name="Nguyễn Văn Ân")

    with pytest.raises(ValidationError) as refused:
        services.citizen_save(
            actor=cast.commune_clerk, citizen=Citizen(), data=citizen_data(tree.phuc_xa, citizen_id=AN_ID)
        )

    assert refused.value.message_dict["citizen_id"] == [
        "This citizen ID is already registered to Nguyễn Văn Ân (Phường Phúc Xá)."
    ]
    assert not PersonalDataExport.objects.exists()


@pytest.mark.parametrize(
    ("citizen_id", "born", "message"),
    [
        ("00108001234", datetime.date(1980, 1, 1), "A citizen ID has exactly 12 digits."),
        ("999080012345", datetime.date(1980, 1, 1), "999 is not a province code"),
        ("001090012345", datetime.date(1980, 1, 1), "The citizen ID encodes birth year 1990"),
    ],
)
def test_a_bad_citizen_id_is_refused_like_a_members(cast, tree, citizen_id, born, message):
    with pytest.raises(ValidationError) as refused:
        services.citizen_save(
            actor=cast.commune_clerk,
            citizen=Citizen(),
            data=citizen_data(tree.phuc_xa, citizen_id=citizen_id, date_of_birth=born),
        )
    assert refused.value.message_dict["citizen_id"][0].startswith(message)
    assert not Citizen.objects.exists()


def test_a_citizen_without_an_id_is_saved_and_its_id_added_later_links_the_member(cast, tree):
    member = MemberFactory(branch=tree.phuc_xa, citizen_id=AN_ID)
    citizen = services.citizen_save(actor=cast.commune_clerk, citizen=Citizen(), data=citizen_data(tree.phuc_xa))
    assert citizen.member is None

    services.citizen_save(actor=cast.commune_clerk, citizen=citizen, data={"citizen_id": AN_ID})

    citizen.refresh_from_db()
    assert citizen.member == member
    changes = AuditEntry.objects.for_object(citizen).latest("id").changes
    assert changes["citizen ID"] == [None, AN_ID]
    assert changes["member"] == [None, str(member)]


# --- Batches ------------------------------------------------------------------------------------


def test_a_batch_with_a_household_outside_the_root_writes_nothing(cast, tree):
    households = [
        Household(branch=tree.phuc_xa, head_name="A", address="B", people=2),
        Household(branch=tree.hang_bac, head_name="C", address="D", people=2),
    ]
    with pytest.raises(PermissionDenied), transaction.atomic():
        services.subjects_save(
            model=Household,
            actor=cast.commune_clerk,
            root=tree.phuc_xa,
            create=households,
            update=[],
            created_changes=lambda household: {},
            updated_changes=lambda household: {},
        )
    assert not Household.objects.exists()


def test_a_batch_refuses_a_household_that_breaks_a_rule(cast, tree):
    with pytest.raises(ValidationError), transaction.atomic():
        services.subjects_save(
            model=Household,
            actor=cast.commune_clerk,
            root=tree.phuc_xa,
            create=[Household(branch=tree.phuc_xa, head_name="A", address="B", people=2, working_people=3)],
            update=[],
            created_changes=lambda household: {},
            updated_changes=lambda household: {},
        )
    assert not Household.objects.exists()
