"""Writes of sign-in security: failed and refused attempts, sign-ins, and the user's second factor.

Each works on the actor's own account only (nobody sets up or removes another person's second
factor), so the services check no permission beyond that; each records what matters in the
audit log. Neither a password nor a code nor a secret ever goes into the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import SignInFailure, SignInStage, Staff, User
from agencies.signin import selectors
from hub import access, audit

RECOVERY_CODE_COUNT = 10
# Rows of failed attempts are useless for counting after the window; a day keeps them for a look.
FAILURE_RETENTION = timedelta(days=1)
# Attempts refused while blocked go to the audit log once a minute per account and address.
REFUSED_AUDIT_INTERVAL = timedelta(minutes=1)
APP_NAME = "Authenticator app"
CODES_NAME = "Recovery codes"
# The key of the recovery codes' hash; the migration that hashed the earlier clear-text codes uses it too.
RECOVERY_CODE_SALT = "agencies.signin.recovery_code"
# StaticToken.token holds 16 characters: 64 bits of the hash, far more than the 40 bits of a code.
RECOVERY_CODE_DIGEST_LENGTH = 16


def normalize_code(code: str) -> str:
    """Codes as people type them: with spaces or a dash, in any case."""
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_digests(code: str) -> list[str]:
    """What the database keeps of a recovery code: a keyed hash (HMAC-SHA256 with a key from SECRET_KEY).

    The first is made with the current SECRET_KEY, the others with ``SECRET_KEY_FALLBACKS``, so that
    rotating the key does not void codes made before. A stolen database alone gives away no code:
    without the key, nobody can check a guess against the hashes offline.
    """
    code = normalize_code(code)
    return [
        salted_hmac(RECOVERY_CODE_SALT, code, secret=secret, algorithm="sha256").hexdigest()[
            :RECOVERY_CODE_DIGEST_LENGTH
        ]
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]


# Attempts -----------------------------------------------------------------------------------


def _prune_failures() -> None:
    SignInFailure.objects.filter(at__lt=timezone.now() - FAILURE_RETENTION).delete()


@transaction.atomic
def sign_in_failed(*, username: str, ip_address: str | None, stage: SignInStage) -> SignInFailure:
    """Count a wrong password or code. Unknown accounts take exactly this path too."""
    _prune_failures()
    return SignInFailure.objects.create(account=selectors.account_key(username), ip_address=ip_address, stage=stage)


@transaction.atomic
def sign_in_refused(*, username: str, ip_address: str | None, blocked: list[str]) -> SignInFailure:
    """Record an attempt refused because of a block, and audit it.

    The audit row names the account when it exists (its administrators see it in their log)
    and the address; the same queries run for unknown accounts.
    """
    _prune_failures()
    key = selectors.account_key(username)
    recently_audited = SignInFailure.objects.filter(
        account=key,
        ip_address=ip_address,
        stage=SignInStage.REFUSED,
        at__gte=timezone.now() - REFUSED_AUDIT_INTERVAL,
    ).exists()
    refused = SignInFailure.objects.create(account=key, ip_address=ip_address, stage=SignInStage.REFUSED)
    user = User.objects.filter(username__iexact=username.strip()).first()
    if not recently_audited:
        audit.record(
            actor=user,
            action="user.sign_in_blocked",
            target=refused,
            agency_id=access.acting_agency_id(user) if user is not None else None,
            changes={"blocked": blocked},
        )
    return refused


@transaction.atomic
def sign_in_succeeded(*, user: User, device: Device | None) -> None:
    """A complete sign-in (password, and the code where there is a second factor): the account's count restarts."""
    SignInFailure.objects.filter(
        account=selectors.account_key(user.get_username()), stage__in=selectors.COUNTED_STAGES
    ).delete()
    changes = {}
    if device is None:
        action = "user.sign_in"
    elif isinstance(device, StaticDevice):
        action = "user.sign_in_recovery_code"
        changes["recovery_codes_left"] = device.token_set.count()
    else:
        action = "user.sign_in_two_factor"
    audit.record(actor=user, action=action, target=user, agency_id=access.acting_agency_id(user), changes=changes)


def second_factor_verify(*, user: User, code: str, recovery: bool) -> Device | None:
    """The user's device that accepts ``code``, or None. A recovery code is used up by it.

    Devices are locked while checking, so that the same code cannot pass twice at once.
    """
    code = normalize_code(code)
    if not code:
        return None
    model: type[Device] = StaticDevice if recovery else TOTPDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if _use_recovery_code(device, code) if recovery else device.verify_token(code):
                return device
    return None


def _use_recovery_code(device: StaticDevice, code: str) -> bool:
    """``StaticDevice.verify_token`` for hashed codes: the same throttling, the matching code is deleted.

    The caller holds the device's row lock, so a second request with the same code waits and
    then finds it gone.
    """
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        return False
    match = device.token_set.filter(token__in=recovery_code_digests(code)).first()
    if match is None:
        device.throttle_increment()
        return False
    match.delete()
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    return True


# The second factor ----------------------------------------------------------------------------


@transaction.atomic
def two_factor_setup_begin(*, actor: User) -> TOTPDevice:
    """An authenticator app waiting for its first code; the same one until it is confirmed or an hour old.

    Keeping it lets the person reload the page without scanning again.
    """
    TOTPDevice.objects.filter(user=actor, confirmed=False, created_at__lt=timezone.now() - timedelta(hours=1)).delete()
    device = selectors.unconfirmed_app(actor)
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=APP_NAME, confirmed=False)
    return device


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes. The device stays, so a session signed in with a code stays signed in.

    Only their hashes are stored; the codes themselves are returned to be shown this once.
    """
    device = StaticDevice.objects.filter(user=user).order_by("id").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=CODES_NAME, confirmed=True)
    device.token_set.all().delete()
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=recovery_code_digests(code)[0]) for code in codes)
    return sorted(codes)


@transaction.atomic
def two_factor_confirm(*, actor: User, device: TOTPDevice, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turn on (or replace) the actor's authenticator app with its first code; returns it and new recovery codes."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=actor)
    if device.confirmed:
        raise ValidationError(_("This set-up is finished already. Start again from your profile."))
    if not device.verify_token(normalize_code(code)):
        raise ValidationError(
            {"code": _("This code is not valid. Enter the code your app shows now; it changes every 30 seconds.")}
        )
    replaced = TOTPDevice.objects.filter(user=actor, confirmed=True).exists()
    # Other devices go: sessions that confirmed with the old app have to sign in again.
    TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(actor)
    audit.record(
        actor=actor,
        action="user.two_factor_replace" if replaced else "user.two_factor_enable",
        target=actor,
        agency_id=access.acting_agency_id(actor),
    )
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, actor: User) -> list[str]:
    """New recovery codes for the actor; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise ValidationError(_("Set up two-factor sign-in first."))
    codes = _new_recovery_codes(actor)
    audit.record(
        actor=actor, action="user.recovery_codes_regenerate", target=actor, agency_id=access.acting_agency_id(actor)
    )
    return codes


@transaction.atomic
def two_factor_disable(*, actor: User) -> None:
    """Turn off the actor's two-factor sign-in (the view has checked their password or a code)."""
    if selectors.two_factor_required(actor):
        raise ValidationError(
            _(
                "Your agency requires two-factor sign-in, so it cannot be turned off. "
                "You can set up a new authenticator app instead."
            )
        )
    removed = TOTPDevice.objects.filter(user=actor).delete()[0] + StaticDevice.objects.filter(user=actor).delete()[0]
    if removed:
        audit.record(
            actor=actor, action="user.two_factor_disable", target=actor, agency_id=access.acting_agency_id(actor)
        )


@transaction.atomic
def two_factor_reset(*, actor: User, staff: Staff) -> None:
    """An agency administrator removes a colleague's second factor, after a lost phone and lost recovery codes.

    The colleague signs in with the password alone next time, or, where the agency requires it,
    sets up a new authenticator app right after the password.
    """
    access.require(actor, "change", staff)
    if staff.user_id == actor.pk:
        raise ValidationError(_("Manage your own two-factor sign-in on your profile page."))
    removed = (
        TOTPDevice.objects.filter(user_id=staff.user_id).delete()[0]
        + StaticDevice.objects.filter(user_id=staff.user_id).delete()[0]
    )
    if not removed:
        raise ValidationError(_("%(name)s has no two-factor sign-in set up.") % {"name": staff.user})
    audit.record(actor=actor, action="user.two_factor_reset", target=staff, agency_id=staff.agency_id)
