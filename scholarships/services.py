"""Writes to scholarships. Money moves only through `funds.services`: an award, its
payment and its ledger row commit together, or none does."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in, require_write_in_many
from associations.audit import audit_record, snapshot
from associations.models import AuditAction, Branch
from funds import services as fund_services
from funds.models import Fund, Payment
from funds.services.ledger import announce, audit_created, recorder
from funds.totals import totals_add, totals_void
from khuyenhoc.bulk import bulk_insert
from khuyenhoc.text import clean_text, search_key
from scholarships.models import Award, AwardForm, ScholarshipRound
from scholarships.totals import AWARDS

AWARD_AUDIT_FIELDS = [
    "round",
    "recipient_kind",
    "recipient_name",
    "date_of_birth",
    "school_or_workplace",
    "grade",
    "recipient_id",
    "category",
    "amount",
    "form",
    "in_kind_description",
    "paid_on",
]


@transaction.atomic
def round_create(
    *, actor, branch: Branch, fund: Fund, name: str, school_year: str, awarded_on: datetime.date
) -> ScholarshipRound:
    require_write_in(actor, branch)
    require_write_in(actor, fund.branch)
    scholarship_round = ScholarshipRound(
        branch=branch,
        fund=fund,
        name=clean_text(name),
        school_year=school_year.strip(),
        awarded_on=awarded_on,
        created_by=recorder(actor),
    )
    scholarship_round.full_clean(exclude=["created_by"])
    scholarship_round.save()
    audit_record(
        actor=actor,
        obj=scholarship_round,
        action=AuditAction.CREATE,
        branch=branch,
        changes=snapshot(scholarship_round, ["name", "school_year", "branch", "fund", "awarded_on"]),
    )
    return scholarship_round


@transaction.atomic
def awards_pay(*, actor, awards: list[Award]) -> list[Award]:
    """Record new awards (unsaved, `round` set with its fund) and pay each from its round's
    fund, all or nothing.

    Each award is paid by one `funds.Payment` recorded through `funds.services.payments_record`,
    which locks each paying fund once and refuses the whole batch when a fund would go below
    zero. The awards, payments, ledger rows and audit entries are written with bulk_create.
    """
    if not awards:
        return []
    require_write_in_many(actor, {award.round.branch_id: award.round.branch for award in awards}.values())
    for award in awards:
        if award.pk is not None:
            raise ValueError("awards_pay records new awards only")
        if not isinstance(award.amount, int) or award.amount <= 0:
            raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
        if award.paid_on > timezone.localdate():
            raise ValidationError({"paid_on": _("The date cannot be in the future.")})
        if award.date_of_birth and award.date_of_birth > award.paid_on:
            raise ValidationError({"date_of_birth": _("The date of birth cannot be after the payment date.")})
        award.recipient_name = clean_text(award.recipient_name)
        award.school_or_workplace = clean_text(award.school_or_workplace)
        award.grade = clean_text(award.grade)
        award.recipient_id = clean_text(award.recipient_id).upper()
        award.in_kind_description = clean_text(award.in_kind_description) if award.form == AwardForm.IN_KIND else ""
        if award.form == AwardForm.IN_KIND and not award.in_kind_description:
            raise ValidationError({"in_kind_description": _("Describe the goods given in kind.")})
        award.created_by = recorder(actor)
        # What Award.save() computes; bulk_create does not call save().
        award.recipient_name_search = search_key(award.recipient_name)
        award.recipient_key = Award.recipient_key_for(
            recipient_id=award.recipient_id, recipient_name=award.recipient_name, date_of_birth=award.date_of_birth
        )
        award.clean_fields(exclude=["round", "created_by", "voided_by", "payment"])
    payments = fund_services.payments_record(
        actor=actor,
        payments=[
            Payment(fund_id=award.round.fund_id, amount=award.amount, paid_on=award.paid_on, description=str(award))
            for award in awards
        ],
    )
    for award, payment in zip(awards, payments, strict=True):
        award.payment = payment
    bulk_insert(Award, awards)  # COPY on PostgreSQL
    totals_add(AWARDS, awards)  # the stored totals move in the same transaction
    audit_created(
        actor=actor,
        records=awards,
        branch_ids=[award.round.branch_id for award in awards],
        fields=AWARD_AUDIT_FIELDS,
    )
    # The earliest day once, not once per branch: an import's batch of 10 000 awards spans
    # thousands of branches at a city's size.
    announce((award.round.branch_id for award in awards), Award, from_day=min(award.paid_on for award in awards))
    return awards


@transaction.atomic
def award_pay(
    *,
    actor,
    scholarship_round: ScholarshipRound,
    recipient_kind: str,
    recipient_name: str,
    category: str,
    amount: int,
    paid_on: datetime.date,
    date_of_birth: datetime.date | None = None,
    school_or_workplace: str = "",
    grade: str = "",
    recipient_id: str = "",
    form: str = AwardForm.CASH,
    in_kind_description: str = "",
) -> Award:
    """Record one award and pay it from the round's fund: a batch of one through `awards_pay`.

    When the fund cannot afford it, the payment is refused and the award is rolled back
    with it: nothing is written.
    """
    award = Award(
        round=scholarship_round,
        recipient_kind=recipient_kind,
        recipient_name=recipient_name,
        date_of_birth=date_of_birth,
        school_or_workplace=school_or_workplace,
        grade=grade,
        recipient_id=recipient_id,
        category=category,
        amount=amount,
        form=form,
        in_kind_description=in_kind_description,
        paid_on=paid_on,
    )
    return awards_pay(actor=actor, awards=[award])[0]


@transaction.atomic
def award_void(*, actor, award: Award, reason: str) -> Award:
    """Void an award: its payment is voided and reversed into the fund; the award, the
    payment and both ledger rows stay."""
    award = Award.objects.select_related("round__branch", "payment").get(pk=award.pk)
    voided = fund_services.record_void(
        actor=actor,
        record=award,
        reason=reason,
        branch=award.round.branch,
        paid_by=award.payment,
        refusal=_("This award cannot be voided: %(error)s"),
    )
    totals_void(AWARDS, [award])
    return voided
