"""The core of lawful sharing: who sees which categories, legal bases, revocation, the referral loop."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from hub import access
from hub.models import AuditEntry, Event
from referrals import services
from referrals.models import Person, Referral, ReferralStatus, Share
from tests.conftest import Case, World

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + datetime.timedelta(days=14)


def refer(world: World, case: Case, **overrides: Any) -> Referral:
    kwargs: dict[str, Any] = {
        "actor": world.alice,
        "person": case.person,
        "to_agency": world.social_office,
        "reason": "Beratung zur Wohnsituation",
        "categories": ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent,
        "answer_due_on": SOON,
    } | overrides
    return services.referral_create(**kwargs)


def test_the_holding_agency_sees_everything_others_nothing(world: World, case: Case) -> None:
    assert access.person_categories(world.alice, case.person) == frozenset(c for c in access.Category.values)
    assert access.person_categories(world.rita, case.person)  # read-only colleagues read
    for persona in ("bob", "carol", "olga"):
        assert not access.visible(world.persona(persona), Person).filter(pk=case.person.pk).exists()
        assert access.person_categories(world.persona(persona), case.person) == frozenset()


def test_a_sent_referral_shows_the_receiver_only_the_shared_categories(world: World, case: Case) -> None:
    referral = refer(world, case)
    assert referral.status == ReferralStatus.SENT
    assert access.person_categories(world.bob, case.person) == {"identity", "contact"}
    assert not access.visible(world.carol, Person).filter(pk=case.person.pk).exists()
    assert [h.to_status for h in referral.history.all()] == ["draft", "sent"]
    assert AuditEntry.objects.filter(action="referral.send", target_id=str(referral.pk)).exists()
    assert Event.objects.filter(verb="referral.sent").latest("id").audience == sorted(
        {f"agency.{world.jobcenter.pk}", f"agency.{world.social_office.pk}"}
    )


def test_no_basis_no_share(world: World, case: Case) -> None:
    with pytest.raises(ValidationError) as excinfo:
        refer(world, case, legal_basis="", consent=None)
    assert "legal_basis" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        refer(world, case, categories=["identity", "health"])  # consent does not cover health
    assert "categories" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        refer(world, case, to_agency=world.immigration)  # consent does not name the recipient
    assert "consent" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        refer(world, case, legal_basis="sgb_x_69", consent=None, basis_reason="")
    assert "basis_reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        refer(world, case, legal_basis="sgb_x_69", consent=None, basis_reason="x", categories=["health"])
    with pytest.raises(ValidationError):
        refer(world, case, legal_basis="sgb_x_71", consent=None, basis_reason="Meldung")  # not to the social office
    assert not Share.objects.exists()


def test_statutory_basis_with_reason_works(world: World, case: Case) -> None:
    referral = refer(world, case, legal_basis="sgb_x_69", consent=None, basis_reason="Prüfung der Zuständigkeit")
    assert referral.share is not None and referral.share.legal_basis == "sgb_x_69"


def test_youth_office_data_leaves_only_with_consent(world: World) -> None:
    person = services.person_create(
        actor=world.carol,
        agency=world.youth_office,
        first_name="Omar",
        last_name="K",
        birth_date=datetime.date(2009, 1, 1),
        nationality="afghanisch",
    )
    with pytest.raises(ValidationError) as excinfo:
        services.referral_create(
            actor=world.carol,
            person=person,
            to_agency=world.jobcenter,
            reason="Ausbildung",
            categories=["identity"],
            legal_basis="sgb_x_69",
            basis_reason="Ausbildungsvermittlung",
            answer_due_on=SOON,
        )
    assert "§ 65 SGB VIII" in str(excinfo.value)


def test_revoking_consent_ends_access_at_once_and_tells_the_recipients(world: World, case: Case) -> None:
    refer(world, case)
    assert access.visible(world.bob, Person).filter(pk=case.person.pk).exists()
    services.consent_revoke(actor=world.alice, consent=case.consent)
    assert not access.visible(world.bob, Person).filter(pk=case.person.pk).exists()
    event = Event.objects.filter(verb="access.revoked").latest("id")
    assert f"agency.{world.social_office.pk}" in event.audience
    with pytest.raises(ValidationError):
        refer(world, case)


@pytest.mark.parametrize(
    ("action", "persona", "error"),
    [
        ("accept", "alice", PermissionDenied),  # the sender cannot accept its own referral
        ("accept", "carol", Http404),  # an agency outside the referral does not see it
        ("accept", "olga", Http404),
        ("withdraw", "bob", PermissionDenied),  # only the sender withdraws
        ("send", "bob", PermissionDenied),
    ],
)
def test_each_side_takes_only_its_own_steps(world: World, case: Case, action: str, persona: str, error: type) -> None:
    referral = refer(world, case)
    with pytest.raises(error):
        services.referral_transition(actor=world.persona(persona), referral=referral, action=action)
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_read_only_members_cannot_act(world: World, case: Case) -> None:
    with pytest.raises(PermissionDenied):
        refer(world, case, actor=world.rita)


def test_the_loop_closes_with_an_outcome_the_sender_sees(world: World, case: Case) -> None:
    referral = refer(world, case)
    for action in ("receive", "accept", "start"):
        referral = services.referral_transition(actor=world.bob, referral=referral, action=action)
    with pytest.raises(ValidationError):
        services.referral_transition(actor=world.bob, referral=referral, action="complete")
    with pytest.raises(ValidationError):
        services.referral_transition(actor=world.bob, referral=referral, action="complete", outcome="not_successful")
    referral = services.referral_transition(
        actor=world.bob,
        referral=referral,
        action="complete",
        outcome="not_successful",
        outcome_reason="lack_of_capacity",
    )
    seen_by_sender = access.visible(world.alice, Referral).get(pk=referral.pk)
    assert (seen_by_sender.status, seen_by_sender.outcome) == ("completed", "not_successful")
    assert [h.to_status for h in referral.history.all()] == [
        "draft",
        "sent",
        "received",
        "accepted",
        "in_progress",
        "completed",
    ]


def test_illegal_transitions_are_refused(world: World, case: Case) -> None:
    referral = refer(world, case)
    with pytest.raises(ValidationError):
        services.referral_transition(actor=world.bob, referral=referral, action="start")
    services.referral_transition(actor=world.bob, referral=referral, action="decline", note="Nicht zuständig")
    referral.refresh_from_db()
    assert referral.share is not None and Share.objects.get(pk=referral.share.pk).ended_at is not None
    with pytest.raises(ValidationError):
        services.referral_transition(actor=world.bob, referral=referral, action="accept")


def test_overdue_referrals_expire(world: World, case: Case) -> None:
    referral = refer(world, case)
    assert services.expire_overdue(today=SOON + datetime.timedelta(days=1)) == 1
    referral.refresh_from_db()
    last_step = referral.history.last()
    assert referral.status == ReferralStatus.EXPIRED and last_step is not None and last_step.actor is None
    assert not access.visible(world.bob, Person).filter(pk=case.person.pk).exists()


def test_redirect_sends_a_new_referral_and_closes_the_old(world: World, case: Case) -> None:
    referral = refer(world, case)
    new = services.referral_redirect(actor=world.alice, referral=referral, to_agency=world.youth_office)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REDIRECTED and referral.redirected_to == new
    assert new.status == ReferralStatus.SENT and new.to_agency == world.youth_office
    assert not access.visible(world.bob, Person).filter(pk=case.person.pk).exists()
    assert access.visible(world.carol, Person).filter(pk=case.person.pk).exists()


def test_person_update_audits_field_names_not_values(world: World, case: Case) -> None:
    services.person_update(actor=world.alice, person=case.person, phone="0170 7654321")
    entry = AuditEntry.objects.filter(action="person.update").latest("id")
    assert "phone" in entry.changes and "0170" not in str(entry.changes)
    with pytest.raises(Http404):
        services.person_update(actor=world.bob, person=case.person, phone="1")


def test_expiry_alerts_the_coordinating_agency_of_the_shared_round_table(world: World) -> None:
    person = services.person_create(
        actor=world.bob,
        agency=world.social_office,
        first_name="Yonas",
        last_name="Haile",
        birth_date=datetime.date(1995, 2, 2),
        nationality="eritreisch",
    )
    services.referral_create(
        actor=world.bob,
        person=person,
        to_agency=world.youth_office,
        reason="Familienberatung",
        categories=["identity"],
        legal_basis="sgb_x_69",
        basis_reason="Hilfe zur Erziehung",
        answer_due_on=SOON,
    )
    services.expire_overdue(today=SOON + datetime.timedelta(days=1))
    audience = Event.objects.filter(verb="referral.expired").latest("id").audience
    # Neither side is the jobcenter, but it coordinates the round table where both sit.
    assert f"agency.{world.jobcenter.pk}" in audience
