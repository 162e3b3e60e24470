"""Scholarship rounds and awards. Paying an award records a `funds.Payment` out of its
round's fund through `funds.services`; this app never writes the funds tables itself.

One award is one turn (lượt): the same person awarded twice counts as two turns and one
recipient. A recipient is identified by `recipient_key` (see `Award.recipient_key_for`).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin
from funds.models import MonthTotal, Voidable, VoidableQuerySet
from khuyenhoc.text import search_key

SCHOOL_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


def validate_school_year(value: str) -> None:
    match = SCHOOL_YEAR_RE.match(value or "")
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValidationError(_("Write the school year as two consecutive years, e.g. 2016-2017."))


class ScholarshipRoundQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "branch__path"


class ScholarshipRound(models.Model):
    name = models.CharField(_("name"), max_length=255)
    school_year = models.CharField(
        _("school year"), max_length=9, validators=[validate_school_year], help_text=_("For example 2016-2017.")
    )
    branch = models.ForeignKey(
        "associations.Branch", verbose_name=_("awarding branch"), on_delete=models.PROTECT, related_name="rounds"
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("paying fund"), on_delete=models.PROTECT, related_name="scholarship_rounds"
    )
    awarded_on = models.DateField(_("award date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScholarshipRoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("scholarship round")
        verbose_name_plural = _("scholarship rounds")
        ordering = ["-awarded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school_year__regex=r"^[0-9]{4}-[0-9]{4}$"), name="round_school_year_form"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school_year})"


class RecipientKind(models.TextChoices):
    PUPIL = "pupil", _("Pupil / student")
    TEACHER = "teacher", _("Teacher")
    WORKER = "worker", _("Worker")
    OTHER = "other", _("Other")


class AwardCategory(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent achievement")
    HARDSHIP = "hardship", _("Poor pupils overcoming hardship")
    OTHER = "other", _("Other")


class AwardForm(models.TextChoices):
    CASH = "cash", _("Cash")
    IN_KIND = "in_kind", _("In kind (valued in đồng)")


class AwardQuerySet(VoidableQuerySet):
    branch_path_lookup = "round__branch__path"


class Award(Voidable):
    round = models.ForeignKey(
        ScholarshipRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="awards"
    )
    recipient_kind = models.CharField(_("recipient kind"), max_length=10, choices=RecipientKind.choices)
    recipient_name = models.CharField(_("recipient"), max_length=200)
    recipient_name_search = models.CharField(max_length=200, editable=False, default="")
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    school_or_workplace = models.CharField(_("school or workplace"), max_length=255, blank=True, default="")
    grade = models.CharField(_("class / grade"), max_length=50, blank=True, default="")
    recipient_id = models.CharField(
        _("citizen or student ID"), max_length=20, blank=True, default="", help_text=_("When known.")
    )
    # Who the recipient is, for counting distinct recipients: the ID when given, otherwise
    # the diacritic-free name with the date of birth.
    recipient_key = models.CharField(max_length=240, editable=False, default="")
    category = models.CharField(_("category"), max_length=10, choices=AwardCategory.choices)
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    form = models.CharField(_("form"), max_length=10, choices=AwardForm.choices, default=AwardForm.CASH)
    in_kind_description = models.CharField(_("goods given"), max_length=500, blank=True, default="")
    paid_on = models.DateField(_("paid on"))
    # The money out of the round's fund; null only while the award is being paid.
    payment = models.OneToOneField(
        "funds.Payment",
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="award",
    )

    objects = AwardQuerySet.as_manager()

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
            models.CheckConstraint(
                condition=Q(recipient_kind__in=RecipientKind.values), name="award_recipient_kind_valid"
            ),
            models.CheckConstraint(condition=Q(category__in=AwardCategory.values), name="award_category_valid"),
            models.CheckConstraint(condition=Q(form__in=AwardForm.values), name="award_form_valid"),
            models.CheckConstraint(
                condition=~Q(form=AwardForm.IN_KIND) | ~Q(in_kind_description=""), name="award_in_kind_described"
            ),
            models.CheckConstraint(
                condition=(Q(voided_at__isnull=True) & Q(void_reason=""))
                | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
                name="award_void_has_reason",
            ),
        ]
        indexes = [
            # Reports and lists filter a subtree's awards by payment date.
            models.Index(fields=["paid_on", "round"], name="award_paid_idx"),
            # The list's order (latest payment first, then the newest id): a round pays tens of
            # thousands of awards on one day, which the first page would otherwise sort.
            models.Index(fields=["paid_on", "id"], name="award_paid_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_name} — {self.round}"

    @staticmethod
    def recipient_key_for(*, recipient_id: str, recipient_name: str, date_of_birth) -> str:
        if recipient_id and recipient_id.strip():
            return "id:" + recipient_id.strip().upper()
        born = date_of_birth.isoformat() if date_of_birth else ""
        return f"name:{search_key(recipient_name)}|{born}"

    def save(self, *args, **kwargs):
        self.recipient_name_search = search_key(self.recipient_name)
        self.recipient_key = self.recipient_key_for(
            recipient_id=self.recipient_id, recipient_name=self.recipient_name, date_of_birth=self.date_of_birth
        )
        super().save(*args, **kwargs)


class AwardMonthTotal(MonthTotal):
    """Award turns of a branch's subtree (the rounds' branches) in a month of payment, by
    recipient kind and category (see `funds.totals`)."""

    recipient_kind = models.CharField(max_length=10)
    category = models.CharField(max_length=10)

    class Meta:
        verbose_name = _("stored award total")
        verbose_name_plural = _("stored award totals")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "month", "recipient_kind", "category"], name="awardmonthtotal_key"
            )
        ]
