from django.urls import path
from django.views.generic import RedirectView

from agencies.signin import views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/login/code/", views.login_code, name="login-code"),
    path("profile/two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("profile/two-factor/recovery-codes/", views.recovery_codes, name="two-factor-recovery-codes"),
    path(
        "profile/two-factor/recovery-codes/download/",
        views.recovery_codes_download,
        name="two-factor-recovery-codes-download",
    ),
    path(
        "profile/two-factor/recovery-codes/regenerate/",
        views.recovery_codes_regenerate,
        name="two-factor-recovery-codes-regenerate",
    ),
    path("profile/two-factor/disable/", views.two_factor_disable, name="two-factor-disable"),
    path("staff/<int:pk>/two-factor/reset/", views.staff_two_factor_reset, name="staff-two-factor-reset"),
    # The admin's own login form would skip the blocking and the second factor: it is this one.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
]
