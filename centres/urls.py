app_name = "centres"

urlpatterns: list = []
