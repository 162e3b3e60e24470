"""The donations list as shown and exported: filters, checked rows, sort keys, Excel rows.

The export is registered as "donations" (khuyenhoc.exports) in FundsConfig.ready(): small
ones are written during the request, large ones by the worker (associations.ExportJob).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _

from associations.models import PersonalDataExportKind
from associations.selectors import selected_ids
from funds.forms import DonationFilterForm
from funds.models import Donation
from funds.visibility import visible_records
from khuyenhoc.exports import ListExport
from khuyenhoc.sorting import sorted_by

DONATION_SORTS = {
    "received": "received_on",
    "donor": "donor_name",
    "fund": "fund__name",
    "amount": "amount",
}
DONATION_NAME_SORTS = {"donor_name", "fund__name"}
DONATION_DEFAULT_SORT = "-received"


def donations_listed(user, params, *, form: DonationFilterForm | None = None):
    """The donations the user sees, narrowed by the list's filters (or to the checked rows), sorted."""
    form = form or DonationFilterForm(params or None, user=user)
    donations = form.filter(visible_records(Donation.objects.all(), user))
    if (ids := selected_ids(params)) is not None:
        donations = Donation.objects.visible_to(user).filter(pk__in=ids)
    return sorted_by(donations, DONATION_SORTS, params.get("sort"), DONATION_DEFAULT_SORT, names=DONATION_NAME_SORTS)


def donation_rows(donations) -> Iterator[list]:
    for donation in donations.select_related("fund__branch").iterator(chunk_size=2000):
        yield [
            donation.receipt_label,
            donation.received_on,
            donation.donor_name,
            donation.get_donor_kind_display(),
            donation.amount,
            donation.get_method_display(),
            donation.fund.name,
            donation.fund.branch.name,
            donation.note,
            _("voided: %(reason)s") % {"reason": donation.void_reason} if donation.is_voided else "",
        ]


def donation_list_export(*, user, params) -> ListExport:
    # Donors' names are personal data: the export is recorded.
    return ListExport(
        filename="donations.xlsx",
        title=_("Donations"),
        headers=[
            _("Receipt"),
            _("Received on"),
            _("Donor"),
            _("Donor kind"),
            _("Amount (đồng)"),
            _("Method"),
            _("Fund"),
            _("Branch"),
            _("Note"),
            _("Status"),
        ],
        queryset=donations_listed(user, params),
        rows=donation_rows,
        personal_kind=PersonalDataExportKind.DONATIONS,
        unmasked=False,
    )
