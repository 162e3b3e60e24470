"""django-axes under a name the admin shows in the user's language (its own is "Axes")."""

from axes.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AppConfig):
    verbose_name = _("Sign-in protection")
