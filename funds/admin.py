"""Django admin for funds, scoped to the user's subtree. Money records are read-only here:
they are recorded on the portal's pages (which issue receipt numbers and write the ledger),
never deleted, and voided through an action that asks for a reason and calls the service."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from associations.admin import SubtreeAdminMixin
from funds import services
from funds.models import Donation, Fund, FundModel, LedgerEntry, Payment, Transfer

FUND_FIELDS = ["name", "fund_model", "legal_form", "opened_on", "closed_on"]


@admin.register(FundModel)
class FundModelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active", "ordering"]
    list_editable = ["active", "ordering"]
    prepopulated_fields = {"code": ["name"]}

    def save_model(self, request, obj, form, change):
        services.fund_model_save(actor=request.user, fund_model=obj)

    def has_delete_permission(self, request, obj=None):
        # Switched off ("active"), never deleted: past funds and reports name their model.
        return False


@admin.register(Fund)
class FundAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "branch", "fund_model", "legal_form", "balance", "closed_on"]
    list_filter = ["fund_model", "legal_form"]
    search_fields = ["name", "branch__name"]
    autocomplete_fields = ["branch"]
    readonly_fields = ["balance", "created_at"]
    fields = ["branch", *FUND_FIELDS, "balance", "created_at"]
    list_select_related = ["branch", "fund_model"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "branch"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in FUND_FIELDS if field in form.cleaned_data}
        if change:
            services.fund_update(actor=request.user, fund=obj, data=data)
        else:
            created = services.fund_create(actor=request.user, branch=form.cleaned_data["branch"], data=data)
            obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False


class MoneyRecordAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    """Read-only money records with a 'void' action that asks for the reason first."""

    actions = ["void_selected"]
    void_service = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Void the selected records (asks for a reason)"))
    def void_selected(self, request, queryset):
        reason = request.POST.get("void_reason", "").strip()
        if "apply_void" in request.POST and reason:
            done = 0
            for record in queryset.filter(voided_at__isnull=True):
                try:
                    type(self).void_service(actor=request.user, record=record, reason=reason)
                    done += 1
                except (ValidationError, PermissionDenied) as error:
                    messages.error(request, f"{record}: {' '.join(getattr(error, 'messages', [str(error)]))}")
            if done:
                messages.success(request, _("%(count)s records voided.") % {"count": done})
            return None
        return TemplateResponse(
            request,
            "admin/funds/void_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Void records"),
                "records": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "missing_reason": "apply_void" in request.POST,
            },
        )


def _void_donation(*, actor, record, reason):
    return services.donation_void(actor=actor, donation=record, reason=reason)


def _void_transfer(*, actor, record, reason):
    return services.transfer_void(actor=actor, transfer=record, reason=reason)


@admin.register(Donation)
class DonationAdmin(MoneyRecordAdmin):
    list_display = ["receipt_label", "received_on", "donor_name", "amount", "fund", "method", "voided_at"]
    list_filter = ["donor_kind", "method", "fund__fund_model"]
    search_fields = ["donor_name"]
    list_select_related = ["fund"]
    date_hierarchy = "received_on"
    void_service = staticmethod(_void_donation)


@admin.register(Transfer)
class TransferAdmin(MoneyRecordAdmin):
    list_display = ["transferred_on", "from_fund", "to_fund", "amount", "voided_at"]
    list_select_related = ["from_fund", "to_fund"]
    void_service = staticmethod(_void_transfer)


class ReadOnlyAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    """Rows only the services write: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_on", "fund", "kind", "amount", "reverses"]
    list_filter = ["kind"]
    list_select_related = ["fund"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Voided through what they pay for (an award's page or admin), which gives the reason."""

    list_display = ["id", "paid_on", "fund", "amount", "description", "voided_at"]
    search_fields = ["description"]
    list_select_related = ["fund"]
    date_hierarchy = "paid_on"
