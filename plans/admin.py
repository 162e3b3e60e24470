"""Admin for plans: plans and targets editable by administrators through the same services
as the portal's plan pages (audit entry; a changed target schedules a recompute); none is
deleted here. Computed values and recompute runs are read-only."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from associations.admin import ScopedChoicesMixin, SubtreeAdminMixin, mark_formset_saved
from plans.models import IndicatorValue, Plan, RecomputeRun, Target, TargetMilestone
from plans.services import plan_save, target_save


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        raise PermissionDenied

    def delete_queryset(self, request, queryset):
        raise PermissionDenied


class TargetMilestoneInline(admin.TabularInline):
    model = TargetMilestone
    extra = 0
    # Milestones are replaced as a whole by `target_save`; a row is removed by deleting it here.


class TargetInline(ScopedChoicesMixin, admin.StackedInline):
    model = Target
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(NoDeleteMixin, SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["code", "title", "issuing_branch", "issued_on", "starts_on", "ends_on", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "title"]
    autocomplete_fields = ["issuing_branch"]
    inlines = [TargetInline]

    def save_model(self, request, obj, form, change):
        plan_save(actor=request.user, plan=obj)

    def save_formset(self, request, form, formset, change):
        new, changed = [], []
        for row in formset.forms:
            if not row.has_changed():
                continue
            target = row.save(commit=False)
            target.plan = form.instance
            adding = target.pk is None
            target_save(actor=request.user, target=target)
            if adding:
                new.append(target)
            else:
                changed.append((target, row.changed_data))
        mark_formset_saved(formset, new, changed)


@admin.register(Target)
class TargetAdmin(NoDeleteMixin, ScopedChoicesMixin, admin.ModelAdmin):
    list_display = ["plan", "indicator", "threshold_percent", "deadline", "root_branch"]
    list_filter = ["indicator"]
    autocomplete_fields = ["root_branch"]
    inlines = [TargetMilestoneInline]

    def save_model(self, request, obj, form, change):
        """Saved in `save_related`, with its milestones, by one call of the service."""

    def save_related(self, request, form, formsets, change):
        milestones = None
        for formset in formsets:
            if formset.model is not TargetMilestone:
                raise PermissionDenied
            if formset.has_changed():
                milestones = {
                    row.cleaned_data["year"]: row.cleaned_data["percent"]
                    for row in formset.forms
                    if row.cleaned_data and not row.cleaned_data.get("DELETE")
                }
            mark_formset_saved(formset)
        target_save(actor=request.user, target=form.instance, milestones=milestones)

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
