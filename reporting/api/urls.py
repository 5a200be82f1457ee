from django.urls import URLPattern, path

from reporting.api import views

urlpatterns: list[URLPattern] = [
    path("workspaces/<int:pk>/figures/", views.WorkspaceFiguresView.as_view(), name="reporting-workspace"),
    path("agencies/<int:pk>/figures/", views.AgencyFiguresView.as_view(), name="reporting-agency"),
]
