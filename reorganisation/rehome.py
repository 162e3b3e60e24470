# ruff: noqa: S608 - the SQL below interpolates only integer ids and placeholders; values are parameters.
"""The learning titles' yearly records a reorganisation's apply re-homes: those dated on or
after the effective day that still sit on a unit it dissolved (a round applied late, after the
clerks kept registering on the old commune). The apply calls `learning_records_rehome` at its
end, in its transaction; the dry run counts the same records (`learning_rehome_counts`).

The rule (a learning year's records are dated from its first registration day, 5 January: a
year's eligible total is dated that day):

- a registration goes to the branch its subject belongs to now (the apply moved the subject,
  or re-hung the chapter it belongs to): exact, whether its unit was merged whole or split;
- a decision goes, whole, to the successor that received most of the dissolved unit's
  records (`RecordMove`), else to its lineage successor. A decision is a legal document (its
  number, day, recognising body, signer): it is never merged into another, divided nor
  deleted, and its registrations keep it (they count where their subjects are). A successor
  may so hold several decisions of one title and year, each its own body's; one that would
  meet another of its successor's with the same body, number and day (bodies worded alike,
  "UBND phường") has its old unit's name added to its body in brackets, as a moved village
  does (`learning_decisions_qualified` in the audit row);
- an eligible total (entered per commune) is added to its unit's successor when that
  successor is unique (a whole merge, or every record decided to one unit); the totals of a
  unit that was split are never divided nor guessed: they stay on the old unit, counted there
  as history ("from split units") and listed by the dry run for the new units to enter again.
  So do the totals of a unit merged whole into a successor that also takes part of a split
  unit: that successor's total would otherwise miss the split part's households, and its rate
  "trên tổng số" would read too high (`totals_kept`);
- the dissolved units' title figures of those years are dropped (the recompute the apply
  schedules makes the successors').

Applying twice changes nothing: a second run finds nothing dated after the day on the
dissolved units but the kept totals, which it leaves where they are.

A fixed number of set-based statements, whatever the number of records. With
`indexes_deferred` (the generator's load left the registration table without its plain
indexes, see `indexes_deferred_for`), the registrations' UPDATE runs with the table's plain
indexes dropped and built again after it, the foreign-key triggers off in between.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models import Count, Sum

from associations.models import Branch, LineageEdge, RecordMove, Reorganisation
from khuyenhoc.signals import titles_changed
from learning.models import Decision, EligibleCount, Registration, TitleFigure
from reorganisation.models import ReorganisationDecision

LEARNING_YEAR_START = (1, 5)  # a learning year's records are dated from its first registration day

LEARNING_COUNT_KEYS = (
    "learning_registrations",
    "learning_decisions",
    "learning_eligible_totals",
    "learning_eligible_totals_kept",
)

_indexes_deferred: ContextVar[bool] = ContextVar("learning_indexes_deferred", default=False)


def year_dated_from(day: datetime.date) -> int:
    """The first learning year whose records are all dated on or after `day`."""
    return day.year if (day.month, day.day) <= LEARNING_YEAR_START else day.year + 1


@contextmanager
def indexes_deferred_for(deferred: bool = True):
    """Within the block, the apply's re-homing runs as `learning_records_rehome(…,
    indexes_deferred=deferred)`: for the generator, whose load builds the registration
    table's plain indexes only after the rounds."""
    token = _indexes_deferred.set(deferred)
    try:
        yield
    finally:
        _indexes_deferred.reset(token)


def _dissolved(reorganisation: Reorganisation) -> list[int]:
    return list(Branch.objects.filter(dissolved_on=reorganisation.effective_on).values_list("id", flat=True))


def successors_of(reorganisation: Reorganisation, dissolved: list[int]) -> dict[int, int]:
    """Each dissolved unit → the successor that received most of its records (not counting
    its staff accounts, which a district's may follow to the city), else its (last written)
    lineage successor."""
    tally: dict[int, Counter] = defaultdict(Counter)
    moved = (
        RecordMove.objects.filter(reorganisation=reorganisation, from_branch_id__in=dissolved)
        .exclude(record_type="associations.staffprofile")
        .values_list("from_branch_id", "to_branch_id")
        .annotate(n=Count("id"))
    )
    for source, target, n in moved:
        tally[source][target] += n
    successors = {source: counter.most_common(1)[0][0] for source, counter in tally.items()}
    for source, target in (
        LineageEdge.objects.filter(reorganisation=reorganisation, predecessor_id__in=dissolved)
        .order_by("-id")
        .values_list("predecessor_id", "successor_id")
    ):
        successors.setdefault(source, target)
    return successors


def split_units(reorganisation: Reorganisation, dissolved: list[int]) -> set[int]:
    """The dissolved units whose records went to more than one successor (by the lineage
    the apply wrote): their eligible totals cannot be divided."""
    edges = (
        LineageEdge.objects.filter(reorganisation=reorganisation, predecessor_id__in=dissolved)
        .values("predecessor_id")
        .annotate(n=Count("successor_id", distinct=True))
        .filter(n__gt=1)
        .values_list("predecessor_id", flat=True)
    )
    return set(edges)


def totals_kept(reorganisation: Reorganisation, dissolved: list[int]) -> set[int]:
    """The dissolved units whose eligible totals stay where they are: the split units, and
    the units merged whole into a successor that also receives part of a split unit (its
    households are counted in part only: adding the whole units' totals would make a total
    that is too small, and its rate "trên tổng số" too high, until its clerk enters it)."""
    split = split_units(reorganisation, dissolved)
    if not split:
        return set()
    shared = set(
        LineageEdge.objects.filter(reorganisation=reorganisation, predecessor_id__in=split).values_list(
            "successor_id", flat=True
        )
    )
    joined = set(
        LineageEdge.objects.filter(
            reorganisation=reorganisation, predecessor_id__in=dissolved, successor_id__in=shared
        ).values_list("predecessor_id", flat=True)
    )
    return split | joined


def learning_records_rehome(
    reorganisation: Reorganisation, *, indexes_deferred: bool = False, steps=None
) -> dict[str, int]:
    """Re-home the learning records of the units `reorganisation` dissolved that are dated
    on or after its effective day (the module's docstring says where each goes). Answers
    the counts for the apply's audit row: registrations, decisions moved (and of those, how
    many had their unit added to their body to stay distinct on their successor),
    eligible totals moved, eligible totals kept on split units, title figures dropped.
    `steps` (the apply's `StepTimer`, optional) is told as each part ends."""
    done = steps.done if steps is not None else (lambda step: None)
    indexes_deferred = indexes_deferred or _indexes_deferred.get()
    counts = dict.fromkeys(
        (
            "learning_registrations",
            "learning_decisions",
            "learning_decisions_qualified",
            "learning_eligible_totals",
            "learning_eligible_totals_kept",
            "learning_title_figures_dropped",
        ),
        0,
    )
    day = reorganisation.effective_on
    dissolved = _dissolved(reorganisation)
    if not dissolved:
        return counts
    first_year = year_dated_from(day)
    marks = ",".join(["%s"] * len(dissolved))
    # With the indexes deferred, the foreign-key triggers are off for this UPDATE too (it
    # writes branch ids it reads from the subjects): at full size the third round re-points
    # some two million registrations, each a deferred check at COMMIT otherwise.
    with _indexes_rebuilt("learning_registration", indexes_deferred), connection.cursor() as cursor:
        # Registrations: to the branch their subject belongs to now (portable SQL).
        cursor.execute(
            f"""UPDATE learning_registration SET branch_id = COALESCE(
                    (SELECT branch_id FROM learning_household s WHERE s.id = learning_registration.household_id),
                    (SELECT branch_id FROM learning_clan s WHERE s.id = learning_registration.clan_id),
                    (SELECT branch_id FROM learning_community s WHERE s.id = learning_registration.community_id),
                    (SELECT branch_id FROM learning_citizen s WHERE s.id = learning_registration.citizen_id),
                    (SELECT branch_id FROM associations_organization s
                        WHERE s.id = learning_registration.organization_id),
                    learning_registration.branch_id)
                WHERE branch_id IN ({marks}) AND registered_on >= %s""",
            [*dissolved, day],
        )
        counts["learning_registrations"] = max(cursor.rowcount, 0)
    done("learning registrations")
    mapping = successors_of(reorganisation, dissolved)
    if mapping:
        counts["learning_decisions"], counts["learning_decisions_qualified"] = _rehome_decisions(day, mapping)
        done("learning decisions")
        kept = totals_kept(reorganisation, dissolved)
        whole = {unit: successor for unit, successor in mapping.items() if unit not in kept}
        counts["learning_eligible_totals"] = eligible_totals_added(first_year, whole)
        counts["learning_eligible_totals_kept"] = EligibleCount.objects.filter(
            branch_id__in=kept, year__gte=first_year
        ).count()
    counts["learning_title_figures_dropped"], _ = TitleFigure.objects.filter(
        branch_id__in=dissolved, year__gte=first_year
    ).delete()
    done("learning eligible totals and figures")
    if any(counts[key] for key in ("learning_registrations", "learning_decisions", "learning_eligible_totals")):
        titles_changed.send(sender=Reorganisation, branch_id=Branch.objects.city_root().pk)
    return counts


def _rehome_decisions(day, mapping: dict[int, int]) -> tuple[int, int]:
    """The decisions of the mapped units dated on or after `day` moved, whole, to their
    successors: their registrations keep them. A moving decision that would meet another on
    its successor with the same recognising body, number and day (two units whose bodies'
    names read alike, "UBND phường") first has the unit it comes from added to its body
    in brackets, as a moved village takes its old unit's name. Answers (moved, qualified)."""
    values = ", ".join(f"({int(u)}, {int(s)})" for u, s in mapping.items())
    decision, branch = Decision._meta.db_table, Branch._meta.db_table
    with connection.cursor() as cursor:
        # The clashing keys by grouping (a moving decision meeting another moving one) and by
        # the successor's own, through the constraint's index: no comparison of every pair.
        cursor.execute(
            f"""WITH m(unit, successor) AS (VALUES {values}),
                moving AS (
                    SELECT d.id, d.branch_id, d.body, d.number, d.decided_on, m.successor FROM {decision} d
                    JOIN m ON m.unit = d.branch_id WHERE d.decided_on >= %s
                ),
                clash AS (
                    SELECT successor, body, number, decided_on FROM moving
                    GROUP BY successor, body, number, decided_on HAVING COUNT(*) > 1
                    UNION
                    SELECT x.successor, x.body, x.number, x.decided_on FROM moving x JOIN {decision} z
                        ON z.branch_id = x.successor AND z.body = x.body AND z.number = x.number
                        AND z.decided_on = x.decided_on
                )
                SELECT x.id, x.body, u.name, u.code, x.successor, x.number, x.decided_on FROM moving x
                JOIN clash k ON k.successor = x.successor AND k.body = x.body AND k.number = x.number
                    AND k.decided_on = x.decided_on
                JOIN {branch} u ON u.id = x.branch_id
                ORDER BY x.id""",
            [day],
        )
        clashes = cursor.fetchall()
        if clashes:  # a few at most: one statement for them all
            cursor.executemany(f"UPDATE {decision} SET body = %s WHERE id = %s", _bodies_qualified(clashes))
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""WITH m(unit, successor) AS (VALUES {values})
                    UPDATE {decision} SET branch_id = m.successor
                    FROM m WHERE {decision}.branch_id = m.unit AND {decision}.decided_on >= %s""",
                [day],
            )
        else:  # the embedded SQLite of `make run`: a small city, one statement per unit
            cursor.executemany(
                f"UPDATE {decision} SET branch_id = %s WHERE branch_id = %s AND decided_on >= %s",
                [(successor, unit, day) for unit, successor in mapping.items()],
            )
        moved = max(cursor.rowcount, 0)  # SQLite sums an executemany's rows
    return moved, len(clashes)


def _bodies_qualified(clashes: list[tuple]) -> list[tuple[str, int]]:
    """(body, id) for each clashing decision (id, body, unit name, unit code, successor,
    number, day): its unit's name in brackets, and its code too where units of the same
    name meet on one successor."""
    max_length = Decision._meta.get_field("body").max_length
    named = Counter((f"{body} ({name})", *key) for _pk, body, name, _code, *key in clashes)
    bodies = []
    for pk, body, name, code, *key in clashes:
        qualified = f"{body} ({name})"
        if named[(qualified, *key)] > 1:
            qualified = f"{body} ({name} {code})"
        bodies.append((qualified[:max_length], pk))
    return bodies


@contextmanager
def _indexes_rebuilt(table: str, rebuild: bool):
    """With `rebuild` on PostgreSQL: the table's plain indexes (not those of a primary key or
    a constraint) dropped for the block and built again after it, and, for a superuser, the
    foreign-key triggers off during the block (the generator's own load does the same; the
    block writes only ids it has just read from the referenced table). The checks already
    pending are run first: PostgreSQL builds no index on a table with pending trigger events.
    Otherwise nothing."""
    if not rebuild or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        (superuser,) = cursor.fetchone()
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    with connection.cursor() as cursor:
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are initially deferred


def eligible_totals_added(first_year: int, mapping: dict[int, int]) -> int:
    """The eligible totals of the mapped units from `first_year` added to their successors'
    (summed per successor, title and year), then deleted from the units. Answers how many
    of the units' totals moved."""
    rows = (
        EligibleCount.objects.filter(branch_id__in=mapping, year__gte=first_year)
        .values_list("branch_id", "kind_id", "year")
        .annotate(total=Sum("count"))
    )
    totals: Counter = Counter()
    for branch, kind, year, total in rows:
        totals[(mapping[branch], kind, year)] += total
    if not totals:
        return 0
    existing = {
        (row.branch_id, row.kind_id, row.year): row
        for row in EligibleCount.objects.filter(branch_id__in={key[0] for key in totals}, year__gte=first_year)
        if (row.branch_id, row.kind_id, row.year) in totals
    }
    moved, _ = EligibleCount.objects.filter(branch_id__in=mapping, year__gte=first_year).delete()
    for key, row in existing.items():
        row.count += totals.pop(key)
    EligibleCount.objects.bulk_update(list(existing.values()), ["count"])
    EligibleCount.objects.bulk_create(
        EligibleCount(branch_id=branch, kind_id=kind, year=year, count=count)
        for (branch, kind, year), count in sorted(totals.items())
    )
    return moved


def learning_rehome_counts(
    reorganisation: Reorganisation, successor_codes: dict[int, list[str]]
) -> dict[int, dict[str, int]]:
    """For the dry run: per unit to dissolve (id → the successor codes its table rows name),
    how many learning registrations, decisions and eligible totals dated on or after the
    effective day the apply re-homes, and how many eligible totals stay on it because its
    records go to more than one successor (the table's and the decisions taken so far)."""
    ids = list(successor_codes)
    result = {pk: dict.fromkeys(LEARNING_COUNT_KEYS, 0) for pk in ids}
    if not ids:
        return result
    day = reorganisation.effective_on
    first_year = year_dated_from(day)
    named: dict[int, set[str]] = {pk: set(codes) for pk, codes in successor_codes.items()}
    for pk, code in (
        ReorganisationDecision.objects.filter(reorganisation=reorganisation, from_branch_id__in=ids)
        .exclude(successor_code="")
        .values_list("from_branch_id", "successor_code")
        .distinct()
    ):
        named[pk].add(code)
    for key, queryset in (
        ("learning_registrations", Registration.objects.filter(branch_id__in=ids, registered_on__gte=day)),
        ("learning_decisions", Decision.objects.filter(branch_id__in=ids, decided_on__gte=day)),
        ("learning_eligible_totals", EligibleCount.objects.filter(branch_id__in=ids, year__gte=first_year)),
    ):
        for pk, n in queryset.order_by().values("branch_id").annotate(n=Count("id")).values_list("branch_id", "n"):
            result[pk][key] = n
    # Kept: a split unit's, and those of a unit whose one successor also takes part of a split unit.
    shared = set().union(*(codes for codes in named.values() if len(codes) > 1))
    for pk, counts in result.items():
        if len(named[pk]) > 1 or named[pk] & shared:
            counts["learning_eligible_totals_kept"] = counts["learning_eligible_totals"]
            counts["learning_eligible_totals"] = 0
    return result
