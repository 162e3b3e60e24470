"""Admin for plans: plans and targets editable by administrators; computed values are read-only."""

from django.contrib import admin

from associations.admin import AuditedAdminMixin, ScopedChoicesMixin, SubtreeAdminMixin
from plans.models import IndicatorValue, Plan, RecomputeRun, Target, TargetMilestone


class TargetMilestoneInline(admin.TabularInline):
    model = TargetMilestone
    extra = 0


class TargetInline(ScopedChoicesMixin, admin.StackedInline):
    model = Target
    extra = 0
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(SubtreeAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "title", "issuing_branch", "issued_on", "starts_on", "ends_on", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "title"]
    autocomplete_fields = ["issuing_branch"]
    inlines = [TargetInline]


@admin.register(Target)
class TargetAdmin(ScopedChoicesMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["plan", "indicator", "threshold_percent", "deadline", "root_branch"]
    list_filter = ["indicator"]
    autocomplete_fields = ["root_branch"]
    inlines = [TargetMilestoneInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("plan", "root_branch")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(plan__in=Plan.objects.visible_to(request.user))


@admin.register(IndicatorValue)
class IndicatorValueAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["target", "branch", "as_of", "numerator", "denominator", "computed_at"]
    list_filter = ["target__indicator", "as_of"]
    list_select_related = ["target__plan", "branch"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "trigger", "status", "started_at", "finished_at", "rows_written"]
    list_filter = ["status", "trigger"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
