"""The audit log, read by managers for their subtree. Nothing here writes: entries are made by
the services in the same transaction as each change, and no page edits or deletes them."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from associations.access import require_manage
from associations.models import AuditAction, AuditEntry, PersonalDataExport, PersonalDataExportKind
from khuyenhoc.pagination import CappedPaginator, paged
from khuyenhoc.sorting import sorted_by

# What the log can be filtered by: (app label, model) of each audited kind of record.
KINDS = {
    "branch": (("associations", "branch"), _("Branches")),
    "organization": (("associations", "organization"), _("Organisations")),
    "member": (("associations", "member"), _("Members")),
    "staff": (("associations", "staffprofile"), _("Staff accounts")),
    "import": (("associations", "importjob"), _("Imports")),
    "fund": (("funds", "fund"), _("Funds")),
    "donation": (("funds", "donation"), _("Donations")),
    "transfer": (("funds", "transfer"), _("Transfers")),
    "round": (("scholarships", "scholarshipround"), _("Scholarship rounds")),
    "award": (("scholarships", "award"), _("Awards")),
    "plan": (("plans", "plan"), _("Plans")),
    "target": (("plans", "target"), _("Targets")),
}
# The log's sortable columns (khuyenhoc.sorting); newest first by default. The action is not
# among them: its stored keys do not sort like the words shown.
AUDIT_SORTS = {
    "at": "at",
    "actor": "actor__last_name",
    "record": "object_repr",
    "branch": "branch__path",
}
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DatedFilterForm(forms.Form):
    """A filter of records stamped `at`, by the day they were made (both ends included)."""

    since = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET, input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    until = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET, input_formats=["%Y-%m-%d", "%d/%m/%Y"])

    def filter(self, queryset):
        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["since"]:
            queryset = queryset.filter(at__date__gte=data["since"])
        if data["until"]:
            queryset = queryset.filter(at__date__lte=data["until"])
        return self.filter_more(queryset, data)

    def filter_more(self, queryset, data):
        return queryset


class AuditFilterForm(DatedFilterForm):
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("All")), *AuditAction.choices])
    kind = forms.ChoiceField(
        label=_("Record kind"), required=False, choices=[("", _("All")), *((k, v[1]) for k, v in KINDS.items())]
    )
    actor = forms.CharField(label=_("By (user name)"), required=False, max_length=150)
    field_order = ["action", "kind", "actor", "since", "until"]

    def filter_more(self, queryset, data):
        if data["action"]:
            queryset = queryset.filter(action=data["action"])
        if data["kind"]:
            app_label, model = KINDS[data["kind"]][0]
            queryset = queryset.filter(content_type=ContentType.objects.get_by_natural_key(app_label, model))
        if data["actor"]:
            text = data["actor"].strip()
            queryset = queryset.filter(
                Q(actor__username__iexact=text)
                | Q(actor__last_name__icontains=text)
                | Q(actor__first_name__icontains=text)
            )
        return queryset


@login_required
@require_GET
def audit_log(request):
    require_manage(request.user)
    form = AuditFilterForm(request.GET or None)
    entries = form.filter(AuditEntry.objects.visible_to(request.user)).select_related("actor", "branch", "content_type")
    return render(
        request,
        "associations/audit_log.html",
        {
            "form": form,
            **paged(
                request,
                sorted_by(
                    entries, AUDIT_SORTS, request.GET.get("sort"), "-at", names={"actor__last_name", "object_repr"}
                ),
                paginator_class=CappedPaginator,
            ),
        },
    )


class ExportFilterForm(DatedFilterForm):
    kind = forms.ChoiceField(label=_("What"), required=False, choices=[("", _("All")), *PersonalDataExportKind.choices])
    field_order = ["kind", "since", "until"]

    def filter_more(self, queryset, data):
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        return queryset


@login_required
@require_GET
def personal_data_exports(request):
    require_manage(request.user)
    form = ExportFilterForm(request.GET or None)
    exports = form.filter(PersonalDataExport.objects.visible_to(request.user)).select_related("user", "branch")
    return render(
        request,
        "associations/personal_data_exports.html",
        {"form": form, **paged(request, exports.order_by("-at", "-id"), paginator_class=CappedPaginator)},
    )
