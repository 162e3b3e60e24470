"""The registers of the subjects (households, clans, communities, citizens) and the criteria
sets, included by learning/urls.py under the app's namespace."""

from django.urls import path

from learning.views import criteria, subjects


def _subject_urls(pages: subjects.SubjectPages, slug: str) -> list:
    options = {"pages": pages}
    return [
        path(f"{slug}/", subjects.subject_list, options, name=f"{pages.name}_list"),
        path(f"{slug}/new/", subjects.subject_create, options, name=f"{pages.name}_create"),
        path(f"{slug}/<int:pk>/", subjects.subject_detail, options, name=f"{pages.name}_detail"),
        path(f"{slug}/<int:pk>/edit/", subjects.subject_update, options, name=f"{pages.name}_update"),
    ]


urlpatterns = [
    *_subject_urls(subjects.HOUSEHOLDS, "households"),
    *_subject_urls(subjects.CLANS, "clans"),
    *_subject_urls(subjects.COMMUNITIES, "communities"),
    *_subject_urls(subjects.CITIZENS, "citizens"),
    path("criteria/", criteria.criteria_list, name="criteria_list"),
    path("criteria/<int:pk>/", criteria.criteria_detail, name="criteria_detail"),
    path("criteria/<int:pk>/edit/", criteria.criteria_update, name="criteria_update"),
    path("criteria/<int:pk>/new-version/", criteria.criteria_new_version, name="criteria_new_version"),
]
