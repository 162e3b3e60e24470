"""Writes to scholarships. Money moves only through `funds.services`: an award and its
ledger row commit together, or neither does."""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.access import require_write_in
from associations.audit import audit_record, snapshot
from associations.models import AuditAction, AuditEntry, Branch
from funds import services as fund_services
from funds.models import Fund
from khuyenhoc.signals import money_changed
from khuyenhoc.text import clean_text, search_key
from scholarships.models import Award, AwardForm, ScholarshipRound

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
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
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
    """Record an award and pay it from the round's fund in one transaction.

    When the fund cannot afford it, `funds.services.fund_debit` refuses and the award is
    rolled back with it: nothing is written.
    """
    require_write_in(actor, scholarship_round.branch)
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("The date cannot be in the future.")})
    award = Award(
        round=scholarship_round,
        recipient_kind=recipient_kind,
        recipient_name=clean_text(recipient_name),
        date_of_birth=date_of_birth,
        school_or_workplace=clean_text(school_or_workplace),
        grade=clean_text(grade),
        recipient_id=clean_text(recipient_id).upper(),
        category=category,
        amount=amount,
        form=form,
        in_kind_description=clean_text(in_kind_description) if form == AwardForm.IN_KIND else "",
        paid_on=paid_on,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if form == AwardForm.IN_KIND and not award.in_kind_description:
        raise ValidationError({"in_kind_description": _("Describe the goods given in kind.")})
    if date_of_birth and date_of_birth > paid_on:
        raise ValidationError({"date_of_birth": _("The date of birth cannot be after the payment date.")})
    award.full_clean(exclude=["created_by"])
    award.save()
    fund_services.fund_debit(
        actor=actor,
        fund=scholarship_round.fund,
        amount=amount,
        occurred_on=paid_on,
        award=award,
        memo=award.recipient_name,
    )
    audit_record(
        actor=actor,
        obj=award,
        action=AuditAction.CREATE,
        branch=scholarship_round.branch,
        changes=snapshot(award, AWARD_AUDIT_FIELDS),
    )
    money_changed.send(sender=Award, branch_id=scholarship_round.branch_id)
    return award


@transaction.atomic
def award_void(*, actor, award: Award, reason: str) -> Award:
    """Void an award: its payment is reversed into the fund; the award and both ledger rows stay."""
    reason = clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason for voiding.")})
    award = Award.objects.select_for_update().select_related("round__branch").get(pk=award.pk)
    require_write_in(actor, award.round.branch)
    if award.is_voided:
        raise ValidationError(_("This record was already voided."))
    fund_services.ledger_reverse(actor=actor, reason=reason, award=award)
    award.voided_at = timezone.now()
    award.voided_by = actor if getattr(actor, "is_authenticated", False) else None
    award.void_reason = reason
    award.save(update_fields=["voided_at", "voided_by", "void_reason"])
    audit_record(
        actor=actor,
        obj=award,
        action=AuditAction.VOID,
        branch=award.round.branch,
        changes={str(Award._meta.get_field("void_reason").verbose_name): reason},
    )
    money_changed.send(sender=Award, branch_id=award.round.branch_id)
    return award


@transaction.atomic
def awards_pay_many(*, actor, awards: list[Award]) -> list[Award]:
    """Record many new awards (unsaved, `round` set with its fund) and pay them at once.

    The same rules as award_pay, set-based: the awards are written with bulk_create, then
    `funds.services.fund_debit_many` locks each paying fund once and writes one ledger row per
    award, refusing the whole batch when a fund would go below zero. All or nothing.
    """
    if not awards:
        return []
    today = timezone.localdate()
    recorder = actor if getattr(actor, "is_authenticated", False) else None
    for branch in {award.round.branch_id: award.round.branch for award in awards}.values():
        require_write_in(actor, branch)
    for award in awards:
        if award.pk is not None:
            raise ValueError("awards_pay_many records new awards only")
        if not isinstance(award.amount, int) or award.amount <= 0:
            raise ValidationError({"amount": _("The amount must be a whole number of đồng above zero.")})
        if award.paid_on > today:
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
        award.created_by = recorder
        # What Award.save() computes; bulk_create does not call save().
        award.recipient_name_search = search_key(award.recipient_name)
        award.recipient_key = Award.recipient_key_for(
            recipient_id=award.recipient_id, recipient_name=award.recipient_name, date_of_birth=award.date_of_birth
        )
        award.clean_fields(exclude=["round", "created_by", "voided_by"])
    Award.objects.bulk_create(awards, batch_size=1000)
    fund_services.fund_debit_many(
        actor=actor,
        debits=[
            fund_services.Debit(
                fund_id=award.round.fund_id,
                amount=award.amount,
                occurred_on=award.paid_on,
                award=award,
                memo=award.recipient_name,
            )
            for award in awards
        ],
    )
    content_type = ContentType.objects.get_for_model(Award)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=recorder,
                branch_id=award.round.branch_id,
                content_type=content_type,
                object_id=str(award.pk),
                object_repr=str(award)[:255],
                action=AuditAction.CREATE,
                changes=snapshot(award, AWARD_AUDIT_FIELDS),
            )
            for award in awards
        ],
        batch_size=1000,
    )
    for branch_id in sorted({award.round.branch_id for award in awards}):
        money_changed.send(sender=Award, branch_id=branch_id)
    return awards
