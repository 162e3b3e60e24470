"""Django admin for scholarships, scoped to the user's subtree; awards are read-only and
voided through an action that calls the service."""

from django.contrib import admin

from associations.admin import AuditedAdminMixin, SubtreeAdminMixin
from funds.admin import MoneyRecordAdmin
from scholarships import services
from scholarships.models import Award, ScholarshipRound


@admin.register(ScholarshipRound)
class ScholarshipRoundAdmin(SubtreeAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "school_year", "branch", "fund", "awarded_on"]
    list_filter = ["school_year"]
    search_fields = ["name"]
    list_select_related = ["branch", "fund"]
    exclude = ["created_by"]

    def get_readonly_fields(self, request, obj=None):
        # Paid awards hang on the round's branch and fund: they stay as they were paid.
        return ["branch", "fund"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


def _void_award(*, actor, record, reason):
    return services.award_void(actor=actor, award=record, reason=reason)


@admin.register(Award)
class AwardAdmin(MoneyRecordAdmin):
    list_display = [
        "recipient_name",
        "date_of_birth",
        "recipient_kind",
        "category",
        "amount",
        "paid_on",
        "round",
        "voided_at",
    ]
    list_filter = ["recipient_kind", "category", "form"]
    search_fields = ["recipient_name_search", "recipient_id"]
    list_select_related = ["round"]
    date_hierarchy = "paid_on"
    void_service = staticmethod(_void_award)
