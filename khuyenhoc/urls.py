from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from khuyenhoc import views
from khuyenhoc.forms import SignInForm

# The admin named as the portal's, not "Django administration".
admin.site.site_header = _("Khuyến học portal")
admin.site.site_title = _("Khuyến học portal")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", include("associations.urls_home")),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("registry/", include("associations.urls")),
    path("funds/", include("funds.urls")),
    path("scholarships/", include("scholarships.urls")),
    path("plans/", include("plans.urls")),
    path("titles/", include("learning.urls")),
    path("imports/", include("imports.urls")),
    path("centres/", include("centres.urls")),
    path("reports/", include("reporting.urls")),
    path("reorganisation/", include("reorganisation.urls")),
    path("admin/", admin.site.urls),
]
