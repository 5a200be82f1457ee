"""The agencies API under /api/v1/.

Namespaced "api", because the UI uses the same names for its pages ("agency-list",
"workspace-detail", ...); reverse them as "api:agency-list".
"""

from rest_framework.renderers import JSONRenderer
from rest_framework.routers import APIRootView, DefaultRouter

from agencies.api import views

app_name = "api"


class RootView(APIRootView):
    renderer_classes = [JSONRenderer]


class Router(DefaultRouter):
    APIRootView = RootView


# Path converters rather than regexes: ids are <int:...>, so "abc" never reaches a view.
router = Router(use_regex_path=False)
router.include_format_suffixes = False
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("workspaces", views.WorkspaceViewSet, basename="workspace")
router.register("me", views.MeViewSet, basename="me")

urlpatterns = router.urls
