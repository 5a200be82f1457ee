"""Sign-in security: blocking after failed attempts, no account enumeration, session limits, password rules."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from agencies import services as agency_services
from agencies.models import SignInFailure, SignInStage
from agencies.signin import services
from agencies.signin.forms import blocked_message
from agencies.signin.middleware import LIVE_REFRESH_HEADER
from agencies.signin.sessions import ACTIVE_AT, SIGNED_IN_AT, SessionStore
from hub.models import AuditEntry
from messaging.consumers import live_session_keys
from tests.agencies.test_two_factor import code_of, later
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db

BREACHED = "ichliebedich1"  # 13 characters: only the breached-password list knows it


def attempt(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def errors(response: Any) -> list[str]:
    return list(response.context["form"].non_field_errors())


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Blocking -----------------------------------------------------------------------------------


def test_the_account_is_blocked_after_five_failures(world: World) -> None:
    for _ in range(5):
        response = attempt(Client(), "alice", "wrong password")
        assert response.status_code == 200 and blocked_message() not in errors(response)
    client = Client()
    blocked = attempt(client, "alice", PASSWORD)  # the sixth try, with the right password
    assert blocked.status_code == 200 and errors(blocked) == [blocked_message()] and not signed_in(client)
    assert attempt(Client(), "ALICE ", PASSWORD).status_code == 200  # the block does not depend on spelling

    entry = AuditEntry.objects.get(action="user.sign_in_blocked")
    assert entry.actor == world.alice and entry.agency_id == world.jobcenter.pk
    assert entry.ip_address == "127.0.0.1" and entry.changes == {"blocked": ["account"]}
    # Neither the password nor the name typed is in the log; a refused attempt a moment later adds no row.
    assert PASSWORD not in str(entry.__dict__) and AuditEntry.objects.filter(action="user.sign_in_blocked").count() == 1

    assert attempt(Client(), "bob", PASSWORD).status_code == 302  # other accounts sign in as usual

    SignInFailure.objects.update(at=timezone.now() - timedelta(minutes=settings.HUB_SIGNIN_WINDOW_MINUTES + 1))
    assert attempt(client, "alice", PASSWORD).status_code == 302  # the failures aged out of the window


def test_a_complete_sign_in_starts_the_count_afresh(world: World) -> None:
    for _ in range(4):
        attempt(Client(), "alice", "wrong password")
    assert attempt(Client(), "alice", PASSWORD).status_code == 302
    for _ in range(4):
        attempt(Client(), "alice", "wrong password")
    assert attempt(Client(), "alice", PASSWORD).status_code == 302


def test_the_address_is_blocked_after_twenty_failures(world: World) -> None:
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for number in range(20):
        attempt(attacker, f"nobody{number}", "guess")
    blocked = attempt(attacker, "alice", PASSWORD)
    assert errors(blocked) == [blocked_message()] and not signed_in(attacker)
    assert AuditEntry.objects.get(action="user.sign_in_blocked").changes == {"blocked": ["address"]}
    colleague = Client(REMOTE_ADDR="192.0.2.67")
    assert attempt(colleague, "alice", PASSWORD).status_code == 302


def test_the_proxy_address_counts_not_the_proxy(world: World) -> None:
    """Behind the reverse proxy every request comes from it; X-Real-IP names the client."""
    for number in range(20):
        Client(HTTP_X_REAL_IP="198.51.100.7").post(reverse("login"), {"username": f"x{number}", "password": "y"})
    assert attempt(Client(HTTP_X_REAL_IP="198.51.100.8"), "alice", PASSWORD).status_code == 302


def test_unknown_accounts_get_the_same_answer_and_path(world: World) -> None:
    wrong = attempt(Client(), "alice", "wrong password")
    unknown = attempt(Client(), "no-such-person", "wrong password")
    assert errors(wrong) == errors(unknown)

    def queries_and_hashes(username: str) -> tuple[int, int]:
        with (
            CaptureQueriesContext(connection) as queries,
            mock.patch.object(MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode) as h,
        ):
            attempt(Client(), username, "wrong password")
        return len(queries), h.call_count

    # The same queries, and the password hashed once, whether the account exists or not.
    assert queries_and_hashes("alice") == queries_and_hashes("nobody-at-all")

    for _ in range(4):
        attempt(Client(), "no-such-person", "wrong password")
    attempt(Client(), "alice", "wrong password")
    for _ in range(3):
        attempt(Client(), "alice", "wrong password")
    assert errors(attempt(Client(), "no-such-person", "x")) == errors(attempt(Client(), "alice", "x"))
    assert errors(attempt(Client(), "alice", "x")) == [blocked_message()]
    unknown_entry = AuditEntry.objects.filter(action="user.sign_in_blocked", actor=None).get()
    assert unknown_entry.agency_id is None and "no-such-person" not in str(unknown_entry.__dict__)
    # The typed name is kept only as a keyed hash.
    assert not SignInFailure.objects.filter(account__icontains="alice").exists()


def test_wrong_codes_count_and_block_the_code_step(world: World, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = services.two_factor_setup_begin(actor=world.alice)
    device, _ = services.two_factor_confirm(actor=world.alice, device=device, code=code_of(device))
    later(device)
    client = Client()
    attempt(client, "alice", PASSWORD)
    wrong = "000000" if code_of(device) != "000000" else "111111"
    for _ in range(5):
        response = client.post(reverse("login-code"), {"code": wrong})
        assert response.status_code == 200
    assert SignInFailure.objects.filter(stage=SignInStage.CODE).count() == 5
    refused = client.post(reverse("login-code"), {"code": code_of(device)})
    assert refused.status_code == 302 and refused["Location"] == reverse("login") and not signed_in(client)
    assert errors(attempt(Client(), "alice", PASSWORD)) == [blocked_message()]


def test_the_blocked_message_is_plain(world: World) -> None:
    assert str(settings.HUB_SIGNIN_WINDOW_MINUTES) in blocked_message()
    for _ in range(6):
        response = attempt(Client(), "alice", "wrong password")
    html = response.content.decode()
    assert 'role="alert"' in html and blocked_message().split(";")[0] in html


# Sessions -----------------------------------------------------------------------------------


def session_of(client: Client) -> SessionStore:
    return SessionStore(session_key=client.session.session_key)


def shift(client: Client, **seconds_ago: float) -> None:
    """Move the session's timestamps into the past, as if time had passed."""
    session = session_of(client)
    now = time.time()
    for key, ago in seconds_ago.items():
        session[{"signed_in": SIGNED_IN_AT, "active": ACTIVE_AT}[key]] = now - ago
    session.save()


def test_the_session_key_changes_at_sign_in(world: World) -> None:
    client = Client()
    session = client.session
    session["language_hint"] = "de"
    session.save()
    before = session.session_key
    assert attempt(client, "alice", PASSWORD).status_code == 302
    assert client.session.session_key != before and signed_in(client)
    assert not Session.objects.filter(session_key=before).exists()


def test_a_session_ends_after_thirty_idle_minutes(world: World) -> None:
    client = Client()
    assert attempt(client, "alice", PASSWORD).status_code == 302
    key = str(client.session.session_key)
    shift(client, active=29 * 60)
    assert client.get(reverse("dashboard")).status_code == 200
    shift(client, active=31 * 60)
    assert live_session_keys({key: session_of(client)}) == set()  # the websocket's ticker lets it go too
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not signed_in(client)


def test_the_middleware_ends_a_session_past_its_limit_with_a_message(world: World) -> None:
    client = Client()
    attempt(client, "alice", PASSWORD)
    session = session_of(client)
    session[ACTIVE_AT] = time.time() - 31 * 60
    session.save()
    # The row itself is still valid (as with a session engine without expiry of its own).
    Session.objects.filter(session_key=session.session_key).update(expire_date=timezone.now() + timedelta(hours=1))
    response = client.get(reverse("dashboard"), follow=True)
    message = gettext("You were logged out after %(minutes)s minutes without activity.") % {"minutes": 30}
    assert message in response.content.decode()


def test_a_session_ends_twelve_hours_after_sign_in_even_when_active(world: World) -> None:
    client = Client()
    attempt(client, "alice", PASSWORD)
    key = str(client.session.session_key)
    shift(client, signed_in=11 * 3600 + 59 * 60, active=0)
    assert client.get(reverse("dashboard")).status_code == 200
    # In the last half hour the row expires at the absolute limit, not 30 minutes after the activity.
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry <= timezone.now() + timedelta(minutes=2)
    shift(client, signed_in=12 * 3600 + 1, active=0)
    assert live_session_keys({key: session_of(client)}) == set()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and not signed_in(client)


def test_activity_moves_the_idle_limit_but_live_refreshes_do_not(world: World) -> None:
    client = Client()
    attempt(client, "alice", PASSWORD)
    key = client.session.session_key
    shift(client, active=20 * 60)
    client.get(reverse("dashboard"), headers={LIVE_REFRESH_HEADER: "live"})
    assert time.time() - session_of(client)[ACTIVE_AT] >= 20 * 60
    assert Session.objects.get(session_key=key).expire_date < timezone.now() + timedelta(minutes=11)
    client.get(reverse("dashboard"), headers={"HX-Request": "true"})  # a click of the person counts
    assert time.time() - session_of(client)[ACTIVE_AT] < 5
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(minutes=29)


def test_an_authenticated_session_without_timestamps_is_ended(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    session = session_of(client)
    del session[SIGNED_IN_AT]
    session.save()
    assert client.get(reverse("dashboard")).status_code == 302 and not signed_in(client)


# Password rules -----------------------------------------------------------------------------


def test_a_breached_password_is_refused_at_invitation_accept(world: World) -> None:
    _, token = agency_services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="neu@example.org", first_name="Nina", last_name="Neu"
    )
    path = reverse("invitation-accept", args=[token])
    response = Client().post(path, {"username": "nina", "password1": BREACHED, "password2": BREACHED})
    assert response.status_code == 200
    message = gettext("This password appears in lists of passwords leaked in data breaches. Choose a different one.")
    assert response.context["form"].errors["password1"] == [message]
    good = "Wolken über dem Emsland 2026"
    assert Client().post(path, {"username": "nina", "password1": good, "password2": good}).status_code == 302


def test_a_breached_password_is_refused_at_password_change(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    response = client.post(
        reverse("password-change"), {"old_password": PASSWORD, "new_password1": BREACHED, "new_password2": BREACHED}
    )
    assert response.status_code == 200 and "new_password2" in response.context["form"].errors
    world.alice.refresh_from_db()
    assert world.alice.check_password(PASSWORD)
