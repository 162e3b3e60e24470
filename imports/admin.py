from django.contrib import admin

from associations.admin import SubtreeAdminMixin
from imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "original_name", "status", "total_rows", "error_count", "created_by"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
