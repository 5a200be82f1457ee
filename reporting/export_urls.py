from django.urls import URLPattern, path

from reporting import export_views

urlpatterns: list[URLPattern] = [
    path("workspaces/<int:pk>/figures/export.csv", export_views.workspace_csv, name="reporting-workspace-csv"),
    path("workspaces/<int:pk>/figures/export.xlsx", export_views.workspace_xlsx, name="reporting-workspace-xlsx"),
    path("agencies/<int:pk>/figures/export.csv", export_views.agency_csv, name="reporting-agency-csv"),
    path("agencies/<int:pk>/figures/export.xlsx", export_views.agency_xlsx, name="reporting-agency-xlsx"),
]
