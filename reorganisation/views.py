"""The reorganisation pages, for a manager of the city association (or an administrator):
upload a conversion table, read the dry run, decide the items no whole merge places (one by
one, a whole old unit at once, or by a workbook), apply. Thin: everything is in services."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from associations.access import require_write_in
from associations.forms import DATE_WIDGET
from associations.models import Branch, Reorganisation
from khuyenhoc.xlsx import xlsx_response
from reorganisation import services
from reorganisation.models import AccountAction
from reorganisation.tables import parse_table
from reorganisation.workbooks import decisions_import, decisions_sheet

ITEMS_SHOWN = 50
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _require_city_manager(user) -> None:
    root = Branch.objects.city_root()
    if root is None:
        raise Http404
    require_write_in(user, root, manage=True)


class TableUploadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255)
    legal_basis = forms.CharField(
        label=gettext_lazy("Legal basis"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("E.g. 1656/NQ-UBTVQH15."),
    )
    effective_on = forms.DateField(label=gettext_lazy("Effective on"), input_formats=["%d/%m/%Y"], widget=DATE_WIDGET)
    file = forms.FileField(
        label=gettext_lazy("Conversion table (.xlsx or .csv)"),
        help_text=gettext_lazy(
            "The official columns: new name, new code, old name, old code, note (Nhập toàn bộ / Nhập một phần)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)d MB.") % {"limit": MAX_UPLOAD_BYTES >> 20})
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def reorganisation_list(request):
    _require_city_manager(request.user)
    form = TableUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = parse_table(upload.read(), upload.name)
            reorganisation = services.reorganisation_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                legal_basis=form.cleaned_data["legal_basis"],
                effective_on=form.cleaned_data["effective_on"],
                rows=rows,
                source=upload.name,
            )
            services.decisions_prepare(actor=request.user, reorganisation=reorganisation)
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
        else:
            return redirect("reorganisation:detail", pk=reorganisation.pk)
    reorganisations = Reorganisation.objects.order_by("-effective_on", "-id")[:100]
    return render(request, "reorganisation/list.html", {"form": form, "reorganisations": reorganisations})


@login_required
@require_GET
def reorganisation_detail(request, pk: int):
    _require_city_manager(request.user)
    reorganisation = get_object_or_404(Reorganisation, pk=pk)
    plan = services.reorganisation_plan(reorganisation=reorganisation)
    context = {
        "reorganisation": reorganisation,
        "plan": plan,
        "units": [unit for unit in plan.units if unit.mode != services.KEPT_MODE],
        "items": services.undecided_items(reorganisation, limit=ITEMS_SHOWN),
        "actions": AccountAction.choices,
        "is_draft": reorganisation.status == Reorganisation.Status.DRAFT,
        # Applied: each (old unit → new unit) pair it recorded, linking to the branches' pages.
        "edges": reorganisation.edges.select_related("predecessor", "successor").order_by(
            "successor__code", "successor__name", "predecessor__code"
        ),
    }
    return render(request, "reorganisation/detail.html", context)


def _draft(request, pk: int) -> Reorganisation:
    _require_city_manager(request.user)
    return get_object_or_404(Reorganisation, pk=pk)


def _report(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def decide(request, pk: int):
    reorganisation = _draft(request, pk)
    try:
        services.decision_set(
            actor=request.user,
            reorganisation=reorganisation,
            record_type=request.POST.get("record_type", ""),
            record_id=int(request.POST["record_id"]) if request.POST.get("record_id", "").isdigit() else 0,
            successor_code=request.POST.get("successor_code", ""),
            account_action=request.POST.get("account_action", ""),
        )
    except ValidationError as error:
        _report(request, error)
    return redirect("reorganisation:detail", pk=reorganisation.pk)


@login_required
@require_POST
def decide_unit(request, pk: int):
    reorganisation = _draft(request, pk)
    branch = Branch.objects.filter(pk=request.POST.get("branch") or 0).first()
    try:
        if branch is None:
            raise ValidationError(_("Choose the old unit."))
        count = services.unit_decide(
            actor=request.user,
            reorganisation=reorganisation,
            branch=branch,
            successor_code=request.POST.get("successor_code", "").strip(),
            account_action=request.POST.get("account_action", ""),
        )
        messages.success(request, _("%(count)s items decided.") % {"count": count})
    except ValidationError as error:
        _report(request, error)
    return redirect("reorganisation:detail", pk=reorganisation.pk)


@login_required
@require_GET
def workbook(request, pk: int):
    reorganisation = _draft(request, pk)
    return xlsx_response(f"quyet-dinh-sap-xep-{reorganisation.pk}.xlsx", [decisions_sheet(reorganisation)])


@login_required
@require_POST
def workbook_upload(request, pk: int):
    reorganisation = _draft(request, pk)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationError(_("Choose the filled decisions workbook (.xlsx)."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than %(limit)d MB.") % {"limit": MAX_UPLOAD_BYTES >> 20})
        count = decisions_import(actor=request.user, reorganisation=reorganisation, data=upload.read())
        messages.success(request, _("%(count)s decisions read from the workbook.") % {"count": count})
    except ValidationError as error:
        _report(request, error)
    return redirect("reorganisation:detail", pk=reorganisation.pk)


@login_required
@require_POST
def apply(request, pk: int):
    reorganisation = _draft(request, pk)
    try:
        result = services.reorganisation_apply(actor=request.user, reorganisation=reorganisation)
    except ValidationError as error:
        _report(request, error)
    else:
        (messages.success if result.applied else messages.info)(request, result.message)
    return redirect("reorganisation:detail", pk=reorganisation.pk)
