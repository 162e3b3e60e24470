"""History on the dated branch tree: the tree in force on a day, where a record was on a
day, and where a dissolved branch's records are counted on today's map.

The tree is small enough to read whole (~40 000 rows: one query); records never are: a
record's branch on a day is a query expression (`branch_on`) that goes into the caller's
GROUP BY. Every function here runs a fixed number of queries, none per branch or record.

The rules, from the reorganisation engine's contract (reorganisation/, see
`associations.models.RecordMove`):
- a record whose branch a reorganisation changed has one RecordMove per reorganisation; its
  branch on a day D is the `from_branch` of the earliest move effective after D, else its
  branch today;
- a chapter or board re-hung under a successor has a RecordMove of type
  "associations.branch" (from its old parent to its new one); on D it hangs under the
  parent it had then, with its whole subtree;
- administrative branches are never re-hung: predecessors are dissolved on the effective
  day and successors founded on it, joined by whole or part lineage edges.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import BigIntegerField, F, OuterRef, Subquery
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.utils import timezone

from associations.models import Branch, LineageEdge, LineageKind, RecordMove, Reorganisation

BRANCH_RECORD = "associations.branch"
# The alphabet treebeard writes paths in; a re-hung chapter given back its old parent on a
# past day takes a free step of it (the path it really had was not recorded, and any free
# one serves the roll-up by prefix).
_ALPHABET = Branch.alphabet


def record_type_of(model) -> str:
    """The RecordMove.record_type of a model: its label in lower case."""
    return model._meta.label_lower


def _applied():
    return {"reorganisation__status": Reorganisation.Status.APPLIED}


def branch_on(day: datetime.date, record_type: str, *, record: str = "pk", current: str = "branch_id") -> Expression:
    """The branch id a record had on `day`, as a query expression for `.annotate()` /
    `.values()`: the `from_branch` of its earliest move by a reorganisation that took effect
    after `day`, else its branch today (`current`).

    `record` names the record's id in the outer query, `current` its branch today; e.g. the
    branch on D of a member's organisation is
    `branch_on(D, "associations.organization", record="organization_id", current="organization__branch_id")`.
    The subquery is served by RecordMove's (record_type, record_id) index."""
    moved_from = (
        RecordMove.objects.order_by("reorganisation__effective_on", "reorganisation_id")
        .filter(
            record_type=record_type,
            record_id=OuterRef(record),
            reorganisation__effective_on__gt=day,
            **_applied(),
        )
        .values("from_branch_id")[:1]
    )
    return Coalesce(Subquery(moved_from), F(current), output_field=BigIntegerField())


def _free_steps(parent_path: str, used: set[str], start: int):
    """Paths under `parent_path` not in `used`, in treebeard's alphabet and step length."""
    steplen = Branch.steplen
    base = len(_ALPHABET)
    number = start
    while True:
        digits, value = [], number
        for _position in range(steplen):
            digits.append(_ALPHABET[value % base])
            value //= base
        candidate = parent_path + "".join(reversed(digits))
        number += 1
        if candidate not in used:
            yield candidate


def paths_on(day: datetime.date) -> dict[int, str]:
    """{branch id: path on `day`} of the branches in force on `day` (one query).

    A chapter or board re-hung after `day` gets a path under the parent it had on `day`, and
    its subtree follows it, so `associations.rollup.roll_up_by_path(own, path_of=paths_on(D))`
    rolls D's figures up the tree as it stood on D."""
    old_parent = (
        RecordMove.objects.order_by("reorganisation__effective_on", "reorganisation_id")
        .filter(
            record_type=BRANCH_RECORD,
            record_id=OuterRef("pk"),
            reorganisation__effective_on__gt=day,
            **_applied(),
        )
        .values("from_branch_id")[:1]
    )
    rows = list(
        Branch.objects.order_by("path")
        .active_on(day)
        .annotate(parent_then=Subquery(old_parent))
        .values_list("id", "path", "parent_then")
    )
    path_of = {branch_id: path for branch_id, path, _parent in rows}
    if not any(parent is not None for _id, _path, parent in rows):
        return path_of
    # One pass in path order: a stack of (path today, path on the day) of the re-hung
    # chapters above the current row. Their old parents are administrative branches, which
    # are never re-hung, so an old parent's path is its path today.
    used = set(path_of.values())
    free: dict[str, object] = {}
    stack: list[tuple[str, str]] = []
    for branch_id, path, parent_then in rows:
        while stack and not path.startswith(stack[-1][0]):
            stack.pop()
        mapped = stack[-1][1] + path[len(stack[-1][0]) :] if stack else path
        if parent_then is not None and parent_then in path_of:
            parent_path = path_of[parent_then]
            steps = free.setdefault(parent_path, _free_steps(parent_path, used, 1))
            mapped = next(steps)
            used.add(mapped)
            stack.append((path, mapped))
        path_of[branch_id] = mapped
    return path_of


def tree_on(day: datetime.date) -> list[tuple[int, str]]:
    """[(branch id, path on `day`)] of the branches in force on `day`, in tree order."""
    return sorted(paths_on(day).items(), key=lambda item: item[1])


def _successor_edges() -> dict[int, list[tuple[int, str]]]:
    """{predecessor id: [(successor id, kind)]} over every applied reorganisation (one query)."""
    edges: dict[int, list[tuple[int, str]]] = {}
    rows = LineageEdge.objects.order_by().filter(**_applied()).values_list("predecessor_id", "successor_id", "kind")
    for predecessor, successor, kind in rows:
        edges.setdefault(predecessor, []).append((successor, kind))
    return edges


def _follow_whole(start: int, edges: dict[int, list[tuple[int, str]]]) -> int | None:
    """The branch `start` became through whole edges only; None past a part edge."""
    current, seen = start, set()
    while current in edges:
        if current in seen:  # pragma: no cover - lineage runs forward in time
            return None
        seen.add(current)
        out = edges[current]
        if len(out) != 1 or out[0][1] != LineageKind.WHOLE:
            return None
        current = out[0][0]
    return current


def today_successor(branch_ids: Iterable[int]) -> dict[int, int | None]:
    """{branch id: the branch it is today} following whole edges through every applied
    reorganisation; None where some step was a part edge (the branch was split: its records
    are "from split units" and never guessed onto one successor). A branch no reorganisation
    touched maps to itself. One query."""
    edges = _successor_edges()
    return {branch_id: _follow_whole(branch_id, edges) for branch_id in branch_ids}


class TodayPlace(NamedTuple):
    """Where a branch's records count on today's map."""

    branch_id: int  # today's branch they count under
    split: bool  # True: they count in a separate line "From split units" of that branch


def todays_places(day: datetime.date | None = None) -> dict[int, TodayPlace]:
    """{branch id: TodayPlace} for every branch of the tree (two queries): where the records
    still attached to it count on the map in force on `day` (default: today).

    - a branch in force: itself;
    - a branch dissolved by a reorganisation: its successor through whole edges (where that
      successor is itself dissolved, on through its own successors);
    - one split (a part edge somewhere): the nearest ancestor in force, as a separate line
      "From split units" (on Hanoi's map, the city);
    - one dissolved without a successor (a chapter closed, a district abolished): its
      nearest ancestor's place.
    """
    day = day or timezone.localdate()
    rows = list(Branch.objects.order_by("path").values_list("id", "path", "founded_on", "dissolved_on"))
    edges = _successor_edges()
    id_of = {path: branch_id for branch_id, path, _f, _d in rows}
    in_force = {
        branch_id
        for branch_id, _path, founded, dissolved in rows
        if (founded is None or founded <= day) and (dissolved is None or dissolved > day)
    }
    path_of = {branch_id: path for branch_id, path, _f, _d in rows}
    places: dict[int, TodayPlace] = {}

    def place(branch_id: int, depth: int = 0) -> TodayPlace:
        if branch_id in places:
            return places[branch_id]
        if depth > 1000:  # pragma: no cover - lineage runs forward in time
            raise ValueError("lineage loop")
        path = path_of[branch_id]
        parent = id_of.get(path[: -Branch.steplen]) if len(path) > Branch.steplen else None
        if branch_id in in_force:
            result = TodayPlace(branch_id, False)
        elif branch_id in edges:
            successor = _follow_whole(branch_id, edges)
            if successor is None:
                up = place(parent, depth + 1) if parent is not None else TodayPlace(branch_id, True)
                result = TodayPlace(up.branch_id, True)
            else:
                result = place(successor, depth + 1)
        elif parent is not None:
            result = place(parent, depth + 1)
        else:
            result = TodayPlace(branch_id, False)
        places[branch_id] = result
        return result

    for branch_id, _path, _f, _d in rows:
        place(branch_id)
    return places


# --- Lineage on a branch's page ---------------------------------------------------------------
@dataclass
class LineageRow:
    reorganisation: Reorganisation
    other: Branch
    kind: str
    derived: bool

    @property
    def kind_label(self):
        return LineageKind(self.kind).label


def lineage_of(branch: Branch) -> tuple[list[LineageRow], list[LineageRow]]:
    """(came from, went to) of a branch through applied reorganisations (two queries)."""
    base = (
        LineageEdge.objects.filter(**_applied())
        .select_related("reorganisation")
        .order_by("reorganisation__effective_on", "id")
    )
    came_from = [
        LineageRow(edge.reorganisation, edge.predecessor, edge.kind, edge.derived)
        for edge in base.filter(successor=branch).select_related("predecessor")
    ]
    went_to = [
        LineageRow(edge.reorganisation, edge.successor, edge.kind, edge.derived)
        for edge in base.filter(predecessor=branch).select_related("successor")
    ]
    return came_from, went_to


def predecessor_ids(branch_ids: Iterable[int]) -> set[int]:
    """Every branch that became one of `branch_ids`, transitively, through applied
    reorganisations (whole or part; one query)."""
    by_successor: dict[int, list[int]] = {}
    rows = LineageEdge.objects.order_by().filter(**_applied()).values_list("successor_id", "predecessor_id")
    for successor, predecessor in rows:
        by_successor.setdefault(successor, []).append(predecessor)
    found: set[int] = set()
    stack = list(branch_ids)
    while stack:
        for predecessor in by_successor.get(stack.pop(), ()):
            if predecessor not in found:
                found.add(predecessor)
                stack.append(predecessor)
    return found
