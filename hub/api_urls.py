"""All REST routes under /api/v1/, in one "api" namespace."""

from agencies.api.urls import urlpatterns as agency_routes
from housing.api.urls import urlpatterns as housing_routes
from messaging.api.urls import urlpatterns as messaging_routes
from privacy.api.urls import urlpatterns as privacy_routes
from referrals.api.urls import urlpatterns as referral_routes
from reporting.api.urls import urlpatterns as reporting_routes

app_name = "api"
urlpatterns = [*agency_routes, *referral_routes, *housing_routes, *messaging_routes, *privacy_routes, *reporting_routes]
