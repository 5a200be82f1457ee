from django.urls import URLPattern, path

from reporting import views
from reporting.export_urls import urlpatterns as export_routes

urlpatterns: list[URLPattern] = [
    path("figures/", views.index, name="reporting-index"),
    path("workspaces/<int:pk>/figures/", views.workspace_figures, name="reporting-workspace"),
    path("agencies/<int:pk>/figures/", views.agency_figures, name="reporting-agency"),
    *export_routes,
]
