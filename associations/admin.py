"""Django admin for the registry, scoped like every portal page: a non-superuser sees and
changes only the subtree of their own branch. Every save calls the service the portal's
page calls, so it leaves the same audit entry and announces the same change (the
recompute); nothing is deleted here."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from associations import services
from associations.access import user_root_branch
from associations.forms import HeadcountForm
from associations.models import (
    AuditEntry,
    Branch,
    Member,
    Organization,
    OrganizationHeadcount,
    PersonalDataExport,
    StaffProfile,
)
from khuyenhoc.text import search_key

HEADCOUNT_COUNTS = [name for name in HeadcountForm._meta.fields if name != "year"]


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


def model_data(model, form) -> dict:
    """The form's values of the model's own fields, as the services take them."""
    names = {field.name for field in model._meta.concrete_fields}
    return {name: value for name, value in form.cleaned_data.items() if name in names}


def adopt(obj, saved) -> None:
    """Make the admin's unsaved object stand for the row a service created (its id for the
    redirect, the history entry and the inlines that follow)."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def mark_formset_saved(formset, new=(), changed=()) -> None:
    """What `formset.save()` would have recorded, for the admin's history message, when the
    rows were written by a service instead."""
    formset.new_objects = list(new)
    formset.changed_objects = list(changed)
    formset.deleted_objects = []


class ServiceAdminMixin:
    """Saves go through the portal's services (`create` and `update` name them); rows are ended
    or voided, never deleted from the admin."""

    def create(self, *, actor, data: dict):
        raise NotImplementedError

    def update(self, *, actor, obj, data: dict):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        data = model_data(self.model, form)
        if change:
            self.update(actor=request.user, obj=obj, data=data)
        else:
            adopt(obj, self.create(actor=request.user, data=data))

    def delete_model(self, request, obj):
        raise PermissionDenied

    def delete_queryset(self, request, queryset):
        raise PermissionDenied

    def has_delete_permission(self, request, obj=None):
        # Registry rows are ended (left/dissolved dates), never deleted from the admin.
        return False


@admin.register(Branch)
class BranchAdmin(SubtreeAdminMixin, ServiceAdminMixin, TreeAdmin):
    form = movenodeform_factory(Branch, exclude=["created_at"])
    list_display = ["name", "level", "division_type", "code", "founded_on", "dissolved_on"]
    list_filter = ["level", "division_type"]
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

    def has_add_permission(self, request):
        # Chapters and boards are added on the portal's branch page (the same service, which
        # refuses other levels); administrative units come from the map loader.
        return False

    def save_form(self, request, form, change):
        # Treebeard's form moves the node itself as it saves; here the services do it.
        return forms.ModelForm.save(form, commit=False)

    def update(self, *, actor, obj, data):
        services.branch_update(actor=actor, branch=obj, data=data)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if {"treebeard_ref_node", "treebeard_position"} & set(form.changed_data):
            reference = form.cleaned_data.get("treebeard_ref_node")
            child = form.cleaned_data.get("treebeard_position", "").endswith("child")
            new_parent = reference if child or reference is None else Branch.objects.get_parent(reference)
            if new_parent is None:
                raise PermissionDenied  # a new city comes from the map loader, not a move
            services.branch_move(actor=request.user, branch=Branch.objects.get(pk=obj.pk), new_parent=new_parent)

    def move_node(self, request):
        """Treebeard's drag-and-drop move, through the portal's service: under the target, or
        beside it (under its parent). Refused where either end lies outside the user's subtree."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        visible = Branch.objects.visible_to(request.user)
        node = visible.filter(pk=request.POST.get("node")).first()
        target = visible.filter(pk=request.POST.get("target")).first()
        if node is None or target is None:
            raise PermissionDenied
        new_parent = target if request.POST.get("relation") == "child" else Branch.objects.get_parent(target)
        if new_parent is None:
            raise PermissionDenied
        try:
            services.branch_move(actor=request.user, branch=node, new_parent=new_parent)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseBadRequest(" ".join(error.messages))
        messages.info(request, _('Moved "%(node)s" under "%(parent)s".') % {"node": node, "parent": new_parent})
        return HttpResponse("OK")


class HeadcountInlineForm(HeadcountForm):
    """The portal's headcount form; a stored year's row is corrected, not moved to another year."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["year"].disabled = True

    def clean_year(self):
        return self.instance.year if self.instance.pk else super().clean_year()


class HeadcountInline(admin.TabularInline):
    model = OrganizationHeadcount
    form = HeadcountInlineForm
    extra = 0
    can_delete = False


@admin.register(Organization)
class OrganizationAdmin(SubtreeAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "branch", "active_from", "active_to"]
    list_filter = ["kind"]
    search_fields = ["name"]
    ordering = ["name", "id"]
    list_select_related = ["branch"]
    autocomplete_fields = ["branch"]
    inlines = [HeadcountInline]
    change_list_template = "admin/associations/registry_change_list.html"

    def create(self, *, actor, data):
        return services.organization_create(actor=actor, data=data)

    def update(self, *, actor, obj, data):
        services.organization_update(actor=actor, organization=obj, data=data)

    def save_formset(self, request, form, formset, change):
        """Each new or corrected year goes through `headcount_set`: an audit entry with the
        counts before and after, and a recompute (the membership indicator's denominator)."""
        if formset.model is not OrganizationHeadcount:
            raise PermissionDenied
        new, changed = [], []
        for row in formset.forms:
            if not row.has_changed():
                continue
            counts = {name: row.cleaned_data[name] for name in HEADCOUNT_COUNTS}
            headcount = services.headcount_set(
                actor=request.user, organization=form.instance, year=row.cleaned_data["year"], counts=counts
            )
            if row.instance.pk:
                changed.append((headcount, row.changed_data))
            else:
                new.append(headcount)
        mark_formset_saved(formset, new, changed)


@admin.register(Member)
class MemberAdmin(SubtreeAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["full_name", "date_of_birth", "category", "branch", "joined_on", "left_on"]
    list_filter = ["category", ("left_on", admin.EmptyFieldListFilter)]
    search_fields = ["name_search", "citizen_id"]
    list_select_related = ["branch"]
    autocomplete_fields = ["branch", "organization"]
    show_full_result_count = False  # no full count of 2 million rows on every page
    change_list_template = "admin/associations/registry_change_list.html"

    def create(self, *, actor, data):
        return services.member_create(actor=actor, data=data)

    def update(self, *, actor, obj, data):
        services.member_update(actor=actor, member=obj, data=data)

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_key(search_term))


@admin.register(StaffProfile)
class StaffProfileAdmin(SubtreeAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["user", "branch", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["branch"]
    list_select_related = ["user", "branch"]

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj else []

    def create(self, *, actor, data):
        return services.staff_profile_create(actor=actor, user=data["user"], branch=data["branch"], role=data["role"])

    def update(self, *, actor, obj, data):
        services.staff_account_update(
            actor=actor, profile=obj, branch=data["branch"], role=data["role"], is_active=obj.user.is_active
        )


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
