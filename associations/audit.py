"""The audit trail: every change to the registry, money and plans leaves one row, written in
the caller's transaction, so a change and its record commit or roll back together."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models

from associations.models import AuditEntry, Branch
from khuyenhoc.bulk import bulk_insert


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict:
    """The values of a row's concrete fields, as JSON-friendly text (foreign keys by their name)."""
    names = fields or [
        field.name
        for field in obj._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in {"path", "depth", "numchild"}
    ]
    result = {}
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if getattr(field, "choices", None) and value not in (None, ""):
            value = getattr(obj, f"get_{name}_display")()
        result[str(field.verbose_name)] = _plain(value)
    return result


def snapshotter(model: type[models.Model], fields: Iterable[str] | None = None):
    """`snapshot` for many records of one model (a batch's audit rows): the fields, their
    labels and choice labels are looked up once, not once per record."""
    names = fields or [
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in {"path", "depth", "numchild"}
    ]
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        labels = {value: str(label) for value, label in field.flatchoices} if getattr(field, "choices", None) else None
        columns.append((name, str(field.verbose_name), labels))

    def take(obj: models.Model) -> dict:
        result = {}
        for name, verbose, labels in columns:
            value = getattr(obj, name)
            if labels is not None and value not in (None, ""):
                value = labels.get(value, value)
            result[verbose] = _plain(value)
        return result

    return take


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields that changed."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}


def audit_record(
    *, actor, obj: models.Model, action: str, branch: Branch | None, changes: dict | None = None
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        branch=branch,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        action=action,
        changes=changes or {},
    )


# The columns of a batch of audit rows (`at` takes its database default).
AUDIT_INSERT_FIELDS = ("actor", "branch", "content_type", "object_id", "object_repr", "action", "changes")


def audit_record_many(
    *, actor, records: Iterable[models.Model], action: str, changes_of, branch_ids: Sequence[int] | None = None
) -> None:
    """One audit row per record, in one COPY on PostgreSQL (one INSERT elsewhere): a batch
    write (an import chunk) is audited row by row like a form save. `changes_of(record)` gives
    each row's changes; `branch_ids` each row's branch (by default the record's own branch)."""
    records = list(records)
    if not records:
        return
    # Each row built positionally (Django's fast path, as from_db: no default looked up, no
    # relation descriptor per row): every concrete field's default, then this batch's values.
    fields = AuditEntry._meta.concrete_fields
    at = {field.attname: index for index, field in enumerate(fields)}
    template = [field.get_default() for field in fields]
    template[at["content_type_id"]] = ContentType.objects.get_for_model(records[0]).pk
    template[at["actor_id"]] = actor.pk if getattr(actor, "is_authenticated", False) else None
    template[at["action"]] = action
    branch_at, object_id_at, repr_at, changes_at = (
        at["branch_id"],
        at["object_id"],
        at["object_repr"],
        at["changes"],
    )
    entries = []
    for index, record in enumerate(records):
        row = template.copy()
        row[branch_at] = record.branch_id if branch_ids is None else branch_ids[index]
        row[object_id_at] = str(record.pk)
        row[repr_at] = str(record)[:255]
        row[changes_at] = changes_of(record)
        entries.append(AuditEntry(*row))
    bulk_insert(
        AuditEntry,
        entries,
        AUDIT_INSERT_FIELDS,
    )
