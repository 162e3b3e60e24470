from django.urls import path

from centres import views

app_name = "centres"

urlpatterns = [
    path("", views.centre_list, name="centre_list"),
    path("new/", views.centre_create, name="centre_create"),
    path("<int:pk>/", views.centre_detail, name="centre_detail"),
    path("<int:pk>/edit/", views.centre_update, name="centre_update"),
    path("<int:centre_pk>/board/new/", views.seat_create, name="seat_create"),
    path("board/<int:pk>/edit/", views.seat_update, name="seat_update"),
    path("<int:centre_pk>/staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/edit/", views.staff_update, name="staff_update"),
    path("<int:centre_pk>/activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/void/", views.activity_void, name="activity_void"),
]
