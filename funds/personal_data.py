"""What funds hold about a member, for the registry's personal-data pages (a member's copy of
their data, and whether it may be erased): registered in FundsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext as _

from associations.models import Member
from associations.personal_data import MemberRecords
from funds.models import Donation


def member_donations(member: Member) -> list[dict]:
    donations = Donation.objects.filter(member=member).select_related("fund").order_by("received_on", "id")
    return [
        {
            "receipt": donation.receipt_label,
            "received_on": donation.received_on.isoformat(),
            "amount": donation.amount,
            "fund": donation.fund.name,
            "voided": donation.is_voided,
        }
        for donation in donations
    ]


def member_donations_keep_data(member: Member) -> str | None:
    """Accounting law keeps receipts, and a receipt names its donor."""
    count = Donation.objects.filter(member=member).count()
    if not count:
        return None
    return _(
        "%(count)d donation receipt(s) refer to this member: accounting law requires them to be kept, "
        "so the member's data cannot be erased."
    ) % {"count": count}


DONATIONS = MemberRecords(key="donations", rows=member_donations, keeps_data=member_donations_keep_data)
