"""Pages of the funds app: thin views that check access, call a service and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations.access import get_visible_or_404, require_write
from associations.exports import list_export_response
from associations.page_cache import cached_page
from associations.selectors import history_of
from funds import reports, selectors, services
from funds.forms import (
    DonationFilterForm,
    DonationForm,
    FundFilterForm,
    FundForm,
    TransferFilterForm,
    TransferForm,
    VoidForm,
)
from funds.list_exports import donations_listed
from funds.models import Donation, Fund, LedgerEntry, Transfer
from funds.pages import (
    LEDGER_FIELDS,
    counted_paginator,
    donation_rows,
    fund_links,
    ledger_display_rows,
    link_rows,
    report_scope,
    total_link,
    void_from_post,
    year_links,
)
from funds.receipts import donation_receipt_pdf
from khuyenhoc import form_tokens
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.page_cache import MONEY, REGISTRY
from khuyenhoc.pagination import CappedPaginator, paged
from khuyenhoc.search import picker_response
from khuyenhoc.sorting import sorted_by
from khuyenhoc.xlsx import Sheet, xlsx_response

# --- Funds ------------------------------------------------------------------------------------

FUND_SORTS = {"name": "name", "branch": "branch__path", "balance": "balance"}


@login_required
def fund_list(request):
    form = FundFilterForm(request.GET or None, user=request.user)
    funds = form.filter(Fund.objects.visible_to(request.user))
    totals = funds.aggregate(balance=Sum("balance"), count=Count("id"))
    return render(
        request,
        "funds/fund_list.html",
        {
            "form": form,
            "totals": totals,
            **paged(
                request,
                sorted_by(
                    funds.select_related("branch", "fund_model"),
                    FUND_SORTS,
                    request.GET.get("sort"),
                    "branch",
                    names={"name"},
                ),
            ),
        },
    )


@login_required
def fund_create(request):
    require_write(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = FundForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "branch"}
        try:
            fund = services.fund_create(actor=request.user, branch=form.cleaned_data["branch"], data=data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The fund %(fund)s was created.") % {"fund": fund})
            url = reverse("funds:fund_detail", kwargs={"pk": fund.pk})
            form_tokens.remember(request, url)
            return redirect(url)
    return render(request, "funds/fund_form.html", {"form": form})


@login_required
def fund_edit(request, pk: int):
    fund = get_visible_or_404(request.user, Fund.objects, pk=pk, write=True)
    form = FundForm(request.POST or None, instance=fund, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.fund_update(actor=request.user, fund=fund, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The fund was saved."))
            return redirect("funds:fund_detail", pk=fund.pk)
    return render(request, "funds/fund_form.html", {"form": form, "fund": fund})


@login_required
@cached_page(REGISTRY, MONEY)
def fund_detail(request, pk: int):
    fund = get_visible_or_404(request.user, Fund.objects.select_related("branch", "fund_model"), pk=pk)
    entries = LedgerEntry.objects.filter(fund=fund).order_by("-id").values(*LEDGER_FIELDS)
    # A city fund pays every award of its rounds: counted only up to the cap.
    listing = paged(request, entries, paginator_class=CappedPaginator)
    listing["page"].object_list = ledger_display_rows(listing["page"].object_list)
    return render(
        request,
        "funds/fund_detail.html",
        {
            "fund": fund,
            **listing,
            "history": history_of(fund),
            "links": fund_links(fund),
            "breadcrumb": fund.branch.ancestors_and_self(),
        },
    )


# --- Donations --------------------------------------------------------------------------------


@login_required
@cached_page(REGISTRY, MONEY)
def donation_list(request):
    form = DonationFilterForm(request.GET or None, user=request.user)
    if request.GET.get("format") == "xlsx":
        return list_export_response(request, "donations")
    donations = donations_listed(request.user, request.GET, form=form)
    totals = selectors.donation_totals(request.user, form)
    listing = paged(
        request,
        donations.select_related("fund__branch"),
        paginator_class=counted_paginator(request, form, totals["count"]),
    )
    listing["page"].object_list = donation_rows(listing["page"].object_list)
    return render(request, "funds/donation_list.html", {"form": form, "totals": totals, **listing})


@login_required
def donation_create(request):
    require_write(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    initial = {}
    if request.GET.get("fund", "").isdigit():
        initial["fund"] = int(request.GET["fund"])
    form = DonationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            donation = services.donation_record(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                _("Donation recorded with receipt number %(number)s.") % {"number": donation.receipt_label},
            )
            url = reverse("funds:donation_detail", kwargs={"pk": donation.pk})
            form_tokens.remember(request, url)
            return redirect(url)
    return render(request, "funds/donation_form.html", {"form": form})


@login_required
def donation_detail(request, pk: int):
    donation = get_visible_or_404(
        request.user,
        Donation.objects.select_related("fund__branch", "member", "organization", "created_by", "voided_by"),
        pk=pk,
    )
    return render(
        request,
        "funds/donation_detail.html",
        {
            "donation": donation,
            "entries": donation.ledger_entries.select_related("created_by", "reverses").order_by("id"),
            "history": history_of(donation),
            "void_form": VoidForm(),
        },
    )


@login_required
def donation_receipt(request, pk: int):
    donation = get_visible_or_404(request.user, Donation.objects.select_related("fund__branch", "created_by"), pk=pk)
    response = HttpResponse(donation_receipt_pdf(donation), content_type="application/pdf")
    filename = f"bien-lai-{donation.receipt_year}-{donation.receipt_number:05d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
@require_POST
def donation_void(request, pk: int):
    donation = get_visible_or_404(request.user, Donation.objects, pk=pk, write=True)
    return void_from_post(
        request,
        void=lambda reason: services.donation_void(actor=request.user, donation=donation, reason=reason),
        back_to=reverse("funds:donation_detail", args=[pk]),
        done=_("The donation was voided and its amount taken back out of the fund."),
    )


# --- Transfers --------------------------------------------------------------------------------


@login_required
def transfer_list(request):
    form = TransferFilterForm(request.GET or None, user=request.user)
    transfers = form.filter(Transfer.objects.visible_to(request.user))
    totals = transfers.valid().aggregate(amount=Sum("amount"), count=Count("id"))
    return render(
        request,
        "funds/transfer_list.html",
        {
            "form": form,
            "totals": totals,
            **paged(request, transfers.select_related("from_fund", "to_fund").order_by("-transferred_on", "-id")),
        },
    )


@login_required
def transfer_create(request):
    require_write(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = TransferForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = services.transfer_record(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The transfer was recorded."))
            url = reverse("funds:transfer_detail", kwargs={"pk": transfer.pk})
            form_tokens.remember(request, url)
            return redirect(url)
    return render(request, "funds/transfer_form.html", {"form": form})


@login_required
def transfer_detail(request, pk: int):
    transfer = get_visible_or_404(
        request.user, Transfer.objects.select_related("from_fund", "to_fund", "created_by", "voided_by"), pk=pk
    )
    return render(
        request,
        "funds/transfer_detail.html",
        {
            "transfer": transfer,
            "entries": transfer.ledger_entries.select_related("fund", "created_by").order_by("id"),
            "history": history_of(transfer),
            "void_form": VoidForm(),
        },
    )


@login_required
@require_POST
def transfer_void(request, pk: int):
    transfer = get_visible_or_404(request.user, Transfer.objects, pk=pk, write=True)
    return void_from_post(
        request,
        void=lambda reason: services.transfer_void(actor=request.user, transfer=transfer, reason=reason),
        back_to=reverse("funds:transfer_detail", args=[pk]),
        done=_("The transfer was voided and reversed."),
        # Seen from the receiving end only: the giving fund lies outside this user's subtree.
        refused=_("Only the branch of the giving fund can void this transfer."),
    )


# --- Reports ----------------------------------------------------------------------------------


@login_required
@cached_page(REGISTRY, MONEY)
def report(request):
    form, branch, period = report_scope(request, latest_day=reports.latest_donation_day)
    donations_url = reverse("funds:donation_list")
    funds_url = reverse("funds:fund_list")
    balance_total, balances_by_branch, balances_by_model = reports.balances(branch)
    context = {
        "form": form,
        "year_links": year_links(request, period),
        "branch": branch,
        "period": period,
        "raised_total": reports.raised_total(branch, period),
        "raised_total_url": total_link(donations_url, branch, period),
        "by_model": link_rows(
            reports.raised_by_fund_model(branch, period), url=donations_url, branch=branch, period=period
        ),
        "by_branch": link_rows(
            reports.raised_by_branch(branch, period), url=donations_url, branch=branch, period=period
        ),
        "by_month": link_rows(reports.raised_by_month(branch, period), url=donations_url, branch=branch, period=period),
        "balance_total": balance_total,
        "balance_total_url": total_link(funds_url, branch, None),
        "balances_by_branch": link_rows(balances_by_branch, url=funds_url, branch=branch, period=None),
        "balances_by_model": link_rows(balances_by_model, url=funds_url, branch=branch, period=None),
    }
    if request.GET.get("format") == "xlsx":
        return xlsx_response("bao-cao-quy.xlsx", _report_sheets(context))
    return render(request, "funds/report.html", context)


def _report_sheets(context) -> list[Sheet]:
    heading = [[f"{context['branch']} — {context['period'].label}"]]
    raised = [_("Amount raised (đồng)"), _("Donations")]
    sheets = []
    for title, key in (
        (_("By fund model"), "by_model"),
        (_("By branch"), "by_branch"),
        (_("By month"), "by_month"),
    ):
        rows = [[row.label, row.figures["amount"], row.figures["donations"]] for row in context[key]]
        total = context["raised_total"]
        rows.append([_("Total"), total["amount"], total["donations"]])
        sheets.append(Sheet(title, ["", *raised], rows, heading=heading))
    balance_heading = [[str(context["branch"])]]
    for title, key in (
        (_("Balances by branch"), "balances_by_branch"),
        (_("Balances by fund model"), "balances_by_model"),
    ):
        rows = [[row.label, row.figures["balance"], row.figures["funds"]] for row in context[key]]
        total = context["balance_total"]
        rows.append([_("Total"), total["balance"], total["funds"]])
        sheets.append(Sheet(title, ["", _("Balance (đồng)"), _("Funds")], rows, heading=balance_heading))
    return sheets


@login_required
@require_GET
def fund_search(request):
    """The funds picker's endpoint (khuyenhoc.search): funds of the user's subtree."""
    results, more = selectors.funds_for_picker(request.user, request.GET.get("q", ""))
    return picker_response(results, more=more)
