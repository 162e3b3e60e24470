"""Django admin of the learning titles: administrators add a province's own titles here.
Every save goes through the services (audit row); nothing is deleted. The yearly cycle and
the criteria are worked on the portal's pages, which the admin links to."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from associations.admin import SubtreeAdminMixin
from learning import services
from learning.models import CriteriaSet, Decision, Registration, TitleKind


class TitleKindForm(forms.ModelForm):
    class Meta:
        model = TitleKind
        fields = ["code", "name", "abbreviation", "subject_type", "ordering", "active"]

    def clean(self):
        cleaned = super().clean()
        given = TitleKind(pk=self.instance.pk, **{name: cleaned.get(name) for name in self.Meta.fields})
        for field, message in services.title_kind_errors(given).items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(TitleKind)
class TitleKindAdmin(admin.ModelAdmin):
    form = TitleKindForm
    list_display = ["name", "abbreviation", "subject_type", "ordering", "active"]
    list_editable = ["ordering", "active"]
    prepopulated_fields = {"code": ["name"]}

    def save_model(self, request, obj, form, change):
        services.title_kind_save(actor=request.user, kind=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # switched off ("in use"), never deleted: registrations name it


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the portal's pages write through the services: shown here, never changed here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CriteriaSet)
class CriteriaSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "version", "valid_from", "valid_to", "frozen_at", "placeholder", "portal_page"]
    list_filter = ["kind", "placeholder"]

    @admin.display(description=_("on the portal"))
    def portal_page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("learning:criteria_detail", args=[obj.pk]), _("open"))


@admin.register(Registration)
class RegistrationAdmin(SubtreeAdminMixin, ReadOnlyAdmin):
    list_display = ["id", "kind", "year", "branch", "stage", "registered_on"]
    list_filter = ["kind", "year", "stage"]
    list_select_related = ["kind", "branch"]


@admin.register(Decision)
class DecisionAdmin(SubtreeAdminMixin, ReadOnlyAdmin):
    list_display = ["number", "decided_on", "kind", "year", "branch", "body"]
    list_filter = ["kind", "year"]
    list_select_related = ["kind", "branch"]
