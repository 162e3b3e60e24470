"""The documents' URLs, without a namespace of their own: learning/urls.py adds them to its
list (`urlpatterns += urls_documents.urlpatterns`), so their names read "learning:…"."""

from django.urls import path

from learning import views_documents

urlpatterns = [
    path("registrations/<int:pk>/certificate.pdf", views_documents.certificate_pdf, name="certificate_pdf"),
    path("decisions/<int:pk>/list.pdf", views_documents.decision_list_pdf, name="decision_list_pdf"),
    path("decisions/<int:pk>/list.xlsx", views_documents.decision_list_xlsx, name="decision_list_xlsx"),
]
