"""The sign-in steps and the user's own two-factor pages.

Sign-in: the password step (Django's LoginView with ``SignInForm``) signs in at once a user
without a second factor; for a user with one it only remembers, in the session, who gave the
right password, and the code step signs in after a valid code. The session is authenticated
(and its key changed) only then.
"""

from __future__ import annotations

import binascii
import secrets
import time
from base64 import b32encode, urlsafe_b64decode, urlsafe_b64encode
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import SignInStage, Staff, User
from agencies.signin import backends, selectors, services
from agencies.signin.forms import DisableForm, SecondFactorForm, SetupForm, SignInForm, blocked_message
from hub import access
from hub.middleware import client_ip
from hub.views import HubRequest
from hub.web import apply_errors, post_data, post_step

PENDING_SESSION_KEY = "hub_sign_in_pending"
PENDING_SECONDS = 5 * 60
# New recovery codes wait until the person has saved them, at most this long: split between the
# session (kept in the database) and a cookie, see ``_keep_new_codes``.
NEW_CODES_SESSION_KEY = "hub_new_recovery_codes"
NEW_CODES_COOKIE = "hub_new_recovery_codes"
NEW_CODES_SECONDS = 10 * 60


# Signing in ---------------------------------------------------------------------------------


class SignInView(LoginView):
    form_class = SignInForm

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        if not selectors.has_second_factor(user):
            auth_login(self.request, user)
            services.sign_in_succeeded(user=user, device=None)
            return HttpResponseRedirect(self.get_success_url())
        # A new key before the session learns who gave the right password (no fixation of the half-way state).
        self.request.session.cycle_key()
        self.request.session[PENDING_SESSION_KEY] = {
            "user": user.pk,
            "backend": getattr(user, "backend", backends.PATH),
            "hash": user.get_session_auth_hash(),
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login-code")


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The user who gave the right password in this session a moment ago, if the password is still the same."""
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user_id = data.get("user")
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None or not constant_time_compare(user.get_session_auth_hash(), str(data.get("hash", ""))):
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user.backend = str(data.get("backend"))
    return user, data


@sensitive_post_parameters("code")
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of the sign-in: a code of the authenticator app or a recovery code."""
    pending = _pending(request)
    if pending is None:
        messages.info(request, _("Please log in with your username and password first."))
        return redirect("login")
    user, data = pending
    recovery = (request.POST if request.method == "POST" else request.GET).get("method") == "recovery"
    form = SecondFactorForm(post_data(request), recovery=recovery)
    if request.method == "POST" and form.is_valid():
        username, address = user.get_username(), client_ip(request)
        blocked = selectors.blocked_for(username, address)
        if blocked:
            services.sign_in_refused(username=username, ip_address=address, blocked=blocked)
            request.session.pop(PENDING_SESSION_KEY, None)
            messages.error(request, blocked_message())
            return redirect("login")
        device = services.second_factor_verify(user=user, code=form.cleaned_data["code"], recovery=recovery)
        if device is None:
            services.sign_in_failed(username=username, ip_address=address, stage=SignInStage.CODE)
            form.add_error(
                "code",
                _("This recovery code is not valid or has been used already.")
                if recovery
                else _("This code is not valid. Enter the code your app shows now; it changes every 30 seconds."),
            )
        else:
            del request.session[PENDING_SESSION_KEY]
            auth_login(request, user, backend=user.backend)  # changes the session key
            django_otp.login(request, device)
            services.sign_in_succeeded(user=user, device=device)
            if recovery:
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(count)s are left. Make new ones on your profile page.")
                    % {"count": left},
                )
            return HttpResponseRedirect(str(data["next"]))
    return render(request, "agencies/signin/code.html", {"form": form, "recovery": recovery})


# The two-factor set-up ------------------------------------------------------------------------


def _secret_text(device: TOTPDevice) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _qr_svg(device: TOTPDevice) -> str:
    # segno writes plain SVG attributes, no style attribute or element: the CSP stays strict.
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            scale=4,
            border=2,
            omitsize=True,
            svgclass="qr-code",
            title=_("QR code with the key for your authenticator app"),
        )
    ).replace("<svg ", '<svg role="img" ', 1)


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))


def _keep_new_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """Redirect to the new codes, which wait for the person to save them.

    The database keeps only hashes of the codes, and sessions live in the database too: so the
    session gets a random pad and the browser a cookie with the codes XOR the pad. Neither
    alone tells anything about a code; the page and the download need both, within the time.
    """
    plain = ",".join(codes).encode()
    pad = secrets.token_bytes(len(plain))
    request.session[NEW_CODES_SESSION_KEY] = {"pad": urlsafe_b64encode(pad).decode(), "at": time.time()}
    response = redirect("two-factor-recovery-codes")
    response.set_cookie(
        NEW_CODES_COOKIE,
        urlsafe_b64encode(_xor(plain, pad)).decode(),
        max_age=NEW_CODES_SECONDS,
        path=reverse("two-factor-recovery-codes"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


def _new_codes(request: HttpRequest) -> list[str] | None:
    data = request.session.get(NEW_CODES_SESSION_KEY)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > NEW_CODES_SECONDS:
        request.session.pop(NEW_CODES_SESSION_KEY, None)
        return None
    try:
        pad = urlsafe_b64decode(str(data.get("pad", "")))
        masked = urlsafe_b64decode(request.COOKIES.get(NEW_CODES_COOKIE, ""))
        return _xor(masked, pad).decode("ascii").split(",") if pad else None
    except (binascii.Error, ValueError):  # no cookie, or one of another set of codes
        return None


def _codes_gone(request: HttpRequest) -> HttpResponse:
    response = redirect(f"{reverse('profile')}#two-factor")
    response.delete_cookie(NEW_CODES_COOKIE, path=reverse("two-factor-recovery-codes"), samesite="Strict")
    return response


def _formatted(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@login_required
@sensitive_post_parameters("code")
def two_factor_setup(request: HubRequest) -> HttpResponse:
    """Set up (or replace) the authenticator app: scan or type the secret, confirm with a code."""
    actor = request.user
    device = services.two_factor_setup_begin(actor=actor)
    form = SetupForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_confirm(actor=actor, device=device, code=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            request.session.cycle_key()
            django_otp.login(request, device)
            messages.success(request, _("Two-factor sign-in is on. Save your recovery codes now."))
            return _keep_new_codes(request, codes)
    context = {
        "form": form,
        "secret": _secret_text(device),
        "qr_svg": mark_safe(_qr_svg(device)),  # noqa: S308 (generated by segno from our own data)
        "summary": selectors.two_factor_summary(actor),
    }
    return render(request, "agencies/signin/setup.html", context)


@login_required
def recovery_codes(request: HubRequest) -> HttpResponse:
    """New recovery codes, shown once: until the person confirms having saved them, or for ten minutes."""
    codes = _new_codes(request)
    if request.method == "POST":
        request.session.pop(NEW_CODES_SESSION_KEY, None)
        return _codes_gone(request)
    if codes is None:
        messages.info(request, _("Recovery codes are shown only once, right after they are made. Make new ones here."))
        return _codes_gone(request)
    return render(request, "agencies/signin/recovery_codes.html", {"codes": [_formatted(code) for code in codes]})


@login_required
def recovery_codes_download(request: HubRequest) -> HttpResponse:
    """The new codes as a text file, in the same window as the page that shows them."""
    codes = _new_codes(request)
    if codes is None:
        messages.info(request, _("Recovery codes are shown only once, right after they are made. Make new ones here."))
        return _codes_gone(request)
    lines = [
        _("Recovery codes for the round-table hub, account %(username)s") % {"username": request.user.get_username()},
        _("Each code works once. Keep them as safe as a password."),
        "",
        *(_formatted(code) for code in codes),
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    return response


@login_required
@require_POST
def recovery_codes_regenerate(request: HubRequest) -> HttpResponse:
    try:
        codes = services.recovery_codes_regenerate(actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('profile')}#two-factor")
    messages.success(request, _("New recovery codes have been made; the old ones no longer work."))
    return _keep_new_codes(request, codes)


@login_required
@sensitive_post_parameters("secret")
def two_factor_disable(request: HubRequest) -> HttpResponse:
    """Turn two-factor sign-in off, confirmed by the password or a current code (both count as sign-in attempts)."""
    actor = request.user
    summary = selectors.two_factor_summary(actor)
    form = DisableForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        username, address = actor.get_username(), client_ip(request)
        secret = form.cleaned_data["secret"]
        blocked = selectors.blocked_for(username, address)
        if blocked:
            services.sign_in_refused(username=username, ip_address=address, blocked=blocked)
            form.add_error(None, blocked_message())
        elif not (
            actor.check_password(secret)
            or (
                secret.strip().isdigit()
                and services.second_factor_verify(user=actor, code=secret, recovery=False) is not None
            )
        ):
            services.sign_in_failed(username=username, ip_address=address, stage=SignInStage.CODE)
            form.add_error("secret", _("This is neither your password nor a current code."))
        else:
            try:
                services.two_factor_disable(actor=actor)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Two-factor sign-in is off. Your recovery codes no longer work."))
                return redirect(f"{reverse('profile')}#two-factor")
    return render(request, "agencies/signin/disable.html", {"form": form, "summary": summary})


@login_required
@require_POST
def staff_two_factor_reset(request: HubRequest, pk: int) -> HttpResponse:
    """An agency administrator removes a colleague's second factor (lost phone and recovery codes)."""
    actor = request.user
    staff = access.get_visible_or_404(actor, Staff, pk=pk)
    return post_step(
        request,
        lambda: services.two_factor_reset(actor=actor, staff=staff),
        success=_("The two-factor sign-in of %(name)s has been reset. They set it up again after their next sign-in.")
        % {"name": staff.user},
        url=reverse("staff-edit", args=[staff.pk]),
    )
