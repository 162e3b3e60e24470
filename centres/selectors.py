"""Reads of the centres' pages: the list with its counts, a centre's board, staff and activities."""

from __future__ import annotations

import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from associations.models import Branch
from centres import measures
from centres.models import CHAIR_POSTS, Activity, Centre, CentreBoardSeat


def _count_of(queryset: QuerySet):
    """COUNT(*) of `queryset` (correlated on the centre) as a scalar subquery: the list's counts
    of two relations cannot be joined at once without multiplying each other."""
    counted = queryset.order_by().values("centre").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def centres_listed(user, *, day: datetime.date, year: int, branch: Branch | None = None) -> QuerySet:
    """The centres the user may see (within `branch` when given), each with its board's size and
    whether the commune association's chair or vice-chair sits on it (on `day`), and its
    activities that started in `year`: one query for a page, whatever the data's size."""
    seats = CentreBoardSeat.objects.active_on(day).filter(centre=OuterRef("pk"))
    activities = Activity.objects.valid().filter(centre=OuterRef("pk"), starts_on__year=year)
    centres = Centre.objects.visible_to(user)
    if branch is not None:
        centres = centres.in_subtree(branch)
    return (
        centres.select_related("branch")
        .annotate(
            board_size=_count_of(seats),
            chair_on_board=Exists(seats.filter(association_post__in=CHAIR_POSTS)),
            activities_in_year=_count_of(activities),
        )
        .order_by("branch__path", "-founded_on", "id")
    )


def activity_years(centre: Centre) -> list[int]:
    """The years the centre's activities started in, newest first (for the year filter)."""
    return sorted({day.year for day in centre.activities.order_by().dates("starts_on", "year")}, reverse=True)


def targets_of(root: Branch, day: datetime.date) -> dict:
    """The two targets of Plan 291/KH-UBND for `root`'s subtree on `day`, from the catalogue's
    measures: communes whose association chair or vice-chair sits on the centre's board (of
    the commune associations), and staff of the day's year taking part and trained in IT (of
    all staff recorded). Four queries."""
    figures = {
        key: sum(compute(root=root, start=None, end=day, filters={}).values())
        for key, compute in (
            ("chairs", measures.chairs_on_board),
            ("communes", measures.commune_associations),
            ("trained", measures.staff_taking_part_trained),
            ("staff", measures.staff_total),
        )
    }
    figures["chairs_percent"] = round(100 * figures["chairs"] / figures["communes"]) if figures["communes"] else None
    figures["trained_percent"] = round(100 * figures["trained"] / figures["staff"]) if figures["staff"] else None
    return figures
