"""A member's rights over their personal data (Law 91/2025/QH15): a copy of what is held about
them, and erasure on request where no money record needs it.

Erasure keeps the row — so every count, indicator and report stays as it was — and replaces
what identifies the person (name, date of birth, citizen ID, phone, address, reason for
leaving) with a marker. The values are also struck from the member's earlier audit entries;
the erasure itself is audited with who and when, never with the erased values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from associations import privacy
from associations.access import user_root_branch
from associations.audit import audit_record, snapshot
from associations.models import AuditAction, AuditEntry, Member, PersonalDataExport, PersonalDataExportKind
from khuyenhoc.signals import registry_changed

ERASED_FIELDS = ("full_name", "date_of_birth", "citizen_id", "phone", "address", "left_reason")


def erased_value() -> str:
    return _("(erased)")


def _erased_labels() -> set[str]:
    """The labels these fields carry in audit snapshots, in either language they were written in."""
    from django.utils import translation

    labels = set()
    for language in ("en", "vi"):
        with translation.override(language):
            labels.update(str(Member._meta.get_field(name).verbose_name) for name in ERASED_FIELDS)
    return labels


def member_is_erased(member: Member) -> bool:
    return AuditEntry.objects.for_object(member).filter(action=AuditAction.ERASE).exists()


@dataclass(frozen=True)
class MemberRecords:
    """Records of an upper app that name a member (e.g. donations): registered by that app in
    its AppConfig.ready(), so the registry can export and guard them without importing it.

    `key` names the list in the member's copy of their data; `rows(member)` gives its rows;
    `keeps_data(member)` says, when those records oblige the portal to keep the member's
    data, why (a Vietnamese message), else None.
    """

    key: str
    rows: Callable[[Member], list[dict]]
    keeps_data: Callable[[Member], str | None]


_MEMBER_RECORDS: dict[str, MemberRecords] = {}


def member_records_register(records: MemberRecords) -> None:
    _MEMBER_RECORDS[records.key] = records


def member_erasure_blockers(member: Member) -> list[str]:
    """Why the member's data must be kept: records of other apps that name them (money)."""
    return [reason for records in _MEMBER_RECORDS.values() if (reason := records.keeps_data(member))]


def member_data(member: Member) -> dict:
    """Everything held about the member, in full: their record, its history and every record
    of another app that names them (the donations)."""
    history = AuditEntry.objects.for_object(member).select_related("actor").order_by("at", "id")
    return {
        "exported_at": timezone.now().isoformat(),
        "member": {**snapshot(member), str(_("branch")): member.branch.name},
        "history": [
            {
                "at": entry.at.isoformat(),
                "action": entry.get_action_display(),
                "by": entry.actor.get_username() if entry.actor else None,
                "changes": entry.changes,
            }
            for entry in history
        ],
        **{key: records.rows(member) for key, records in _MEMBER_RECORDS.items()},
    }


@transaction.atomic
def member_data_export(*, actor, member: Member) -> dict:
    """The member's data for them, with the export recorded in the same transaction."""
    data = member_data(member)
    export_record(
        user=actor, kind=PersonalDataExportKind.MEMBER_RECORD, row_count=1, unmasked=True, object_id=member.pk
    )
    return data


@transaction.atomic
def member_erase(*, actor, member: Member) -> Member:
    """Erase what identifies a member, on their request; refused while a money record names them."""
    member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
    if member_is_erased(member):
        raise ValidationError(_("This member's personal data has already been erased."))
    blockers = member_erasure_blockers(member)
    if blockers:
        raise ValidationError(blockers)
    marker = erased_value()
    # Earlier entries of this member's history carried the values: strike them there too.
    labels = _erased_labels()
    entries = list(AuditEntry.objects.for_object(member))
    for entry in entries:
        entry.object_repr = marker
        entry.changes = {
            key: ([marker for _item in value] if isinstance(value, list) else marker) if key in labels else value
            for key, value in entry.changes.items()
        }
    AuditEntry.objects.bulk_update(entries, ["object_repr", "changes"])
    erased = [str(Member._meta.get_field(name).verbose_name) for name in ERASED_FIELDS]
    member.full_name = _("Erased member #%(number)d") % {"number": member.pk}
    member.date_of_birth = None
    member.citizen_id = None
    member.phone = ""
    member.address = ""
    member.left_reason = ""
    member.save()
    audit_record(
        actor=actor,
        obj=member,
        action=AuditAction.ERASE,
        branch=member.branch,
        changes={label: [privacy.MASK, marker] for label in erased},
    )
    registry_changed.send(sender=Member, branch_id=member.branch_id)
    return member


def export_record(*, user, kind: str, params=None, row_count: int, unmasked: bool, object_id: str = ""):
    """Record one export of personal data: who, when, what (kind and filters), how many rows, masked or not."""

    query = ""
    if params is not None:
        query = params.urlencode() if hasattr(params, "urlencode") else "&".join(f"{k}={v}" for k, v in params.items())
    return PersonalDataExport.objects.create(
        user=user,
        branch=user_root_branch(user),
        kind=kind,
        query=query[:1000],
        object_id=str(object_id),
        row_count=row_count,
        unmasked=unmasked,
    )


def citizen_id_taken_elsewhere() -> str:
    """The one answer, on the member form and in the member import, for an ID held outside the
    user's subtree: that it is taken, and what to do; not by whom or where."""
    return _(
        "This citizen ID is already registered to a member of the association. If it is the same person, "
        "ask the association above you to transfer their membership; otherwise check the number."
    )


def citizen_id_holder(
    *, user, citizen_id: str, exclude_pk: int | None = None, holders: QuerySet | None = None
) -> tuple[Member | None, bool]:
    """Who already holds a citizen ID: (the member, True) when the user may see them, (None,
    False) when the holder lies outside the user's subtree, (None, True) when nobody does.

    A citizen ID is unique across the whole registry (docs/decisions/citizen-id-uniqueness.md),
    so a clerk must learn that an ID is taken; she learns nothing else about a holder outside
    her subtree, and each such lookup is recorded in the personal-data log.

    `holders` is the register searched: the members by default, or another register of people
    kept under the same rule (an upper app's, e.g. the learning citizens), as a queryset of a
    model with a `citizen_id` and the subtree queryset methods.
    """
    register = holders if holders is not None else Member.objects.all()
    found = register.filter(citizen_id=citizen_id)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    holder = found.only("pk", "branch_id").first()
    if holder is None:
        return None, True
    visible = register.model.objects.visible_to(user).select_related("branch").filter(pk=holder.pk).first()
    if visible is not None:
        return visible, True
    citizen_id_lookups_record(user=user, member_ids=[holder.pk], model=register.model)
    return None, False


def citizen_id_lookups_record(*, user, member_ids: list[int], model: type[Model] | None = None) -> None:
    """One personal-data log row per record outside the user's subtree whose ID was matched:
    a member's by its id, another register's (`model`) as "app.model:id"."""
    branch = user_root_branch(user)
    prefix = "" if model is None or model is Member else f"{model._meta.label_lower}:"
    PersonalDataExport.objects.bulk_create(
        PersonalDataExport(
            user=user,
            branch=branch,
            kind=PersonalDataExportKind.CITIZEN_ID_LOOKUP,
            object_id=f"{prefix}{member_id}",
            row_count=1,
            unmasked=False,
        )
        for member_id in member_ids
    )
