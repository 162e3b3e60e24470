"""Excel import and export of the registry, mounted at the root of the "associations" namespace."""

from django.urls import path

from associations.views import imports

urlpatterns = [
    path("imports/", imports.import_list, name="import_list"),
    path("imports/<str:kind>/template.xlsx", imports.import_template, name="import_template"),
    path("imports/<str:kind>/new/", imports.import_start, name="import_start"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/apply/", imports.import_apply, name="import_apply"),
    path("members/export.xlsx", imports.member_export, name="member_export"),
    path("organizations/export.xlsx", imports.organization_export, name="organization_export"),
]
