from django.urls import include, path

from learning.views import figures

app_name = "learning"

urlpatterns = [
    path("figures/", figures.figures, name="figures"),
    path("", include("learning.urls_documents")),
    path("", include("learning.urls_subjects")),
    path("", include("learning.urls_cycle")),
]
