from django.urls import path

from learning import views

app_name = "learning"

urlpatterns = [
    path("figures/", views.figures, name="figures"),
]
