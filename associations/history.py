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

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from associations.models import Branch, LineageEdge, LineageKind, Member, Organization, RecordMove, Reorganisation
from khuyenhoc.text import vietnamese_sort_key

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
    return tree_and_changes_on(day)[0]


def tree_and_changes_on(day: datetime.date) -> tuple[dict[int, str], bool]:
    """(`paths_on(day)`, whether a reorganisation applied since took effect after `day`), in
    one query: when none did, every record's branch on `day` is its branch today and the
    caller can group by the foreign key itself instead of `branch_on`."""
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
    # Uncorrelated: PostgreSQL evaluates it once for the whole query.
    changed_after = Exists(Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED, effective_on__gt=day))
    rows = list(
        Branch.objects.order_by("path")
        .active_on(day)
        .annotate(parent_then=Subquery(old_parent), changed_after=changed_after)
        .values_list("id", "path", "parent_then", "changed_after")
    )
    changed = bool(rows) and rows[0][3]
    rows = [(branch_id, path, parent) for branch_id, path, parent, _changed in rows]
    return _paths_with_rehung(rows), changed


def _paths_with_rehung(rows: list[tuple[int, str, int | None]]) -> dict[int, str]:
    """{id: path} from (id, path today, old parent or None) in path order: each re-hung
    chapter and its subtree moved back under the parent it had."""
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
    still attached to it count on the map in force on `day` (default: today); see `todays_tree`."""
    return todays_tree(day)[0]


def todays_tree(day: datetime.date | None = None) -> tuple[dict[int, TodayPlace], dict[int, str]]:
    """({branch id: TodayPlace} of every branch, {branch id: path} of those in force on `day`
    (default: today)), in two queries. A branch's records count on that day's map:

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
    return places, {branch_id: path_of[branch_id] for branch_id in in_force}


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
    """(came from, went to) of a branch through applied reorganisations (one query)."""
    edges = (
        LineageEdge.objects.filter(Q(successor=branch) | Q(predecessor=branch), **_applied())
        .select_related("reorganisation", "predecessor", "successor")
        .order_by("reorganisation__effective_on", "id")
    )
    came_from: list[LineageRow] = []
    went_to: list[LineageRow] = []
    for edge in edges:
        if edge.successor_id == branch.pk:
            came_from.append(LineageRow(edge.reorganisation, edge.predecessor, edge.kind, edge.derived))
        else:
            went_to.append(LineageRow(edge.reorganisation, edge.successor, edge.kind, edge.derived))
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


def last_reorganisation_day() -> datetime.date | None:
    """The effective day of the latest applied reorganisation (one query): on and after it,
    every record's branch on a day is its branch today."""
    return (
        Reorganisation.objects.filter(status=Reorganisation.Status.APPLIED)
        .order_by("-effective_on")
        .values_list("effective_on", flat=True)
        .first()
    )


def branch_children_on(user, parent: Branch, day: datetime.date) -> list[dict]:
    """The children of `parent` in force on `day` that the user may see, each with the
    organisations and members active that day in its subtree as it stood: three queries
    for today (the tree as it is), four for another day."""
    if day == timezone.localdate():
        return _children_today(parent, day)
    path_of, moved_since = tree_and_changes_on(day)
    parent_path = path_of.get(parent.pk)
    if parent_path is None:
        return []
    depth = len(parent_path) + Branch.steplen
    child_paths = {path: pk for pk, path in path_of.items() if len(path) == depth and path.startswith(parent_path)}
    if not child_paths:
        return []
    subtree = [pk for pk, path in path_of.items() if path.startswith(parent_path)]
    within = None if len(subtree) == len(path_of) else subtree

    def per_child(model) -> dict[int, int]:
        owner = branch_on(day, record_type_of(model)) if moved_since else F("branch_id")
        rows = model.objects.order_by().active_on(day).annotate(owner=owner)
        if within is not None:
            rows = rows.filter(owner__in=within)
        counts: dict[int, int] = {}
        for branch_id, n in rows.values("owner").annotate(n=Count("id")).values_list("owner", "n"):
            child = child_paths.get(path_of.get(branch_id, "")[:depth])
            if child is not None:
                counts[child] = counts.get(child, 0) + n
        return counts

    members = per_child(Member)
    organizations = per_child(Organization)
    children = Branch.objects.visible_to(user).filter(pk__in=list(child_paths.values()))
    return _rows(children, members, organizations)


def _children_today(parent: Branch, day: datetime.date) -> list[dict]:
    """Today's children of a branch the user sees (so they see its subtree) with their
    subtree counts, by prefix of today's paths."""
    children = list(Branch.objects.get_children(parent).active_on(day))
    if not children:
        return []
    depth = len(parent.path) + Branch.steplen
    prefix = Substr("branch__path", 1, depth)

    def per_child(model) -> dict[str, int]:
        rows = (
            model.objects.order_by()
            .filter(branch__path__startswith=parent.path)
            .active_on(day)
            .annotate(prefix=prefix)
            .values("prefix")
            .annotate(n=Count("id"))
            .values_list("prefix", "n")
        )
        return dict(rows)

    members, organizations = per_child(Member), per_child(Organization)
    by_id = {child.pk: child.path for child in children}
    return _rows(
        children,
        {pk: members.get(path, 0) for pk, path in by_id.items()},
        {pk: organizations.get(path, 0) for pk, path in by_id.items()},
    )


def _rows(children, members: dict[int, int], organizations: dict[int, int]) -> list[dict]:
    return [
        {"branch": child, "members": members.get(child.pk, 0), "organizations": organizations.get(child.pk, 0)}
        # Official order (the statistics office's codes) for administrative units, then by name.
        for child in sorted(children, key=lambda b: (b.code == "", b.code, vietnamese_sort_key(b.name)))
    ]
