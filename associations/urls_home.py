"""The portal's start page, mounted at the site root without a namespace (`{% url 'home' %}`)."""

from django.urls import path

from associations.views import home

urlpatterns = [path("", home.home, name="home")]
