"""The documents' URLs, without a namespace of their own: learning/urls.py adds them to its
list (`urlpatterns += urls_documents.urlpatterns`), so their names read "learning:…"."""

from django.urls import path

from learning.views import documents

urlpatterns = [
    path("registrations/<int:pk>/certificate.pdf", documents.certificate_pdf, name="certificate_pdf"),
    path("decisions/<int:pk>/list.pdf", documents.decision_list_pdf, name="decision_list_pdf"),
    path("decisions/<int:pk>/list.xlsx", documents.decision_list_xlsx, name="decision_list_xlsx"),
]
