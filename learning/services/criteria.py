"""Criteria as data, versioned: a title's criteria sets, their criteria and their levels.

Rules written here:
- A criteria set is shared by every branch of the province, so only those who manage the
  whole tree change it: a superuser, or a manager whose own branch is the root of the tree
  (the city). A manager of a district or a commune is refused (403), like any other role.
- A frozen set (one an evaluation has used, `frozen_at` set by `evaluation_record`) is never
  changed: the change is made on a new version (`criteria_set_new_version`), and the
  evaluations already recorded keep the version, criteria and total they were scored with.
  The set's row is locked while it is changed, and the evaluation freezes it with an UPDATE
  on the same row, so an edit and a first evaluation cannot cross.
- Criterion codes are unique in a set; levels lie within 0..the set's total points and do
  not overlap; the pass mark is at most the total. A set may be saved without criteria as a
  draft (no evaluation can use it: `evaluation_record` refuses a set without criteria).
"""

from __future__ import annotations

from itertools import pairwise

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from associations.access import require_manage, require_write_in, user_root_branch
from associations.audit import audit_record, diff, snapshot
from associations.models import AuditAction, Branch
from khuyenhoc.text import clean_text
from learning.models import MAX_YEAR, MIN_YEAR, CriteriaSet, Criterion, Level, Registration, SubjectType, TitleKind

__all__ = ["criteria_set_new_version", "criteria_set_save", "title_kind_errors", "title_kind_save"]

CRITERIA_SET_AUDIT_FIELDS = [
    "kind",
    "version",
    "name",
    "document_number",
    "document_date",
    "issuer",
    "valid_from",
    "valid_to",
    "pass_points",
    "placeholder",
    "previous",
]
CRITERION_FIELDS = ("group", "code", "text", "max_points", "ordering")
LEVEL_FIELDS = ("name", "min_points", "max_points")


def require_criteria_writer(actor) -> Branch | None:
    """Refuse (403) anyone but a superuser or a manager of the tree's root; return the root
    (the branch the audit rows are filed under), None for a superuser."""
    if getattr(actor, "is_superuser", False) and actor.is_active:
        require_manage(actor)
        return None
    own = user_root_branch(actor)
    if own is None:
        raise PermissionDenied
    root = Branch.objects.get_root(own)
    require_write_in(actor, root, manage=True)
    return root


def _criteria_text(criteria: list[dict]) -> list[str]:
    return [f"{c['code']}. {c['text']} ({c['max_points']})" for c in criteria]


def _levels_text(levels: list[dict]) -> list[str]:
    return [f"{level['name']} {level['min_points']}–{level['max_points']}" for level in levels]


def _as_rows(values: list[dict], fields: tuple[str, ...], defaults: dict) -> list[dict]:
    rows = []
    for value in values:
        row = {field: value.get(field, defaults.get(field)) for field in fields}
        if value.get("id") is not None:
            row["id"] = value["id"]
        rows.append(row)
    return rows


def _check_points(value, label: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(_("%(label)s must be a whole number of points, zero or more.") % {"label": label})
    return value


def _validate(criteria_set: CriteriaSet, criteria: list[dict], levels: list[dict]) -> None:
    errors: list[str] = []
    if criteria_set.kind_id is None:
        errors.append(_("Choose the title the criteria are for."))
    if not clean_text(criteria_set.name):
        errors.append(_("Give the criteria set a name."))
    if not MIN_YEAR <= (criteria_set.valid_from or 0) <= MAX_YEAR:
        errors.append(_("The first year must lie between %(low)d and %(high)d.") % {"low": MIN_YEAR, "high": MAX_YEAR})
    if criteria_set.valid_to is not None and criteria_set.valid_to < (criteria_set.valid_from or 0):
        errors.append(_("The last year cannot come before the first year."))
    seen: set[str] = set()
    for criterion in criteria:
        code = clean_text(criterion["code"])
        if not code:
            errors.append(_("Every criterion needs a number."))
        elif code in seen:
            errors.append(_("Two criteria are numbered %(code)s: each number is used once.") % {"code": code})
        seen.add(code)
        if not clean_text(criterion["text"]):
            errors.append(_("Criterion %(code)s has no text.") % {"code": code})
        points = _check_points(criterion["max_points"], _("The maximum points of criterion %(code)s") % {"code": code})
        if points == 0:
            errors.append(_("Criterion %(code)s must be worth at least one point.") % {"code": code})
    total = sum(criterion["max_points"] for criterion in criteria)
    pass_points = _check_points(criteria_set.pass_points, _("The points to pass"))
    if criteria and pass_points > total:
        errors.append(
            _("The points to pass (%(pass)d) cannot exceed the total of the criteria (%(total)d).")
            % {"pass": pass_points, "total": total}
        )
    ranges = []
    for level in levels:
        name = clean_text(level["name"])
        if not name:
            errors.append(_("Every level needs a name."))
        low = _check_points(level["min_points"], _("The lower bound of level %(name)s") % {"name": name})
        high = _check_points(level["max_points"], _("The upper bound of level %(name)s") % {"name": name})
        if low > high:
            errors.append(_("Level %(name)s: its lower bound is above its upper bound.") % {"name": name})
        elif high > total:
            errors.append(
                _("Level %(name)s goes up to %(high)d points, above the total of the criteria (%(total)d).")
                % {"name": name, "high": high, "total": total}
            )
        ranges.append((low, high, name))
    ranges.sort()
    for (_low, high, name), (next_low, _next_high, next_name) in pairwise(ranges):
        if next_low <= high:
            errors.append(_("Levels %(a)s and %(b)s overlap.") % {"a": name, "b": next_name})
    if errors:
        raise ValidationError(errors)


def _replace_rows(model, criteria_set: CriteriaSet, rows: list[dict], fields: tuple[str, ...]) -> None:
    """Make the set's rows of `model` exactly `rows`: a row with an id of this set is changed,
    one without is added, the others are deleted (allowed: an unfrozen set has no scores)."""
    existing = {row.pk: row for row in model.objects.filter(criteria_set=criteria_set)}
    keep, create = [], []
    for values in rows:
        row = existing.get(values.get("id"))
        if values.get("id") is not None and row is None:
            raise ValidationError(_("A criterion or level given belongs to another criteria set."))
        if row is None:
            create.append(model(criteria_set=criteria_set, **{field: values[field] for field in fields}))
        else:
            for field in fields:
                setattr(row, field, values[field])
            keep.append(row)
    kept_ids = {row.pk for row in keep}
    model.objects.filter(criteria_set=criteria_set).exclude(pk__in=kept_ids).delete()
    if keep:
        model.objects.bulk_update(keep, list(fields))
    if create:
        model.objects.bulk_create(create)


@transaction.atomic
def criteria_set_save(
    *,
    actor,
    criteria_set: CriteriaSet,
    criteria: list[dict] | None = None,
    levels: list[dict] | None = None,
) -> CriteriaSet:
    """Create a criteria set, or change one not yet used, with (when given) its whole list of
    criteria and of levels.

    `criteria`: dicts with code, text, max_points and optionally group, ordering and id (an
    existing criterion of this set to change; the set's criteria not listed are removed).
    `levels`: dicts with name, min_points, max_points and optionally id. None keeps the
    current ones. A new set takes the next free version number of its title.
    """
    root = require_criteria_writer(actor)
    created = criteria_set.pk is None
    if created:
        before, before_criteria, before_levels = {}, [], []
        criteria_set.frozen_at = None
        latest = CriteriaSet.objects.filter(kind=criteria_set.kind_id).aggregate(v=Max("version"))["v"]
        criteria_set.version = (latest or 0) + 1
    else:
        stored = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
        if stored.is_frozen:
            raise ValidationError(
                _(
                    "The criteria set %(set)s has been used by an evaluation since %(day)s and can no longer be "
                    "changed: make a new version of it."
                )
                % {"set": stored, "day": stored.frozen_at.strftime("%d/%m/%Y")}
            )
        criteria_set.frozen_at = None
        before = snapshot(stored, CRITERIA_SET_AUDIT_FIELDS)
        before_criteria = list(stored.criteria.order_by("ordering", "id").values(*CRITERION_FIELDS))
        before_levels = list(stored.levels.order_by("-min_points").values(*LEVEL_FIELDS))
    for field in ("name", "document_number", "issuer"):
        setattr(criteria_set, field, clean_text(getattr(criteria_set, field)))

    criterion_rows = (
        before_criteria if criteria is None else _as_rows(criteria, CRITERION_FIELDS, {"group": "", "ordering": 0})
    )
    for index, row in enumerate(criterion_rows):
        row["code"], row["text"], row["group"] = (clean_text(row[key]) for key in ("code", "text", "group"))
        if criteria is not None and not row.get("ordering"):
            row["ordering"] = index + 1
    level_rows = before_levels if levels is None else _as_rows(levels, LEVEL_FIELDS, {})
    for row in level_rows:
        row["name"] = clean_text(row["name"])
    _validate(criteria_set, criterion_rows, level_rows)

    try:
        with transaction.atomic():
            criteria_set.save()
    except IntegrityError as error:
        # The only constraint Python does not check first: one set per title and version.
        raise ValidationError(
            _("%(title)s already has a criteria set numbered version %(version)d.")
            % {"title": criteria_set.kind, "version": criteria_set.version}
        ) from error
    if criteria is not None:
        _replace_rows(Criterion, criteria_set, criterion_rows, CRITERION_FIELDS)
    if levels is not None:
        _replace_rows(Level, criteria_set, level_rows, LEVEL_FIELDS)

    changes = diff(before, snapshot(criteria_set, CRITERIA_SET_AUDIT_FIELDS))
    after_criteria = _criteria_text(criterion_rows)
    if _criteria_text(before_criteria) != after_criteria:
        changes[str(_("criteria"))] = [_criteria_text(before_criteria), after_criteria]
    after_levels = _levels_text(level_rows)
    if _levels_text(before_levels) != after_levels:
        changes[str(_("levels"))] = [_levels_text(before_levels), after_levels]
    if created or changes:
        audit_record(
            actor=actor,
            obj=criteria_set,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            branch=root,
            changes=changes,
        )
    return criteria_set


@transaction.atomic
def criteria_set_new_version(*, actor, criteria_set: CriteriaSet) -> CriteriaSet:
    """Copy a set with its criteria and levels as its next version: same title, document and
    years, not frozen, editable. From then on it is the one in force for those years (the
    latest version wins); evaluations already recorded keep the old one."""
    root = require_criteria_writer(actor)
    old = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
    newer = CriteriaSet.objects.filter(previous=old).first()
    if newer is not None:
        raise ValidationError(
            _("%(set)s already has a newer version (%(newer)s): change or copy that one.")
            % {"set": old, "newer": newer}
        )
    latest = CriteriaSet.objects.filter(kind=old.kind_id).aggregate(v=Max("version"))["v"]
    new = CriteriaSet.objects.create(
        kind_id=old.kind_id,
        version=latest + 1,
        name=old.name,
        document_number=old.document_number,
        document_date=old.document_date,
        issuer=old.issuer,
        valid_from=old.valid_from,
        valid_to=old.valid_to,
        pass_points=old.pass_points,
        placeholder=old.placeholder,
        previous=old,
    )
    Criterion.objects.bulk_create(
        [
            Criterion(criteria_set=new, **{field: getattr(c, field) for field in CRITERION_FIELDS})
            for c in old.criteria.order_by("ordering", "id")
        ]
    )
    Level.objects.bulk_create(
        [
            Level(criteria_set=new, **{field: getattr(level, field) for field in LEVEL_FIELDS})
            for level in old.levels.all()
        ]
    )
    audit_record(
        actor=actor,
        obj=new,
        action=AuditAction.CREATE,
        branch=root,
        changes={str(_("copied from")): str(old), **snapshot(new, CRITERIA_SET_AUDIT_FIELDS)},
    )
    return new


TITLE_KIND_FIELDS = ["code", "name", "abbreviation", "subject_type", "ordering", "active"]


def title_kind_errors(kind: TitleKind) -> dict[str, str]:
    """What is wrong with a title as given (the admin's form shows the same): a name, a valid
    subject type, and, once registered, the same subject type as before."""
    errors = {}
    if not clean_text(kind.name):
        errors["name"] = _("Give the title a name.")
    if kind.subject_type not in SubjectType.values:
        errors["subject_type"] = _("Choose what the title is awarded to.")
    elif (
        kind.pk is not None
        and TitleKind.objects.filter(pk=kind.pk).exclude(subject_type=kind.subject_type).exists()
        and Registration.objects.filter(kind_id=kind.pk).exists()
    ):
        errors["subject_type"] = _("This title already has registrations: what it is awarded to can no longer change.")
    return errors


@transaction.atomic
def title_kind_save(*, actor, kind: TitleKind) -> TitleKind:
    """Create or change a learning title (a province adds its own, e.g. "Cơ sở tôn giáo học
    tập", awarded to units). Who may: as for criteria sets. A title already registered keeps
    what it is awarded to: its registrations point at subjects of that type."""
    root = require_criteria_writer(actor)
    kind.name = clean_text(kind.name)
    errors = title_kind_errors(kind)
    if errors:
        raise ValidationError(errors)
    kind.full_clean()
    if kind.pk is None:
        kind.save()
        audit_record(actor=actor, obj=kind, action=AuditAction.CREATE, branch=root, changes=snapshot(kind))
        return kind
    stored = TitleKind.objects.select_for_update().get(pk=kind.pk)
    before = snapshot(stored, TITLE_KIND_FIELDS)
    kind.save()
    changes = diff(before, snapshot(kind, TITLE_KIND_FIELDS))
    if changes:
        audit_record(actor=actor, obj=kind, action=AuditAction.UPDATE, branch=root, changes=changes)
    return kind
