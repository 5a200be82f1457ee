"""The referrals UI: the inbox (with its constant query count), the list, a new referral,
its page, every step with who may and who may not, and the closed loop end to end."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import User
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests.conftest import Case, World

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + datetime.timedelta(days=14)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def refer(world: World, case: Case, **overrides: object) -> Referral:
    kwargs: dict[str, object] = {
        "actor": world.alice,
        "person": case.person,
        "to_agency": world.social_office,
        "reason": "Beratung zur Wohnsituation",
        "categories": ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent,
        "answer_due_on": SOON,
    } | overrides
    return services.referral_create(**kwargs)  # type: ignore[arg-type]


def referral_form_data(world: World, case: Case, **overrides: object) -> dict[str, object]:
    return {
        "to_agency": world.social_office.pk,
        "measure": "",
        "reason": "Unterstützung bei der Wohnungssuche",
        "urgency": "urgent",
        "categories": ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent.pk,
        "basis_reason": "",
        "answer_due_on": SOON.isoformat(),
    } | overrides


def step(client: Client, referral: Referral, action: str) -> int:
    return client.post(reverse("referral-step", args=[referral.pk, action])).status_code


def status_of(referral: Referral) -> str:
    referral.refresh_from_db()
    return referral.status


# The whole loop through the pages ---------------------------------------------------------


def test_the_full_loop_through_the_ui(world: World, case: Case) -> None:
    alice, bob = client_for(world.alice), client_for(world.bob)

    form_page = alice.get(reverse("referral-create", args=[case.person.pk]))
    assert form_page.status_code == 200
    assert form_page.context["form"].initial["answer_due_on"] == SOON  # due in 14 days by default
    response = alice.post(reverse("referral-create", args=[case.person.pk]), referral_form_data(world, case))
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("referral-detail", args=[referral.pk])
    assert referral.status == ReferralStatus.SENT and referral.urgency == "urgent"

    # The receiver finds it in the inbox, with the badge in the navigation.
    inbox = bob.get(reverse("referral-inbox"))
    assert referral.reference in inbox.content.decode()
    incoming = next(section for section in inbox.context["sections"] if section.key == "incoming")
    assert [row.referral for row in incoming.rows] == [referral]
    assert inbox.context["sections"][1].rows == []  # bob sent nothing
    dashboard = bob.get(reverse("dashboard")).content.decode()
    assert reverse("referral-inbox") in dashboard

    # Opening it does not confirm receipt: that is an explicit step.
    page = bob.get(reverse("referral-detail", args=[referral.pk]))
    assert page.status_code == 200 and status_of(referral) == ReferralStatus.SENT
    html = page.content.decode()
    assert reverse("referral-step", args=[referral.pk, "receive"]) in html
    assert reverse("referral-step", args=[referral.pk, "withdraw"]) not in html  # the sender's step
    assert "Amina" in html

    assert step(bob, referral, "receive") == 302 and status_of(referral) == ReferralStatus.RECEIVED
    assert step(bob, referral, "accept") == 302 and status_of(referral) == ReferralStatus.ACCEPTED
    assert step(bob, referral, "start") == 302 and status_of(referral) == ReferralStatus.IN_PROGRESS
    response = bob.post(
        reverse("referral-complete", args=[referral.pk]),
        {"complete-outcome": "successful", "complete-outcome_reason": "", "complete-note": "Wohnung gefunden"},
    )
    assert response.status_code == 302 and status_of(referral) == ReferralStatus.COMPLETED

    # The loop closes: the sender sees the outcome, in the inbox and on the page.
    inbox = alice.get(reverse("referral-inbox"))
    closed = next(section for section in inbox.context["sections"] if section.key == "closed")
    assert [row.referral for row in closed.rows] == [referral]
    assert "Wohnung gefunden" in inbox.content.decode()
    page = alice.get(reverse("referral-detail", args=[referral.pk]))
    assert page.context["referral"].outcome == "successful"
    assert [change.to_status for change in page.context["history"]] == [
        "draft",
        "sent",
        "received",
        "accepted",
        "in_progress",
        "completed",
    ]
    assert not page.context["simple_steps"] and not page.context["step_forms"]


def test_a_draft_is_saved_and_sent_later(world: World, case: Case) -> None:
    alice = client_for(world.alice)
    data = referral_form_data(world, case) | {"save_draft": "1"}
    assert alice.post(reverse("referral-create", args=[case.person.pk]), data).status_code == 302
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.DRAFT
    assert client_for(world.bob).get(reverse("person-detail", args=[case.person.pk])).status_code == 404
    assert step(client_for(world.bob), referral, "send") == 403
    assert step(alice, referral, "send") == 302 and status_of(referral) == ReferralStatus.SENT
    assert client_for(world.bob).get(reverse("person-detail", args=[case.person.pk])).status_code == 200


def test_the_referral_form_reports_a_missing_basis(world: World, case: Case) -> None:
    alice = client_for(world.alice)
    url = reverse("referral-create", args=[case.person.pk])
    response = alice.post(url, referral_form_data(world, case, consent=""))
    assert response.status_code == 200 and "consent" in response.context["form"].errors
    response = alice.post(url, referral_form_data(world, case, categories=["identity", "health"]))
    assert response.status_code == 200 and "categories" in response.context["form"].errors
    response = alice.post(url, referral_form_data(world, case, answer_due_on="2000-01-01"))
    assert response.status_code == 200 and "answer_due_on" in response.context["form"].errors
    response = alice.post(url, referral_form_data(world, case, to_agency=world.immigration.pk))
    assert response.status_code == 200 and "to_agency" in response.context["form"].errors  # not visible
    assert not Referral.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("rita", 403), ("adam", 403), ("bob", 404), ("olga", 404)])
def test_others_cannot_refer(world: World, case: Case, persona: str, status: int) -> None:
    url = reverse("referral-create", args=[case.person.pk])
    client = client_for(world.persona(persona))
    assert client.get(url).status_code == status
    assert client.post(url, referral_form_data(world, case)).status_code == status
    assert not Referral.objects.exists()


# Who sees and who acts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("alice", 200),
        ("bob", 200),
        ("rita", 200),
        ("adam", 200),
        ("cora", 200),
        ("carol", 404),
        ("olga", 404),
        ("anon", 302),
    ],
)
def test_who_sees_a_referral(world: World, case: Case, persona: str, status: int) -> None:
    referral = refer(world, case)
    user = None if persona == "anon" else world.persona(persona)
    assert client_for(user).get(reverse("referral-detail", args=[referral.pk])).status_code == status


@pytest.mark.parametrize(
    ("persona", "action", "status"),
    [
        ("alice", "accept", 403),  # the sender does not answer its own referral
        ("alice", "receive", 403),
        ("rita", "receive", 403),  # read-only
        ("cora", "receive", 403),
        ("bob", "withdraw", 403),  # the receiver does not withdraw
        ("carol", "accept", 404),
        ("olga", "receive", 404),
        ("bob", "nonsense", 404),
        ("bob", "decline", 404),  # steps with input have their own pages
    ],
)
def test_who_may_not_take_a_step(world: World, case: Case, persona: str, action: str, status: int) -> None:
    referral = refer(world, case)
    response = client_for(world.persona(persona)).post(reverse("referral-step", args=[referral.pk, action]))
    assert response.status_code == status
    assert status_of(referral) == ReferralStatus.SENT


def test_steps_need_post(world: World, case: Case) -> None:
    referral = refer(world, case)
    assert client_for(world.bob).get(reverse("referral-step", args=[referral.pk, "receive"])).status_code == 405
    assert client_for(None).post(reverse("referral-step", args=[referral.pk, "receive"])).status_code == 302
    assert status_of(referral) == ReferralStatus.SENT


def test_an_illegal_step_is_a_message_not_an_error(world: World, case: Case) -> None:
    referral = refer(world, case)
    bob = client_for(world.bob)
    response = bob.post(reverse("referral-step", args=[referral.pk, "start"]), follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert status_of(referral) == ReferralStatus.SENT
    # A step page for a step that does not fit the status sends back to the referral.
    assert bob.get(reverse("referral-complete", args=[referral.pk])).status_code == 302


def test_declining_needs_a_reason_and_ends_the_receivers_view(world: World, case: Case) -> None:
    referral = refer(world, case)
    bob = client_for(world.bob)
    url = reverse("referral-decline", args=[referral.pk])
    assert bob.get(url).status_code == 200
    assert client_for(world.alice).get(url).status_code == 403
    assert client_for(world.alice).post(url, {"decline-note": "x"}).status_code == 403
    assert client_for(world.carol).get(url).status_code == 404
    response = bob.post(url, {"decline-note": "  "})
    assert response.status_code == 200 and "note" in response.context["form"].errors
    assert status_of(referral) == ReferralStatus.SENT
    assert bob.post(url, {"decline-note": "Keine Kapazität"}).status_code == 302
    assert status_of(referral) == ReferralStatus.DECLINED
    # The share ended: the receiver keeps the referral, but sees only the case reference now.
    page = bob.get(reverse("referral-detail", args=[referral.pk]))
    assert page.status_code == 200 and not page.context["person_visible"]
    html = page.content.decode()
    assert case.person.reference in html and "Amina" not in html
    # The sender sees the reason.
    sender_page = client_for(world.alice).get(reverse("referral-detail", args=[referral.pk]))
    assert "Keine Kapazität" in sender_page.content.decode()


def test_completing_unsuccessfully_needs_a_reason(world: World, case: Case) -> None:
    referral = refer(world, case)
    bob = client_for(world.bob)
    step(bob, referral, "accept")
    url = reverse("referral-complete", args=[referral.pk])
    response = bob.post(url, {"complete-outcome": "not_successful", "complete-outcome_reason": ""})
    assert response.status_code == 200 and "outcome_reason" in response.context["form"].errors
    response = bob.post(url, {"complete-outcome": "maybe"})
    assert response.status_code == 200 and "outcome" in response.context["form"].errors
    response = bob.post(
        url, {"complete-outcome": "not_successful", "complete-outcome_reason": "unable_to_contact_client"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.outcome_reason) == (
        "completed",
        "not_successful",
        "unable_to_contact_client",
    )
    assert client_for(world.rita).post(url, {"complete-outcome": "successful"}).status_code == 403


def test_failing_waitlisting_and_withdrawing(world: World, case: Case) -> None:
    referral = refer(world, case)
    bob, alice = client_for(world.bob), client_for(world.alice)
    step(bob, referral, "accept")
    assert step(bob, referral, "waitlist") == 302 and status_of(referral) == ReferralStatus.WAITLISTED
    url = reverse("referral-fail", args=[referral.pk])
    assert bob.post(url, {"fail-note": ""}).status_code == 200
    assert bob.post(url, {"fail-note": "Person verzogen"}).status_code == 302
    assert status_of(referral) == ReferralStatus.FAILED

    other = refer(world, case)
    assert step(alice, other, "withdraw") == 302 and status_of(other) == ReferralStatus.WITHDRAWN


def test_redirecting_sends_a_new_referral(world: World, case: Case) -> None:
    referral = refer(world, case)
    alice = client_for(world.alice)
    url = reverse("referral-redirect", args=[referral.pk])
    form = alice.get(url).context["form"]
    offered = set(form.fields["to_agency"].queryset)
    assert world.youth_office in offered and world.social_office not in offered and world.jobcenter not in offered
    assert client_for(world.bob).get(url).status_code == 403
    response = alice.post(url, {"redirect-to_agency": world.youth_office.pk, "redirect-note": "Zuständigkeit"})
    assert response.status_code == 302
    assert status_of(referral) == ReferralStatus.REDIRECTED
    new = Referral.objects.get(to_agency=world.youth_office)
    assert response["Location"] == reverse("referral-detail", args=[new.pk])
    assert new.status == ReferralStatus.SENT


# The inbox and the list -------------------------------------------------------------------


def test_due_and_overdue_are_highlighted(world: World, case: Case) -> None:
    due_today = refer(world, case)
    overdue = refer(world, case)
    later = refer(world, case)
    Referral.objects.filter(pk=due_today.pk).update(answer_due_on=timezone.localdate())
    Referral.objects.filter(pk=overdue.pk).update(answer_due_on=timezone.localdate() - datetime.timedelta(days=2))
    for user in (world.alice, world.bob):
        response = client_for(user).get(reverse("referral-inbox"))
        due = next(section for section in response.context["sections"] if section.key == "due")
        rows = {row.referral.pk: row for row in due.rows}
        assert set(rows) == {due_today.pk, overdue.pk}
        assert rows[overdue.pk].overdue and not rows[overdue.pk].due_today
        assert rows[due_today.pk].due_today and not rows[due_today.pk].overdue
        assert later.pk not in rows
    html = client_for(world.bob).get(reverse("dashboard")).content.decode()
    assert reverse("referral-inbox") + "#due" in html


def test_the_inbox_of_others_is_empty(world: World, case: Case) -> None:
    refer(world, case)
    for persona in ("carol", "olga"):
        response = client_for(world.persona(persona)).get(reverse("referral-inbox"))
        assert response.status_code == 200
        assert all(not section.rows for section in response.context["sections"])
    assert client_for(None).get(reverse("referral-inbox")).status_code == 302


def inbox_queries(user: User) -> int:
    client = client_for(user)
    client.get(reverse("referral-inbox"))  # warm up the session and caches
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("referral-inbox"))
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_inbox_needs_the_same_number_of_queries_for_5_and_30_referrals(world: World, case: Case) -> None:
    def add(count: int) -> None:
        for number in range(count):
            referral = refer(world, case, answer_due_on=SOON if number % 2 else timezone.localdate())
            if number % 3 == 0:
                services.referral_transition(actor=world.bob, referral=referral, action="receive")
            if number % 5 == 0:
                services.referral_transition(actor=world.bob, referral=referral, action="decline", note="voll")

    add(5)
    few = {user.username: inbox_queries(user) for user in (world.alice, world.bob)}
    add(25)
    assert Referral.objects.count() == 30
    many = {user.username: inbox_queries(user) for user in (world.alice, world.bob)}
    assert few == many


def test_the_list_filters_by_direction_status_and_overdue(world: World, case: Case) -> None:
    sent = refer(world, case)
    declined = refer(world, case)
    services.referral_transition(actor=world.bob, referral=declined, action="decline", note="voll")
    Referral.objects.filter(pk=sent.pk).update(answer_due_on=timezone.localdate() - datetime.timedelta(days=1))
    bob, alice = client_for(world.bob), client_for(world.alice)
    url = reverse("referral-list")

    def listed(client: Client, **params: Any) -> set[int]:
        response = client.get(url, params)
        assert response.status_code == 200
        return {row.referral.pk for row in response.context["rows"]}

    assert listed(bob) == {sent.pk, declined.pk}
    assert listed(bob, direction="incoming") == {sent.pk, declined.pk}
    assert listed(bob, direction="outgoing") == set()
    assert listed(alice, direction="outgoing") == {sent.pk, declined.pk}
    assert listed(alice, status="declined") == {declined.pk}
    assert listed(alice, overdue="true") == {sent.pk}
    assert listed(alice, overdue="false") == {declined.pk}
    assert listed(alice, agency=world.social_office.pk) == {sent.pk, declined.pk}
    assert listed(alice, agency=world.youth_office.pk) == set()
    assert listed(client_for(world.carol)) == set()
    assert listed(alice, status="nonsense", overdue="x") == {sent.pk, declined.pk}
    # The open referral still shares the person; once it is withdrawn, bob sees only references.
    assert all(row.person_visible for row in bob.get(url).context["rows"])
    services.referral_transition(actor=world.alice, referral=sent, action="withdraw")
    response = bob.get(url)
    assert not any(row.person_visible for row in response.context["rows"])
    assert "Amina" not in response.content.decode() and case.person.reference in response.content.decode()
