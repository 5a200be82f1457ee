"""Notifications: who is told about a referral, the e-mail after commit, own-only reads, preferences."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from agencies.models import User
from hub.models import AuditEntry, Event
from messaging import services
from messaging.models import Notification, NotificationPreference
from referrals import services as referral_services
from referrals.models import Referral
from tests.conftest import PASSWORD, Case, World

pytestmark = pytest.mark.django_db

SOON = datetime.date.today() + datetime.timedelta(days=14)  # noqa: DTZ011  # a date far enough ahead


def refer(world: World, case: Case) -> Referral:
    return referral_services.referral_create(
        actor=world.alice,
        person=case.person,
        to_agency=world.social_office,
        reason="Beratung zur Wohnsituation",
        categories=["identity", "contact"],
        legal_basis="consent",
        consent=case.consent,
        answer_due_on=SOON,
    )


def recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_sending_notifies_the_receiving_caseworkers_and_mails_after_commit(
    world: World, case: Case, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        referral = refer(world, case)
        assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert recipients("referral_received") == {"bob"}
    notification = Notification.objects.get(recipient=world.bob)
    assert notification.url == reverse("referral-detail", args=[referral.pk])
    event = Event.objects.filter(verb="notification.created").latest("id")
    assert event.audience == [f"user.{world.bob.pk}"] and event.payload == {"count": 1}
    assert [message.to for message in mail.outbox] == [[world.bob.email]]
    body = mail.outbox[0].body
    assert "Haddad" not in body and "Amina" not in body
    with translation.override("de"):  # the lead compiles the catalogue: "Eine neue Zuweisung ist eingegangen"
        assert mail.outbox[0].subject == gettext("A new referral has arrived")


def test_no_mail_when_the_preference_is_off(
    world: World, case: Case, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    services.preference_update(actor=world.bob, email_referral_received=False)
    with django_capture_on_commit_callbacks(execute=True):
        refer(world, case)
    assert recipients("referral_received") == {"bob"}
    assert mail.outbox == []


def test_expiry_notifies_the_senders_caseworkers_and_answers_the_creator(
    world: World, case: Case, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    refer(world, case)
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.expire_overdue(today=SOON + datetime.timedelta(days=1))
    assert recipients("answer_overdue") == {"alice", "cora"}
    assert {m.to[0] for m in mail.outbox} >= {world.alice.email, world.cora.email}


def test_an_answer_notifies_the_creator(world: World, case: Case) -> None:
    referral = refer(world, case)
    referral_services.referral_transition(actor=world.bob, referral=referral, action="accept")
    assert recipients("referral_answered") == {"alice"}


def test_nobody_reads_or_marks_anothers_notifications(world: World, case: Case) -> None:
    refer(world, case)
    own = Notification.objects.get(recipient=world.bob)
    alice = login(world.alice)
    assert alice.post(reverse("notification-read", args=[own.pk])).status_code == 404
    assert api(world.alice).get(reverse("api:notification-detail", args=[own.pk])).status_code == 404
    assert api(world.alice).post(reverse("api:notification-read", args=[own.pk])).status_code == 404
    assert alice.post(reverse("notification-read-all")).status_code == 302
    own.refresh_from_db()
    assert own.read_at is None
    assert api(world.alice).get(reverse("api:notification-list")).json()["count"] == 0


def test_mark_read_and_all_read(world: World, case: Case) -> None:
    refer(world, case)
    refer(world, case)
    first, second = Notification.objects.filter(recipient=world.bob).order_by("pk")
    bob = login(world.bob)
    response = bob.post(reverse("notification-read", args=[first.pk]), {"next": first.url})
    assert response.status_code == 302 and response["Location"] == first.url
    first.refresh_from_db()
    assert first.read_at is not None
    assert AuditEntry.objects.filter(action="notification.read", actor=world.bob).exists()
    assert Event.objects.filter(verb="notification.read", audience=[f"user.{world.bob.pk}"]).exists()
    answer = api(world.bob).post(reverse("api:notification-read-all"))
    assert answer.status_code == 200 and answer.json() == {"marked_read": 1}
    second.refresh_from_db()
    assert second.read_at is not None
    assert AuditEntry.objects.filter(action="notification.read_all", actor=world.bob).exists()


def test_unread_badge_and_constant_list_queries(world: World, case: Case) -> None:
    refer(world, case)
    bob = login(world.bob)
    page = bob.get(reverse("notification-list")).content.decode()
    assert 'id="nav-notifications"' in page
    assert reverse("notification-read", args=[Notification.objects.get(recipient=world.bob).pk]) in page
    nav = page.split('id="nav-notifications"')[1].split("</li>")[0]
    assert '<span class="badge badge-warning">1' in nav

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bob.get(reverse("notification-list")).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(4):
        refer(world, case)
    assert queries() == few


def test_preferences_form_and_api(world: World) -> None:
    bob = login(world.bob)
    assert bob.get(reverse("notification-preferences")).status_code == 200
    response = bob.post(reverse("notification-preferences"), {"in_app": "on", "email_answer_overdue": "on"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=world.bob)
    assert preference.in_app and preference.email_answer_overdue and not preference.email_referral_received
    assert AuditEntry.objects.filter(action="notification_preference.update", actor=world.bob).exists()
    url = reverse("api:notification-preference")
    assert api(world.bob).get(url).json()["email_referral_received"] is False
    assert api(world.bob).patch(url, {"email_referral_received": True}, format="json").status_code == 200
    assert api(world.bob).patch(url, {"bogus": True}, format="json").status_code == 400
    preference.refresh_from_db()
    assert preference.email_referral_received
    assert APIClient().get(url).status_code == 401


def test_in_app_off_keeps_the_list_empty(world: World, case: Case) -> None:
    services.preference_update(actor=world.bob, in_app=False)
    refer(world, case)
    assert not Notification.objects.filter(recipient=world.bob).exists()
