from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.period_list, name="period_list"),
    path("periods/new/", views.period_create, name="period_create"),
    path("periods/<int:period_pk>/", views.report_list, name="report_list"),
    path("periods/<int:period_pk>/deadlines/", views.deadlines, name="deadlines"),
    path("periods/<int:period_pk>/completeness/", views.completeness, name="completeness"),
    path("periods/<int:period_pk>/branches/<int:branch_id>/", views.report_detail, name="report_detail"),
    path("periods/<int:period_pk>/branches/<int:branch_id>/edit/", views.report_edit, name="report_edit"),
    path("periods/<int:period_pk>/branches/<int:branch_id>/consolidated/", views.consolidated, name="consolidated"),
    path(
        "periods/<int:period_pk>/branches/<int:branch_id>/consolidated.xlsx",
        views.consolidated_xlsx,
        name="consolidated_xlsx",
    ),
    path(
        "periods/<int:period_pk>/branches/<int:branch_id>/consolidated.pdf",
        views.consolidated_pdf,
        name="consolidated_pdf",
    ),
    path("<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("<int:pk>/approve/", views.report_approve, name="report_approve"),
    path("<int:pk>/accept/", views.report_accept, name="report_accept"),
    path("<int:pk>/return/", views.report_return, name="report_return"),
    path("forms/<int:pk>/", views.form_detail, name="form_detail"),
    path("forms/<int:pk>/new-version/", views.form_new_version, name="form_new_version"),
    path("forms/<int:pk>/sections/new/", views.section_create, name="section_create"),
    path("sections/<int:pk>/edit/", views.section_update, name="section_update"),
    path("forms/<int:pk>/fields/new/", views.field_create, name="field_create"),
    path("fields/<int:pk>/edit/", views.field_update, name="field_update"),
    path("fields/<int:pk>/delete/", views.field_delete, name="field_delete"),
]
