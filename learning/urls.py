from django.urls import path

from learning.views import figures

app_name = "learning"

urlpatterns = [
    path("figures/", figures.figures, name="figures"),
]
