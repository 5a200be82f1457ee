from django.urls import URLPattern, path

from privacy.api import views

urlpatterns: list[URLPattern] = [
    path("privacy/reads/", views.ReadAccessListView.as_view(), name="privacy-read-list"),
    path("privacy/deletions/", views.DeletionLogListView.as_view(), name="privacy-deletion-list"),
    path("privacy/retention-preview/", views.RetentionPreviewView.as_view(), name="privacy-retention-preview"),
    path("privacy/holds/", views.LegalHoldListView.as_view(), name="privacy-hold-list"),
    path("privacy/holds/<int:pk>/lift/", views.LegalHoldLiftView.as_view(), name="privacy-hold-lift"),
    path("persons/<int:pk>/access/", views.SubjectAccessView.as_view(), name="privacy-subject-access"),
]
