"""Reads of sign-in security: blocks after failed attempts, a user's second factor and its requirement."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import SignInFailure, SignInStage, Staff, User

# Attempts refused while blocked do not count: a block ends when the failures age out of the window.
COUNTED_STAGES = (SignInStage.PASSWORD, SignInStage.CODE)


def window() -> timedelta:
    return timedelta(minutes=int(settings.HUB_SIGNIN_WINDOW_MINUTES))


def account_key(username: str) -> str:
    """The key failures are counted under: the same for existing and unknown accounts, and not reversible."""
    return salted_hmac("agencies.signin.account", username.strip().casefold(), algorithm="sha256").hexdigest()


def blocked_for(username: str, ip_address: str | None, now: datetime | None = None) -> list[str]:
    """What blocks a sign-in now: "account", "address", both, or nothing (an empty list)."""
    since = (now or timezone.now()) - window()
    recent = SignInFailure.objects.filter(at__gt=since, stage__in=COUNTED_STAGES)
    blocked = []
    if recent.filter(account=account_key(username)).count() >= int(settings.HUB_SIGNIN_FAILURES_PER_ACCOUNT):
        blocked.append("account")
    if ip_address is not None and recent.filter(ip_address=ip_address).count() >= int(
        settings.HUB_SIGNIN_FAILURES_PER_ADDRESS
    ):
        blocked.append("address")
    return blocked


class SecondFactor(enum.Enum):
    """Where a signed-in session stands with the second factor."""

    DONE = "done"  # confirmed with a code, or no second factor set up nor required
    CODE_MISSING = "code_missing"  # the user has one, but this session never gave a code
    SETUP_REQUIRED = "setup_required"  # an agency of the user requires one, and there is none yet


def second_factor_state(user: User, verified: bool) -> SecondFactor:
    """Whether the user has a second factor, and whether an agency of theirs requires one.

    Users loaded by ``SignInBackend`` (every signed-in request) bring both along; others take one query.
    """
    if verified:
        return SecondFactor.DONE
    has_second_factor = getattr(user, "hub_has_second_factor", None)
    required = getattr(user, "hub_two_factor_required", None)
    if has_second_factor is None or required is None:
        row = (
            User.objects.filter(pk=user.pk)
            .annotate(
                has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
                | Exists(StaticDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                required=Exists(
                    Staff.objects.filter(user=OuterRef("pk"), is_active=True, agency__require_two_factor=True)
                ),
            )
            .values_list("has_second_factor", "required")
            .first()
        )
        has_second_factor, required = row or (False, False)
    if has_second_factor:
        return SecondFactor.CODE_MISSING
    return SecondFactor.SETUP_REQUIRED if required else SecondFactor.DONE


def session_verified(user: User, session: Mapping[str, Any]) -> bool:
    """Whether ``session`` gave a code of a confirmed device of ``user`` (for code that has no OTPMiddleware)."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not isinstance(persistent_id, str):
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def sign_in_complete(user: User, session: Mapping[str, Any]) -> bool:
    """Whether the session of ``user`` may use the hub: the websocket asks this when it connects."""
    return second_factor_state(user, session_verified(user, session)) is SecondFactor.DONE


def has_second_factor(user: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticDevice.objects.filter(user=user, confirmed=True).exists()
    )


def two_factor_required(user: User) -> bool:
    """Whether an agency the user is active in requires two-factor sign-in."""
    return Staff.objects.filter(user=user, is_active=True, agency__require_two_factor=True).exists()


def unconfirmed_app(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


@dataclass(frozen=True)
class TwoFactorSummary:
    enabled: bool
    since: datetime | None
    last_used: datetime | None
    recovery_codes_left: int
    required: bool


def two_factor_summary(user: User) -> TwoFactorSummary:
    """What the profile page says about the user's two-factor sign-in."""
    app = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()
    return TwoFactorSummary(
        enabled=app is not None,
        since=app.created_at if app is not None else None,
        last_used=app.last_used_at if app is not None else None,
        recovery_codes_left=StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
        required=two_factor_required(user),
    )
