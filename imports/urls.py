from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("<str:kind>/template.xlsx", views.template, name="template"),
    path("<str:kind>/new/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("<int:pk>/errors.xlsx", views.annotated, name="annotated"),
]
