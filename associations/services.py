"""Writes to the registry. Each one runs in a transaction and leaves an audit entry in it."""

from __future__ import annotations

import copy
import datetime
import tempfile
from collections.abc import Callable, Collection

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from associations import personal_data
from associations.access import require_write, require_write_in, user_root_branch
from associations.audit import audit_record, audit_record_many, diff, snapshot
from associations.models import (
    HEADCOUNT_COLUMNS,
    AuditAction,
    Branch,
    BranchLevel,
    ExportJob,
    ExportStatus,
    Member,
    Organization,
    OrganizationHeadcount,
    StaffProfile,
)
from khuyenhoc.bulk import bulk_insert
from khuyenhoc.exports import export_build, export_write
from khuyenhoc.signals import branch_moved, registry_changed
from khuyenhoc.text import vietnamese_sort_string


def _save_checked(obj) -> None:
    obj.full_clean()
    obj.save()


def _member_branches(member: Member) -> set[int]:
    """The branches whose figures count a member: their own, and their workplace's (the
    membership indicator counts a member where their organisation is)."""
    branches = {member.branch_id}
    if member.organization_id:
        branches.add(Organization.objects.filter(pk=member.organization_id).values_list("branch_id", flat=True)[0])
    return branches


def _member_announce(branch_ids: set[int], *, from_day: datetime.date | None) -> None:
    for branch_id in sorted(branch_ids):
        registry_changed.send(sender=Member, branch_id=branch_id, from_day=from_day)


def _member_changed_from(old: Member, member: Member, fields: Collection[str]) -> datetime.date:
    """The earliest day whose figures a change of `old` into `member` can move. A member
    counts on a day only from the day they joined (and until the day they left): a change
    of those days alone moves the days from the earliest one that moved; any other change,
    every day the member counted, before or after it."""
    attnames = {field.name: field.attname for field in Member._meta.concrete_fields}
    moved = {
        name for name in fields if getattr(old, attnames.get(name, name)) != getattr(member, attnames.get(name, name))
    }
    if moved - {"joined_on", "left_on"}:
        return min(old.joined_on, member.joined_on)
    days = [day for name in moved for day in (getattr(old, name), getattr(member, name)) if day is not None]
    return min(days, default=member.joined_on)


@transaction.atomic
def member_create(*, actor, data: dict) -> Member:
    member = Member(**data)
    require_write_in(actor, member.branch)
    _save_checked(member)
    audit_record(actor=actor, obj=member, action=AuditAction.CREATE, branch=member.branch, changes=snapshot(member))
    _member_announce(_member_branches(member), from_day=member.joined_on)
    return member


@transaction.atomic
def member_update(*, actor, member: Member, data: dict) -> Member:
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = snapshot(member)
    old = copy.copy(member)
    branches_before = _member_branches(member)
    for field, value in data.items():
        setattr(member, field, value)
    require_write_in(actor, member.branch)
    _save_checked(member)
    changes = diff(before, snapshot(member))
    if changes:
        audit_record(actor=actor, obj=member, action=AuditAction.UPDATE, branch=member.branch, changes=changes)
        _member_announce(
            branches_before | _member_branches(member), from_day=_member_changed_from(old, member, list(data))
        )
    return member


@transaction.atomic
def member_end(*, actor, member: Member, left_on: datetime.date, reason: str = "") -> Member:
    """End a membership: record the day the member left, never delete the row."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.left_on is not None:
        raise ValidationError(
            _("This membership already ended on %(day)s.") % {"day": member.left_on.strftime("%d/%m/%Y")}
        )
    before = snapshot(member)
    member.left_on = left_on
    member.left_reason = reason
    _save_checked(member)
    audit_record(
        actor=actor, obj=member, action=AuditAction.END, branch=member.branch, changes=diff(before, snapshot(member))
    )
    _member_announce(_member_branches(member), from_day=left_on)
    return member


@transaction.atomic
def members_end(*, actor, member_ids: Collection[int], left_on: datetime.date, reason: str) -> int:
    """End the membership of the selected members at once (the list's bulk action): all or nothing.

    Refuses (403) if any selected member lies outside the actor's subtree or the actor may not
    write; refuses (ValidationError, nothing written) if any has already left or joined after
    `left_on`. One UPDATE, one audit row per member, one signal per branch. Returns how many ended.
    """
    require_write(actor)
    ids = {int(pk) for pk in member_ids}
    if not ids:
        raise ValidationError(_("Select at least one member."))
    if not reason.strip():
        raise ValidationError(_("Give the reason the memberships end."))
    members = list(
        Member.objects.visible_to(actor).filter(pk__in=ids).select_related("branch").select_for_update(of=("self",))
    )
    if len(members) != len(ids):
        raise PermissionDenied
    errors = []
    for member in members:
        if member.left_on is not None:
            errors.append(
                _("%(name)s already left on %(day)s.")
                % {"name": member.full_name, "day": member.left_on.strftime("%d/%m/%Y")}
            )
        elif member.joined_on and left_on < member.joined_on:
            errors.append(
                _("%(name)s joined on %(day)s, after the date of leaving.")
                % {"name": member.full_name, "day": member.joined_on.strftime("%d/%m/%Y")}
            )
    if errors:
        raise ValidationError(errors)
    Member.objects.filter(pk__in=ids).update(left_on=left_on, left_reason=reason, updated_at=timezone.now())
    left_label, reason_label = (
        str(Member._meta.get_field("left_on").verbose_name),
        str(Member._meta.get_field("left_reason").verbose_name),
    )
    audit_record_many(
        actor=actor,
        records=members,
        action=AuditAction.END,
        changes_of=lambda member: {
            left_label: [None, left_on.isoformat()],
            reason_label: [member.left_reason or "", reason],
        },
    )
    workplaces = {member.organization_id for member in members if member.organization_id}
    _member_announce(
        {member.branch_id for member in members}
        | set(Organization.objects.filter(pk__in=workplaces).values_list("branch_id", flat=True)),
        from_day=left_on,
    )
    return len(members)


@transaction.atomic
def organization_create(*, actor, data: dict) -> Organization:
    organization = Organization(**data)
    require_write_in(actor, organization.branch)
    _save_checked(organization)
    audit_record(
        actor=actor,
        obj=organization,
        action=AuditAction.CREATE,
        branch=organization.branch,
        changes=snapshot(organization),
    )
    registry_changed.send(sender=Organization, branch_id=organization.branch_id)
    return organization


@transaction.atomic
def organization_update(*, actor, organization: Organization, data: dict) -> Organization:
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    before = snapshot(organization)
    for field, value in data.items():
        setattr(organization, field, value)
    require_write_in(actor, organization.branch)
    _save_checked(organization)
    changes = diff(before, snapshot(organization))
    if changes:
        audit_record(
            actor=actor, obj=organization, action=AuditAction.UPDATE, branch=organization.branch, changes=changes
        )
        registry_changed.send(sender=Organization, branch_id=organization.branch_id)
    return organization


@transaction.atomic
def headcount_set(*, actor, organization: Organization, year: int, counts: dict[str, int]) -> OrganizationHeadcount:
    """Record (or correct) an organisation's headcount for one year."""
    require_write_in(actor, organization.branch)
    headcount, created = OrganizationHeadcount.objects.select_for_update().get_or_create(
        organization=organization, year=year, defaults=counts
    )
    before = {} if created else snapshot(headcount)
    if not created:
        for field, value in counts.items():
            setattr(headcount, field, value)
    _save_checked(headcount)
    changes = diff(before, snapshot(headcount))
    if changes:
        audit_record(
            actor=actor,
            obj=organization,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            branch=organization.branch,
            changes={f"{year}: {key}": value for key, value in changes.items()},
        )
        registry_changed.send(sender=OrganizationHeadcount, branch_id=organization.branch_id)
    return headcount


@transaction.atomic
def branch_create(*, actor, parent: Branch, data: dict) -> Branch:
    """Add a chapter or board under a branch (administrative units come from the map loader)."""
    require_write_in(actor, parent)
    level = data.get("level")
    if level not in {BranchLevel.CHAPTER, BranchLevel.BOARD}:
        raise ValidationError({"level": _("Only chapters and boards can be added here.")})
    parent = Branch.objects.select_for_update().get(pk=parent.pk)
    candidate = Branch(**data)
    candidate.full_clean(exclude=["path", "depth", "numchild"])
    branch = Branch.objects.add_child(parent, instance=candidate)
    audit_record(actor=actor, obj=branch, action=AuditAction.CREATE, branch=branch, changes=snapshot(branch))
    registry_changed.send(sender=Branch, branch_id=branch.pk)
    return branch


@transaction.atomic
def branch_update(*, actor, branch: Branch, data: dict) -> Branch:
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    require_write_in(actor, branch)
    before = snapshot(branch)
    for field, value in data.items():
        setattr(branch, field, value)
    branch.full_clean(exclude=["path", "depth", "numchild"])
    branch.save()
    changes = diff(before, snapshot(branch))
    if changes:
        audit_record(actor=actor, obj=branch, action=AuditAction.UPDATE, branch=branch, changes=changes)
        registry_changed.send(sender=Branch, branch_id=branch.pk)
    return branch


@transaction.atomic
def branch_move(*, actor, branch: Branch, new_parent: Branch) -> Branch:
    """Move a branch (and its subtree) under another parent; both must lie in the actor's subtree."""
    require_write_in(actor, branch)
    require_write_in(actor, new_parent)
    if new_parent.path.startswith(branch.path):
        raise ValidationError(_("A branch cannot be moved under itself or one of its own sub-branches."))
    old_parent = Branch.objects.get_parent(branch)
    Branch.objects.move(branch, new_parent, pos="sorted-child" if Branch.node_order_by else "last-child")
    branch.refresh_from_db()
    branch_moved.send(
        sender=Branch,
        branch_id=branch.pk,
        old_parent_id=old_parent.pk if old_parent else None,
        new_parent_id=new_parent.pk,
    )
    audit_record(
        actor=actor,
        obj=branch,
        action=AuditAction.MOVE,
        branch=branch,
        changes={str(_("parent")): [str(old_parent) if old_parent else None, str(new_parent)]},
    )
    registry_changed.send(sender=Branch, branch_id=branch.pk)
    return branch


@transaction.atomic
def staff_account_create(*, actor, username: str, full_name: str, email: str, branch: Branch, role: str, password: str):
    """A manager creates a staff account attached to a branch of their subtree."""
    require_write_in(actor, branch, manage=True)
    User = get_user_model()
    last_name, _sep, first_name = full_name.strip().partition(" ")
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    profile = StaffProfile.objects.create(user=user, branch=branch, role=role)
    audit_record(actor=actor, obj=profile, action=AuditAction.CREATE, branch=branch, changes=snapshot(profile))
    return profile


@transaction.atomic
def staff_account_update(*, actor, profile, branch: Branch, role: str, is_active: bool):
    """Change a staff account's branch, role or whether it may sign in; never delete it."""
    profile = StaffProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    require_write_in(actor, profile.branch, manage=True)
    require_write_in(actor, branch, manage=True)
    if profile.user_id == actor.pk and (not is_active or role != profile.role or branch != profile.branch):
        raise ValidationError(_("You cannot change your own account's branch, role or access."))
    before = {**snapshot(profile), str(_("may sign in")): profile.user.is_active}
    profile.branch = branch
    profile.role = role
    profile.full_clean()
    profile.save()
    if profile.user.is_active != is_active:
        profile.user.is_active = is_active
        profile.user.save(update_fields=["is_active"])
    after = {**snapshot(profile), str(_("may sign in")): profile.user.is_active}
    changes = diff(before, after)
    if changes:
        audit_record(actor=actor, obj=profile, action=AuditAction.UPDATE, branch=branch, changes=changes)
    return profile


@transaction.atomic
def staff_profile_create(*, actor, user, branch: Branch, role: str) -> StaffProfile:
    """Attach an existing account to a branch (the admin's way; the portal's page creates the
    account and its profile together through `staff_account_create`). Staff are not counted by
    any indicator, so, like the other staff writes, it announces no registry change."""
    require_write_in(actor, branch, manage=True)
    profile = StaffProfile(user=user, branch=branch, role=role)
    profile.full_clean()
    profile.save()
    audit_record(actor=actor, obj=profile, action=AuditAction.CREATE, branch=branch, changes=snapshot(profile))
    return profile


# --- Batches (an import's chunk): the same rules as the forms, for many rows at once ---------


def _require_all_in(*, actor, root: Branch, branch_ids: set[int]) -> None:
    """The actor may write under `root`, and every row's branch lies in root's subtree.

    The subtree's ids are read once and kept on the root object, which lives for one import
    pass: the chunks after the first cost no query (the import's query count is pinned).
    """
    require_write_in(actor, root)
    subtree = getattr(root, "_subtree_ids", None)
    if subtree is None:
        subtree = root._subtree_ids = frozenset(Branch.objects.in_subtree(root).values_list("pk", flat=True))
    if not branch_ids <= subtree:
        raise PermissionDenied


# The columns a batch of new members is written with (created_at takes its database default).
MEMBER_INSERT_FIELDS = (
    "full_name",
    "name_search",
    "name_sort",
    "date_of_birth",
    "gender",
    "citizen_id",
    "phone",
    "address",
    "category",
    "organization",
    "branch",
    "joined_on",
    "left_on",
    "left_reason",
    "updated_at",
)


# savepoint=False: inside an import's transaction a batch is all or nothing with the whole file.
@transaction.atomic(savepoint=False)
def members_save(
    *,
    actor,
    root: Branch,
    create: list[Member],
    update: list[Member],
    update_fields: set[str],
    created_changes: Callable[[Member], dict],
    updated_changes: Callable[[Member], dict],
) -> None:
    """Create and change many members (already checked row by row by the import): one audit
    row each, one signal for the batch."""
    _require_all_in(actor=actor, root=root, branch_ids={m.branch_id for m in (*create, *update)})
    for member in (*create, *update):  # bulk writes skip save(): its sort key, from the name
        member.name_sort = vietnamese_sort_string(member.full_name)
    if create:
        # COPY on PostgreSQL (an import creates up to 200 000 members in one transaction).
        bulk_insert(Member, create, MEMBER_INSERT_FIELDS)
        audit_record_many(actor=actor, records=create, action=AuditAction.CREATE, changes_of=created_changes)
    if update:
        now = timezone.now()
        for member in update:
            member.updated_at = now
        fields = sorted(update_fields | {"name_search", "name_sort", "updated_at"})
        Member.objects.bulk_update(update, fields, batch_size=500)
        audit_record_many(actor=actor, records=update, action=AuditAction.UPDATE, changes_of=updated_changes)
    if create or update:
        registry_changed.send(sender=Member, branch_id=root.pk)


@transaction.atomic(savepoint=False)
def organizations_save(
    *,
    actor,
    root: Branch,
    create: list[Organization],
    update: list[Organization],
    update_fields: set[str],
    headcounts: list[OrganizationHeadcount],
    created_changes: Callable[[Organization], dict],
    updated_changes: Callable[[Organization], dict],
) -> None:
    """Create and change many organisations and their yearly headcounts (a headcount of a new
    organisation is given with `organization` set and saved after it): one audit row per
    organisation, whose changes include its headcount; one signal for the batch."""
    _require_all_in(actor=actor, root=root, branch_ids={o.branch_id for o in (*create, *update)})
    if create:
        created = Organization.objects.bulk_create(create, batch_size=1000)
        audit_record_many(actor=actor, records=created, action=AuditAction.CREATE, changes_of=created_changes)
    if update:
        if update_fields:
            Organization.objects.bulk_update(update, sorted(update_fields | {"name_search"}), batch_size=500)
        audit_record_many(actor=actor, records=update, action=AuditAction.UPDATE, changes_of=updated_changes)
    new_counts = [headcount for headcount in headcounts if headcount.pk is None]
    changed_counts = [headcount for headcount in headcounts if headcount.pk is not None]
    for headcount in new_counts:
        headcount.organization_id = headcount.organization.pk  # saved just above when new
    OrganizationHeadcount.objects.bulk_create(new_counts, batch_size=1000)
    if changed_counts:
        OrganizationHeadcount.objects.bulk_update(changed_counts, list(HEADCOUNT_COLUMNS), batch_size=500)
    if create or update or headcounts:
        registry_changed.send(sender=Organization, branch_id=root.pk)


def _params_plain(params) -> dict:
    """A list's parameters as JSON: {name: [values]} (a QueryDict keeps repeated names, e.g. ids)."""
    if hasattr(params, "lists"):
        return {key: values for key, values in params.lists() if key not in {"csrfmiddlewaretoken", "format"}}
    return {key: value if isinstance(value, list) else [value] for key, value in params.items()}


@transaction.atomic
def export_job_start(*, actor, kind: str, params, total_rows: int = 0, language: str = "vi") -> ExportJob:
    """Record a large list export for the worker (the caller sends associations.tasks.export_job_run on commit)."""
    job = ExportJob.objects.create(
        branch=user_root_branch(actor),
        requested_by=actor,
        kind=kind,
        params=_params_plain(params),
        language=language,
        total_rows=total_rows,
    )
    return job


def export_job_run(*, job_id: int) -> ExportJob:
    """The worker's part: write the export of a job to a file, recording progress as it goes.

    Not one transaction: progress is committed as it is written, so the page can show it.
    """
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if job.status == ExportStatus.DONE:
        return job
    params = QueryDict(mutable=True)
    for key, values in job.params.items():
        params.setlist(key, values)
    export = export_build(job.kind, user=job.requested_by, params=params)
    total = export.queryset.count()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, total_rows=total, done_rows=0)
    if export.personal_kind:
        personal_data.export_record(
            user=job.requested_by, kind=export.personal_kind, params=params, row_count=total, unmasked=export.unmasked
        )
    try:
        with tempfile.TemporaryFile() as spool:
            written = export_write(
                export,
                spool,
                on_progress=lambda rows: ExportJob.objects.filter(pk=job.pk).update(done_rows=rows),
            )
            spool.seek(0)
            job.refresh_from_db()
            job.file.save(export.filename, File(spool), save=False)
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file=job.file.name,
        filename=export.filename,
        done_rows=written,
        total_rows=max(total, written),
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def export_jobs_purge(*, older_than: datetime.timedelta) -> int:
    """Remove the exports (files and rows) requested longer ago than `older_than`; returns how many."""
    cutoff = timezone.now() - older_than
    removed = 0
    for job in ExportJob.objects.filter(requested_at__lt=cutoff).only("pk", "file").iterator(chunk_size=500):
        if job.file:
            job.file.delete(save=False)
        removed += 1
    ExportJob.objects.filter(requested_at__lt=cutoff).delete()
    return removed
