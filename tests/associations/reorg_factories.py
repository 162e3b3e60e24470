"""A reorganisation applied by hand, the way the engine (reorganisation/) applies one, for
tests of history, lineage and access before the engine exists. It keeps the engine's
contract (associations.models.RecordMove):

- every record whose branch foreign key changes gets one RecordMove (old → new branch);
- a chapter or board re-hung under a successor gets one RecordMove "associations.branch"
  (old parent → new parent), and what is attached to it or below does not change;
- administrative predecessors are dissolved on the effective day; successors are founded
  on it (`found`);
- records closed before the effective day stay where they were (the caller passes only
  the records alive on that day).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from associations.models import Branch, LineageEdge, LineageKind, RecordMove, Reorganisation
from tests.factories import make_branch


def found(name: str, level: str, parent: Branch, effective_on: datetime.date, **fields) -> Branch:
    """A successor branch founded on the effective day."""
    return make_branch(name, level, parent, founded_on=effective_on, **fields)


def reorganise(
    *,
    effective_on: datetime.date,
    edges: list[tuple[Branch, Branch, str]],
    records: list[tuple[object, Branch]] = (),
    rehang: list[tuple[Branch, Branch]] = (),
    dissolve: list[Branch] = (),
    name: str = "Sắp xếp đơn vị hành chính",
    legal_basis: str = "1656/NQ-UBTVQH15",
    derived: bool = False,
    status: str = Reorganisation.Status.APPLIED,
) -> Reorganisation:
    """Apply a reorganisation: `edges` (predecessor, successor, kind), `records` (a record
    with a `branch` foreign key, its new branch), `rehang` (chapter or board, new parent)."""
    reorganisation = Reorganisation.objects.create(
        name=name,
        legal_basis=legal_basis,
        effective_on=effective_on,
        status=status,
        applied_at=timezone.now() if status == Reorganisation.Status.APPLIED else None,
    )
    for predecessor, successor, kind in edges:
        LineageEdge.objects.create(
            reorganisation=reorganisation, predecessor=predecessor, successor=successor, kind=kind, derived=derived
        )
    for chapter, new_parent in rehang:
        chapter.refresh_from_db()
        old_parent = Branch.objects.get_parent(chapter)
        RecordMove.objects.create(
            reorganisation=reorganisation,
            record_type="associations.branch",
            record_id=chapter.pk,
            from_branch=old_parent,
            to_branch=new_parent,
        )
        new_parent.refresh_from_db()
        Branch.objects.move(chapter, new_parent, pos="last-child")
    for record, new_branch in records:
        model = type(record)
        RecordMove.objects.create(
            reorganisation=reorganisation,
            record_type=model._meta.label_lower,
            record_id=record.pk,
            from_branch_id=record.branch_id,
            to_branch=new_branch,
        )
        model.objects.filter(pk=record.pk).update(branch=new_branch)
        record.branch = new_branch
    predecessors = {predecessor.pk for predecessor, _successor, _kind in edges} | {b.pk for b in dissolve}
    Branch.objects.filter(pk__in=predecessors).update(dissolved_on=effective_on)
    return reorganisation


WHOLE = LineageKind.WHOLE
PART = LineageKind.PART
