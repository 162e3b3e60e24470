"""`bulk_insert` (COPY on PostgreSQL) stores every value as a plain save would: text with tabs,
newlines and backslashes, empty and missing values, dates, ids and JSON."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from associations.models import AuditAction, AuditEntry, Member
from associations.services import MEMBER_INSERT_FIELDS
from khuyenhoc.bulk import bulk_insert

pytestmark = pytest.mark.django_db

AWKWARD = "Tab\there, line\nbreak, back\\slash, \\N, carriage\rreturn, Nguyễn"


def test_members_come_back_as_written(tree):
    members = [
        Member(
            full_name=AWKWARD,
            name_search="x",
            name_sort="",
            date_of_birth=datetime.date(1980, 3, 25),
            citizen_id=None,
            phone="",
            address="\\",
            category="civil_servant",
            branch_id=tree.phuc_xa.pk,
            joined_on=datetime.date(2018, 3, 1),
            left_on=None,
        ),
        Member(full_name="B", category="civil_servant", branch_id=tree.phuc_xa.pk, joined_on=datetime.date(2019, 1, 1)),
    ]
    bulk_insert(Member, members, MEMBER_INSERT_FIELDS)  # what the member import writes

    first, second = (Member.objects.get(pk=member.pk) for member in members)
    assert (first.full_name, first.date_of_birth, first.citizen_id, first.phone, first.address, first.left_on) == (
        AWKWARD,
        datetime.date(1980, 3, 25),
        None,
        "",
        "\\",
        None,
    )
    assert (second.full_name, second.date_of_birth, second.branch_id) == ("B", None, tree.phuc_xa.pk)
    assert first.updated_at is not None and first.created_at is not None


def test_audit_rows_keep_their_json_changes(tree, cast):
    content_type = ContentType.objects.get_for_model(Member)
    changes = {"Họ và tên": [AWKWARD, None], "n": 3, "ok": True, "list": ["a\tb", 1.5]}
    entries = [
        AuditEntry(
            actor_id=cast.commune_clerk.pk,
            branch_id=tree.phuc_xa.pk,
            content_type_id=content_type.pk,
            object_id="7",
            object_repr=AWKWARD,
            action=AuditAction.CREATE,
            changes=changes,
        ),
        AuditEntry(
            actor_id=None,
            branch_id=None,
            content_type_id=content_type.pk,
            object_id="8",
            object_repr="",
            action=AuditAction.UPDATE,
            changes={},
        ),
    ]
    bulk_insert(
        AuditEntry, entries, ("actor", "branch", "content_type", "object_id", "object_repr", "action", "changes")
    )

    first, second = (AuditEntry.objects.get(pk=entry.pk) for entry in entries)
    assert (first.actor, first.object_repr, first.changes) == (cast.commune_clerk, AWKWARD, changes)
    assert (second.actor, second.branch, second.changes, second.action) == (None, None, {}, AuditAction.UPDATE)
    assert first.at is not None
