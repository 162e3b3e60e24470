"""The awards list as shown and exported: filters, checked rows, sort keys, Excel rows.

The export is registered as "awards" (khuyenhoc.exports) in ScholarshipsConfig.ready(): small
ones are written during the request, large ones by the worker (associations.ExportJob).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _

from associations import privacy
from associations.models import PersonalDataExportKind
from associations.selectors import selected_ids
from funds.visibility import visible_records
from khuyenhoc.exports import ListExport
from khuyenhoc.sorting import sorted_by
from scholarships.forms import AwardFilterForm
from scholarships.models import Award

AWARD_SORTS = {
    "paid": "paid_on",
    "recipient": "recipient_name",
    "category": "category",
    "amount": "amount",
}
AWARD_NAME_SORTS = {"recipient_name"}
AWARD_DEFAULT_SORT = "-paid"


def awards_listed(user, params, *, form: AwardFilterForm | None = None):
    """The awards the user sees, narrowed by the list's filters (or to the checked rows), sorted."""
    form = form or AwardFilterForm(params or None, user=user)
    awards = form.filter(visible_records(Award.objects.all(), user))
    if (ids := selected_ids(params)) is not None:
        awards = Award.objects.visible_to(user).filter(pk__in=ids)
    return sorted_by(awards, AWARD_SORTS, params.get("sort"), AWARD_DEFAULT_SORT, names=AWARD_NAME_SORTS)


def award_rows(awards, *, unmasked: bool) -> Iterator[list]:
    for award in awards.select_related("round__branch", "round__fund").iterator(chunk_size=2000):
        yield [
            award.paid_on,
            award.recipient_name,
            award.date_of_birth if unmasked else privacy.mask_date(award.date_of_birth),
            award.get_recipient_kind_display(),
            award.school_or_workplace,
            award.grade,
            award.recipient_id if unmasked else privacy.mask_citizen_id(award.recipient_id),
            award.get_category_display(),
            award.amount,
            award.get_form_display(),
            award.round.name,
            award.round.school_year,
            award.round.branch.name,
            award.round.fund.name,
            _("voided: %(reason)s") % {"reason": award.void_reason} if award.is_voided else "",
        ]


def award_list_export(*, user, params) -> ListExport:
    # Recipients are often children: IDs and dates of birth are masked unless a writing role
    # asks for them, and every export is recorded.
    unmasked = privacy.export_unmasked(user, params)
    return ListExport(
        filename="hoc-bong.xlsx",
        title=_("Awards"),
        headers=[
            _("Paid on"),
            _("Recipient"),
            _("Date of birth"),
            _("Recipient kind"),
            _("School or workplace"),
            _("Class / grade"),
            _("Citizen or student ID"),
            _("Category"),
            _("Amount (đồng)"),
            _("Form"),
            _("Round"),
            _("School year"),
            _("Branch"),
            _("Fund"),
            _("Status"),
        ],
        queryset=awards_listed(user, params),
        rows=lambda awards: award_rows(awards, unmasked=unmasked),
        personal_kind=PersonalDataExportKind.AWARDS,
        unmasked=unmasked,
    )
