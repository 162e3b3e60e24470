"""Money in: donations, their receipt numbers and their voiding.

One path records donations, for the form (a batch of one) and the Excel import alike.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from associations.access import require_write_in_many
from associations.models import Branch, Member, Organization
from funds.models import Donation, DonationMethod, Fund, LedgerEntry, LedgerKind, ReceiptCounter
from funds.services.ledger import (
    announce,
    audit_created,
    check_amount,
    check_not_future,
    check_open,
    column_update,
    lock_funds,
    post_entries,
    record_void,
    recorder,
)
from funds.totals import DONATIONS, totals_add, totals_void
from khuyenhoc.bulk import bulk_insert
from khuyenhoc.text import clean_text

DONATION_AUDIT_FIELDS = [
    "fund",
    "donor_name",
    "donor_kind",
    "member",
    "organization",
    "amount",
    "received_on",
    "method",
    "in_kind_description",
    "receipt_year",
    "receipt_number",
    "note",
]


def _linked_branches(donations: list[Donation]) -> list[Branch]:
    """The branches of the members and organisations the donations name (two queries at most)."""
    member_ids = {donation.member_id for donation in donations if donation.member_id}
    organization_ids = {donation.organization_id for donation in donations if donation.organization_id}
    branch_ids: set[int] = set()
    if member_ids:
        branch_ids.update(Member.objects.filter(pk__in=member_ids).values_list("branch_id", flat=True))
    if organization_ids:
        branch_ids.update(Organization.objects.filter(pk__in=organization_ids).values_list("branch_id", flat=True))
    return list(Branch.objects.filter(pk__in=branch_ids)) if branch_ids else []


@transaction.atomic
def donations_record(*, actor, donations: list[Donation]) -> list[Donation]:
    """Record new donations (unsaved, fund set, no receipt number), issue their receipt
    numbers and credit their funds, all or nothing.

    Receipt numbers run 1, 2, 3 … per fund and calendar year, in the order given. The
    counter rows are read and moved while the fund rows are locked, so two clerks saving at
    the same moment get consecutive numbers; a failed save rolls the counters back with it,
    leaving no gap. Each fund row is locked once and its balance moves once; the records,
    ledger rows and audit entries are written with bulk_create, so the query count does not
    grow with the batch.
    """
    if not donations:
        return []
    for donation in donations:
        if donation.pk is not None or donation.receipt_number:
            raise ValueError("donations_record records new donations only")
    funds = lock_funds(donation.fund_id for donation in donations)
    require_write_in_many(actor, [*(fund.branch for fund in funds.values()), *_linked_branches(donations)])
    for donation in donations:
        check_amount(donation.amount)
        check_not_future(donation.received_on, "received_on")
        check_open(funds[donation.fund_id], donation.received_on, "received_on")
        donation.donor_name = clean_text(donation.donor_name)
        donation.note = clean_text(donation.note)
        donation.in_kind_description = (
            clean_text(donation.in_kind_description) if donation.method == DonationMethod.IN_KIND else ""
        )
        if donation.method == DonationMethod.IN_KIND and not donation.in_kind_description:
            raise ValidationError({"in_kind_description": _("Describe the goods given in kind.")})

    pairs = {(donation.fund_id, donation.received_on.year) for donation in donations}
    ReceiptCounter.objects.bulk_create(
        [ReceiptCounter(fund_id=fund_id, year=year) for fund_id, year in sorted(pairs)], ignore_conflicts=True
    )
    counters = {
        (counter.fund_id, counter.year): counter
        for counter in ReceiptCounter.objects.select_for_update()
        .filter(fund_id__in={fund_id for fund_id, _year in pairs}, year__in={year for _fund, year in pairs})
        .order_by("fund_id", "year")
        if (counter.fund_id, counter.year) in pairs
    }
    for donation in donations:
        counter = counters[(donation.fund_id, donation.received_on.year)]
        counter.last_number += 1
        donation.fund = funds[donation.fund_id]
        donation.receipt_year = donation.received_on.year
        donation.receipt_number = counter.last_number
        donation.created_by = recorder(actor)
        # Field rules without the per-row queries of full_clean (foreign keys were resolved
        # by the caller; the receipt numbers are unique by construction and by constraint).
        donation.clean_fields(exclude=["fund", "member", "organization", "created_by", "voided_by"])
    column_update(list(counters.values()), "last_number")
    bulk_insert(Donation, donations)  # COPY on PostgreSQL: an import records up to 200 000
    totals_add(DONATIONS, donations)  # the stored totals move in the same transaction
    post_entries(
        funds,
        [
            LedgerEntry(
                fund=donation.fund,
                amount=donation.amount,
                kind=LedgerKind.DONATION,
                occurred_on=donation.received_on,
                memo=donation.donor_name[:500],
                created_by=recorder(actor),
                donation=donation,
            )
            for donation in donations
        ],
    )
    audit_created(
        actor=actor,
        records=donations,
        branch_ids=[donation.fund.branch_id for donation in donations],
        fields=DONATION_AUDIT_FIELDS,
    )
    announce(
        (fund.branch_id for fund in funds.values()),
        Donation,
        from_day=min(donation.received_on for donation in donations),
    )
    return donations


@transaction.atomic
def donation_record(
    *,
    actor,
    fund: Fund,
    donor_name: str,
    donor_kind: str,
    amount: int,
    received_on: datetime.date,
    method: str = DonationMethod.CASH,
    in_kind_description: str = "",
    member: Member | None = None,
    organization: Organization | None = None,
    note: str = "",
) -> Donation:
    """Record one donation: a batch of one through `donations_record`."""
    donation = Donation(
        fund=fund,
        donor_name=donor_name,
        donor_kind=donor_kind,
        amount=amount,
        received_on=received_on,
        method=method,
        in_kind_description=in_kind_description,
        member=member,
        organization=organization,
        note=note,
    )
    return donations_record(actor=actor, donations=[donation])[0]


@transaction.atomic
def donation_void(*, actor, donation: Donation, reason: str) -> Donation:
    """Void a donation: it keeps its receipt number (numbers are never reused) and its ledger
    row is reversed. Refused when the fund no longer holds the money."""
    donation = Donation.objects.select_related("fund__branch").get(pk=donation.pk)
    voided = record_void(
        actor=actor,
        record=donation,
        reason=reason,
        branch=donation.fund.branch,
        refusal=_("This donation cannot be voided: %(error)s"),
    )
    totals_void(DONATIONS, [donation])
    return voided
