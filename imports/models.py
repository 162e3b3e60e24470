"""The import job: one uploaded workbook, checked in a dry run, then applied whole or not at all."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin


class ImportKind(models.TextChoices):
    MEMBERS = "members", _("Members")
    ORGANIZATIONS = "organizations", _("Organisations")
    DONATIONS = "donations", _("Donations")
    AWARDS = "awards", _("Scholarship awards")
    HOUSEHOLDS = "households", _("Households")
    CLANS = "clans", _("Clans")
    COMMUNITIES = "communities", _("Residential communities")
    CITIZENS = "citizens", _("Learning citizens")
    CENTRE_ACTIVITIES = "centre_activities", _("Community learning centre activities")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked: ready to apply")
    INVALID = "invalid", _("Has errors: nothing applied")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed: nothing applied")


RUNNING = frozenset({ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.APPLYING})


class ImportJobQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class ImportJob(models.Model):
    """One uploaded workbook: checked in a dry run, then applied whole or not at all."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        "associations.Branch",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
        help_text=_("The uploader's branch: every row must lie in its subtree."),
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    # The uploaded workbook given back with an error column and its bad cells highlighted.
    annotated = models.FileField(_("file with its errors"), upload_to="imports/%Y/%m/", blank=True)
    # The check's plan (gzipped JSON lines, one per chunk), applied as it is when the file and
    # the database rows it matched are unchanged; and the SHA-256 of the file it was made from.
    plan = models.FileField(_("checked plan"), upload_to="imports/%Y/%m/", blank=True)
    file_sha256 = models.CharField(_("file checksum"), max_length=64, blank=True, default="")
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    to_create = models.PositiveIntegerField(_("rows to create"), default=0)
    to_update = models.PositiveIntegerField(_("rows to update"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged rows"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # The first errors, row by row: [{"row": 7, "column": "Ngày sinh", "message": "..."}].
    errors = models.JSONField(_("errors"), default=list, blank=True)
    preview = models.JSONField(_("preview"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("uploaded at"), db_default=Now())
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="importjob_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="importjob_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"
