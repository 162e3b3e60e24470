app_name = "reorganisation"

urlpatterns: list = []
