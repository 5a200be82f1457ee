from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hub import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("", include("agencies.urls")),
    path("", include("referrals.urls")),
    path("", include("housing.urls")),
    path("", include("messaging.urls")),
    path("", include("privacy.urls")),
    path("", include("reporting.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("hub.api_urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
