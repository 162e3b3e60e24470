"""The centres' measures in the catalogue (khuyenhoc/measures.py), registered by
CentresConfig.ready(). Each answers the own figure of every commune branch of `root`'s
subtree in one query, keyed by the commune the centre belongs to.

Rules decided where the texts are silent:
- an activity counts in the period its start date falls in (a class that runs across 30/06
  counts in the first half-year, wholly); voided activities never count;
- "chairs on the board" (numerator of Decision 387/QĐ-TTg's and Plan 291/KH-UBND's 100%
  target) counts, at a date D, the commune branches active on D whose centre active on D has
  on its board on D a person who is the commune association's chair or vice-chair: 1 per
  commune however many such seats; its denominator, "commune associations", counts the
  commune branches active on D (with or without a centre);
- the staff measures (the 40% → 70% target) count the staff rows of the year of the end
  date: all of them, and those who both take part in the centre's work and are trained in
  information technology.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from associations.models import Branch, BranchLevel
from centres.models import CHAIR_POSTS, Activity, ActivityKind, Centre, CentreBoardSeat, CentreStaff
from khuyenhoc.measures import Measure, Timing, Unit

KIND_FILTER = {"kinds": (_("Kinds of activity"), ActivityKind.choices)}


def _activities(root: Branch, start: datetime.date | None, end: datetime.date, filters: Mapping[str, list[str]]):
    activities = Activity.objects.valid().in_subtree(root).filter(starts_on__lte=end)
    if start is not None:
        activities = activities.filter(starts_on__gte=start)
    if filters.get("kinds"):
        activities = activities.filter(kind__in=filters["kinds"])
    return activities.order_by().values("centre__branch_id")


def _by_branch(rows, field: str = "figure") -> dict[int, int]:
    return {row["centre__branch_id"]: int(row[field] or 0) for row in rows if row[field]}


def activities_count(*, root, start, end, filters) -> dict[int, int]:
    return _by_branch(_activities(root, start, end, filters).annotate(figure=Count("id")))


def sessions_sum(*, root, start, end, filters) -> dict[int, int]:
    return _by_branch(_activities(root, start, end, filters).annotate(figure=Sum("sessions")))


def participant_turns_sum(*, root, start, end, filters) -> dict[int, int]:
    return _by_branch(_activities(root, start, end, filters).annotate(figure=Sum("participant_turns")))


def funding_sum(*, root, start, end, filters) -> dict[int, int]:
    return _by_branch(_activities(root, start, end, filters).annotate(figure=Sum("funding")))


def centres_active(*, root, start, end, filters) -> dict[int, int]:
    rows = Centre.objects.in_subtree(root).active_on(end).order_by().values("branch_id").annotate(figure=Count("id"))
    return {row["branch_id"]: row["figure"] for row in rows}


def _communes(root: Branch, day: datetime.date):
    return Branch.objects.in_subtree(root).active_on(day).filter(level=BranchLevel.COMMUNE).order_by()


def chairs_on_board(*, root, start, end, filters) -> dict[int, int]:
    seats = (
        CentreBoardSeat.objects.active_on(end)
        .filter(
            association_post__in=CHAIR_POSTS,
            centre__in=Centre.objects.active_on(end).order_by().values("pk"),
            centre__branch__in=_communes(root, end).values("pk"),
        )
        .order_by()
        .values_list("centre__branch_id", flat=True)
        .distinct()
    )
    return dict.fromkeys(seats, 1)


def commune_associations(*, root, start, end, filters) -> dict[int, int]:
    return dict.fromkeys(_communes(root, end).values_list("pk", flat=True), 1)


def _staff(root: Branch, end: datetime.date):
    return CentreStaff.objects.in_subtree(root).filter(year=end.year).order_by().values("centre__branch_id")


def staff_taking_part_trained(*, root, start, end, filters) -> dict[int, int]:
    rows = _staff(root, end).annotate(figure=Count("id", filter=Q(takes_part=True, it_trained=True)))
    return _by_branch(rows)


def staff_total(*, root, start, end, filters) -> dict[int, int]:
    return _by_branch(_staff(root, end).annotate(figure=Count("id")))


SOURCE_ACTIVITIES = _("Community learning centres: activities")
SOURCE_CENTRES = _("Community learning centres")

MEASURES = (
    Measure(
        code="centres.activities",
        label=_("Centre activities (classes and topics)"),
        source=SOURCE_ACTIVITIES,
        unit=Unit.COUNT,
        timing=Timing.OVER_PERIOD,
        compute=activities_count,
        filters=KIND_FILTER,
        description=_("Activities that started in the period, not voided."),
    ),
    Measure(
        code="centres.sessions",
        label=_("Sessions held at the centres"),
        source=SOURCE_ACTIVITIES,
        unit=Unit.COUNT,
        timing=Timing.OVER_PERIOD,
        compute=sessions_sum,
        filters=KIND_FILTER,
    ),
    Measure(
        code="centres.participant_turns",
        label=_("Participant-turns at the centres"),
        source=SOURCE_ACTIVITIES,
        unit=Unit.TURNS,
        timing=Timing.OVER_PERIOD,
        compute=participant_turns_sum,
        filters=KIND_FILTER,
    ),
    Measure(
        code="centres.funding",
        label=_("Funding of the centres' activities"),
        source=SOURCE_ACTIVITIES,
        unit=Unit.DONG,
        timing=Timing.OVER_PERIOD,
        compute=funding_sum,
        filters=KIND_FILTER,
    ),
    Measure(
        code="centres.centres",
        label=_("Community learning centres"),
        source=SOURCE_CENTRES,
        unit=Unit.COUNT,
        timing=Timing.AT_DATE,
        compute=centres_active,
        description=_("Centres active on the date."),
    ),
    Measure(
        code="centres.chairs_on_board",
        label=_("Communes whose association chair or vice-chair sits on the centre's board"),
        source=SOURCE_CENTRES,
        unit=Unit.COUNT,
        timing=Timing.AT_DATE,
        compute=chairs_on_board,
        description=_("Numerator of the 100% target of Decision 387/QĐ-TTg and Plan 291/KH-UBND."),
    ),
    Measure(
        code="centres.commune_associations",
        label=_("Commune associations"),
        source=_("Registry: branches"),
        unit=Unit.COUNT,
        timing=Timing.AT_DATE,
        compute=commune_associations,
        description=_("Commune and ward associations active on the date: the denominator of the chairs on boards."),
    ),
    Measure(
        code="centres.staff_taking_part_trained",
        label=_("Commune association staff taking part in the centre and trained in IT"),
        source=SOURCE_CENTRES,
        unit=Unit.PEOPLE,
        timing=Timing.AT_DATE,
        compute=staff_taking_part_trained,
        description=_("Staff of the year of the date. Numerator of the 40%→70% target of Plan 291/KH-UBND."),
    ),
    Measure(
        code="centres.staff_total",
        label=_("Commune association staff"),
        source=SOURCE_CENTRES,
        unit=Unit.PEOPLE,
        timing=Timing.AT_DATE,
        compute=staff_total,
        description=_("Staff recorded for the year of the date: the denominator of the staff trained."),
    ),
)
