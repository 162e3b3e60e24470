"""Centres, board seats, staff and activities for the tests: written directly (fast, no audit)
where a test is not about the service, else through the services."""

import datetime

from centres.models import (
    Activity,
    ActivityKind,
    AssociationPost,
    AssociationRole,
    BoardRole,
    Centre,
    CentreBoardSeat,
    CentreStaff,
    FundingSource,
)

FOUNDED = datetime.date(2015, 1, 1)


def centre(branch, name=None, founded_on=FOUNDED, dissolved_on=None, **fields) -> Centre:
    return Centre.objects.create(
        branch=branch,
        name=name or f"Trung tâm học tập cộng đồng {branch.name}",
        founded_on=founded_on,
        dissolved_on=dissolved_on,
        **fields,
    )


def seat(centre, name="Nguyễn Văn An", role=BoardRole.MEMBER, post=AssociationPost.NONE, **fields) -> CentreBoardSeat:
    return CentreBoardSeat.objects.create(
        centre=centre, person_name=name, board_role=role, association_post=post, **fields
    )


def staff(centre, year, name="Trần Thị Bình", takes_part=False, it_trained=False, **fields) -> CentreStaff:
    fields.setdefault("association_role", AssociationRole.EXECUTIVE)
    return CentreStaff.objects.create(
        centre=centre, year=year, person_name=name, takes_part=takes_part, it_trained=it_trained, **fields
    )


def activity(centre, starts_on, *, sessions=4, turns=100, funding=0, kind=ActivityKind.IT, **fields) -> Activity:
    fields.setdefault("title", f"Lớp tin học {starts_on:%d%m%Y}")
    fields.setdefault("ends_on", starts_on)
    return Activity.objects.create(
        centre=centre,
        kind=kind,
        starts_on=starts_on,
        sessions=sessions,
        participant_turns=turns,
        funding=funding,
        funding_source=FundingSource.ASSOCIATION if funding else "",
        **fields,
    )


def plant_for_access_matrix(put, branch, token: str) -> None:
    """The access matrix's centre objects under `branch` (tests/trust/test_access_matrix.py):
    a centre, a board seat, a staff row and an activity, each carrying the side's token."""
    planted = centre(branch, name=f"TTHTCĐ {token}", director_name=f"Giám đốc {token}")
    put("centre", planted, {"pk": planted.pk, "centre_pk": planted.pk})
    put("centre_seat", seat(planted, f"Ủy viên {token}"))
    put("centre_staff", staff(planted, 2024, f"Cán bộ {token}"))
    put("centre_activity", activity(planted, datetime.date(2024, 3, 4), title=f"Lớp {token}", funding=1_000_000))
