"""Half-year and year reports sent up the branch tree and approved (issue 13).

- A report form is data: sections of fields, each either computed from the portal's records
  through the catalogue of measures (`khuyenhoc.measures`) or entered by hand. A form
  version is frozen by the first report that uses it; a change is then a new version, and
  past reports keep the version they were made with.
- A period is a half-year or a year; a manager sets a deadline per branch level.
- One report per (period, branch), made with the newest form version of the period's kind
  when it is first saved. Its state moves draft → submitted → approved → accepted through the
  services in `reporting.services`, each writing a `ReportTransition` and an audit row.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin
from associations.models import Branch, BranchLevel

MIN_YEAR, MAX_YEAR = 2000, 2100


class PeriodKind(models.TextChoices):
    HALF_YEAR = "half_year", _("Half-year")
    YEAR = "year", _("Year")


class ValueType(models.TextChoices):
    INTEGER = "integer", _("Whole number")
    MONEY = "money", _("Money (đồng)")
    PERCENTAGE = "percentage", _("Percentage")
    TEXT = "text", _("Text")


NUMERIC_TYPES = {ValueType.INTEGER, ValueType.MONEY, ValueType.PERCENTAGE}
SUMMED_TYPES = {ValueType.INTEGER, ValueType.MONEY}


class FieldSource(models.TextChoices):
    RECORDS = "records", _("From the records")
    MANUAL = "manual", _("Entered by hand")


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    ACCEPTED = "accepted", _("Accepted")


# The levels that report, top down; a deadline is set for each.
REPORTING_LEVELS = [BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE]


class ReportForm(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=PeriodKind.choices)
    name = models.CharField(_("name"), max_length=200)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
    )
    frozen_at = models.DateTimeField(_("in use since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("report form")
        verbose_name_plural = _("report forms")
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="reportform_one_per_version"),
            models.CheckConstraint(condition=Q(kind__in=PeriodKind.values), name="reportform_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Section(models.Model):
    form = models.ForeignKey(
        ReportForm, verbose_name=_("report form"), on_delete=models.CASCADE, related_name="sections"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=255)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["form", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Field(models.Model):
    form = models.ForeignKey(ReportForm, verbose_name=_("report form"), on_delete=models.CASCADE, related_name="fields")
    section = models.ForeignKey(Section, verbose_name=_("section"), on_delete=models.CASCADE, related_name="fields")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(_("code"), max_length=40, help_text=_("Stable: the consolidation adds fields by code."))
    label = models.CharField(_("label"), max_length=300)
    value_type = models.CharField(_("type of value"), max_length=12, choices=ValueType.choices)
    source = models.CharField(_("source"), max_length=8, choices=FieldSource.choices)
    measure_code = models.CharField(_("measure"), max_length=80, blank=True, default="")
    measure_filters = models.JSONField(_("measure filters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["section__order", "section_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "code"], name="reportfield_code_unique_in_form"),
            models.CheckConstraint(condition=Q(value_type__in=ValueType.values), name="reportfield_type_valid"),
            models.CheckConstraint(condition=Q(source__in=FieldSource.values), name="reportfield_source_valid"),
            models.CheckConstraint(
                condition=Q(source=FieldSource.MANUAL) | ~Q(measure_code=""), name="reportfield_records_have_measure"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Period(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=PeriodKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["-year", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="period_one_per_kind_and_year"),
            models.CheckConstraint(condition=Q(kind__in=PeriodKind.values), name="period_kind_valid"),
            models.CheckConstraint(condition=Q(year__gte=MIN_YEAR) & Q(year__lte=MAX_YEAR), name="period_year_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 1, 1)

    @property
    def end(self) -> datetime.date:
        if self.kind == PeriodKind.HALF_YEAR:
            return datetime.date(self.year, 6, 30)
        return datetime.date(self.year, 12, 31)


class Deadline(models.Model):
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="deadlines")
    level = models.CharField(_("level"), max_length=10, choices=BranchLevel.choices)
    due_on = models.DateField(_("due on"))

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["period", "due_on"]
        constraints = [models.UniqueConstraint(fields=["period", "level"], name="deadline_one_per_level")]

    def __str__(self) -> str:
        return f"{self.period} {self.get_level_display()}: {self.due_on:%d/%m/%Y}"


class ReportQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class Report(models.Model):
    form = models.ForeignKey(
        ReportForm, verbose_name=_("report form"), on_delete=models.PROTECT, related_name="reports"
    )
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="reports")
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="reports")
    state = models.CharField(_("state"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT)
    # Hand-entered values, {field code: value}; record fields are computed, not stored, until
    # the snapshot.
    values = models.JSONField(_("values entered"), default=dict, blank=True)
    # Every field's value when the report was submitted, {field code: value}; kept when it is
    # approved (the approver approves what was sent), cleared when it is returned.
    snapshot = models.JSONField(_("figures as submitted"), null=True, blank=True)
    # Bumped by every write: two people acting on the same state cannot both win.
    revision = models.PositiveIntegerField(_("revision"), default=0)
    first_submitted_at = models.DateTimeField(_("first submitted at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The depth of the branch of who approved / accepted (0 for an administrator): a decision
    # is undone only from that level or above.
    decided_depth = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("accepted by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    return_reason = models.TextField(_("reason for return"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["period", "branch__path"]
        constraints = [
            models.UniqueConstraint(fields=["period", "branch"], name="report_one_per_period_and_branch"),
            models.CheckConstraint(condition=Q(state__in=ReportState.values), name="report_state_valid"),
            models.CheckConstraint(
                condition=Q(state=ReportState.DRAFT) | Q(snapshot__isnull=False), name="report_sent_has_snapshot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form.name} {self.period.year} — {self.branch}"

    @property
    def is_sent(self) -> bool:
        return self.state != ReportState.DRAFT


class ReportTransition(models.Model):
    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(_("at"), db_default=Now())
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    from_state = models.CharField(_("from"), max_length=10, choices=ReportState.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=ReportState.choices)
    reason = models.TextField(_("reason"), blank=True, default="")

    class Meta:
        verbose_name = _("report transition")
        verbose_name_plural = _("report transitions")
        ordering = ["report", "at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.from_state} → {self.to_state}"


class ReminderSent(models.Model):
    """One reminder per (period, branch, day): the daily job run twice sends nothing more."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(fields=["period", "branch", "sent_on"], name="reminder_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.branch_id} {self.sent_on:%d/%m/%Y}"
