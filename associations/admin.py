"""Django admin for the registry, scoped like every portal page: a non-superuser sees and
changes only the subtree of their own branch, and every change leaves an audit entry."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from associations.access import user_root_branch
from associations.audit import audit_record, diff, snapshot
from associations.models import (
    AuditAction,
    AuditEntry,
    Branch,
    Member,
    Organization,
    OrganizationHeadcount,
    PersonalDataExport,
    StaffProfile,
)


def _branch_of(obj):
    if isinstance(obj, Branch):
        return obj
    for name in ("branch", "issuing_branch", "root_branch"):
        branch = getattr(obj, name, None)
        if branch is not None:
            return branch
    return getattr(getattr(obj, "organization", None), "branch", None)


class ScopedChoicesMixin:
    """The rows offered in a form's choices (branches, plans, organisations…) limited to the user's subtree."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and hasattr(related.objects, "visible_to"):
            kwargs["queryset"] = related.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SubtreeAdminMixin(ScopedChoicesMixin):
    """Rows, and the branches offered in forms, limited to the user's subtree."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.visible_to(request.user)


class AuditedAdminMixin:
    """Admin saves leave the same audit entry as the portal's services, in the same transaction."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        changes = diff(before, after) if change else after
        if changes:
            audit_record(
                actor=request.user,
                obj=obj,
                action=AuditAction.UPDATE if change else AuditAction.CREATE,
                branch=_branch_of(obj),
                changes=changes,
            )

    def has_delete_permission(self, request, obj=None):
        # Registry rows are ended (left/dissolved dates), never deleted from the admin.
        return False


@admin.register(Branch)
class BranchAdmin(SubtreeAdminMixin, AuditedAdminMixin, TreeAdmin):
    form = movenodeform_factory(Branch, exclude=["created_at"])
    list_display = ["name", "level", "division_type", "code", "vintage", "founded_on", "dissolved_on"]
    list_filter = ["vintage", "level", "division_type"]
    search_fields = ["name", "code"]
    list_per_page = 100

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super(SubtreeAdminMixin, self).get_queryset(request)
        root = user_root_branch(request.user)
        if root is None:
            return Branch.objects.none()
        parent_id = getattr(request, "_treebeard_parent_id", None)
        if hasattr(request, "_treebeard_parent_id") and not parent_id and not self.is_filtered(request):
            # The top of a non-superuser's tree is their own branch, not the city roots.
            request._treebeard_parent = None
            return Branch.objects.filter(pk=root.pk)
        return super(SubtreeAdminMixin, self).get_queryset(request).visible_to(request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if request.user.is_superuser:
            return form
        user = request.user

        class ScopedForm(form):
            # Treebeard fills "relative to" with the whole tree when the form is built, so the
            # subtree is applied after that, on each instance (not on the class's base field).
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                field = self.fields["treebeard_ref_node"]
                field.queryset = field.queryset.filter(pk__in=Branch.objects.visible_to(user).values("pk"))
                field.empty_label = None

        return ScopedForm

    def move_node(self, request):
        """Treebeard's drag-and-drop move, refused where either end lies outside the user's subtree."""
        visible = Branch.objects.visible_to(request.user)
        node = visible.filter(pk=request.POST.get("node")).first()
        target = visible.filter(pk=request.POST.get("target")).first()
        if node is None or target is None:
            raise PermissionDenied
        old_parent = Branch.objects.get_parent(node)
        if request.POST.get("relation") == "sibling" and not request.user.is_superuser:
            target_parent = Branch.objects.get_parent(target)
            if target_parent is None or not visible.filter(pk=target_parent.pk).exists():
                raise PermissionDenied
        with transaction.atomic():
            response = super().move_node(request)
            if isinstance(response, HttpResponseBadRequest):
                return response
            node.refresh_from_db()
            new_parent = Branch.objects.get_parent(node)
            audit_record(
                actor=request.user,
                obj=node,
                action=AuditAction.MOVE,
                branch=node,
                changes={str(_("parent")): [str(old_parent) if old_parent else None, str(new_parent)]},
            )
        return response


class HeadcountInline(admin.TabularInline):
    model = OrganizationHeadcount
    extra = 0
    can_delete = False


@admin.register(Organization)
class OrganizationAdmin(SubtreeAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "branch", "active_from", "active_to"]
    list_filter = ["kind"]
    search_fields = ["name"]
    ordering = ["name", "id"]
    list_select_related = ["branch"]
    autocomplete_fields = ["branch"]
    inlines = [HeadcountInline]
    change_list_template = "admin/associations/registry_change_list.html"


@admin.register(Member)
class MemberAdmin(SubtreeAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["full_name", "date_of_birth", "category", "branch", "joined_on", "left_on"]
    list_filter = ["category", ("left_on", admin.EmptyFieldListFilter)]
    search_fields = ["name_search", "citizen_id"]
    list_select_related = ["branch"]
    autocomplete_fields = ["branch", "organization"]
    show_full_result_count = False  # no full count of 2 million rows on every page
    change_list_template = "admin/associations/registry_change_list.html"

    def get_search_results(self, request, queryset, search_term):
        from khuyenhoc.text import search_key

        return super().get_search_results(request, queryset, search_key(search_term))


@admin.register(StaffProfile)
class StaffProfileAdmin(SubtreeAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "branch", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["branch"]
    list_select_related = ["user", "branch"]


@admin.register(AuditEntry)
class AuditEntryAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_repr", "branch"]
    list_filter = ["action", "content_type"]
    list_select_related = ["actor", "branch"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalDataExport)
class PersonalDataExportAdmin(SubtreeAdminMixin, admin.ModelAdmin):
    list_display = ["at", "user", "kind", "row_count", "unmasked", "branch"]
    list_filter = ["kind", "unmasked"]
    list_select_related = ["user", "branch"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
