app_name = "scholarships"

urlpatterns: list = []
