from django.urls import include, path

app_name = "associations"

urlpatterns = [
    path("", include("associations.urls_imports")),
]
