"""Plans and their targets, the indicator values Celery stores for every branch, and the
record of each recompute run.

A target's threshold is a percentage with two decimals (`Decimal(5, 2)`: 70.00 means 70%).
Scope lists (organisation kinds, member categories) are JSON lists of choice values, so they
work on SQLite as well as PostgreSQL; `Target.clean()` checks every value against its choices.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import BooleanField, Case, Q, Value, When
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin, subtree_path, user_root_branch
from associations.models import (
    PLAN_MEMBER_CATEGORIES,
    PLAN_ORGANIZATION_KINDS,
    Branch,
    BranchLevel,
    OrganizationKind,
)
from khuyenhoc import measures as catalogue


class Indicator(models.TextChoices):
    BOARD_COVERAGE = "board_coverage", _("Organisations with a learning-promotion board or chapter")
    CADRE_MEMBERSHIP = (
        "cadre_membership",
        _("Party members, cadres, civil servants, public employees and workers who are members"),
    )


class IndicatorUnit(models.TextChoices):
    PERCENT = "percent", _("Percentage (numerator over denominator)")
    VALUE = "value", _("Plain value")


class IndicatorDefinition(models.Model):
    """An indicator as data: a measure of the catalogue (khuyenhoc.measures) over another, or
    a plain value, each with its scope filters ({key: [values]}, keys the measure accepts).

    `clean()` checks the codes and filters against the catalogue as it is now; a definition
    saved earlier whose measure has since left the catalogue (or is not registered yet) is
    shown "not available" by the dashboard, never an error (plans.catalogue)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=300)
    numerator_measure = models.CharField(_("numerator (measure)"), max_length=80)
    numerator_filters = models.JSONField(_("numerator filters"), default=dict, blank=True)
    denominator_measure = models.CharField(
        _("denominator (measure)"),
        max_length=80,
        blank=True,
        default="",
        help_text=_("Leave empty for a plain value."),
    )
    denominator_filters = models.JSONField(_("denominator filters"), default=dict, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=IndicatorUnit.choices, default=IndicatorUnit.PERCENT)
    description = models.TextField(_("description"), blank=True, default="")
    source = models.TextField(_("source"), blank=True, default="", help_text=_("Where the definition comes from."))
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("indicator definition")
        verbose_name_plural = _("indicator definitions")
        ordering = ["name", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(unit__in=["percent", "value"]), name="indicatordefinition_unit_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def parts(self) -> list[tuple[str, str, dict]]:
        """[(role, measure code, filters)]: the numerator, then the denominator when there is one."""
        parts = [("numerator", self.numerator_measure, self.numerator_filters or {})]
        if self.denominator_measure:
            parts.append(("denominator", self.denominator_measure, self.denominator_filters or {}))
        return parts

    def missing_measures(self) -> list[str]:
        """The codes this definition names that the catalogue does not have (now)."""
        missing = []
        for _role, code, _filters in self.parts():
            try:
                catalogue.measure(code)
            except catalogue.MeasureError:
                missing.append(code)
        return missing

    @property
    def is_available(self) -> bool:
        return not self.missing_measures()

    def clean(self):
        errors: dict[str, list] = {}
        for role, code, filters in self.parts():
            field_name = f"{role}_measure"
            try:
                measure = catalogue.measure(code)
            except catalogue.MeasureError:
                errors.setdefault(field_name, []).append(
                    ValidationError(_("No measure “%(code)s” in the catalogue."), params={"code": code})
                )
                continue
            problem = filters_problem(measure, filters)
            if problem:
                errors.setdefault(f"{role}_filters", []).append(problem)
        if self.unit == IndicatorUnit.PERCENT and not self.denominator_measure:
            errors.setdefault("denominator_measure", []).append(
                ValidationError(_("A percentage needs a denominator measure."))
            )
        if self.unit == IndicatorUnit.VALUE and self.denominator_measure:
            errors.setdefault("denominator_measure", []).append(
                ValidationError(_("A plain value has no denominator; choose “percentage” or leave it empty."))
            )
        if errors:
            raise ValidationError(errors)


def filters_problem(measure: catalogue.Measure, filters) -> ValidationError | None:
    """Why `filters` do not suit `measure` (None when they do): a dict of lists of the
    values the measure lists for each key it accepts."""
    if filters in (None, ""):
        return None
    if not isinstance(filters, dict):
        return ValidationError(_("Filters are a list of values for each filter name."))
    for key, values in filters.items():
        if key not in measure.filters:
            return ValidationError(
                _("The measure “%(code)s” does not accept the filter “%(key)s”."),
                params={"code": measure.code, "key": key},
            )
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            return ValidationError(_("The filter “%(key)s” takes a list of values."), params={"key": key})
        allowed = {str(value) for value, _label in measure.filters[key][1]}
        unknown = [value for value in values if value not in allowed]
        if unknown:
            return ValidationError(
                _("The filter “%(key)s” of “%(code)s” has no value “%(value)s”."),
                params={"key": key, "code": measure.code, "value": unknown[0]},
            )
    return None


class PlanQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "issuing_branch__path"

    def active(self):
        return self.filter(is_active=True)

    def concerning(self, user):
        """The plans a user reads: those issued in their subtree (which they may also change,
        see `visible_to`), and those with a target over their branch — rooted at one of its
        ancestors (a city's plan seen by a commune) or inside their subtree."""
        path = subtree_path(user)
        if path is None:
            return self.none()
        if path == "":
            return self.all()
        steplen = Branch.steplen
        ancestors = [path[: i * steplen] for i in range(1, len(path) // steplen + 1)]
        targets = Target.objects.order_by().filter(
            Q(root_branch__path__in=ancestors) | Q(root_branch__path__startswith=path)
        )
        # Issued in their subtree or its history (visible_to), or with a target over or inside it.
        return self.filter(
            Q(pk__in=self.model.objects.visible_to(user).values("pk")) | Q(pk__in=targets.values("plan_id"))
        )

    def current_first(self, today: datetime.date):
        """Plans in the order a chooser lists them: the current ones (active and not yet
        ended on `today`) first, newest first, then the past ones (ended, inactive or
        superseded by a new version)."""
        current = Case(
            When(Q(is_active=True, ends_on__gte=today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        return self.annotate(is_current=current).order_by("-is_current", "-starts_on", "code", "-version")


class Plan(models.Model):
    """A plan issued by a branch, e.g. Plan 99/KH-KHHN of Hanoi's association (2017–2020)."""

    code = models.CharField(_("code"), max_length=40, help_text=_("As printed on the plan, e.g. 99/KH-KHHN."))
    title = models.CharField(_("title"), max_length=500)
    issuing_branch = models.ForeignKey(
        Branch, verbose_name=_("issuing branch"), on_delete=models.PROTECT, related_name="plans"
    )
    issued_on = models.DateField(_("issued on"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Active plans are shown on the dashboards and their figures are recomputed every night."),
    )
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    # Versions: a plan already used (values computed for it) is never edited away; editing
    # it makes a new version (plans.services.plan_revise) and the old one stays readable.
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    previous_version = models.OneToOneField(
        "self",
        verbose_name=_("previous version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="next_version",
    )
    source_note = models.TextField(
        _("source of the figures"),
        blank=True,
        default="",
        help_text=_("Where the plan's text was taken from, e.g. public reporting of the plan."),
    )
    note = models.TextField(_("note"), blank=True, default="")

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-starts_on", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuing_branch", "code", "version"], name="plan_code_version_unique_per_branch"
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="plan_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A plan cannot end before it starts.")})

    @property
    def is_superseded(self) -> bool:
        return hasattr(self, "next_version")

    def year_ends(self) -> list[datetime.date]:
        """31/12 of every year the plan runs."""
        return [datetime.date(year, 12, 31) for year in range(self.starts_on.year, self.ends_on.year + 1)]


class TargetQuerySet(models.QuerySet):
    def covering(self, branch: Branch):
        """Targets whose branch subtree contains `branch`: their root is `branch` or one of its ancestors."""
        prefixes = [branch.path[: i * branch.steplen] for i in range(1, branch.depth + 1)]
        return self.filter(root_branch__path__in=prefixes)


class Target(models.Model):
    """One target of a plan: an indicator, a threshold, a deadline and the scope counted."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="targets")
    # Plan 99's two targets keep `indicator` (computed by plans.indicators); every other
    # target names a catalogue definition and leaves `indicator` empty (plans.catalogue).
    indicator = models.CharField(_("indicator"), max_length=20, choices=Indicator.choices, blank=True, default="")
    definition = models.ForeignKey(
        IndicatorDefinition,
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="targets",
    )
    applies_to_level = models.CharField(
        _("applies to each"),
        max_length=10,
        choices=BranchLevel.choices,
        blank=True,
        default="",
        help_text=_("The level of branch each of which must reach the target; empty: the subtree as a whole."),
    )
    threshold_percent = models.DecimalField(
        _("target (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    deadline = models.DateField(_("deadline"))
    root_branch = models.ForeignKey(
        Branch,
        verbose_name=_("for the subtree of"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The target counts this branch and every branch below it."),
    )
    organization_kinds = models.JSONField(
        _("organisation kinds counted"),
        default=list,
        blank=True,
        help_text=_(
            "Board coverage: the kinds of organisation counted. Membership: leave empty to count "
            "the people of every organisation."
        ),
    )
    member_categories = models.JSONField(
        _("member categories counted"),
        default=list,
        blank=True,
        help_text=_("Membership: the categories of people counted."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["plan", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(indicator__in=[*Indicator.values, ""]), name="target_indicator_valid_or_catalogue"
            ),
            models.CheckConstraint(
                condition=~Q(indicator="") | Q(definition__isnull=False), name="target_has_an_indicator"
            ),
            models.CheckConstraint(
                condition=Q(threshold_percent__gt=0) & Q(threshold_percent__lte=100),
                name="target_threshold_is_a_percentage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.indicator_name} ≥ {self.threshold_percent:g}%"

    @property
    def is_catalogue(self) -> bool:
        """Computed from a catalogue definition (plans.catalogue), not Plan 99's code."""
        return not self.indicator

    @property
    def indicator_name(self) -> str:
        if self.indicator:
            return str(self.get_indicator_display())
        return self.definition.name if self.definition_id else ""

    @property
    def indicator_key(self) -> str:
        """A stable key for page anchors and test ids: Plan 99's indicator or the definition's code."""
        return self.indicator or (self.definition.code if self.definition_id else str(self.pk))

    def clean(self):
        errors = {}
        if not self.indicator:
            if not self.definition_id:
                errors["definition"] = _("Choose an indicator.")
            elif self.definition.unit != IndicatorUnit.PERCENT:
                errors["definition"] = _("Targets are percentages for now: choose an indicator with a denominator.")
            if errors:
                raise ValidationError(errors)
            return
        kinds = self.organization_kinds or []
        categories = self.member_categories or []
        if not isinstance(kinds, list) or any(k not in OrganizationKind.values for k in kinds):
            errors["organization_kinds"] = _("Choose organisation kinds from the list.")
        if not isinstance(categories, list) or any(c not in PLAN_MEMBER_CATEGORIES for c in categories):
            errors["member_categories"] = _(
                "Only party members, cadres, civil servants, public employees and workers "
                "have a headcount to count against."
            )
        if self.indicator == Indicator.BOARD_COVERAGE and not kinds:
            errors["organization_kinds"] = _("Board coverage needs at least one kind of organisation.")
        if self.indicator == Indicator.CADRE_MEMBERSHIP and not categories:
            errors["member_categories"] = _("Membership needs at least one category of people.")
        if errors:
            raise ValidationError(errors)

    @property
    def scope_kinds(self) -> list[str]:
        return list(self.organization_kinds or ())

    @property
    def scope_categories(self) -> list[str]:
        return list(self.member_categories or ())

    def required_numerator(self, denominator: int) -> int:
        """The smallest numerator that meets the threshold: ceil(threshold% × denominator)."""
        return math.ceil(self.threshold_percent * denominator / 100)

    @classmethod
    def default_scope(cls, indicator: str) -> dict:
        if indicator == Indicator.BOARD_COVERAGE:
            return {"organization_kinds": [str(k) for k in PLAN_ORGANIZATION_KINDS], "member_categories": []}
        return {"organization_kinds": [], "member_categories": [str(c) for c in PLAN_MEMBER_CATEGORIES]}


class TargetMilestone(models.Model):
    """An optional yearly step towards a target, e.g. 50% by the end of 2018."""

    target = models.ForeignKey(Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="milestones")
    year = models.PositiveSmallIntegerField(_("year"))
    percent = models.DecimalField(
        _("percentage"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("yearly milestone")
        verbose_name_plural = _("yearly milestones")
        ordering = ["target", "year"]
        constraints = [
            models.UniqueConstraint(fields=["target", "year"], name="milestone_one_per_year"),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="milestone_percent_is_a_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.percent:g}%"


class IndicatorValueQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class OnMap(models.TextChoices):
    """Which map a stored value counts on (issue 11: history on either map)."""

    IN_FORCE = "in_force", _("Map in force on that date")
    TODAY = "today", _("Today's map")
    # On today's map, the records of units split between several successors: a separate
    # line of the branch they hang under (never guessed onto one successor).
    SPLIT = "split", _("From split units")


class IndicatorValue(models.Model):
    """A target's indicator for one branch's whole subtree on one date, as Celery computed it."""

    target = models.ForeignKey(Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="values")
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("as of"))
    numerator = models.PositiveIntegerField(_("counted"))
    denominator = models.PositiveIntegerField(_("out of"))
    computed_at = models.DateTimeField(_("computed at"))
    on_map = models.CharField(_("map"), max_length=8, choices=OnMap.choices, default=OnMap.IN_FORCE)

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            # The key of the recompute's upsert; its index also serves the dashboard's
            # "values of this target for these branches on this date".
            models.UniqueConstraint(
                fields=["target", "branch", "as_of", "on_map"], name="indicatorvalue_one_per_day_and_map"
            ),
            models.CheckConstraint(condition=Q(on_map__in=OnMap.values), name="indicatorvalue_on_map_valid"),
        ]
        indexes = [
            # The dashboard's "every value of this branch" (trend and current figure).
            models.Index(fields=["branch", "target", "as_of"], name="indicatorvalue_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target_id}/{self.branch_id} {self.as_of}: {self.numerator}/{self.denominator}"

    @property
    def percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (Decimal(self.numerator) * 100 / self.denominator).quantize(Decimal("0.01"))


class MoneyYearTotal(models.Model):
    """Donations received in one year into funds of one fund model, over a branch's whole
    subtree (its own funds and every branch below), as the recompute stored them: what the
    dashboard's money panel reads. Voided donations count nowhere, as in funds/reports.py.
    Only non-zero totals are stored."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    # Derived figures, not money records: they follow the fund model they total.
    fund_model = models.ForeignKey(
        "funds.FundModel", verbose_name=_("fund model"), on_delete=models.CASCADE, related_name="+"
    )
    amount = models.BigIntegerField(_("amount (đồng)"))
    donations = models.PositiveIntegerField(_("donations"))

    class Meta:
        verbose_name = _("money raised per year")
        verbose_name_plural = _("money raised per year")
        constraints = [
            # The key of the recompute's upsert; its index (branch first) also serves the
            # dashboard's "every total of this branch".
            models.UniqueConstraint(fields=["branch", "year", "fund_model"], name="moneyyeartotal_one_per_model"),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.year} {self.fund_model_id}: {self.amount}"


class ScholarshipYearTotal(models.Model):
    """Scholarship turns (one award is one turn) and their amount paid in one year over a
    branch's whole subtree, as the recompute stored them: what the dashboard's scholarship
    panel reads. Voided awards count nowhere, as in scholarships/reports.py."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    turns = models.PositiveIntegerField(_("award turns"))
    amount = models.BigIntegerField(_("amount (đồng)"))

    class Meta:
        verbose_name = _("scholarships per year")
        verbose_name_plural = _("scholarships per year")
        constraints = [
            # The key of the recompute's upsert; its index also serves the dashboard's read.
            models.UniqueConstraint(fields=["branch", "year"], name="scholarshipyeartotal_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.year}: {self.turns} / {self.amount}"


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the worker")
    RUNNING = "running", _("Computing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Failed")


class RecomputeRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A run recomputes the whole city, so it belongs to the city: its status (and any
        error) is for superusers and the city association's staff. Anyone else sees only the
        runs they asked for themselves (the page their "recompute now" leads to)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        root = user_root_branch(user)
        if root is not None and root.is_root():
            return self.all()
        return self.filter(requested_by=user)


class RecomputeRun(models.Model):
    """One request to recompute every indicator: by a manager's button, a data change or the nightly schedule."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Requested by a manager")
        CHANGE = "change", _("Data changed")
        NIGHTLY = "nightly", _("Nightly schedule")

    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.CHANGE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), db_default=Now())
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_written = models.PositiveIntegerField(_("values written"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    # A run after one write recomputes only what it can change: this branch's subtree and
    # its ancestors, for the measures of `changed` (plans.scoped). Empty: the whole city.
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("for the branch"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the whole city."),
    )
    changed = models.CharField(_("what changed"), max_length=10, blank=True, default="")

    objects = RecomputeRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="recomputerun_status_valid"),
            models.CheckConstraint(
                condition=Q(trigger__in=["manual", "change", "nightly"]), name="recomputerun_trigger_valid"
            ),
        ]
        indexes = [
            # "Is a run still waiting?" when a change or the nightly run looks for pending work.
            models.Index(fields=["status"], condition=Q(status="pending"), name="recomputerun_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} — {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.DONE, RunStatus.FAILED}


class ReportExport(models.Model):
    """A PDF report too large to build during the request, built by the worker."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), db_default=Now())
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", blank=True)
    language = models.CharField(_("language"), max_length=10, default="vi")
    error = models.TextField(_("error"), blank=True, default="")

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="reportexport_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} — {self.branch}"


class OnDemandDateQuerySet(models.QuerySet):
    # A date asked for within this many days is kept (and recomputed) by the nightly run.
    KEEP_DAYS = 30

    def kept_dates(self, plan_id: int, *, today: datetime.date) -> list[datetime.date]:
        """The on-demand dates of a plan that its targets store (one query): being computed
        or computed, asked for in the last KEEP_DAYS days, not after `today`."""
        since = timezone.now() - datetime.timedelta(days=self.KEEP_DAYS)
        return list(
            self.filter(
                plan_id=plan_id,
                status__in=["running", "done"],
                last_requested_at__gte=since,
                as_of__lte=today,
            ).values_list("as_of", flat=True)
        )


class OnDemandDate(models.Model):
    """A past date a user picked on the dashboard that the nightly run does not store: its
    values (both maps) are computed once by a task (`plans.on_demand`) and stored as
    IndicatorValue rows like the nightly run's. The row marks them as on demand so the
    nightly run and the runs after a write keep them (and keep them true) instead of
    pruning them (`OnDemandDateQuerySet.kept_dates`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="on_demand_dates")
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("requested at"), db_default=Now())
    # The nightly run recomputes the dates asked for lately and forgets the others.
    last_requested_at = models.DateTimeField(_("last requested at"), db_default=Now())
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    objects = OnDemandDateQuerySet.as_manager()

    class Meta:
        verbose_name = _("date computed on demand")
        verbose_name_plural = _("dates computed on demand")
        constraints = [
            models.UniqueConstraint(fields=["plan", "as_of"], name="ondemanddate_one_per_plan_and_day"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "done", "failed"]),
                name="ondemanddate_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.as_of:%d/%m/%Y}: {self.status}"

    @property
    def is_waiting(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.RUNNING}
