"""Writes to the community learning centres: centres, board seats, association staff and
activities. Rules at the top of `centres/models.py`.

Every write checks `require_write_in` on the centre's commune branch first, writes its audit
row in the same transaction and sends `centres_changed` (khuyenhoc/signals.py). The checks of
a record's own values (`*_errors`) make no query, so that the workbook import checks every
row with them and names every problem of a row at once.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in, user_root_branch
from associations.audit import audit_record, audit_record_many, diff, snapshot
from associations.models import AuditAction, Branch, BranchLevel, Member
from centres.models import (
    MAX_FUNDING,
    MAX_YEAR,
    MIN_YEAR,
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
from khuyenhoc.signals import centres_changed
from khuyenhoc.text import clean_text

__all__ = [
    "activities_record",
    "activity_create",
    "activity_errors",
    "activity_void",
    "board_seat_create",
    "board_seat_update",
    "centre_create",
    "centre_update",
    "centres_create_for_communes",
    "staff_create",
    "staff_update",
]

CENTRE_FIELDS = (
    "branch",
    "name",
    "address",
    "decision_number",
    "decision_date",
    "director_name",
    "director_position",
    "founded_on",
    "dissolved_on",
)
SEAT_FIELDS = ("person_name", "board_role", "association_post", "member", "from_on", "to_on")
STAFF_FIELDS = ("year", "person_name", "member", "association_role", "takes_part", "it_trained")
ACTIVITY_FIELDS = (
    "kind",
    "title",
    "starts_on",
    "ends_on",
    "sessions",
    "participant_turns",
    "instructors",
    "instructor_names",
    "funding",
    "funding_source",
)
CENTRE_NAME_PREFIX = "Trung tâm học tập cộng đồng"  # the name a centre created for a commune is given


def _announce(sender, branch_id: int) -> None:
    centres_changed.send(sender=sender, branch_id=branch_id)


def _day(value: datetime.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


# --- Centres ---------------------------------------------------------------------------------


def centre_errors(centre: Centre) -> dict[str, list[str]]:
    """Problems of a centre's own values; no query."""
    errors: dict[str, list[str]] = {}
    if not clean_text(centre.name or ""):
        errors.setdefault("name", []).append(_("Give the centre's name."))
    if centre.founded_on and centre.dissolved_on and centre.dissolved_on <= centre.founded_on:
        errors.setdefault("dissolved_on", []).append(_("The centre must be dissolved after the day it was founded."))
    today = timezone.localdate()
    if centre.founded_on and centre.founded_on > today:
        errors.setdefault("founded_on", []).append(_("The date of founding cannot be in the future."))
    if centre.decision_date and centre.decision_date > today:
        errors.setdefault("decision_date", []).append(_("The decision's date cannot be in the future."))
    return errors


def _overlapping(centre: Centre):
    """The commune's other centres whose dates meet this one's (dates as in `Centre.active_on`)."""
    others = Centre.objects.filter(branch_id=centre.branch_id).exclude(pk=centre.pk)
    if centre.dissolved_on is not None:
        others = others.filter(Q(founded_on__isnull=True) | Q(founded_on__lt=centre.dissolved_on))
    if centre.founded_on is not None:
        others = others.filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=centre.founded_on))
    return others


def _check_centre(*, actor, centre: Centre) -> None:
    branch = Branch.objects.select_for_update().get(pk=centre.branch_id)  # one writer per commune at a time
    require_write_in(actor, branch)
    if branch.level != BranchLevel.COMMUNE:
        raise ValidationError({"branch": _("A community learning centre belongs to a commune or ward association.")})
    errors = centre_errors(centre)
    if errors:
        raise ValidationError(errors)
    other = _overlapping(centre).order_by("founded_on").first()
    if other is not None:
        raise ValidationError(
            _(
                "%(commune)s already has an active centre over these dates: %(centre)s (from %(start)s%(end)s). "
                "A commune has one centre at a time: set the day the other one was dissolved first."
            )
            % {
                "commune": branch.name,
                "centre": other.name,
                "start": _day(other.founded_on) or "—",
                "end": _(" to %(day)s") % {"day": _day(other.dissolved_on)} if other.dissolved_on else "",
            }
        )


def _centre_values(centre: Centre, data: dict) -> None:
    for field in CENTRE_FIELDS:
        if field in data:
            value = data[field]
            setattr(centre, field, clean_text(value) if isinstance(value, str) else value)


@transaction.atomic
def centre_create(*, actor, branch: Branch, data: dict) -> Centre:
    """A centre for the commune `branch`; refused when another of its centres is active over the same dates."""
    centre = Centre(branch=branch)
    _centre_values(centre, {key: value for key, value in data.items() if key != "branch"})
    _check_centre(actor=actor, centre=centre)
    centre.save()
    audit_record(actor=actor, obj=centre, action=AuditAction.CREATE, branch=branch, changes=snapshot(centre))
    _announce(Centre, branch.pk)
    return centre


@transaction.atomic
def centre_update(*, actor, centre: Centre, data: dict) -> Centre:
    """Change a centre's details or dates (its commune stays: a centre never moves)."""
    centre = Centre.objects.select_for_update().get(pk=centre.pk)
    require_write_in(actor, centre.branch)
    before = snapshot(centre)
    _centre_values(centre, {key: value for key, value in data.items() if key != "branch"})
    _check_centre(actor=actor, centre=centre)
    centre.save()
    changes = diff(before, snapshot(centre))
    if changes:
        audit_record(actor=actor, obj=centre, action=AuditAction.UPDATE, branch=centre.branch, changes=changes)
        _announce(Centre, centre.branch_id)
    return centre


@transaction.atomic
def centres_create_for_communes(*, actor, as_of: datetime.date, root: Branch | None = None) -> int:
    """One centre, founded on `as_of`, for every commune branch active on `as_of` (of `root`'s
    subtree) that has no centre active on that day or after it. Set-based: one query finds the
    communes, one INSERT writes the centres, one their audit rows; running it again creates
    nothing. A centre of a commune already dissolved later ends with it.

    `actor` None is the system (the command, the demo); a user must be allowed to write under
    `root` (default: their own branch). Answers how many centres were created."""
    if actor is not None:
        root = root or user_root_branch(actor)
        if root is None and not getattr(actor, "is_superuser", False):
            raise PermissionDenied
        if root is not None:
            require_write_in(actor, root)
    communes = Branch.objects.active_on(as_of).filter(level=BranchLevel.COMMUNE)
    if root is not None:
        communes = communes.in_subtree(root)
    covered = Centre.objects.filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=as_of)).values("branch_id")
    found = list(communes.exclude(pk__in=covered).order_by("path").values_list("pk", "name", "dissolved_on", "path"))
    if not found:
        return 0
    created = Centre.objects.bulk_create(
        [
            Centre(branch_id=pk, name=f"{CENTRE_NAME_PREFIX} {name}", founded_on=as_of, dissolved_on=dissolved_on)
            for pk, name, dissolved_on, _path in found
        ],
        batch_size=1000,
    )
    audit_record_many(
        actor=actor,
        records=created,
        action=AuditAction.CREATE,
        changes_of=lambda centre: snapshot(centre, ("name", "founded_on", "dissolved_on")),  # no query per row
    )
    if root is not None:
        _announce(Centre, root.pk)
    else:  # the system: every tree (map) that got centres
        tops = {path[: Branch.steplen] for *_rest, path in found}
        for top in Branch.objects.filter(path__in=tops).values_list("pk", flat=True):
            _announce(Centre, top)
    return len(created)


# --- People: the board and the association's staff -------------------------------------------


def _check_member(*, actor, centre: Centre, member: Member | None) -> None:
    """A linked member belongs to the centre's commune (its subtree) and is one the actor may see."""
    if member is None:
        return
    if not Member.objects.visible_to(actor).in_subtree(centre.branch).filter(pk=member.pk).exists():
        raise ValidationError({"member": _("Choose a member of this commune's association.")})


def seat_errors(seat: CentreBoardSeat) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not clean_text(seat.person_name or ""):
        errors.setdefault("person_name", []).append(_("Give the person's full name."))
    if seat.board_role not in BoardRole.values:
        errors.setdefault("board_role", []).append(_("Choose a position on the board from the list."))
    if seat.association_post not in AssociationPost.values:
        errors.setdefault("association_post", []).append(_("Choose a post in the association from the list."))
    if seat.from_on and seat.to_on and seat.to_on <= seat.from_on:
        errors.setdefault("to_on", []).append(_("A person leaves the board after the day they joined it."))
    return errors


def _save_person(*, actor, centre: Centre, obj, fields, data: dict, errors_of, creating: bool):
    require_write_in(actor, centre.branch)
    before = {} if creating else snapshot(obj, fields)
    for field in fields:
        if field in data:
            value = data[field]
            setattr(obj, field, clean_text(value) if isinstance(value, str) else value)
    errors = errors_of(obj)
    if errors:
        raise ValidationError(errors)
    _check_member(actor=actor, centre=centre, member=obj.member)
    obj.save()
    after = snapshot(obj, fields)
    changes = after if creating else diff(before, after)
    if changes:
        audit_record(
            actor=actor,
            obj=obj,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            branch=centre.branch,
            changes=changes,
        )
        _announce(type(obj), centre.branch_id)
    return obj


@transaction.atomic
def board_seat_create(*, actor, centre: Centre, data: dict) -> CentreBoardSeat:
    seat = CentreBoardSeat(centre=centre)
    return _save_person(
        actor=actor, centre=centre, obj=seat, fields=SEAT_FIELDS, data=data, errors_of=seat_errors, creating=True
    )


@transaction.atomic
def board_seat_update(*, actor, seat: CentreBoardSeat, data: dict) -> CentreBoardSeat:
    seat = CentreBoardSeat.objects.select_for_update(of=("self",)).select_related("centre__branch").get(pk=seat.pk)
    return _save_person(
        actor=actor, centre=seat.centre, obj=seat, fields=SEAT_FIELDS, data=data, errors_of=seat_errors, creating=False
    )


def staff_errors(staff: CentreStaff) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not clean_text(staff.person_name or ""):
        errors.setdefault("person_name", []).append(_("Give the person's full name."))
    if staff.association_role not in AssociationRole.values:
        errors.setdefault("association_role", []).append(_("Choose a role in the association from the list."))
    if staff.year is None or not MIN_YEAR <= staff.year <= MAX_YEAR:
        errors.setdefault("year", []).append(
            _("The year must lie between %(min)d and %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR}
        )
    elif staff.year > timezone.localdate().year:
        errors.setdefault("year", []).append(_("The year cannot be in the future."))
    return errors


def _check_staff_once(staff: CentreStaff) -> None:
    if (
        staff.member_id
        and CentreStaff.objects.filter(centre_id=staff.centre_id, year=staff.year, member_id=staff.member_id)
        .exclude(pk=staff.pk)
        .exists()
    ):
        raise ValidationError({"member": _("This member is already on the centre's staff list for that year.")})


@transaction.atomic
def staff_create(*, actor, centre: Centre, data: dict) -> CentreStaff:
    staff = CentreStaff(centre=centre)

    def errors_of(obj):
        errors = staff_errors(obj)
        if not errors:
            _check_staff_once(obj)
        return errors

    return _save_person(
        actor=actor, centre=centre, obj=staff, fields=STAFF_FIELDS, data=data, errors_of=errors_of, creating=True
    )


@transaction.atomic
def staff_update(*, actor, staff: CentreStaff, data: dict) -> CentreStaff:
    staff = CentreStaff.objects.select_for_update(of=("self",)).select_related("centre__branch").get(pk=staff.pk)

    def errors_of(obj):
        errors = staff_errors(obj)
        if not errors:
            _check_staff_once(obj)
        return errors

    return _save_person(
        actor=actor, centre=staff.centre, obj=staff, fields=STAFF_FIELDS, data=data, errors_of=errors_of, creating=False
    )


# --- Activities ------------------------------------------------------------------------------


def activity_errors(activity: Activity, centre: Centre | None = None) -> dict[str, list[str]]:
    """Every problem of one activity's own values, by field; no query. With its `centre`, also
    whether the centre was active on the day the activity started."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not clean_text(activity.title or ""):
        add("title", _("Give the class or topic."))
    if activity.kind not in ActivityKind.values:
        add("kind", _("Choose a kind of activity from the list."))
    today = timezone.localdate()
    if activity.starts_on and activity.starts_on > today:
        add("starts_on", _("An activity is recorded once it has started: the start date cannot be in the future."))
    if activity.starts_on and activity.ends_on and activity.ends_on < activity.starts_on:
        add("ends_on", _("The activity cannot end before it starts."))
    if activity.sessions is not None and activity.sessions < 1:
        add("sessions", _("An activity has at least one session."))
    if activity.participant_turns is not None and activity.participant_turns < 1:
        add("participant_turns", _("An activity has at least one participant-turn."))
    if activity.instructors is not None and activity.instructors < 0:
        add("instructors", _("The number of instructors cannot be negative."))
    if activity.funding is None or activity.funding < 0:
        add("funding", _("The funding is a whole number of đồng, 0 or more."))
    elif activity.funding > MAX_FUNDING:
        add("funding", _("This amount is too large to be right."))
    elif activity.funding > 0 and not activity.funding_source:
        add("funding_source", _("Say where the funding came from."))
    if activity.funding_source and activity.funding_source not in FundingSource.values:
        add("funding_source", _("Choose a source of funding from the list."))
    if centre is not None and activity.starts_on and not centre.is_active_on(activity.starts_on):
        add(
            "starts_on",
            _("The centre %(centre)s was not active on %(day)s.")
            % {"centre": centre.name, "day": _day(activity.starts_on)},
        )
    return errors


def _activity_changes(activity: Activity) -> dict:
    return snapshot(activity, ACTIVITY_FIELDS)


def activity_clean_values(activity: Activity) -> None:
    activity.title = clean_text(activity.title or "")
    activity.instructor_names = clean_text(activity.instructor_names or "")
    if activity.funding is None:
        activity.funding = 0
    if activity.instructors is None:
        activity.instructors = 0
    if not activity.funding:
        activity.funding_source = ""


# savepoint=False: inside an import's transaction a batch is all or nothing with the whole file.
@transaction.atomic(savepoint=False)
def activities_record(*, actor, root: Branch, activities: list[Activity]) -> list[Activity]:
    """Record many activities of centres of `root`'s subtree (an import's chunk, already
    checked row by row; the form's single activity is a batch of one): the same checks, one
    query for their centres, one INSERT, one INSERT of audit rows, one signal."""
    require_write_in(actor, root)
    if not activities:
        return []
    centres = {
        centre.pk: centre
        for centre in Centre.objects.in_subtree(root).filter(pk__in={activity.centre_id for activity in activities})
    }
    for activity in activities:
        centre = centres.get(activity.centre_id)
        if centre is None:
            raise PermissionDenied
        activity_clean_values(activity)
        errors = activity_errors(activity, centre)
        if errors:
            problems = "; ".join(message for messages in errors.values() for message in messages)
            raise ValidationError(f"{activity.title}: {problems}")
        activity.created_by = actor if getattr(actor, "is_authenticated", False) else None
    created = Activity.objects.bulk_create(activities, batch_size=1000)
    for activity in created:
        activity.branch_id = centres[activity.centre_id].branch_id  # the audit row's branch
    audit_record_many(actor=actor, records=created, action=AuditAction.CREATE, changes_of=_activity_changes)
    _announce(Activity, root.pk)
    return created


@transaction.atomic
def activity_create(*, actor, centre: Centre, data: dict) -> Activity:
    """One activity of `centre`: a batch of one through `activities_record`; errors by field."""
    require_write_in(actor, centre.branch)
    activity = Activity(centre=centre, **{key: value for key, value in data.items() if key in ACTIVITY_FIELDS})
    activity_clean_values(activity)
    errors = activity_errors(activity, centre)
    if errors:
        raise ValidationError(errors)
    return activities_record(actor=actor, root=centre.branch, activities=[activity])[0]


@transaction.atomic
def activity_void(*, actor, activity: Activity, reason: str) -> Activity:
    """Void an activity with a reason: the row stays, and no longer counts in any figure."""
    reason = clean_text(reason or "")
    if not reason:
        raise ValidationError({"reason": _("Give the reason for voiding.")})
    activity = Activity.objects.select_for_update(of=("self",)).select_related("centre__branch").get(pk=activity.pk)
    branch = activity.centre.branch
    require_write_in(actor, branch)
    if activity.is_voided:
        raise ValidationError(_("This record was already voided."))
    activity.voided_at = timezone.now()
    activity.voided_by = actor if getattr(actor, "is_authenticated", False) else None
    activity.void_reason = reason[:500]
    activity.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit_record(
        actor=actor,
        obj=activity,
        action=AuditAction.VOID,
        branch=branch,
        changes={str(Activity._meta.get_field("void_reason").verbose_name): activity.void_reason},
    )
    _announce(Activity, branch.pk)
    return activity
