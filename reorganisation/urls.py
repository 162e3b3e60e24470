from django.urls import path

from reorganisation import views

app_name = "reorganisation"

urlpatterns = [
    path("", views.reorganisation_list, name="list"),
    path("<int:pk>/", views.reorganisation_detail, name="detail"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/decide-unit/", views.decide_unit, name="decide_unit"),
    path("<int:pk>/decisions.xlsx", views.workbook, name="workbook"),
    path("<int:pk>/decisions/upload/", views.workbook_upload, name="workbook_upload"),
    path("<int:pk>/apply/", views.apply, name="apply"),
]
