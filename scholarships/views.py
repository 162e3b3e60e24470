"""Pages of the scholarships app: thin views over `scholarships.services` and `.reports`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations.access import get_visible_or_404, require_write
from associations.exports import list_export_response
from associations.page_cache import cached_page
from associations.privacy import mask_date, sees_personal_data
from associations.selectors import history_of
from funds.forms import VoidForm
from funds.pages import counted_paginator, link_rows, report_scope, total_link, void_from_post, year_links
from khuyenhoc import form_tokens
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.money import format_money
from khuyenhoc.page_cache import MONEY, REGISTRY
from khuyenhoc.pagination import paged
from khuyenhoc.rows import choice_labels, pk_url
from khuyenhoc.search import picker_response
from khuyenhoc.sorting import sorted_by
from khuyenhoc.xlsx import Sheet, xlsx_response
from scholarships import reports, selectors, services
from scholarships.forms import AwardFilterForm, AwardPayForm, RoundFilterForm, RoundForm
from scholarships.list_exports import awards_listed
from scholarships.models import Award, AwardCategory, RecipientKind, ScholarshipRound

VALID = Q(awards__voided_at__isnull=True)


def _award_totals(awards) -> dict:
    """Turns (one award is one turn), distinct recipients and amount of the awards not voided."""
    return awards.valid().aggregate(
        turns=Count("id"), recipients=Count("recipient_key", distinct=True), amount=Sum("amount")
    )


ROUND_SORTS = {"awarded": "awarded_on", "name": "name", "turns": "turns", "amount": "amount"}


@login_required
def round_list(request):
    form = RoundFilterForm(request.GET or None, user=request.user)
    rounds = form.filter(ScholarshipRound.objects.visible_to(request.user))
    rounds = rounds.select_related("branch", "fund").annotate(
        turns=Count("awards", filter=VALID), amount=Sum("awards__amount", filter=VALID)
    )
    rounds = sorted_by(rounds, ROUND_SORTS, request.GET.get("sort"), "-awarded", names={"name"})
    return render(request, "scholarships/round_list.html", {"form": form, **paged(request, rounds)})


@login_required
def round_create(request):
    require_write(request.user)
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = RoundForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            scholarship_round = services.round_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The round was created. Now record its awards."))
            url = reverse("scholarships:round_detail", kwargs={"pk": scholarship_round.pk})
            form_tokens.remember(request, url)
            return redirect(url)
    return render(request, "scholarships/round_form.html", {"form": form})


@login_required
def round_detail(request, pk: int):
    scholarship_round = get_visible_or_404(
        request.user, ScholarshipRound.objects.select_related("branch", "fund"), pk=pk
    )
    awards = scholarship_round.awards.all()
    totals = _award_totals(awards)
    listing = paged(request, awards.order_by("-paid_on", "-id"))
    listing["page"].object_list = award_rows(request.user, listing["page"].object_list)
    return render(
        request,
        "scholarships/round_detail.html",
        {
            "round": scholarship_round,
            **listing,
            "totals": totals,
            "history": history_of(scholarship_round),
        },
    )


@login_required
def award_pay(request, pk: int):
    scholarship_round = get_visible_or_404(
        request.user, ScholarshipRound.objects.select_related("branch", "fund"), pk=pk, write=True
    )
    if (done := form_tokens.already_saved(request)) is not None:
        return done
    form = AwardPayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            award = services.award_pay(actor=request.user, scholarship_round=scholarship_round, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                _("Award to %(name)s paid from %(fund)s.")
                % {"name": award.recipient_name, "fund": scholarship_round.fund},
            )
            form_tokens.remember(request, reverse("scholarships:round_detail", kwargs={"pk": scholarship_round.pk}))
            if "add_another" in request.POST:
                return redirect("scholarships:award_pay", pk=scholarship_round.pk)
            return redirect("scholarships:round_detail", pk=scholarship_round.pk)
    return render(request, "scholarships/award_form.html", {"form": form, "round": scholarship_round})


@login_required
@cached_page(REGISTRY, MONEY)
def award_list(request):
    form = AwardFilterForm(request.GET or None, user=request.user)
    if request.GET.get("format") == "xlsx":
        return list_export_response(request, "awards")
    totals = selectors.award_totals(request.user, form)
    awards = awards_listed(request.user, request.GET, form=form)
    listing = paged(
        request,
        awards.select_related("round__branch"),
        paginator_class=counted_paginator(request, form, totals["turns"]),
    )
    listing["page"].object_list = award_rows(request.user, listing["page"].object_list)
    return render(
        request,
        "scholarships/award_list.html",
        {"form": form, "totals": totals, "recipients_limit": selectors.RECIPIENTS_LIMIT, **listing},
    )


def award_rows(user, awards) -> list[Award]:
    """The page's awards with what their row shows computed once (a row's two `{% url %}`, two
    `get_FOO_display`, privacy, date and money filters and a translated label, 50 times, were
    most of the award list's template time under load)."""
    kinds, categories = choice_labels(RecipientKind), choice_labels(AwardCategory)
    detail_url, round_url = pk_url("scholarships:award_detail"), pk_url("scholarships:round_detail")
    full = sees_personal_data(user)
    select = _("Select %(name)s")
    rows = list(awards)
    for award in rows:
        award.key = str(award.pk)
        award.url = detail_url(award.pk)
        award.round_url = round_url(award.round_id)
        award.select_label = select % {"name": award.recipient_name}
        born = award.date_of_birth
        award.birth_shown = (born.strftime("%d/%m/%Y") if full else mask_date(born)) if born else ""
        award.kind_label = kinds.get(award.recipient_kind, award.recipient_kind)
        award.category_label = categories.get(award.category, award.category)
        award.paid_shown = award.paid_on.strftime("%d/%m/%Y") if award.paid_on else ""
        award.amount_shown = format_money(award.amount)
    return rows


@login_required
def award_detail(request, pk: int):
    award = get_visible_or_404(
        request.user,
        Award.objects.select_related("round__branch", "round__fund", "created_by", "voided_by"),
        pk=pk,
    )
    return render(
        request,
        "scholarships/award_detail.html",
        {
            "award": award,
            "entries": selectors.award_ledger_entries(award),
            "history": history_of(award),
            "void_form": VoidForm(),
        },
    )


@login_required
@require_POST
def award_void(request, pk: int):
    award = get_visible_or_404(request.user, Award.objects, pk=pk, write=True)
    return void_from_post(
        request,
        void=lambda reason: services.award_void(actor=request.user, award=award, reason=reason),
        back_to=reverse("scholarships:award_detail", args=[pk]),
        done=_("The award was voided and its amount returned to the fund."),
    )


@login_required
def report(request):
    form, branch, period = report_scope(request, latest_day=reports.latest_award_day)
    url = reverse("scholarships:award_list")
    context = {
        "form": form,
        "year_links": year_links(request, period),
        "branch": branch,
        "period": period,
        "total": reports.awards_total(branch, period),
        "total_url": total_link(url, branch, period),
        "by_kind": link_rows(reports.awards_by_recipient_kind(branch, period), url=url, branch=branch, period=period),
        "by_category": link_rows(reports.awards_by_category(branch, period), url=url, branch=branch, period=period),
        "by_kind_and_category": link_rows(
            reports.awards_by_kind_and_category(branch, period), url=url, branch=branch, period=period
        ),
        "by_branch": link_rows(reports.awards_by_branch(branch, period), url=url, branch=branch, period=period),
    }
    if request.GET.get("format") == "xlsx":
        heading = [[f"{branch} — {period.label}"]]
        headers = ["", _("Award turns"), _("Distinct recipients"), _("Amount (đồng)")]
        sheets = []
        for title, key in (
            (_("By recipient kind"), "by_kind"),
            (_("By category"), "by_category"),
            (_("By kind and category"), "by_kind_and_category"),
            (_("By branch"), "by_branch"),
        ):
            rows = [
                [row.label, row.figures["turns"], row.figures["recipients"], row.figures["amount"]]
                for row in context[key]
            ]
            total = context["total"]
            rows.append([_("Total"), total["turns"], total["recipients"], total["amount"]])
            sheets.append(Sheet(title, headers, rows, heading=heading))
        return xlsx_response("bao-cao-hoc-bong.xlsx", sheets)
    return render(request, "scholarships/report.html", context)


@login_required
@require_GET
def round_search(request):
    """The rounds picker's endpoint (khuyenhoc.search): rounds of the user's subtree."""
    results, more = selectors.rounds_for_picker(request.user, request.GET.get("q", ""))
    return picker_response(results, more=more)
