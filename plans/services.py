"""Writes of the plans app: plans and targets (audited), recompute runs, and the debounced
scheduling of a recompute after the registry or the money changes."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_manage, require_write_in, user_root_branch
from associations.audit import audit_record, diff, snapshot
from associations.models import AuditAction, Branch
from learning.services import title_figures_recompute
from plans import scoped, tasks  # tasks call services and services enqueue tasks: modules, not names
from plans.catalogue import catalogue_target_recompute
from plans.indicators import panel_totals_recompute, target_recompute
from plans.models import (
    Indicator,
    IndicatorDefinition,
    IndicatorValue,
    Plan,
    RecomputeRun,
    RunStatus,
    Target,
    TargetMilestone,
)

logger = logging.getLogger(__name__)

# The debounce lock: while it is held, a recompute is scheduled and has not started yet, so a
# further change needs nothing more. The run deletes it when it starts, so a change made
# during a run schedules the next one. In the cache: Redis in production, shared by every
# web process; local memory when embedded (one process) and in tests.
RECOMPUTE_LOCK_KEY = "plans:recompute-scheduled"


def _debounce_seconds() -> int:
    return int(getattr(settings, "PLANS_RECOMPUTE_DEBOUNCE_SECONDS", 60))


def _scoped_debounce_seconds() -> int:
    """The wait before a run after a write: the writes of the same second fold into one run."""
    return int(getattr(settings, "PLANS_SCOPED_RECOMPUTE_DEBOUNCE_SECONDS", 1))


def _scoped_from_day(from_day: datetime.date | None) -> datetime.date | None:
    """The first day a run after a write recomputes: the 1st of January of the write's
    earliest day, so the writes of one year fold into one run (None: every day)."""
    return None if from_day is None else datetime.date(from_day.year, 1, 1)


def _scoped_lock_key(*, branch_id: int, changed: str, from_day: datetime.date | None = None) -> str:
    key = f"{RECOMPUTE_LOCK_KEY}:{changed}:{branch_id}"
    return key if from_day is None else f"{key}:{from_day.year}"


# --- Plans and targets ------------------------------------------------------------------
def plan_is_used(plan: Plan) -> bool:
    """A plan is used once a value has been computed for one of its targets: from then on
    it is versioned, never edited away. (No report is approved against a plan yet: the
    reporting app does not link its reports to plans.)"""
    return plan.pk is not None and IndicatorValue.objects.filter(target__plan=plan).exists()


def _refuse_superseded(plan: Plan) -> None:
    if plan.pk and Plan.objects.filter(previous_version_id=plan.pk).exists():
        raise ValidationError(_("This version of the plan has been replaced by a newer one; edit the newest version."))


def _copy_targets(*, source: Plan, into: Plan) -> dict[int, Target]:
    """Copy every target of `source` (and its milestones) into `into`: {old id: new target}."""
    copies: dict[int, Target] = {}
    for target in source.targets.order_by("position", "id").prefetch_related("milestones"):
        milestones = list(target.milestones.all())
        old_id = target.pk
        target.pk = None
        target.id = None
        target.plan = into
        target.save()
        TargetMilestone.objects.bulk_create(
            TargetMilestone(target=target, year=m.year, percent=m.percent) for m in milestones
        )
        copies[old_id] = target
    return copies


def _new_version(*, actor, old: Plan, changed: Plan | None = None) -> tuple[Plan, dict[int, Target]]:
    """A new version of `old` (with `changed`'s fields when given), its targets copied;
    `old` stays as it was, readable, and leaves the recompute (inactive)."""
    source = changed if changed is not None else Plan.objects.get(pk=old.pk)
    was_active = source.is_active
    new = Plan(
        code=source.code,
        title=source.title,
        issuing_branch=source.issuing_branch,
        issued_on=source.issued_on,
        starts_on=source.starts_on,
        ends_on=source.ends_on,
        is_active=was_active,
        source_note=source.source_note,
        note=source.note,
        version=old.version + 1,
        previous_version=old,
    )
    new.full_clean()
    new.save()
    Plan.objects.filter(pk=old.pk).update(is_active=False)
    copies = _copy_targets(source=old, into=new)
    audit_record(
        actor=actor,
        obj=new,
        action=AuditAction.CREATE,
        branch=new.issuing_branch,
        changes={**snapshot(new), "replaces_version": old.version},
    )
    audit_record(
        actor=actor, obj=old, action=AuditAction.UPDATE, branch=old.issuing_branch, changes={"is_active": [True, False]}
    )
    return new, copies


@transaction.atomic
def plan_save(*, actor, plan: Plan) -> Plan:
    """Create or change a plan after checking it lies in the actor's subtree. A plan already
    used is not changed: the change makes a new version (answered), the old one stays."""
    require_write_in(actor, plan.issuing_branch)
    _refuse_superseded(plan)
    if plan.pk and plan_is_used(plan):
        old = Plan.objects.get(pk=plan.pk)
        require_write_in(actor, old.issuing_branch)
        plan.full_clean(exclude=["issuing_branch", "code"])
        new, _copies = _new_version(actor=actor, old=old, changed=plan)
        transaction.on_commit(recompute_schedule, robust=True)
        return new
    before = snapshot(Plan.objects.get(pk=plan.pk)) if plan.pk else {}
    plan.full_clean()
    plan.save()
    after = snapshot(plan)
    action = AuditAction.UPDATE if before else AuditAction.CREATE
    changes = diff(before, after) if before else after
    if changes:
        audit_record(actor=actor, obj=plan, action=action, branch=plan.issuing_branch, changes=changes)
    return plan


def _catalogue_target_fields(target: Target, milestones: dict[int, object] | None) -> None:
    """A catalogue target's threshold and deadline are its last milestone's (e.g. 2030: 80%
    → 80% by 31/12/2030), so the manager enters the milestones only."""
    if target.indicator or not milestones:
        return
    last_year = max(milestones)
    target.threshold_percent = milestones[last_year]
    target.deadline = datetime.date(last_year, 12, 31)


@transaction.atomic
def target_save(*, actor, target: Target, milestones: dict[int, object] | None = None) -> Target:
    """Create or change a target (and replace its yearly milestones when given). Changing a
    target of a used plan makes a new version of the plan, with the change in its copy of
    the target; the old version keeps its target and values. Answers the target saved."""
    require_write_in(actor, target.root_branch)
    _refuse_superseded(target.plan)
    _catalogue_target_fields(target, milestones)
    if target.pk and plan_is_used(target.plan):
        target.full_clean()
        changed = target
        _new_plan, copies = _new_version(actor=actor, old=Plan.objects.get(pk=target.plan_id))
        copy = copies[changed.pk]
        for field in (
            "indicator",
            "definition",
            "threshold_percent",
            "deadline",
            "root_branch",
            "applies_to_level",
            "organization_kinds",
            "member_categories",
            "position",
        ):
            setattr(copy, field, getattr(changed, field))
        target = copy
        before = snapshot(Target.objects.get(pk=target.pk))
    else:
        before = snapshot(Target.objects.get(pk=target.pk)) if target.pk else {}
    target.full_clean()
    target.save()
    if milestones is not None:
        target.milestones.all().delete()
        TargetMilestone.objects.bulk_create(
            TargetMilestone(target=target, year=year, percent=percent) for year, percent in sorted(milestones.items())
        )
    after = snapshot(target)
    if milestones is not None:
        after["milestones"] = {str(year): str(percent) for year, percent in sorted(milestones.items())}
    action = AuditAction.UPDATE if before else AuditAction.CREATE
    changes = diff(before, after) if before else after
    if changes:
        audit_record(actor=actor, obj=target, action=action, branch=target.root_branch, changes=changes)
    transaction.on_commit(recompute_schedule, robust=True)
    return target


def require_indicator_writer(actor) -> Branch | None:
    """Refuse (403) anyone but a superuser or a manager of the tree's root: indicator
    definitions are shared by every plan of the province. Answers the root the audit rows
    are filed under (None for a superuser with no branch)."""
    if getattr(actor, "is_superuser", False) and actor.is_active:
        require_manage(actor)
        return user_root_branch(actor) or Branch.objects.city_root()
    own = user_root_branch(actor)
    if own is None:
        raise PermissionDenied
    root = Branch.objects.get_root(own)
    require_write_in(actor, root, manage=True)
    return root


@transaction.atomic
def indicator_definition_save(*, actor, definition: IndicatorDefinition) -> IndicatorDefinition:
    """Create an indicator definition, checked against the catalogue. Definitions are shared
    by every plan, so only a manager of the tree's root (or a superuser) writes them; a
    definition a target uses is not changed (make a new one)."""
    root = require_indicator_writer(actor)
    if definition.pk and definition.targets.exists():
        raise ValidationError(_("This indicator is used by a target; create a new indicator instead of changing it."))
    before = snapshot(IndicatorDefinition.objects.get(pk=definition.pk)) if definition.pk else {}
    definition.full_clean()
    definition.save()
    audit_record(
        actor=actor,
        obj=definition,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        branch=root,
        changes=diff(before, snapshot(definition)) if before else snapshot(definition),
    )
    return definition


PLAN_99_CODE = "99/KH-KHHN"
PLAN_99_TITLE = "Đẩy mạnh học tập suốt đời cho người lớn trên địa bàn Thành phố Hà Nội giai đoạn 2017–2020"


_PLAN_99_SOURCE = "Kế hoạch 99/KH-KHHN của Hội Khuyến học Thành phố Hà Nội (2017–2020)"
_PLAN_CATEGORIES = ["party_member", "cadre", "civil_servant", "public_employee", "worker"]
_PLAN_KINDS = ["agency", "public_service", "armed_forces"]
# Plan 99's two indicators in the catalogue's terms (the same rows as migration 0004).
PLAN_99_DEFINITIONS = {
    Indicator.BOARD_COVERAGE: {
        "code": "board-coverage",
        "name": "Cơ quan, đơn vị có ban hoặc chi hội khuyến học",
        "numerator_measure": "registry.organizations_with_board",
        "numerator_filters": {"kinds": _PLAN_KINDS},
        "denominator_measure": "registry.organizations",
        "denominator_filters": {"kinds": _PLAN_KINDS},
        "source": _PLAN_99_SOURCE,
    },
    Indicator.CADRE_MEMBERSHIP: {
        "code": "cadre-membership",
        "name": "Đảng viên, cán bộ, công chức, viên chức, người lao động là hội viên",
        "numerator_measure": "registry.plan_members",
        "numerator_filters": {"categories": _PLAN_CATEGORIES},
        "denominator_measure": "registry.headcount",
        "denominator_filters": {"categories": _PLAN_CATEGORIES},
        "source": _PLAN_99_SOURCE,
    },
}


def _definition_ensure(row: dict) -> IndicatorDefinition:
    row = dict(row)
    definition, _created = IndicatorDefinition.objects.get_or_create(code=row.pop("code"), defaults=row)
    return definition


def plan_99_definitions_ensure() -> dict[str, IndicatorDefinition]:
    """Plan 99's two catalogue definitions, created when missing: {indicator: definition}."""
    return {indicator: _definition_ensure(row) for indicator, row in PLAN_99_DEFINITIONS.items()}


@transaction.atomic
def plan_99_load() -> Plan | None:
    """Plan 99/KH-KHHN of Hanoi's association and its two targets; idempotent.

    Needs the tree's city root "Thành phố Hà Nội"; answers None without it.
    An existing plan or target is left as it is (a manager may have corrected it)."""
    root = Branch.objects.city_root()
    if root is None:
        return None
    plan, created = Plan.objects.get_or_create(
        issuing_branch=root,
        code=PLAN_99_CODE,
        defaults={
            "title": PLAN_99_TITLE,
            "issued_on": datetime.date(2017, 10, 23),
            "starts_on": datetime.date(2017, 1, 1),
            "ends_on": datetime.date(2020, 12, 31),
        },
    )
    if created:
        audit_record(actor=None, obj=plan, action=AuditAction.CREATE, branch=root, changes=snapshot(plan))
    definitions = plan_99_definitions_ensure()
    Target.objects.filter(plan=plan, definition__isnull=True).filter(indicator=Indicator.BOARD_COVERAGE).update(
        definition=definitions[Indicator.BOARD_COVERAGE]
    )
    Target.objects.filter(plan=plan, definition__isnull=True).filter(indicator=Indicator.CADRE_MEMBERSHIP).update(
        definition=definitions[Indicator.CADRE_MEMBERSHIP]
    )
    for position, (indicator, threshold) in enumerate(
        [(Indicator.BOARD_COVERAGE, 70), (Indicator.CADRE_MEMBERSHIP, 60)]
    ):
        target, created = Target.objects.get_or_create(
            plan=plan,
            indicator=indicator,
            defaults={
                "definition": definitions[indicator],
                "threshold_percent": threshold,
                "deadline": datetime.date(2020, 12, 31),
                "root_branch": root,
                "position": position,
                **Target.default_scope(indicator),
            },
        )
        if created:
            audit_record(actor=None, obj=target, action=AuditAction.CREATE, branch=root, changes=snapshot(target))
    return plan


PLAN_291_CODE = "291/KH-UBND"
PLAN_291_TITLE = "Xây dựng xã hội học tập giai đoạn 2021–2030 trên địa bàn thành phố Hà Nội"
PLAN_291_SOURCE = (
    "Nhập từ thông tin công khai về kế hoạch (không phải từ văn bản gốc): bản tóm tắt công khai của "
    "Sở Văn hóa và Thể thao Hà Nội về Kế hoạch 291/KH-UBND của UBND Thành phố. "
    "Xem docs/decisions/plan-291-data.md."
)
# What the plan's note said of the two CDHT targets before their measures existed: replaced
# by `plan_291_load` (and migration 0006) where it is still there.
PLAN_291_CDHT_NOTE_BEFORE = (
    "Hai chỉ tiêu Công dân học tập (trong người lao động của GĐHT/DHHT/CĐHT; trong cán bộ, người lao động "
    "của ĐVHT) chưa tính được: danh mục số đo chỉ đếm danh hiệu theo từng loại, chưa đếm người theo danh "
    "hiệu của gia đình, dòng họ, cộng đồng hay đơn vị của họ, nên hiện “chưa có số đo”."
)
PLAN_291_CDHT_NOTE = (
    "Hai chỉ tiêu Công dân học tập tính theo hộ gia đình, dòng họ, thôn, tổ dân phố và nơi làm việc ghi trên "
    "hồ sơ công dân: công dân không ghi các mục này không được tính."
)
PLAN_291_NOTE = (
    "Kế hoạch do UBND Thành phố ban hành; ghi dưới Hội Khuyến học Thành phố, nơi theo dõi. "
    "Ngày ban hành ghi theo tin công khai (27/12/2021), cần đối chiếu với văn bản. "
    f"{PLAN_291_CDHT_NOTE} "
    "Chỉ tiêu 100% chủ tịch hoặc phó chủ tịch hội cấp xã tham gia ban quản lý trung tâm (Quyết định 387) "
    "không ghi năm; ghi cho cả 2025 và 2030."
)
_TITLE_PAIR = ("learning.recognised", "learning.eligible")
_NOT_EXPRESSIBLE = (
    "Chưa tính được bằng danh mục số đo hiện có: danh hiệu học tập được đếm theo từng loại danh hiệu, "
    "chưa đếm được người theo danh hiệu của gia đình, dòng họ, cộng đồng hay đơn vị của họ. "
    "Hiện “chưa có số đo” cho đến khi có số đo đăng ký dưới mã này."
)  # the two CDHT definitions' description before their measures existed (replaced by plan_291_load)
_COMMUNITY_TITLES = ["gia-dinh-hoc-tap", "dong-ho-hoc-tap", "cong-dong-hoc-tap"]
_CDHT_IN_COMMUNITIES = (
    "Công dân được công nhận Công dân học tập trong năm có hộ gia đình, dòng họ hoặc thôn, tổ dân phố (ghi trên "
    "hồ sơ công dân) được công nhận Gia đình, Dòng họ hoặc Cộng đồng học tập trong năm, trên số người trong độ "
    "tuổi lao động của các hộ, dòng họ, thôn, tổ dân phố đó. Mỗi người được tính một lần cho mỗi hộ, dòng họ, "
    "thôn, tổ dân phố có danh hiệu mà người đó thuộc về; tính ở nơi danh hiệu được công nhận."
)
_CDHT_IN_UNITS = (
    "Công dân được công nhận Công dân học tập trong năm có nơi làm việc (ghi trên hồ sơ công dân) được công nhận "
    "Đơn vị học tập trong năm, trên tổng số cán bộ, người lao động theo số liệu biên chế năm gần nhất của các "
    "đơn vị đó; tính ở nơi danh hiệu được công nhận."
)
# (definition, {year: percent}, level each branch of which must reach it; "" = the city as a whole)
PLAN_291_TARGETS = [
    (
        {
            "code": "title-rate-gdht",
            "name": "Tỷ lệ hộ gia đình đạt danh hiệu Gia đình học tập",
            "numerator_measure": _TITLE_PAIR[0],
            "numerator_filters": {"title": ["gia-dinh-hoc-tap"]},
            "denominator_measure": _TITLE_PAIR[1],
            "denominator_filters": {"title": ["gia-dinh-hoc-tap"]},
            "description": "Được công nhận trong năm trên tổng số đủ điều kiện (tổng số hộ đã nhập).",
        },
        {2025: 70, 2030: 80},
        "",
    ),
    (
        {
            "code": "title-rate-dhht",
            "name": "Tỷ lệ dòng họ đạt danh hiệu Dòng họ học tập",
            "numerator_measure": _TITLE_PAIR[0],
            "numerator_filters": {"title": ["dong-ho-hoc-tap"]},
            "denominator_measure": _TITLE_PAIR[1],
            "denominator_filters": {"title": ["dong-ho-hoc-tap"]},
            "description": "Được công nhận trong năm trên tổng số đủ điều kiện.",
        },
        {2025: 65, 2030: 75},
        "",
    ),
    (
        {
            "code": "title-rate-cdht",
            "name": "Tỷ lệ thôn, tổ dân phố đạt danh hiệu Cộng đồng học tập",
            "numerator_measure": _TITLE_PAIR[0],
            "numerator_filters": {"title": ["cong-dong-hoc-tap"]},
            "denominator_measure": _TITLE_PAIR[1],
            "denominator_filters": {"title": ["cong-dong-hoc-tap"]},
            "description": "Được công nhận trong năm trên tổng số đủ điều kiện.",
        },
        {2025: 65, 2030: 75},
        "",
    ),
    (
        {
            "code": "title-rate-dvht",
            "name": "Tỷ lệ cơ quan, đơn vị đạt danh hiệu Đơn vị học tập",
            "numerator_measure": _TITLE_PAIR[0],
            "numerator_filters": {"title": ["don-vi-hoc-tap"]},
            "denominator_measure": _TITLE_PAIR[1],
            "denominator_filters": {"title": ["don-vi-hoc-tap"]},
            "description": (
                "Được công nhận trong năm trên tổng số đủ điều kiện (hoặc số cơ quan, đơn vị đang hoạt động)."
            ),
        },
        {2025: 80, 2030: 90},
        "",
    ),
    (
        {
            "code": "cdht-among-workers-of-titled-families",
            "name": "Người lao động trong GĐHT, DHHT, CĐHT đạt danh hiệu Công dân học tập",
            "numerator_measure": "learning.citizens_recognised_in_titled_communities",
            "numerator_filters": {"title": _COMMUNITY_TITLES},
            "denominator_measure": "learning.workers_in_titled_communities",
            "denominator_filters": {"title": _COMMUNITY_TITLES},
            "description": _CDHT_IN_COMMUNITIES,
        },
        {2025: 40, 2030: 60},
        "",
    ),
    (
        {
            "code": "cdht-among-staff-of-titled-units",
            "name": "Cán bộ, người lao động của Đơn vị học tập đạt danh hiệu Công dân học tập",
            "numerator_measure": "learning.citizens_recognised_in_titled_units",
            "numerator_filters": {"title": ["don-vi-hoc-tap"]},
            "denominator_measure": "learning.staff_of_titled_units",
            "denominator_filters": {"title": ["don-vi-hoc-tap"]},
            "description": _CDHT_IN_UNITS,
        },
        {2025: 60, 2030: 80},
        "",
    ),
    (
        {
            "code": "centre-staff-taking-part-trained",
            "name": (
                "Cán bộ hội cấp xã tham gia hoạt động trung tâm học tập cộng đồng và được bồi dưỡng công nghệ thông tin"
            ),
            "numerator_measure": "centres.staff_taking_part_trained",
            "denominator_measure": "centres.staff_total",
        },
        {2025: 40, 2030: 70},
        "",
    ),
    (
        {
            "code": "centre-chairs-on-board",
            "name": (
                "Hội khuyến học cấp xã có chủ tịch hoặc phó chủ tịch tham gia ban quản lý trung tâm học tập cộng đồng"
            ),
            "numerator_measure": "centres.chairs_on_board",
            "denominator_measure": "centres.commune_associations",
            "description": "Quyết định 387/QĐ-TTg.",
        },
        {2025: 100, 2030: 100},
        "commune",
    ),
]


@transaction.atomic
def plan_291_load() -> Plan | None:
    """Hanoi's Plan 291/KH-UBND (2021–2030) and its eight targets, entered from public
    reporting of the plan (source noted on the plan and in docs/decisions/plan-291-data.md);
    idempotent. Needs the city root; answers None without it. Targets on measures the
    catalogue does not have yet are loaded all the same and shown "not available"."""
    root = Branch.objects.city_root()
    if root is None:
        return None
    plan = Plan.objects.filter(issuing_branch=root, code=PLAN_291_CODE).order_by("-version").first()
    if plan is None:
        plan = Plan.objects.create(
            issuing_branch=root,
            code=PLAN_291_CODE,
            title=PLAN_291_TITLE,
            issued_on=datetime.date(2021, 12, 27),
            starts_on=datetime.date(2021, 1, 1),
            ends_on=datetime.date(2030, 12, 31),
            source_note=PLAN_291_SOURCE,
            note=PLAN_291_NOTE,
        )
        audit_record(actor=None, obj=plan, action=AuditAction.CREATE, branch=root, changes=snapshot(plan))
    elif plan.targets.exists():
        plan_291_cdht_refresh(plan=plan)
        return plan
    for position, (row, milestones, level) in enumerate(PLAN_291_TARGETS):
        definition = _definition_ensure({**row, "unit": "percent", "source": PLAN_291_SOURCE})
        last_year = max(milestones)
        target = Target.objects.create(
            plan=plan,
            definition=definition,
            threshold_percent=milestones[last_year],
            deadline=datetime.date(last_year, 12, 31),
            root_branch=root,
            applies_to_level=level,
            position=position,
        )
        TargetMilestone.objects.bulk_create(
            TargetMilestone(target=target, year=year, percent=percent) for year, percent in sorted(milestones.items())
        )
        audit_record(actor=None, obj=target, action=AuditAction.CREATE, branch=root, changes=snapshot(target))
    return plan


def plan_291_cdht_refresh(*, plan: Plan) -> None:
    """Where Plan 291 was loaded before the CDHT measures existed: its two CDHT definitions
    (same measure codes, so they compute now) get their description and title filters, and
    the plan's note loses the sentence saying they cannot be computed. Only text still as it
    was loaded is replaced: a manager's own wording is kept. Idempotent."""
    fields = ("description", "numerator_filters", "denominator_filters")
    for row, _milestones, _level in PLAN_291_TARGETS:
        if row.get("description") not in (_CDHT_IN_COMMUNITIES, _CDHT_IN_UNITS):
            continue
        definition = IndicatorDefinition.objects.filter(code=row["code"], description=_NOT_EXPRESSIBLE).first()
        if definition is not None:
            before = snapshot(definition, fields)
            for name in fields:
                setattr(definition, name, row[name])
            definition.save(update_fields=list(fields))
            audit_record(
                actor=None,
                obj=definition,
                action=AuditAction.UPDATE,
                branch=plan.issuing_branch,
                changes=diff(before, snapshot(definition, fields)),
            )
    if PLAN_291_CDHT_NOTE_BEFORE in plan.note:
        before = {"note": plan.note}
        plan.note = plan.note.replace(PLAN_291_CDHT_NOTE_BEFORE, PLAN_291_CDHT_NOTE)
        plan.save(update_fields=["note"])
        audit_record(
            actor=None,
            obj=plan,
            action=AuditAction.UPDATE,
            branch=plan.issuing_branch,
            changes=diff(before, {"note": plan.note}),
        )


# --- Recomputing --------------------------------------------------------------------------
def indicators_recompute_all(*, today: datetime.date | None = None) -> int:
    """Compute and store every target of every active plan, then the dashboard's money and
    scholarship panels (yearly totals per branch) and the learning titles' figures (per
    branch, title and year); answers the number of rows written."""
    today = today or timezone.localdate()
    computed_at = timezone.now()
    written = 0
    targets = Target.objects.filter(plan__is_active=True).select_related("plan", "root_branch", "definition")
    trees = scoped.Trees(today)  # each day's tree read once for every Plan 99 target of the run
    for target in targets:
        if target.is_catalogue:
            written += catalogue_target_recompute(target=target, today=today, computed_at=computed_at)
        else:
            written += target_recompute(target=target, today=today, computed_at=computed_at, trees=trees)
    written += panel_totals_recompute()
    written += title_figures_recompute()
    return written


def _scoped_run_execute(run: RecomputeRun, *, from_day: datetime.date | None = None) -> RecomputeRun:
    """Run a recompute scoped to a branch (plans.scoped), of the stored dates from `from_day`
    (None: every date). A city-wide run started after it was requested already includes its
    change: it is then marked done without work."""
    try:
        cache.delete(_scoped_lock_key(branch_id=run.branch_id, changed=run.changed, from_day=from_day))
    except Exception:  # the cache being down must not stop the computation
        logger.warning("plans: could not release the scoped recompute lock", exc_info=True)
    if run.status == RunStatus.DONE:  # delivered twice: the work is done
        return run
    now = timezone.now()
    superseded = RecomputeRun.objects.filter(
        branch__isnull=True, status__in=[RunStatus.RUNNING, RunStatus.DONE], started_at__gte=run.requested_at
    ).exists()
    if superseded:
        RecomputeRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, started_at=now, finished_at=now)
        run.refresh_from_db()
        return run
    RecomputeRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=now, error="")
    try:
        written = scoped.scoped_recompute(
            branch=run.branch, changed=run.changed, since=run.requested_at, from_day=from_day
        )
    except BaseException as error:
        RecomputeRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    RecomputeRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, finished_at=timezone.now(), rows_written=written
    )
    run.refresh_from_db()
    return run


def recompute_run_execute(
    *, run_id: int | None, trigger: str = RecomputeRun.Trigger.NIGHTLY, from_day: datetime.date | None = None
) -> RecomputeRun:
    """Run a recompute, claiming every run still waiting (their changes are included now).
    A run scoped to a branch (after one write) recomputes only that branch's subtree and
    ancestors, at the stored dates from `from_day` (None: every date), and claims nothing;
    a city-wide run claims the scoped runs still waiting too."""
    if run_id is not None:
        scoped_run = RecomputeRun.objects.filter(pk=run_id, branch__isnull=False).select_related("branch").first()
        if scoped_run is not None:
            return _scoped_run_execute(scoped_run, from_day=from_day)
    try:
        cache.delete(RECOMPUTE_LOCK_KEY)
    except Exception:  # the cache being down must not stop the computation
        logger.warning("plans: could not release the recompute lock", exc_info=True)
    now = timezone.now()
    if run_id is None:
        run = RecomputeRun.objects.create(trigger=trigger, status=RunStatus.RUNNING, started_at=now)
    else:
        run = RecomputeRun.objects.filter(pk=run_id).first()
        if run is None:  # e.g. a task left in the broker by a database that has since been reset
            run = RecomputeRun.objects.create(trigger=trigger, status=RunStatus.RUNNING, started_at=now)
        elif run.status == RunStatus.DONE:  # delivered twice: the work is done
            return run
    claimed = [*RecomputeRun.objects.filter(status=RunStatus.PENDING).values_list("pk", flat=True), run.pk]
    RecomputeRun.objects.filter(pk__in=claimed).update(status=RunStatus.RUNNING, started_at=now, error="")
    try:
        written = indicators_recompute_all()
    except BaseException as error:
        RecomputeRun.objects.filter(pk__in=claimed).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    RecomputeRun.objects.filter(pk__in=claimed).update(
        status=RunStatus.DONE, finished_at=timezone.now(), rows_written=written
    )
    run.refresh_from_db()
    return run


def recompute_pending_execute() -> RecomputeRun | None:
    """Run a recompute when a run has waited past its debounce: one recorded while Redis or
    the worker was down. Every few minutes (the beat schedule), so a change saved during an
    outage is computed soon after Redis is back, not only at night. Runs waiting within
    their debounce are left to the task already queued for them."""
    waited_since = timezone.now() - datetime.timedelta(seconds=_debounce_seconds() + 60)
    if not RecomputeRun.objects.filter(status=RunStatus.PENDING, requested_at__lt=waited_since).exists():
        return None
    return recompute_run_execute(run_id=None, trigger=RecomputeRun.Trigger.CHANGE)


def _enqueue(run: RecomputeRun, *, countdown: int = 0, from_day: datetime.date | None = None) -> bool:
    """Hand the run to Celery; when the broker is unreachable, leave it pending for the next run."""
    kwargs = {"run_id": run.pk} if from_day is None else {"run_id": run.pk, "from_day": from_day.isoformat()}
    try:
        tasks.indicators_recompute.apply_async(kwargs=kwargs, countdown=countdown)
    except Exception:
        logger.warning("plans: could not enqueue recompute run %s; it stays pending", run.pk, exc_info=True)
        return False
    return True


def recompute_schedule() -> RecomputeRun | None:
    """After a committed change: schedule one recompute in PLANS_RECOMPUTE_DEBOUNCE_SECONDS,
    unless one is already scheduled and not started. Never raises: saving must not fail
    because Redis or the worker is down; a pending run is then left for the nightly run."""
    delay = _debounce_seconds()
    try:
        scheduled_now = cache.add(RECOMPUTE_LOCK_KEY, "1", timeout=delay + 600)
    except Exception:
        logger.warning("plans: cache unreachable, recording a pending recompute", exc_info=True)
        if RecomputeRun.objects.filter(status=RunStatus.PENDING).exists():
            return None
        return RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.CHANGE, error="cache unreachable")
    if not scheduled_now:
        return None
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.CHANGE)
    _enqueue(run, countdown=delay)
    return run


def recompute_schedule_scoped(
    *, branch_id: int, changed: str, from_day: datetime.date | None = None
) -> RecomputeRun | None:
    """After a committed write of kind `changed` ("registry" or "money") in `branch_id`'s
    subtree that can change the figures from `from_day` on (None: on any day): schedule a
    run of that subtree and its ancestors, at the stored dates from the 1st of January of
    `from_day`'s year, in PLANS_SCOPED_RECOMPUTE_DEBOUNCE_SECONDS (1 s), unless one for the
    same branch, kind and first date is scheduled and not started (the task carries the
    first date, so a run never leaves out a date a write it folds in can change). The
    city's root, an unknown kind or a branch not in force today get the city-wide schedule.
    Never raises: when the cache is down a pending run is recorded (the city-wide one, as
    `recompute_schedule` does); when the broker is down the scoped run stays pending, and
    the next city-wide run (every few minutes) includes it."""
    branch = Branch.objects.filter(pk=branch_id).first()
    today = timezone.localdate()
    if (
        changed not in scoped.CHANGED_KINDS
        or branch is None
        or branch.depth <= 1
        or (branch.founded_on is not None and branch.founded_on > today)
        or (branch.dissolved_on is not None and branch.dissolved_on <= today)
    ):
        return recompute_schedule()
    delay = _scoped_debounce_seconds()
    from_day = _scoped_from_day(from_day)
    try:
        # A short life: a run lost with its broker message holds back the next writes' runs
        # for at most half a minute (a duplicate run, should the queue be slower, is harmless).
        scheduled_now = cache.add(
            _scoped_lock_key(branch_id=branch_id, changed=changed, from_day=from_day), "1", timeout=delay + 30
        )
    except Exception:
        logger.warning("plans: cache unreachable, recording a pending recompute", exc_info=True)
        return recompute_schedule()
    if not scheduled_now:
        return None
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.CHANGE, branch=branch, changed=changed)
    _enqueue(run, countdown=delay, from_day=from_day)
    return run


def recompute_request(*, actor) -> RecomputeRun:
    """A manager's "recompute now": a run enqueued right after commit, without waiting."""
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.MANUAL, requested_by=actor)
    transaction.on_commit(lambda: _enqueue(run), robust=True)
    return run
