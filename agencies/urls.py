from django.contrib.auth import views as auth_views
from django.urls import include, path

from agencies import views

urlpatterns = [
    path("", include("agencies.signin.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.PasswordChange.as_view(), name="password-change"),
    path("profile/token/", views.api_token, name="api-token"),
    path("profile/token/delete/", views.api_token_delete, name="api-token-delete"),
    path("agencies/", views.agency_list, name="agency-list"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency-detail"),
    path("agencies/<int:pk>/edit/", views.agency_edit, name="agency-edit"),
    path("agencies/<int:pk>/staff/", views.staff_list, name="staff-list"),
    path("agencies/<int:pk>/invite/", views.invitation_create, name="invitation-create"),
    path("agencies/<int:pk>/audit/", views.audit_list, name="audit-list"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff-deactivate"),
    path("staff/<int:pk>/reactivate/", views.staff_reactivate, name="staff-reactivate"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("workspaces/", views.workspace_list, name="workspace-list"),
    path("workspaces/new/", views.workspace_create, name="workspace-create"),
    path("workspaces/<int:pk>/", views.workspace_detail, name="workspace-detail"),
    path("workspaces/<int:pk>/edit/", views.workspace_edit, name="workspace-edit"),
    path("workspaces/<int:pk>/agencies/add/", views.workspace_add_agency, name="workspace-add-agency"),
    path(
        "workspaces/<int:pk>/agencies/<int:membership_pk>/remove/",
        views.workspace_remove_agency,
        name="workspace-remove-agency",
    ),
]
