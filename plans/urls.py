from django.urls import path

from plans import on_demand_views, views

app_name = "plans"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<int:branch_id>/", views.dashboard, name="dashboard_branch"),
    path("dashboard/<int:branch_id>/values.json", views.values_json, name="values"),
    path(
        "dashboard/<int:branch_id>/target/<int:target_id>/children/",
        views.dashboard_children,
        name="dashboard_children",
    ),
    path("dashboard/<int:branch_id>/plan/<int:plan_id>/report.xlsx", views.export_xlsx, name="export_xlsx"),
    path("dashboard/<int:branch_id>/plan/<int:plan_id>/report.pdf", views.export_pdf, name="export_pdf"),
    path("dashboard/<int:branch_id>/date/", on_demand_views.picked_date, name="picked_date"),
    path("dashboard/<int:branch_id>/date/status/", on_demand_views.picked_date_status, name="picked_date_status"),
    path("reports/<int:pk>/", views.report_export, name="report_export"),
    path("reports/<int:pk>/download/", views.report_export_download, name="report_export_download"),
    path("recompute/", views.recompute_start, name="recompute"),
    path("recompute/<int:pk>/", views.recompute_status, name="recompute_status"),
    path("indicators/", views.indicator_list, name="indicator_list"),
    path("indicators/new/", views.indicator_create, name="indicator_create"),
    path("", views.plan_list, name="plan_list"),
    path("new/", views.plan_edit, name="plan_create"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("<int:plan_pk>/targets/new/", views.target_edit, name="target_create"),
    path("<int:plan_pk>/targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
]
