"""What a reorganisation needs besides the registry's Reorganisation, LineageEdge and
RecordMove: the uploaded table's rows (a draft's pairs, before successors exist), the
decisions for items that no whole merge places, and the two mapping tables the apply joins
against so that every move is one set-based statement."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from associations.models import Branch, Reorganisation


class TableKind(models.TextChoices):
    WHOLE = "whole", _("Whole merge")
    PART = "part", _("Part (split between several successors)")


class ConversionRow(models.Model):
    """One (old unit, new unit) pair of a reorganisation's table, as uploaded or derived.
    An empty new code: the old unit is dissolved with no known successor."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE, related_name="table_rows"
    )
    row = models.PositiveIntegerField(_("row"))
    old_code = models.CharField(_("old code"), max_length=10)
    old_name = models.CharField(_("old name"), max_length=200, blank=True, default="")
    old_district = models.CharField(_("old district"), max_length=200, blank=True, default="")
    new_code = models.CharField(_("new code"), max_length=10, blank=True, default="")
    new_name = models.CharField(_("new name"), max_length=200, blank=True, default="")
    kind = models.CharField(_("kind"), max_length=5, choices=TableKind.choices)
    derived = models.BooleanField(_("derived, not official"), default=False)
    rule = models.CharField(_("rule"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("conversion table row")
        verbose_name_plural = _("conversion table rows")
        ordering = ["reorganisation", "row"]
        constraints = [
            models.UniqueConstraint(fields=["reorganisation", "old_code", "new_code"], name="conversionrow_pair_once"),
            models.CheckConstraint(condition=Q(kind__in=TableKind.values), name="conversionrow_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.old_name} ({self.old_code}) → {self.new_name or '?'} ({self.new_code or '?'})"


class AccountAction(models.TextChoices):
    MOVE = "move", _("Move to a successor branch")
    CITY_READ_ONLY = "city_read_only", _("Make it a read-only city account")
    DEACTIVATE = "deactivate", _("Deactivate the account")


class ReorganisationDecision(models.Model):
    """Where one record of a split or unnamed unit goes: a chapter or board (with its whole
    subtree), an organisation (with its members), a member without an organisation, a fund
    (its balance), a learning subject, or a staff account (with an action)."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE, related_name="decisions"
    )
    record_type = models.CharField(_("kind of record"), max_length=60)
    record_id = models.BigIntegerField(_("record"))
    from_branch = models.ForeignKey(Branch, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+")
    successor_code = models.CharField(
        _("successor's code"),
        max_length=10,
        blank=True,
        default="",
        help_text=_("A new code of this reorganisation's table, or the code of a unit in force on the effective day."),
    )
    # Resolved from successor_code by the apply (a successor may only be founded by it).
    successor = models.ForeignKey(
        Branch, verbose_name=_("successor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    account_action = models.CharField(
        _("account action"), max_length=20, choices=AccountAction.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("reorganisation decision")
        verbose_name_plural = _("reorganisation decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["reorganisation", "record_type", "record_id"], name="decision_once_per_record"
            ),
            models.CheckConstraint(
                condition=Q(account_action__in=["", *AccountAction.values]), name="decision_account_action_valid"
            ),
        ]
        indexes = [models.Index(fields=["reorganisation", "record_type", "record_id"], name="decision_record_idx")]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id} → {self.successor_code or self.account_action or '?'}"

    @property
    def is_decided(self) -> bool:
        if self.account_action in {AccountAction.CITY_READ_ONLY, AccountAction.DEACTIVATE}:
            return True
        return bool(self.successor_code)


class UnitMapping(models.Model):
    """Written by the apply: each dissolved unit that merges whole into one successor, the
    join table of the apply's set-based updates (one row per unit, never per record)."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE, related_name="+"
    )
    predecessor = models.ForeignKey(Branch, verbose_name=_("predecessor"), on_delete=models.PROTECT, related_name="+")
    successor = models.ForeignKey(Branch, verbose_name=_("successor"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("unit mapping")
        verbose_name_plural = _("unit mappings")
        constraints = [
            models.UniqueConstraint(fields=["reorganisation", "predecessor"], name="unitmapping_once_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor_id} → {self.successor_id}"


class PathRewrite(models.Model):
    """Written by the apply: a chapter or board re-hung under a successor, as the old and new
    path of its subtree's top, so that one UPDATE rewrites every moved subtree."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE, related_name="+"
    )
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    old_path = models.CharField(max_length=255)
    new_path = models.CharField(max_length=255)
    depth_change = models.SmallIntegerField(default=0)

    class Meta:
        verbose_name = _("path rewrite")
        verbose_name_plural = _("path rewrites")
        constraints = [models.UniqueConstraint(fields=["reorganisation", "branch"], name="pathrewrite_once")]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.new_path}"
