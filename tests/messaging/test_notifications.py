"""Notifications: who is told about a referral, the queued e-mail, own-only reads, preferences."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from agencies.models import User
from hub.models import AuditEntry, Event
from messaging import services
from messaging.models import Notification, NotificationPreference
from referrals import services as referral_services
from referrals.models import Referral
from tests.conftest import PASSWORD, Case, World, run_queued_tasks

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


# Port 1 on loopback refuses at once: a mail server that is down, without waiting for a timeout.
UNREACHABLE_SMTP = {
    "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"host": "127.0.0.1", "port": 1}}
}


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


def test_sending_notifies_the_receiving_caseworkers_and_queues_the_mail(world: World, case: Case) -> None:
    referral = refer(world, case)
    assert recipients("referral_received") == {"bob"}
    notification = Notification.objects.get(recipient=world.bob)
    assert notification.url == reverse("referral-detail", args=[referral.pk])
    event = Event.objects.filter(verb="notification.created").latest("id")
    assert event.audience == [f"user.{world.bob.pk}"] and event.payload == {"count": 1}
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "messaging.services.send_notification_email"
    expected = {"recipient_id": world.bob.pk, "kind": "referral_received", "url": notification.url}
    assert queued.args_kwargs["kwargs"] == expected
    assert mail.outbox == []  # the worker sends it, never the request
    run_queued_tasks()
    assert [message.to for message in mail.outbox] == [[world.bob.email]]
    body = mail.outbox[0].body
    assert "Haddad" not in body and "Amina" not in body
    with translation.override("de"):  # the lead compiles the catalogue: "Eine neue Zuweisung ist eingegangen"
        assert mail.outbox[0].subject == gettext("A new referral has arrived")


def test_a_change_that_rolls_back_queues_no_mail(world: World, case: Case) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        refer(world, case)
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("the request failed after the referral was written")
    assert DBTaskResult.objects.count() == 0 and Notification.objects.count() == 0
    run_queued_tasks()
    assert mail.outbox == []


def test_a_mail_server_that_is_away_is_tried_again_later(world: World, case: Case, settings: Any) -> None:
    settings.MAILERS = UNREACHABLE_SMTP
    refer(world, case)
    run_queued_tasks()
    assert mail.outbox == []
    retry = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert retry.args_kwargs["kwargs"]["attempt"] == 2 and retry.run_after > timezone.now()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_queued_tasks()
    assert [message.to for message in mail.outbox] == [[world.bob.email]]


def test_the_last_attempt_fails_visibly(world: World, settings: Any) -> None:
    settings.MAILERS = UNREACHABLE_SMTP
    with pytest.raises(OSError):
        services.send_notification_email.call(
            recipient_id=world.bob.pk,
            kind="referral_received",
            url="/",
            attempt=len(services.EMAIL_RETRY_DELAYS) + 1,
        )
    assert DBTaskResult.objects.count() == 0  # no further retry is queued


def test_someone_deactivated_before_the_worker_runs_gets_no_mail(world: World, case: Case) -> None:
    refer(world, case)
    User.objects.filter(pk=world.bob.pk).update(is_active=False)
    run_queued_tasks()
    assert mail.outbox == []


def test_no_mail_when_the_preference_is_off(world: World, case: Case) -> None:
    services.preference_update(actor=world.bob, email_referral_received=False)
    refer(world, case)
    assert recipients("referral_received") == {"bob"}
    assert DBTaskResult.objects.count() == 0


def test_expiry_notifies_the_senders_caseworkers_and_answers_the_creator(world: World, case: Case) -> None:
    refer(world, case)
    referral_services.expire_overdue(today=SOON + datetime.timedelta(days=1))
    assert recipients("answer_overdue") == {"alice", "cora"}
    run_queued_tasks()
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
