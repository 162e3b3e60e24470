"""Stored monthly totals of award turns (see `funds.totals`): per branch subtree (the
rounds' branches), month of payment, recipient kind and category. Kept by
`scholarships.services` in the same transaction as every award paid or voided."""

from __future__ import annotations

from funds.totals import TotalsSpec, totals_register

AWARDS = TotalsSpec(
    name="awards",
    record_label="scholarships.Award",
    total_label="scholarships.AwardMonthTotal",
    date_field="paid_on",
    branch_lookup="round__branch",
    dimensions=(("recipient_kind", "recipient_kind"), ("category", "category")),
    key_of=lambda award: (award.round.branch, (award.recipient_kind, award.category)),
)
totals_register(AWARDS)
