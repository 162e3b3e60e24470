"""Django admin for scholarships, scoped to the user's subtree; awards are read-only and
voided through an action that calls the service. A round is created through the portal's
service; it is not changed here (the portal has no such write either: its paid awards stand
on it) and never deleted."""

from django.contrib import admin

from associations.admin import SubtreeAdminMixin, adopt
from funds.admin import MoneyRecordAdmin
from scholarships import services
from scholarships.models import Award, ScholarshipRound


@admin.register(ScholarshipRound)
class ScholarshipRoundAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["name", "school_year", "branch", "fund", "awarded_on"]
    list_filter = ["school_year"]
    search_fields = ["name"]
    autocomplete_fields = ["branch", "fund"]
    list_select_related = ["branch", "fund"]
    exclude = ["created_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.round_create(
            actor=request.user,
            branch=data["branch"],
            fund=data["fund"],
            name=data["name"],
            school_year=data["school_year"],
            awarded_on=data["awarded_on"],
        )
        adopt(obj, created)


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
