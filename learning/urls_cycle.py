"""The yearly cycle's pages, without a namespace of their own: learning/urls.py includes them,
so their names read "learning:…"."""

from django.urls import path

from learning.views import batch, cycle

urlpatterns = [
    path("registrations/", cycle.registration_list, name="registration_list"),
    path("registrations/new/", cycle.registration_create, name="registration_create"),
    path("registrations/evaluate/", batch.evaluations_batch, name="evaluations_batch"),
    path("registrations/<int:pk>/", cycle.registration_detail, name="registration_detail"),
    path("registrations/<int:pk>/evaluate/", cycle.evaluation_record, name="evaluation_record"),
    path("registrations/<int:pk>/review/", cycle.review_record, name="review_record"),
    path("registrations/<int:pk>/withdraw/", cycle.registration_withdraw, name="registration_withdraw"),
    path("decisions/", cycle.decision_list, name="decision_list"),
    path("decisions/new/", cycle.decision_create, name="decision_create"),
    path("decisions/<int:pk>/", cycle.decision_detail, name="decision_detail"),
    path("cycle/", cycle.cycle_settings, name="cycle_settings"),
]
