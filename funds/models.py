"""Funds and their ledger: every đồng that comes in or goes out is one `LedgerEntry`.

A fund's balance is the sum of its ledger. `Fund.balance` caches that sum; only
`funds.services` changes it, in the same transaction as the ledger row, with the fund row
locked, and the database refuses a negative balance. Money rows are never edited or
deleted: a correction voids the record with a reason and reverses its ledger row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin
from associations.models import Branch


class FundModel(models.Model):
    """A kind of fund the city reports on (the association's own, a clan's, a school's, …)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    active = models.BooleanField(_("in use"), default=True)
    ordering = models.PositiveSmallIntegerField(_("order in reports"), default=0)

    class Meta:
        verbose_name = _("fund model")
        verbose_name_plural = _("fund models")
        ordering = ["ordering", "name"]

    def __str__(self) -> str:
        return self.name


class LegalForm(models.TextChoices):
    SOCIAL_FUND = "social_fund", _("Licensed social fund (decree on social and charity funds)")
    INTERNAL = "internal", _("Internal fund of the association")


class FundQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "branch__path"

    def of_branch(self, branch: Branch):
        return self.filter(branch=branch)

    def not_closed_on(self, day):
        return self.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=day))


class Fund(models.Model):
    branch = models.ForeignKey(
        "associations.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="funds"
    )
    name = models.CharField(_("name"), max_length=255)
    fund_model = models.ForeignKey(
        FundModel, verbose_name=_("fund model"), on_delete=models.PROTECT, related_name="funds"
    )
    legal_form = models.CharField(_("legal form"), max_length=20, choices=LegalForm.choices, default=LegalForm.INTERNAL)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # The sum of the fund's ledger, kept by funds.services alone (see the module docstring).
    balance = models.BigIntegerField(_("balance"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = FundQuerySet.as_manager()

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="fund_balance_not_negative"),
            models.CheckConstraint(condition=Q(legal_form__in=LegalForm.values), name="fund_legal_form_valid"),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(opened_on__isnull=True)
                | Q(closed_on__gte=models.F("opened_on")),
                name="fund_closed_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def ledger_sum(self) -> int:
        return self.ledger_entries.aggregate(total=Sum("amount"))["total"] or 0

    def is_open_on(self, day) -> bool:
        return (self.opened_on is None or self.opened_on <= day) and (self.closed_on is None or self.closed_on >= day)


class DonorKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    FAMILY = "family", _("Family / clan")
    ORGANIZATION = "organization", _("Organisation")
    ENTERPRISE = "enterprise", _("Enterprise")


class DonationMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    BANK = "bank", _("Bank transfer")
    IN_KIND = "in_kind", _("In kind (valued in đồng)")


class VoidableQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    def valid(self):
        """Records that count: not voided."""
        return self.filter(voided_at__isnull=True)

    def voided(self):
        return self.filter(voided_at__isnull=False)

    def of_branch(self, branch: Branch):
        """The branch's own records, without those of the branches below it."""
        return self.filter(**{self.branch_path_lookup.removesuffix("__path"): branch})


class DonationQuerySet(VoidableQuerySet):
    branch_path_lookup = "fund__branch__path"


def _void_consistent(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(voided_at__isnull=True) & Q(void_reason="")) | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
        name=f"{prefix}_void_has_reason",
    )


class Voidable(models.Model):
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("recorded at"), db_default=Now(), editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.branch_id} {self.month:%m/%Y}: {self.count} ({self.amount})"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class Donation(Voidable):
    fund = models.ForeignKey(Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="donations")
    donor_name = models.CharField(_("donor"), max_length=255)
    donor_kind = models.CharField(_("donor kind"), max_length=20, choices=DonorKind.choices)
    member = models.ForeignKey(
        "associations.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
    )
    organization = models.ForeignKey(
        "associations.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
    )
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    received_on = models.DateField(_("received on"))
    method = models.CharField(_("method"), max_length=10, choices=DonationMethod.choices, default=DonationMethod.CASH)
    in_kind_description = models.CharField(_("goods given"), max_length=500, blank=True, default="")
    receipt_year = models.PositiveSmallIntegerField(_("receipt year"), editable=False)
    receipt_number = models.PositiveIntegerField(_("receipt number"), editable=False)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")

    objects = DonationQuerySet.as_manager()

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "receipt_year", "receipt_number"], name="donation_receipt_unique_per_fund_year"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive"),
            models.CheckConstraint(condition=Q(donor_kind__in=DonorKind.values), name="donation_donor_kind_valid"),
            models.CheckConstraint(condition=Q(method__in=DonationMethod.values), name="donation_method_valid"),
            models.CheckConstraint(
                condition=~Q(method=DonationMethod.IN_KIND) | ~Q(in_kind_description=""),
                name="donation_in_kind_described",
            ),
            _void_consistent("donation"),
        ]
        indexes = [
            # Reports and lists filter a subtree's donations by received date.
            models.Index(fields=["received_on", "fund"], name="donation_received_idx"),
            # The list's order (newest first, then the newest id): its first page is read
            # off this index without sorting a day's donations.
            models.Index(fields=["received_on", "id"], name="donation_received_id_idx"),
        ]

    def __str__(self) -> str:
        return _("Receipt %(number)s — %(donor)s") % {"number": self.receipt_label, "donor": self.donor_name}

    @property
    def receipt_label(self) -> str:
        return f"{self.receipt_number:05d}/{self.receipt_year}"


class ReceiptCounter(models.Model):
    """The last receipt number issued for a fund in a year; locked while the next one is issued."""

    fund = models.ForeignKey(Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("receipt counter")
        verbose_name_plural = _("receipt counters")
        constraints = [models.UniqueConstraint(fields=["fund", "year"], name="receiptcounter_one_per_fund_year")]

    def __str__(self) -> str:
        return f"{self.fund} {self.year}: {self.last_number}"


class TransferQuerySet(VoidableQuerySet):
    branch_path_lookup = "from_fund__branch__path"

    def _branches_q(self, branches):
        """A transfer belongs to either end: the giving fund's branch or the receiving fund's."""
        return Q(from_fund__branch__in=branches) | Q(to_fund__branch__in=branches)

    def of_branch(self, branch: Branch):
        """A branch's own transfers: its funds at either end."""
        return self.filter(Q(from_fund__branch=branch) | Q(to_fund__branch=branch))


class Transfer(Voidable):
    from_fund = models.ForeignKey(
        Fund, verbose_name=_("from fund"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_fund = models.ForeignKey(Fund, verbose_name=_("to fund"), on_delete=models.PROTECT, related_name="transfers_in")
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    transferred_on = models.DateField(_("transferred on"))
    note = models.CharField(_("note"), max_length=500, blank=True, default="")

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer between funds")
        verbose_name_plural = _("transfers between funds")
        ordering = ["-transferred_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(from_fund=models.F("to_fund")), name="transfer_between_two_funds"),
            _void_consistent("transfer"),
        ]

    def __str__(self) -> str:
        return _("Transfer %(from)s → %(to)s") % {"from": self.from_fund, "to": self.to_fund}


class PaymentQuerySet(VoidableQuerySet):
    branch_path_lookup = "fund__branch__path"


class Payment(Voidable):
    """Money paid out of a fund. What it pays for (an award, …) is the paying app's record,
    which points here; funds knows only the description it was given."""

    fund = models.ForeignKey(Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    paid_on = models.DateField(_("paid on"))
    description = models.CharField(_("description"), max_length=500, blank=True, default="")

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            _void_consistent("payment"),
        ]

    def __str__(self) -> str:
        return self.description or _("Payment #%(number)s") % {"number": self.pk}


class LedgerKind(models.TextChoices):
    DONATION = "donation", _("Donation")
    PAYMENT = "payment", _("Payment")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    REVERSAL = "reversal", _("Correction: reversal of a voided record")


class LedgerEntryQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "fund__branch__path"


class LedgerEntry(models.Model):
    """One movement of one fund. Written once, with the record it describes; never changed."""

    fund = models.ForeignKey(Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="ledger_entries")
    amount = models.BigIntegerField(_("amount (đồng)"), help_text=_("Money in is positive, money out negative."))
    kind = models.CharField(_("kind"), max_length=20, choices=LedgerKind.choices)
    occurred_on = models.DateField(_("date"))
    donation = models.ForeignKey(
        Donation,
        verbose_name=_("donation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
    )
    memo = models.CharField(_("memo"), max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), db_default=Now(), editable=False)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledgerentry_amount_not_zero"),
            models.CheckConstraint(condition=Q(kind__in=LedgerKind.values), name="ledgerentry_kind_valid"),
            # Every row says what it describes: exactly one of donation, payment, transfer.
            models.CheckConstraint(
                condition=(Q(donation__isnull=False) & Q(payment__isnull=True) & Q(transfer__isnull=True))
                | (Q(donation__isnull=True) & Q(payment__isnull=False) & Q(transfer__isnull=True))
                | (Q(donation__isnull=True) & Q(payment__isnull=True) & Q(transfer__isnull=False)),
                name="ledgerentry_one_source",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False) | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="ledgerentry_reversal_names_its_row",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["donation", "transfer_in"], amount__gt=0)
                | Q(kind__in=["payment", "transfer_out"], amount__lt=0)
                | Q(kind="reversal"),
                name="ledgerentry_sign_matches_kind",
            ),
        ]
        indexes = [
            # A fund's history page, newest first.
            models.Index(fields=["fund", "-id"], name="ledgerentry_fund_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} {self.get_kind_display()} {self.amount}"


class MonthTotal(models.Model):
    """Stored sums of a kind of money record for one branch's subtree and one calendar month,
    valid and voided apart (see `funds.totals`). Every service that records, voids or moves
    such records updates these rows in the same transaction, so they are never stale; a
    rebuild recomputes them from the records and a check compares the two."""

    branch = models.ForeignKey("associations.Branch", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month
    count = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    voided_count = models.BigIntegerField(default=0)
    voided_amount = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.branch_id} {self.month:%m/%Y}: {self.count} ({self.amount})"


class DonationMonthTotal(MonthTotal):
    """Donations of a branch's subtree in a month, by fund model, donor kind and method."""

    fund_model = models.ForeignKey(FundModel, on_delete=models.CASCADE, related_name="+")
    donor_kind = models.CharField(max_length=20)
    method = models.CharField(max_length=10)

    class Meta:
        verbose_name = _("stored donation total")
        verbose_name_plural = _("stored donation totals")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "month", "fund_model", "donor_kind", "method"], name="donationmonthtotal_key"
            )
        ]
