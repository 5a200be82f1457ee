"""Two-factor sign-in: set-up, the code step, recovery codes, turning it off, and the per-agency requirement."""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db import close_old_connections, connection, connections
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies import services as agency_services
from agencies.models import SignInFailure, SignInStage, User
from agencies.signin import selectors, services
from agencies.signin.views import NEW_CODES_COOKIE, NEW_CODES_SECONDS, NEW_CODES_SESSION_KEY, PENDING_SESSION_KEY
from hub.asgi import application
from hub.models import AuditEntry
from messaging.consumers import CLOSE_UNAUTHENTICATED
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice) -> str:
    """The code the person's app shows now."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def later(device: TOTPDevice) -> None:
    """As if the next 30 seconds had passed: the app shows a code not used yet."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)


def with_two_factor(user: User) -> tuple[TOTPDevice, list[str]]:
    device = services.two_factor_setup_begin(actor=user)
    device, codes = services.two_factor_confirm(actor=user, device=device, code=code_of(device))
    later(device)
    return device, codes


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def no_throttle(settings: Any) -> None:
    """django-otp waits a second after a wrong code; these tests type the right one at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


# Set-up -------------------------------------------------------------------------------------


def test_setup_shows_a_qr_code_and_the_key_and_confirms_with_a_code(world: World, no_throttle: None) -> None:
    client = Client()
    client.force_login(world.alice)
    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=world.alice)
    assert not device.confirmed
    assert '<svg role="img"' in html and "<title>" in html
    assert "style=" not in html and "<style" not in html  # the CSP forbids inline styles
    assert page.context["secret"].replace(" ", "") in html.replace(" ", "")
    assert 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert client.get(reverse("two-factor-setup")).context["secret"] == page.context["secret"]  # reloading keeps it

    wrong = client.post(reverse("two-factor-setup"), {"code": "000000" if code_of(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "code" in wrong.context["form"].errors
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    key_before = client.session.session_key
    done = client.post(reverse("two-factor-setup"), {"code": code_of(device)})
    assert done.status_code == 302 and done["Location"] == reverse("two-factor-recovery-codes")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert StaticToken.objects.filter(device__user=world.alice).count() == services.RECOVERY_CODE_COUNT
    assert client.session.session_key != key_before
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    entry = AuditEntry.objects.get(action="user.two_factor_enable")
    assert entry.actor == world.alice and entry.agency_id == world.jobcenter.pk


def stored_tokens(user: User) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def test_recovery_codes_are_shown_once_and_can_be_downloaded(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    device = services.two_factor_setup_begin(actor=world.alice)
    client.post(reverse("two-factor-setup"), {"code": code_of(device)})

    page = client.get(reverse("two-factor-recovery-codes"))
    assert page.status_code == 200
    shown = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", page.content.decode())
    codes = sorted(code.replace("-", "") for code in shown)
    assert len(codes) == services.RECOVERY_CODE_COUNT
    assert stored_tokens(world.alice) == {services.recovery_code_digests(code)[0] for code in codes}
    download = client.get(reverse("two-factor-recovery-codes-download"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/plain")
    assert download["Content-Disposition"] == 'attachment; filename="recovery-codes.txt"'
    assert all(f"{code[:4]}-{code[4:]}" in download.content.decode() for code in codes)

    assert client.post(reverse("two-factor-recovery-codes")).status_code == 302  # "I have saved my codes"
    again = client.get(reverse("two-factor-recovery-codes"))
    assert again.status_code == 302 and again["Location"] == f"{reverse('profile')}#two-factor"
    assert client.get(reverse("two-factor-recovery-codes-download")).status_code == 302


def test_the_database_never_holds_a_recovery_code(world: World) -> None:
    """Neither the tokens nor the session that keeps the new codes until they are saved."""
    client = Client()
    client.force_login(world.alice)
    device = services.two_factor_setup_begin(actor=world.alice)
    client.post(reverse("two-factor-setup"), {"code": code_of(device)})
    page = client.get(reverse("two-factor-recovery-codes"))
    codes = [code.replace("-", "") for code in page.context["codes"]]
    assert len(codes) == services.RECOVERY_CODE_COUNT

    tokens = stored_tokens(world.alice)
    assert len(tokens) == services.RECOVERY_CODE_COUNT and not tokens & set(codes)
    assert all(len(token) == 16 and re.fullmatch(r"[0-9a-f]+", token) for token in tokens)
    session_rows = [json.dumps(session.get_decoded()) for session in Session.objects.all()]
    assert session_rows and not any(code in row for row in session_rows for code in codes)
    # The stored hash typed as a code is no code.
    assert services.second_factor_verify(user=world.alice, code=next(iter(tokens)), recovery=True) is None


def test_the_new_codes_need_the_session_and_the_cookie_within_ten_minutes(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    device = services.two_factor_setup_begin(actor=world.alice)
    client.post(reverse("two-factor-setup"), {"code": code_of(device)})
    cookie = client.cookies[NEW_CODES_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == reverse("two-factor-recovery-codes")

    other_browser = Client()
    other_browser.cookies[django_settings.SESSION_COOKIE_NAME] = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert other_browser.get(reverse("two-factor-recovery-codes-download")).status_code == 302
    assert client.get(reverse("two-factor-recovery-codes-download")).status_code == 200

    session = client.session
    session[NEW_CODES_SESSION_KEY]["at"] -= NEW_CODES_SECONDS + 1
    session.save()
    assert client.get(reverse("two-factor-recovery-codes-download")).status_code == 302
    assert client.get(reverse("two-factor-recovery-codes")).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(world: World) -> None:
    _, old = with_two_factor(world.alice)
    before = stored_tokens(world.alice)
    client = verified_client(world.alice)
    response = client.post(reverse("two-factor-recovery-codes-regenerate"))
    assert response.status_code == 302 and response["Location"] == reverse("two-factor-recovery-codes")
    new = stored_tokens(world.alice)
    assert len(new) == services.RECOVERY_CODE_COUNT and not new & before
    assert AuditEntry.objects.filter(action="user.recovery_codes_regenerate", actor=world.alice).count() == 1
    assert client.get(reverse("two-factor-recovery-codes")).status_code == 200
    assert services.second_factor_verify(user=world.alice, code=old[0], recovery=True) is None


def test_a_recovery_code_is_used_up_and_a_wrong_one_refused(world: World, no_throttle: None) -> None:
    _, codes = with_two_factor(world.alice)
    assert services.second_factor_verify(user=world.alice, code="aaaa-aaaa", recovery=True) is None
    device = services.second_factor_verify(user=world.alice, code=f" {codes[0].upper()} ", recovery=True)
    assert isinstance(device, StaticDevice)
    assert services.recovery_code_digests(codes[0])[0] not in stored_tokens(world.alice)
    assert services.second_factor_verify(user=world.alice, code=codes[0], recovery=True) is None
    assert len(stored_tokens(world.alice)) == services.RECOVERY_CODE_COUNT - 1
    assert services.second_factor_verify(user=world.alice, code=codes[0], recovery=False) is None


def test_recovery_codes_survive_a_rotation_of_the_secret_key(world: World, settings: Any, no_throttle: None) -> None:
    _, codes = with_two_factor(world.alice)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert services.second_factor_verify(user=world.alice, code=codes[0], recovery=True) is not None
    settings.SECRET_KEY_FALLBACKS = []
    assert services.second_factor_verify(user=world.alice, code=codes[1], recovery=True) is None


def test_the_migration_hashes_clear_text_codes_in_place(world: World, no_throttle: None) -> None:
    device = StaticDevice.objects.create(user=world.alice, name=services.CODES_NAME, confirmed=True)
    clear = [StaticToken.random_token() for _ in range(3)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in clear)

    migration = importlib.import_module("agencies.migrations.0006_hashed_recovery_codes")
    migration.hash_tokens(django_apps, SimpleNamespace(connection=connection))

    tokens = stored_tokens(world.alice)
    assert len(tokens) == len(clear) and not tokens & set(clear)
    assert services.second_factor_verify(user=world.alice, code=clear[0], recovery=True) == device
    assert services.second_factor_verify(user=world.alice, code=clear[0], recovery=True) is None
    assert len(stored_tokens(world.alice)) == len(clear) - 1


def test_regenerating_without_two_factor_is_refused_with_a_message(world: World) -> None:
    client = Client()
    client.force_login(world.bob)
    response = client.post(reverse("two-factor-recovery-codes-regenerate"), follow=True)
    assert gettext("Set up two-factor sign-in first.") in response.content.decode()
    assert not StaticDevice.objects.filter(user=world.bob).exists()


def test_the_profile_says_whether_two_factor_is_on(world: World) -> None:
    client = Client()
    client.force_login(world.bob)
    assert not client.get(reverse("profile")).context["two_factor"].enabled
    with_two_factor(world.alice)
    client = verified_client(world.alice)
    summary = client.get(reverse("profile")).context["two_factor"]
    assert summary.enabled and summary.recovery_codes_left == services.RECOVERY_CODE_COUNT


# Signing in ---------------------------------------------------------------------------------


def password_step(client: Client, username: str = "alice", password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(reverse("login") + extra.pop("query", ""), {"username": username, "password": password})


def verified_client(user: User) -> Client:
    """A client signed in through both steps."""
    client = Client()
    password_step(client, user.get_username())
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(reverse("login-code"), {"code": code_of(device)})
    assert response.status_code == 302, response
    later(device)
    return client


def test_a_user_with_two_factor_is_signed_in_only_after_the_code(world: World, no_throttle: None) -> None:
    device, _ = with_two_factor(world.alice)
    client = Client()
    response = password_step(client, query="?next=/workspaces/")
    assert response.status_code == 302 and response["Location"] == reverse("login-code")
    assert not signed_in(client)
    assert client.get(reverse("dashboard")).status_code == 302  # nothing is reachable yet

    page = client.get(reverse("login-code"))
    html = page.content.decode()
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html

    wrong_code = "123456" if code_of(device) != "123456" else "654321"
    wrong = client.post(reverse("login-code"), {"code": wrong_code})
    assert wrong.status_code == 200 and "code" in wrong.context["form"].errors and not signed_in(client)

    key_before = client.session.session_key
    done = client.post(reverse("login-code"), {"code": code_of(device)})
    assert done.status_code == 302 and done["Location"] == "/workspaces/"
    assert signed_in(client) and client.session.session_key != key_before
    assert PENDING_SESSION_KEY not in client.session
    assert client.get(reverse("dashboard")).status_code == 200
    assert AuditEntry.objects.filter(action="user.sign_in_two_factor", actor=world.alice).count() == 1


def test_a_code_is_accepted_once(world: World) -> None:
    device, _ = with_two_factor(world.alice)
    code = code_of(device)
    first = Client()
    password_step(first)
    assert first.post(reverse("login-code"), {"code": code}).status_code == 302
    second = Client()
    password_step(second)
    replay = second.post(reverse("login-code"), {"code": code})
    assert replay.status_code == 200 and not signed_in(second)


def test_a_recovery_code_works_once(world: World, no_throttle: None) -> None:
    _, codes = with_two_factor(world.alice)
    client = Client()
    password_step(client)
    page = client.get(reverse("login-code") + "?method=recovery")
    assert 'name="method" value="recovery"' in page.content.decode()
    typed = f"{codes[0][:4]}-{codes[0][4:]}".upper()  # as people copy it from the sheet
    done = client.post(reverse("login-code"), {"code": typed, "method": "recovery"})
    assert done.status_code == 302 and signed_in(client)
    entry = AuditEntry.objects.get(action="user.sign_in_recovery_code")
    assert entry.changes == {"recovery_codes_left": services.RECOVERY_CODE_COUNT - 1}

    again = Client()
    password_step(again)
    refused = again.post(reverse("login-code"), {"code": codes[0], "method": "recovery"})
    assert refused.status_code == 200 and not signed_in(again)
    assert refused.context["form"].errors["code"] == [
        gettext("This recovery code is not valid or has been used already.")
    ]
    assert again.post(reverse("login-code"), {"code": codes[1], "method": "recovery"}).status_code == 302


def test_the_code_step_needs_the_password_step_first_and_expires(world: World) -> None:
    device, _ = with_two_factor(world.alice)
    client = Client()
    response = client.get(reverse("login-code"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    password_step(client)
    session = client.session
    session[PENDING_SESSION_KEY] = {**session[PENDING_SESSION_KEY], "at": time.time() - 6 * 60}
    session.save()
    late = client.post(reverse("login-code"), {"code": code_of(device)})
    assert late.status_code == 302 and late["Location"] == reverse("login") and not signed_in(client)


def test_a_password_change_meanwhile_ends_the_half_signed_in_state(world: World) -> None:
    device, _ = with_two_factor(world.alice)
    client = Client()
    password_step(client)
    world.alice.set_password("a completely new passphrase")
    world.alice.save()
    response = client.post(reverse("login-code"), {"code": code_of(device)})
    assert response.status_code == 302 and response["Location"] == reverse("login") and not signed_in(client)


def test_a_session_that_skipped_the_code_is_logged_out(world: World) -> None:
    """A user with a second factor signed in some other way (here: force_login) gets no page."""
    with_two_factor(world.alice)
    client = Client()
    client.force_login(world.alice)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not signed_in(client)


def test_the_admin_login_is_the_hub_login(world: World) -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("login") + "?next=/admin/"


# Turning it off -----------------------------------------------------------------------------


def test_turning_off_needs_the_password_or_a_code(world: World, no_throttle: None) -> None:
    device, _ = with_two_factor(world.alice)
    client = verified_client(world.alice)
    page = client.get(reverse("two-factor-disable"))
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.content.decode()
    wrong = client.post(reverse("two-factor-disable"), {"secret": "not my password"})
    assert wrong.status_code == 200 and "secret" in wrong.context["form"].errors
    assert TOTPDevice.objects.filter(user=world.alice).exists()
    assert SignInFailure.objects.filter(stage=SignInStage.CODE).count() == 1  # counts like a sign-in attempt

    done = client.post(reverse("two-factor-disable"), {"secret": code_of(device)})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.alice).exists()
    assert not StaticDevice.objects.filter(user=world.alice).exists()
    assert AuditEntry.objects.filter(action="user.two_factor_disable", actor=world.alice).count() == 1
    assert client.get(reverse("dashboard")).status_code == 200  # still signed in, now without a second factor

    with_two_factor(world.bob)
    bob = verified_client(world.bob)
    assert bob.post(reverse("two-factor-disable"), {"secret": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.bob).exists()


# The agency's requirement -------------------------------------------------------------------


def require_two_factor(world: World) -> None:
    agency_services.agency_update(actor=world.adam, agency=world.jobcenter, require_two_factor=True)


def test_an_agency_admin_switches_the_requirement_on_in_the_agency_form(world: World) -> None:
    client = Client()
    client.force_login(world.adam)
    form = client.get(reverse("agency-edit", args=[world.jobcenter.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if name in form.fields and value is not None}
    data["require_two_factor"] = "on"
    response = client.post(reverse("agency-edit", args=[world.jobcenter.pk]), data)
    assert response.status_code == 302
    world.jobcenter.refresh_from_db()
    assert world.jobcenter.require_two_factor
    entry = AuditEntry.objects.filter(action="agency.update", target_id=str(world.jobcenter.pk)).latest("id")
    assert entry.changes == {"require_two_factor": [False, True]} and entry.actor == world.adam


def test_staff_without_a_second_factor_reach_only_the_setup(world: World) -> None:
    require_two_factor(world)
    token = agency_services.api_token_create(actor=world.alice)
    client = Client()
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    for url in [
        reverse("dashboard"),
        reverse("profile"),
        reverse("workspace-list"),
        reverse("agency-detail", args=[world.jobcenter.pk]),
    ]:
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked["Location"] == reverse("two-factor-setup"), url
    assert client.post(reverse("api-token")).status_code == 302
    htmx = client.get(reverse("workspace-list"), headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx["HX-Redirect"] == reverse("two-factor-setup")
    api = client.get("/api/v1/agencies/")
    assert api.status_code == 403
    assert Client().get("/api/v1/agencies/", headers={"Authorization": f"Token {token}"}).status_code == 200

    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200
    assert gettext("Your agency requires two-factor sign-in. Set it up to continue working in the hub.") in (
        page.content.decode()
    )
    device = TOTPDevice.objects.get(user=world.alice)
    assert client.post(reverse("two-factor-setup"), {"code": code_of(device)}).status_code == 302
    assert client.get(reverse("two-factor-recovery-codes")).status_code == 200
    assert client.get(reverse("dashboard")).status_code == 200

    assert client.post(reverse("logout")).status_code == 302


def test_logout_and_language_stay_open_to_staff_without_a_second_factor(world: World) -> None:
    require_two_factor(world)
    client = Client()
    client.force_login(world.rita)
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert not signed_in(client)


def test_the_requirement_cannot_be_turned_off_by_the_user(world: World) -> None:
    with_two_factor(world.alice)
    require_two_factor(world)
    client = verified_client(world.alice)
    response = client.post(reverse("two-factor-disable"), {"secret": PASSWORD})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert TOTPDevice.objects.filter(user=world.alice, confirmed=True).exists()


def test_other_agencies_are_not_affected(world: World) -> None:
    require_two_factor(world)
    client = Client()
    client.force_login(world.bob)
    assert client.get(reverse("dashboard")).status_code == 200


def test_sign_in_complete_for_the_websocket(world: World) -> None:
    require_two_factor(world)
    assert not selectors.sign_in_complete(world.alice, {})
    assert selectors.sign_in_complete(world.bob, {})
    device, _ = with_two_factor(world.alice)
    assert not selectors.sign_in_complete(world.alice, {})
    assert selectors.sign_in_complete(world.alice, {DEVICE_ID_SESSION_KEY: device.persistent_id})
    with_two_factor(world.bob)
    assert not selectors.sign_in_complete(world.bob, {DEVICE_ID_SESSION_KEY: device.persistent_id})  # not his


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_websocket_refuses_a_session_without_the_required_second_factor(world: World) -> None:
    await sync_to_async(require_two_factor)(world)

    def cookie_of(user: User) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[django_settings.SESSION_COOKIE_NAME].value

    async def socket_of(user: User) -> WebsocketCommunicator:
        cookie = await sync_to_async(cookie_of)(user)
        headers = [
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        ]
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        return communicator

    alice = await socket_of(world.alice)
    # Closed at once with the code that tells live.js not to reconnect.
    assert await alice.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    bob = await socket_of(world.bob)
    assert await bob.receive_nothing(timeout=0.3)
    await bob.disconnect()


# Lost phone -------------------------------------------------------------------------------


def test_an_agency_admin_resets_a_colleagues_second_factor(world: World) -> None:
    with_two_factor(world.alice)
    alice_staff = world.staff(world.alice)
    adam = Client()
    adam.force_login(world.adam)
    page = adam.get(reverse("staff-edit", args=[alice_staff.pk]))
    assert reverse("staff-two-factor-reset", args=[alice_staff.pk]) in page.content.decode()
    response = adam.post(reverse("staff-two-factor-reset", args=[alice_staff.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("staff-edit", args=[alice_staff.pk])
    assert not selectors.has_second_factor(world.alice)
    entry = AuditEntry.objects.get(action="user.two_factor_reset")
    assert entry.actor == world.adam and entry.agency_id == world.jobcenter.pk
    assert entry.target_id == str(alice_staff.pk)
    assert password_step(Client()).status_code == 302  # alice signs in with her password again

    again = adam.post(reverse("staff-two-factor-reset", args=[alice_staff.pk]), follow=True)
    assert gettext("%(name)s has no two-factor sign-in set up.") % {"name": world.alice} in again.content.decode()
    cora = Client()
    cora.force_login(world.cora)
    assert cora.post(reverse("staff-two-factor-reset", args=[alice_staff.pk])).status_code == 403


# Two requests with the same recovery code at the same moment, on two connections -------------

RACE_TIMEOUT = 30


def race(user: User, code: str) -> tuple[list[object], list[BaseException]]:
    """Both threads wait at a barrier, then each checks ``code`` in its own transaction on its own connection."""
    barrier = threading.Barrier(2, timeout=RACE_TIMEOUT)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def use() -> None:
        try:
            fresh = User.objects.get(pk=user.pk)
            barrier.wait()
            device = services.second_factor_verify(user=fresh, code=code, recovery=True)
            with lock:
                results.append(device)
        except BaseException as exc:  # reported by the test, not lost in the thread
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    connection.close()
    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT * 2)
    close_old_connections()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_used_twice_at_once_works_once(world: World, no_throttle: None) -> None:
    """The device's row lock serialises the two; the second finds the code gone."""
    _, codes = with_two_factor(world.alice)
    for code in codes[:4]:
        results, errors = race(world.alice, code)
        assert not errors
        assert len(results) == 2 and sum(device is not None for device in results) == 1
    assert len(stored_tokens(world.alice)) == services.RECOVERY_CODE_COUNT - 4
