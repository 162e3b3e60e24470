from django.urls import path

from scholarships import views

app_name = "scholarships"

urlpatterns = [
    path("", views.round_list, name="round_list"),
    path("rounds/new/", views.round_create, name="round_create"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("rounds/search/", views.round_search, name="round_search"),
    path("rounds/<int:pk>/pay/", views.award_pay, name="award_pay"),
    path("awards/", views.award_list, name="award_list"),
    path("awards/<int:pk>/", views.award_detail, name="award_detail"),
    path("awards/<int:pk>/void/", views.award_void, name="award_void"),
    path("reports/", views.report, name="report"),
]
