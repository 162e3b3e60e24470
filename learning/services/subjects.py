"""Writes to the registers of the subjects of the learning titles: households, clans,
residential communities and citizens (units are associations.Organization: nothing here).

Each type has a single save (the portal's form: create when the object has no pk yet, else
update, audited with the values before and after) and a batch save (an import's chunk,
already checked row by row by its adapter: one query for the branch check, one INSERT of
audit rows, one signal).

Rules, kept here whatever the path (form, import, admin, command):
- a subject belongs to a chapter or a commune-level association of the actor's subtree; a
  residential community (thôn, tổ dân phố) to a commune-level one only;
- a household has at least one person, and no more people of working age than people;
- a citizen's ID passes the member checks (12 digits, province, century; the birth year it
  encodes matches the date of birth) and is held by one citizen at most. When a member holds
  it, the citizen is linked to that member if the member lies in the actor's subtree (a
  member outside it is not linked, and the clerk learns nothing about them). When another
  citizen outside the subtree holds it, the answer says that it is taken, not by whom or
  where, and the lookup is logged (docs/decisions/citizen-id-uniqueness.md).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from associations.access import require_write_in
from associations.audit import audit_record, audit_record_many, diff, snapshot
from associations.models import AuditAction, Branch, BranchLevel, Member
from associations.personal_data import citizen_id_holder
from associations.validators import citizen_id_birth_year
from khuyenhoc.signals import titles_changed
from khuyenhoc.text import search_key
from learning.models import Citizen, Clan, Community, Household

__all__ = [
    "citizen_save",
    "clan_save",
    "community_save",
    "household_save",
    "subjects_save",
]

SUBJECT_LEVELS = frozenset({BranchLevel.CHAPTER, BranchLevel.COMMUNE})
COMMUNITY_LEVELS = frozenset({BranchLevel.COMMUNE})

# The fields a save writes (the batch's bulk_update writes these and the search key).
HOUSEHOLD_FIELDS = ("branch", "head_name", "address", "people", "working_people")
CLAN_FIELDS = ("branch", "name", "representative", "residence", "working_people")
COMMUNITY_FIELDS = ("branch", "name", "households", "working_people")
CITIZEN_FIELDS = ("branch", "full_name", "date_of_birth", "citizen_id", "member", "organization", "household", "clan",
                  "community")  # fmt: skip
_FIELDS = {Household: HOUSEHOLD_FIELDS, Clan: CLAN_FIELDS, Community: COMMUNITY_FIELDS, Citizen: CITIZEN_FIELDS}
# Foreign keys are checked by the branch rule and the citizen-ID rule, not by a query per row.
_NOT_CLEANED = ["branch", "member", "organization", "household", "clan", "community"]


def levels_for(model: type[models.Model]) -> frozenset[str]:
    return COMMUNITY_LEVELS if model is Community else SUBJECT_LEVELS


def branch_level_message(model: type[models.Model]) -> str:
    if model is Community:
        return _("A village or residential group belongs to a commune or ward association.")
    return _("Choose a chapter or a commune or ward association.")


def citizen_taken_elsewhere() -> str:
    """The answer for a citizen ID held by a learning citizen outside the user's subtree: that
    it is taken and what to do, never by whom or where (as `citizen_id_taken_elsewhere`)."""
    return _(
        "This citizen ID is already registered to a learning citizen. If it is the same person, ask the "
        "association above you to move their record; otherwise check the number."
    )


def subject_errors(subject: models.Model) -> dict[str, list[str]]:
    """Every problem of one subject's own values, by field; no query (an import checks each row with it)."""
    errors: dict[str, list[str]] = {}
    try:
        subject.clean_fields(exclude=[*_NOT_CLEANED, "name_search"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if isinstance(subject, Household):
        if "people" not in errors and not subject.people:
            errors.setdefault("people", []).append(_("A household has at least one person."))
        if (
            "people" not in errors
            and "working_people" not in errors
            and (subject.working_people or 0) > (subject.people or 0)
        ):
            errors.setdefault("working_people", []).append(
                _("A household cannot have more people of working age than people.")
            )
    if isinstance(subject, Citizen) and "citizen_id" not in errors and subject.citizen_id and subject.date_of_birth:
        year = citizen_id_birth_year(subject.citizen_id)
        if year != subject.date_of_birth.year:
            errors.setdefault("citizen_id", []).append(
                _("The citizen ID encodes birth year %(year)s, not the date of birth given.") % {"year": year}
            )
    return errors


def _require_branch(*, actor, subject: models.Model) -> None:
    require_write_in(actor, subject.branch)
    if subject.branch.level not in levels_for(type(subject)):
        raise ValidationError({"branch": branch_level_message(type(subject))})


def _link_member(*, actor, citizen: Citizen, current_member_id: int | None) -> None:
    """Refuse an ID another citizen holds; link the member holding it when the actor may see them."""
    citizen.citizen_id = citizen.citizen_id or None
    if citizen.citizen_id is None:
        citizen.member = None
        return
    holder, visible = citizen_id_holder(
        user=actor, citizen_id=citizen.citizen_id, exclude_pk=citizen.pk, holders=Citizen.objects.all()
    )
    if not visible:
        raise ValidationError({"citizen_id": citizen_taken_elsewhere()})
    if holder is not None:
        raise ValidationError(
            {
                "citizen_id": _("This citizen ID is already registered to %(name)s (%(branch)s).")
                % {"name": holder.full_name, "branch": holder.branch.name}
            }
        )
    member = Member.objects.filter(citizen_id=citizen.citizen_id).select_related("branch").first()
    if (
        member is not None
        and member.pk != current_member_id
        and not Member.objects.visible_to(actor).filter(pk=member.pk).exists()
    ):
        member = None  # outside the subtree: not linked, and nothing said about them
    if member is not None and Citizen.objects.filter(member=member).exclude(pk=citizen.pk).exists():
        raise ValidationError({"citizen_id": _("The member holding this citizen ID is already another citizen.")})
    citizen.member = member


def _subject_links_check(*, actor, citizen: Citizen) -> None:
    """Her household, clan and village are ones the actor may see (the form lists only those)."""
    errors = {}
    for field, model in (("household", Household), ("clan", Clan), ("community", Community)):
        linked = getattr(citizen, f"{field}_id")
        if linked is not None and not model.objects.visible_to(actor).filter(pk=linked).exists():
            errors[field] = _("Choose one of your area.")
    if errors:
        raise ValidationError(errors)


def _subject_save(*, actor, subject: models.Model, data: dict) -> models.Model:
    model = type(subject)
    creating = subject.pk is None
    before: dict = {}
    current_member_id = None
    if not creating:
        subject = model.objects.select_for_update().select_related("branch").get(pk=subject.pk)
        require_write_in(actor, subject.branch)  # one may not take a subject from outside one's subtree
        before = snapshot(subject, _FIELDS[model])
        current_member_id = getattr(subject, "member_id", None)
    for field, value in data.items():
        setattr(subject, field, value)
    _require_branch(actor=actor, subject=subject)
    errors = subject_errors(subject)
    if errors:
        raise ValidationError(errors)
    if isinstance(subject, Citizen):
        _link_member(actor=actor, citizen=subject, current_member_id=current_member_id)
        _subject_links_check(actor=actor, citizen=subject)
    subject.full_clean(exclude=["name_search"])  # with the branch: the uniqueness of a community's name in its branch
    subject.save()
    after = snapshot(subject, _FIELDS[model])
    changes = after if creating else diff(before, after)
    if changes:
        audit_record(
            actor=actor,
            obj=subject,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            branch=subject.branch,
            changes=changes,
        )
        titles_changed.send(sender=model, branch_id=subject.branch_id)
    return subject


@transaction.atomic
def household_save(*, actor, household: Household, data: dict) -> Household:
    return _subject_save(actor=actor, subject=household, data=data)


@transaction.atomic
def clan_save(*, actor, clan: Clan, data: dict) -> Clan:
    return _subject_save(actor=actor, subject=clan, data=data)


@transaction.atomic
def community_save(*, actor, community: Community, data: dict) -> Community:
    return _subject_save(actor=actor, subject=community, data=data)


def citizen_save(*, actor, citizen: Citizen, data: dict) -> Citizen:
    """Create or change a citizen; `member` follows the citizen ID (see the module's rules).

    An ID held by a citizen outside the actor's subtree is refused before the transaction
    opens, so that the personal-data log keeps the lookup the refusal rolls back otherwise.
    """
    data = {key: value for key, value in data.items() if key != "member"}
    if data.get("citizen_id"):
        _holder, visible = citizen_id_holder(
            user=actor, citizen_id=data["citizen_id"], exclude_pk=citizen.pk, holders=Citizen.objects.all()
        )
        if not visible:
            raise ValidationError({"citizen_id": citizen_taken_elsewhere()})
    with transaction.atomic():
        return _subject_save(actor=actor, subject=citizen, data=data)


# --- Batches (an import's chunk) --------------------------------------------------------------


def _require_all_in(*, actor, root: Branch, model: type[models.Model], subjects: list) -> None:
    """The actor may write under `root`, and every subject's branch lies in root's subtree at an
    allowed level. The subtree's levels are read once and kept on the root object, which lives
    for one import pass: the chunks after the first cost no query (the query count is pinned)."""
    require_write_in(actor, root)
    levels = getattr(root, "_subject_branch_levels", None)
    if levels is None:
        levels = root._subject_branch_levels = dict(Branch.objects.in_subtree(root).values_list("pk", "level"))
    if not {subject.branch_id for subject in subjects} <= levels.keys():
        raise PermissionDenied
    allowed = levels_for(model)
    if any(levels[subject.branch_id] not in allowed for subject in subjects):
        raise ValidationError(branch_level_message(model))


def _batch_save(
    model: type[models.Model],
    *,
    actor,
    root: Branch,
    create: list,
    update: list,
    created_changes: Callable[[models.Model], dict],
    updated_changes: Callable[[models.Model], dict],
) -> None:
    subjects = [*create, *update]
    _require_all_in(actor=actor, root=root, model=model, subjects=subjects)
    for subject in subjects:
        errors = subject_errors(subject)
        if errors:
            problems = "; ".join(message for messages in errors.values() for message in messages)
            raise ValidationError(f"{subject}: {problems}")
        subject.name_search = search_key(subject.search_text())  # bulk writes skip save()
    if create:
        created = model.objects.bulk_create(create, batch_size=1000)
        audit_record_many(actor=actor, records=created, action=AuditAction.CREATE, changes_of=created_changes)
    if update:
        fields = [f"{name}_id" if name in _NOT_CLEANED else name for name in _FIELDS[model]]
        model.objects.bulk_update(update, [*fields, "name_search"], batch_size=500)
        audit_record_many(actor=actor, records=update, action=AuditAction.UPDATE, changes_of=updated_changes)
    if subjects:
        titles_changed.send(sender=model, branch_id=root.pk)


# savepoint=False: inside an import's transaction a batch is all or nothing with the whole file.
@transaction.atomic(savepoint=False)
def subjects_save(
    *,
    actor,
    model: type[models.Model],
    root: Branch,
    create: list,
    update: list,
    created_changes: Callable[[models.Model], dict],
    updated_changes: Callable[[models.Model], dict],
) -> None:
    """Create and change many households, clans, communities or citizens (`model`), already
    checked row by row by the import: one audit row each, one signal for the batch.

    For citizens, the import decided each one's member link from the citizen ID: a new link
    must be to a member of root's subtree (one query when there are links); a link the
    citizen already had is kept wherever that member now lies."""
    if model is Citizen:
        _citizen_links_check(actor=actor, root=root, citizens=[*create, *update])
    _batch_save(
        model,
        actor=actor,
        root=root,
        create=create,
        update=update,
        created_changes=created_changes,
        updated_changes=updated_changes,
    )


def _citizen_links_check(*, actor, root: Branch, citizens: list[Citizen]) -> None:
    for citizen in citizens:
        citizen.citizen_id = citizen.citizen_id or None
    _require_all_in(actor=actor, root=root, model=Citizen, subjects=citizens)
    links = {citizen.member_id: citizen.pk for citizen in citizens if citizen.member_id}
    if links:
        subtree = root._subject_branch_levels.keys()
        outside = set(Member.objects.filter(pk__in=links).exclude(branch_id__in=subtree).values_list("pk", flat=True))
        if outside:
            kept = set(Citizen.objects.filter(member_id__in=outside).values_list("member_id", "pk"))
            if not {(member_id, links[member_id]) for member_id in outside} <= kept:
                raise PermissionDenied
