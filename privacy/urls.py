from django.urls import URLPattern, path

from privacy import views

urlpatterns: list[URLPattern] = [
    path("privacy/reads/", views.read_log, name="privacy-read-log"),
    path("privacy/reads/export.csv", views.read_log_csv, name="privacy-read-log-csv"),
    path("privacy/retention/", views.retention_overview, name="privacy-retention"),
    path("privacy/holds/new/", views.hold_create, name="privacy-hold-create"),
    path("privacy/holds/<int:pk>/lift/", views.hold_lift, name="privacy-hold-lift"),
    path("persons/<int:pk>/access/", views.subject_access_page, name="privacy-subject-access"),
    path("persons/<int:pk>/access.json", views.subject_access_json, name="privacy-subject-access-json"),
]
