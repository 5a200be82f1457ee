"""The password backend: Django's ModelBackend, loading with the user what the second-factor check needs.

``TwoFactorMiddleware`` asks on every request whether the user has a second factor and whether an
agency of theirs requires one; answering both in the query that loads the user keeps a request at
the number of queries it had before.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Staff, User

PATH = "agencies.signin.backends.SignInBackend"


class SignInBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = (
            User._default_manager.annotate(
                hub_has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
                | Exists(StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                hub_two_factor_required=Exists(
                    Staff.objects.filter(user=OuterRef("pk"), is_active=True, agency__require_two_factor=True)
                ),
            )
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
