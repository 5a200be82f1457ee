"""Round-table meetings: the services for every persona, who may not, pseudonymised cases, the
minutes' optimistic versioning, approval, decisions that refer, carry-over and reminders.

The world (tests/messaging/meeting_helpers.py): cora coordinates the round table for the jobcenter;
the meetings invite the jobcenter and the social office (bob); the youth office (carol) sits at the
round table but is not invited, and the immigration authority (olga) shares nothing with them.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import User
from hub import access
from hub.models import AuditEntry, Event
from messaging.meetings import selectors, services
from messaging.models import (
    ActionItem,
    ActionItemStatus,
    AgendaItem,
    Decision,
    Meeting,
    MeetingInvitation,
    MeetingStatus,
    MinutesStatus,
    MinutesVersion,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from referrals import services as referral_services
from referrals.models import Referral
from tests.conftest import World, run_queued_tasks
from tests.messaging.meeting_helpers import amina, at, bobs_person, held_meeting, item_on, make_meeting

pytestmark = pytest.mark.django_db

PERSONAS = ("alice", "bob", "carol", "olga", "rita", "adam", "cora")
# Who sees a meeting that invites the jobcenter and the social office.
INVITED = {"alice", "bob", "rita", "adam", "cora"}


def user(world: World, name: str) -> User:
    found = User.objects.get(username=name)
    access.forget(found)
    return found


def seeing(world: World, meeting: Meeting) -> set[str]:
    return {name for name in PERSONAS if access.visible(user(world, name), Meeting).filter(pk=meeting.pk).exists()}


def last_event(verb: str) -> Event:
    return Event.objects.filter(verb=verb).latest("id")


def refused(world: World, name: str, call: object) -> type[Exception] | None:
    """The exception ``call(actor)`` raises for persona ``name`` (404 or 403), or None when allowed."""
    try:
        call(user(world, name))  # type: ignore[operator]
    except (Http404, PermissionDenied) as exc:
        return type(exc)
    return None


# Planning and visibility ----------------------------------------------------------------------


def test_the_coordinator_plans_a_meeting_seen_only_by_invited_agencies(world: World) -> None:
    meeting = make_meeting(world, video_url="https://video.example/rt")
    assert meeting.status == MeetingStatus.PLANNED and meeting.minutes_status == MinutesStatus.DRAFT
    assert set(MeetingInvitation.objects.filter(meeting=meeting).values_list("agency_id", flat=True)) == {
        world.jobcenter.pk,
        world.social_office.pk,
    }
    assert seeing(world, meeting) == INVITED  # carol's youth office is at the round table, but not invited
    audit = AuditEntry.objects.get(action="meeting.created", target_id=str(meeting.pk))
    assert audit.agency_id == world.jobcenter.pk and audit.actor == world.cora
    event = last_event("meeting.created")
    assert set(event.audience) == {f"agency.{world.jobcenter.pk}", f"agency.{world.social_office.pk}"}
    assert event.payload == {"meeting": meeting.pk}
    with pytest.raises(Http404):
        selectors.meeting_detail(user(world, "carol"), meeting.pk)
    with pytest.raises(Http404):
        selectors.meeting_detail(user(world, "olga"), meeting.pk)
    assert selectors.meeting_detail(user(world, "bob"), meeting.pk) == meeting


def test_only_the_coordinator_plans_meetings(world: World) -> None:
    def plan(actor: User) -> None:
        services.meeting_create(actor=actor, workspace=world.workspace, title="RT", starts_at=at(3), place="Kreishaus")

    assert {name: refused(world, name, plan) for name in PERSONAS} == {
        "alice": PermissionDenied,
        "bob": PermissionDenied,
        "carol": PermissionDenied,
        "olga": Http404,
        "rita": PermissionDenied,
        "adam": PermissionDenied,
        "cora": None,
    }


def test_without_a_list_every_member_agency_is_invited(world: World) -> None:
    meeting = make_meeting(world, invited_agencies=None)
    assert seeing(world, meeting) == INVITED | {"carol"}


def test_a_meeting_needs_a_place_or_a_link_and_ends_after_it_starts(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        make_meeting(world, place="")
    assert "place" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_meeting(world, ends_at=at(6))
    assert "ends_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_meeting(world, invited_agencies=[world.immigration])
    assert "invited_agencies" in error.value.message_dict


def test_inviting_and_uninviting_changes_who_sees_the_meeting(world: World) -> None:
    meeting = make_meeting(world)
    services.meeting_invite(actor=world.cora, meeting=meeting, agency=world.youth_office)
    assert "carol" in seeing(world, meeting)
    services.meeting_uninvite(actor=world.cora, meeting=meeting, agency=world.youth_office)
    assert "carol" not in seeing(world, meeting)
    event = last_event("meeting.agency_uninvited")
    assert f"agency.{world.youth_office.pk}" in event.audience  # told once more, so an open page reloads
    with pytest.raises(ValidationError):
        services.meeting_uninvite(actor=world.cora, meeting=meeting, agency=world.jobcenter)
    with pytest.raises(ValidationError):
        services.meeting_invite(actor=world.cora, meeting=meeting, agency=world.immigration)
    assert refused(world, "bob", lambda a: services.meeting_invite(actor=a, meeting=meeting, agency=world.youth_office))
    assert (
        refused(world, "carol", lambda a: services.meeting_invite(actor=a, meeting=meeting, agency=world.youth_office))
        is Http404
    )


def test_update_cancel_and_who_may_not(world: World) -> None:
    meeting = make_meeting(world)
    services.meeting_update(actor=world.cora, meeting=meeting, place="Jobcenter, Raum 3")
    meeting.refresh_from_db()
    assert meeting.place == "Jobcenter, Raum 3"
    assert AuditEntry.objects.filter(action="meeting.updated", target_id=str(meeting.pk)).exists()
    assert (
        refused(world, "bob", lambda a: services.meeting_update(actor=a, meeting=meeting, place="x"))
        is PermissionDenied
    )
    assert refused(world, "carol", lambda a: services.meeting_cancel(actor=a, meeting=meeting)) is Http404
    services.meeting_cancel(actor=world.cora, meeting=meeting, reason="Krankheit")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert last_event("meeting.cancelled").payload == {"meeting": meeting.pk, "status": "cancelled"}
    with pytest.raises(ValidationError):
        services.meeting_update(actor=world.cora, meeting=meeting, place="x")


def test_a_meeting_is_held_from_its_day_on(world: World) -> None:
    with pytest.raises(ValidationError):
        services.meeting_hold(actor=world.cora, meeting=make_meeting(world, days=3))
    meeting = held_meeting(world, days=0)
    assert meeting.status == MeetingStatus.HELD


def test_attendance(world: World) -> None:
    meeting = held_meeting(world)
    row = services.attendance_record(actor=world.cora, meeting=meeting, user=world.bob, present=True)
    assert row.agency == world.social_office and row.present
    services.attendance_record(actor=world.cora, meeting=meeting, user=world.bob, present=False, note="krank")
    row.refresh_from_db()
    assert not row.present and row.note == "krank"
    with pytest.raises(ValidationError):
        services.attendance_record(actor=world.cora, meeting=meeting, user=world.carol, present=True)
    assert (
        refused(world, "bob", lambda a: services.attendance_record(actor=a, meeting=meeting, user=a, present=True))
        is PermissionDenied
    )


# Agenda ---------------------------------------------------------------------------------------


def test_invited_caseworkers_propose_and_the_coordinator_orders(world: World) -> None:
    meeting = make_meeting(world)

    def propose(actor: User) -> AgendaItem:
        return services.agenda_item_propose(actor=actor, meeting=meeting, title="Thema")

    assert {name: refused(world, name, propose) for name in PERSONAS} == {
        "alice": None,
        "bob": None,
        "carol": Http404,  # at the round table, not invited: the meeting does not exist for her
        "olga": Http404,
        "rita": PermissionDenied,
        "adam": PermissionDenied,
        "cora": None,
    }
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("position"))
    assert [item.position for item in items] == [1, 2, 3]
    assert items[1].proposer_agency == world.social_office
    audit = AuditEntry.objects.get(action="agenda_item.proposed", target_id=str(items[1].pk))
    assert audit.agency_id == world.social_office.pk and "Thema" not in str(audit.changes) + audit.target_label
    event = last_event("agenda_item.proposed")
    assert event.payload == {"meeting": meeting.pk, "item": items[2].pk, "position": 3}

    order = [items[2].pk, items[0].pk, items[1].pk]
    services.agenda_item_reorder(actor=world.cora, meeting=meeting, order=order)
    assert list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("pk", flat=True)) == order
    assert last_event("agenda.reordered").payload == {"meeting": meeting.pk, "order": order}
    with pytest.raises(ValidationError):
        services.agenda_item_reorder(actor=world.cora, meeting=meeting, order=order[:2])
    assert (
        refused(world, "bob", lambda a: services.agenda_item_reorder(actor=a, meeting=meeting, order=order))
        is PermissionDenied
    )


def test_topics_are_proposed_before_the_meeting_except_by_the_coordinator(world: World) -> None:
    meeting = held_meeting(world, days=0)
    with pytest.raises(ValidationError):
        services.agenda_item_propose(actor=world.bob, meeting=meeting, title="Spät")
    assert services.agenda_item_propose(actor=world.cora, meeting=meeting, title="Aktuell").position == 1


def test_a_case_on_the_agenda_must_be_visible_to_its_proposer(world: World) -> None:
    meeting = make_meeting(world)
    hers = bobs_person(world)
    with pytest.raises(ValidationError) as error:
        services.agenda_item_propose(actor=world.alice, meeting=meeting, title="Fall", person=hers)
    assert "person" in error.value.message_dict
    item = services.agenda_item_propose(actor=world.bob, meeting=meeting, title="Fall", person=hers)
    assert item.person == hers


# Pseudonymisation ---------------------------------------------------------------------------


def labels(world: World, name: str, meeting: Meeting) -> list[str]:
    return [item.case_label for item in selectors.agenda(user(world, name), meeting)]


def test_cases_on_the_agenda_show_names_only_to_agencies_that_see_the_person(world: World) -> None:
    meeting = make_meeting(world)
    person = amina(world)  # the jobcenter's case
    hers = bobs_person(world)  # the social office's case
    services.agenda_item_propose(actor=world.alice, meeting=meeting, title="Sprachkurs", person=person)
    services.agenda_item_propose(actor=world.bob, meeting=meeting, title="Wohnung", person=hers)
    assert labels(world, "cora", meeting) == [f"Amina Haddad ({person.reference})", hers.reference]
    assert labels(world, "rita", meeting) == [f"Amina Haddad ({person.reference})", hers.reference]
    assert labels(world, "bob", meeting) == [person.reference, f"Leyla Nasser ({hers.reference})"]
    # Once the jobcenter refers Amina to the social office, bob may see her, and so her name.
    referral_services.referral_create(
        actor=world.alice,
        person=person,
        to_agency=world.social_office,
        reason="Beratung",
        categories=["identity"],
        legal_basis="consent",
        consent=person.consents.get(),
        answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
    )
    assert labels(world, "bob", meeting)[0] == f"Amina Haddad ({person.reference})"
    for name in ("bob", "cora"):
        items = selectors.agenda(user(world, name), meeting)
        assert all(not hasattr(item, "_person_cache") for item in items)  # the person row is never loaded


def test_the_agenda_takes_the_same_number_of_queries_however_long(world: World) -> None:
    meeting = make_meeting(world)
    person = amina(world)

    def count() -> int:
        actor = user(world, "bob")
        access.memberships(actor)
        with CaptureQueriesContext(connection) as queries:
            items = selectors.agenda(actor, meeting)
            [(item.case_label, list(item.decisions.all()), list(item.action_items.all())) for item in items]
        return len(queries)

    def add(n: int) -> None:
        for _i in range(n):
            item = services.agenda_item_propose(actor=world.alice, meeting=meeting, title="Fall", person=person)
            services.decision_record(actor=world.cora, item=item, text="Beschluss")
            services.action_item_create(
                actor=world.cora,
                meeting=meeting,
                title="Nachhalten",
                owner_agency=world.social_office,
                due_on=timezone.localdate() + datetime.timedelta(days=10),
                person=person,
                agenda_item=item,
            )

    add(2)
    few = count()
    add(8)
    assert count() == few


def test_the_overview_takes_the_same_number_of_queries_however_long(world: World) -> None:
    meeting = make_meeting(world)
    person = amina(world)

    def count() -> int:
        actor = user(world, "bob")
        access.memberships(actor)
        with CaptureQueriesContext(connection) as queries:
            rows = selectors.with_case_labels(actor, selectors.action_item_overview(actor))
            [(row.case_label, row.owner_agency.name, row.meeting.workspace.name, row.is_overdue) for row in rows]
        return len(queries)

    def add(n: int) -> None:
        for _i in range(n):
            services.action_item_create(
                actor=world.cora,
                meeting=meeting,
                title="Nachhalten",
                owner_agency=world.social_office,
                owner=world.bob,
                due_on=timezone.localdate() + datetime.timedelta(days=10),
                person=person,
            )

    add(2)
    few = count()
    add(8)
    assert count() == few


# Minutes and optimistic versioning ------------------------------------------------------------


def test_the_coordinator_writes_minutes_and_a_stale_version_is_refused(world: World) -> None:
    meeting = make_meeting(world, days=0)
    item = item_on(world, meeting)
    saved = services.agenda_item_update_minutes(
        actor=world.cora, item=item, minutes="Frau H. beginnt", expected_version=0
    )
    assert saved.version == 1 and saved.minutes == "Frau H. beginnt"
    event = last_event("agenda_item.minutes_updated")
    assert event.payload == {"meeting": meeting.pk, "item": item.pk, "version": 1}
    assert set(event.audience) == {f"agency.{world.jobcenter.pk}", f"agency.{world.social_office.pk}"}
    audit = AuditEntry.objects.filter(action="agenda_item.minutes_updated").latest("id")
    assert audit.changes == {"length": [0, 15], "version": [0, 1]} and "Frau" not in str(audit.changes)
    with pytest.raises(services.MinutesConflict) as conflict:
        services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Überschrieben?", expected_version=0)
    assert conflict.value.current_version == 1 and conflict.value.current_minutes == "Frau H. beginnt"
    assert "version 1" in conflict.value.message_dict["minutes"][0].lower()
    item.refresh_from_db()
    assert item.minutes == "Frau H. beginnt" and item.version == 1
    # The same text again changes nothing, not even the version.
    same = services.agenda_item_update_minutes(
        actor=world.cora, item=item, minutes="Frau H. beginnt", expected_version=1
    )
    assert same.version == 1

    def write(actor: User) -> None:
        services.agenda_item_update_minutes(actor=actor, item=item, minutes="x", expected_version=1)

    assert {name: refused(world, name, write) for name in PERSONAS} == {
        "alice": PermissionDenied,
        "bob": PermissionDenied,
        "carol": Http404,
        "olga": Http404,
        "rita": PermissionDenied,
        "adam": PermissionDenied,
        "cora": None,
    }


# Approval -------------------------------------------------------------------------------------


def test_minutes_are_circulated_approved_locked_and_corrected_as_new_versions(world: World) -> None:
    meeting = held_meeting(world)
    person = amina(world)
    item = item_on(world, meeting, person=person)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Erster Stand", expected_version=0)
    with pytest.raises(ValidationError):
        services.minutes_approve(actor=world.cora, meeting=meeting)  # not circulated yet
    assert refused(world, "bob", lambda a: services.minutes_circulate(actor=a, meeting=meeting)) is PermissionDenied
    assert refused(world, "carol", lambda a: services.minutes_circulate(actor=a, meeting=meeting)) is Http404
    first = services.minutes_circulate(actor=world.cora, meeting=meeting)
    assert first.number == 1 and first.status == MinutesStatus.CIRCULATED
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Ergänzt", expected_version=1)
    approved = services.minutes_approve(actor=world.cora, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.APPROVED and meeting.is_locked
    assert approved.number == 2 and approved.content["items"][0]["minutes"] == "Ergänzt"
    assert approved.content["items"][0]["case"] == person.reference
    assert "Haddad" not in str(approved.content) and "Amina" not in str(approved.content)
    assert last_event("minutes.approved").payload == {
        "meeting": meeting.pk,
        "minutes_status": "approved",
        "minutes_version": 2,
    }
    for locked in (
        lambda: services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="still", expected_version=2),
        lambda: services.agenda_item_propose(actor=world.cora, meeting=meeting, title="Neu"),
        lambda: services.decision_record(actor=world.cora, item=item, text="Nachträglich"),
        lambda: services.agenda_item_update(actor=world.cora, item=item, title="Anders"),
    ):
        with pytest.raises(ValidationError):
            locked()
    with pytest.raises(ValidationError) as error:
        services.minutes_correct(actor=world.cora, meeting=meeting, corrections={item.pk: "Berichtigt"}, reason="")
    assert "reason" in error.value.message_dict
    corrected = services.minutes_correct(
        actor=world.cora, meeting=meeting, corrections={item.pk: "Berichtigt"}, reason="Tippfehler"
    )
    assert corrected.number == 3 and corrected.status == MinutesStatus.APPROVED and corrected.reason == "Tippfehler"
    assert [v.content["items"][0]["minutes"] for v in MinutesVersion.objects.filter(meeting=meeting)] == [
        "Erster Stand",
        "Ergänzt",
        "Berichtigt",
    ]
    assert (
        refused(
            world,
            "bob",
            lambda a: services.minutes_correct(actor=a, meeting=meeting, corrections={item.pk: "x"}, reason="y"),
        )
        is PermissionDenied
    )
    services.meeting_close(actor=world.cora, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CLOSED


def test_a_meeting_closes_only_with_approved_minutes(world: World) -> None:
    meeting = held_meeting(world)
    with pytest.raises(ValidationError):
        services.meeting_close(actor=world.cora, meeting=meeting)


# Decisions ------------------------------------------------------------------------------------


def referral_fields(world: World, **overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "to_agency": world.social_office,
        "reason": "Beratung zur Wohnungssuche",
        "categories": ["identity", "contact"],
        "legal_basis": "consent",
        "answer_due_on": timezone.localdate() + datetime.timedelta(days=14),
    }
    fields.update(overrides)
    return fields


def test_a_decision_creates_a_referral_and_an_action_item_in_one_step(world: World) -> None:
    meeting = held_meeting(world, days=0)
    person = amina(world)
    item = item_on(world, meeting, person=person)
    decision = services.decision_record(
        actor=world.cora,
        item=item,
        text="Überweisung an das Sozialamt",
        referral=referral_fields(world, consent=person.consents.get()),
        action_item={
            "title": "Termin vereinbaren",
            "owner_agency": world.social_office,
            "owner": world.bob,
            "due_on": timezone.localdate() + datetime.timedelta(days=7),
        },
    )
    assert decision.referral is not None and decision.referral.person == person
    assert decision.referral.status == "sent" and decision.referral.from_agency == world.jobcenter
    action = ActionItem.objects.get(decision=decision)
    assert action.referral == decision.referral and action.person == person and action.agenda_item == item
    assert AuditEntry.objects.filter(action="decision.recorded", target_id=str(decision.pk)).exists()
    assert AuditEntry.objects.filter(action="referral.create", target_id=str(decision.referral.pk)).exists()
    event = last_event("decision.recorded")
    assert event.payload == {"meeting": meeting.pk, "item": item.pk, "decision": decision.pk}


def test_a_decision_is_all_or_nothing(world: World) -> None:
    meeting = held_meeting(world, days=0)
    person = amina(world)
    item = item_on(world, meeting, person=person)
    before = (Decision.objects.count(), Referral.objects.count(), ActionItem.objects.count())
    # No consent and no statutory reason: the referral's own legal-basis check refuses it.
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            actor=world.cora, item=item, text="Überweisung", referral=referral_fields(world, legal_basis="sgb_x_69")
        )
    assert any(key.startswith("referral") for key in error.value.message_dict)
    # A valid referral, but an action item for an agency that is not at the meeting.
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            actor=world.cora,
            item=item,
            text="Überweisung",
            referral=referral_fields(world, consent=person.consents.get()),
            action_item={"title": "x", "owner_agency": world.youth_office, "due_on": timezone.localdate()},
        )
    assert "action_item.owner_agency" in error.value.message_dict
    assert (Decision.objects.count(), Referral.objects.count(), ActionItem.objects.count()) == before


def test_a_coordinator_whose_agency_does_not_hold_the_case_cannot_refer_it(world: World) -> None:
    meeting = make_meeting(world, days=0)
    item = services.agenda_item_propose(actor=world.bob, meeting=meeting, title="Fall", person=bobs_person(world))
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            actor=world.cora, item=item, text="Überweisen", referral=referral_fields(world, to_agency=world.jobcenter)
        )
    assert "referral" in error.value.message_dict
    assert not Decision.objects.exists()


def test_only_the_coordinator_records_decisions(world: World) -> None:
    meeting = held_meeting(world, days=0)
    item = item_on(world, meeting)

    def decide(actor: User) -> None:
        services.decision_record(actor=actor, item=item, text="Beschluss")

    assert {name: refused(world, name, decide) for name in PERSONAS} == {
        "alice": PermissionDenied,
        "bob": PermissionDenied,
        "carol": Http404,
        "olga": Http404,
        "rita": PermissionDenied,
        "adam": PermissionDenied,
        "cora": None,
    }


# Action items ---------------------------------------------------------------------------------


def bobs_task(world: World, meeting: Meeting, days: int = 7) -> ActionItem:
    return services.action_item_create(
        actor=world.cora,
        meeting=meeting,
        title="Wohnungsangebot prüfen",
        owner_agency=world.social_office,
        owner=world.bob,
        due_on=timezone.localdate(meeting.starts_at) + datetime.timedelta(days=days),
    )


def test_action_items_are_given_by_the_coordinator_and_reported_by_their_owner(world: World) -> None:
    meeting = held_meeting(world, days=0)
    task = bobs_task(world, meeting)
    assert AuditEntry.objects.get(action="action_item.created", target_id=str(task.pk)).agency_id == world.jobcenter.pk
    assert last_event("action_item.created").payload == {"meeting": meeting.pk, "item": task.pk, "status": "open"}
    with pytest.raises(ValidationError):
        services.action_item_create(
            actor=world.cora,
            meeting=meeting,
            title="x",
            owner_agency=world.social_office,
            owner=world.alice,
            due_on=timezone.localdate(),
        )
    assert (
        refused(
            world,
            "bob",
            lambda a: services.action_item_create(
                actor=a, meeting=meeting, title="x", owner_agency=world.social_office, due_on=timezone.localdate()
            ),
        )
        is PermissionDenied
    )

    def report(actor: User) -> None:
        services.action_item_set_status(actor=actor, item=task, status="done")
        services.action_item_set_status(actor=actor, item=task, status="open")

    assert {name: refused(world, name, report) for name in PERSONAS} == {
        "alice": PermissionDenied,  # the jobcenter coordinates, but alice is no coordinator and not the owner
        "bob": None,
        "carol": Http404,
        "olga": Http404,
        "rita": PermissionDenied,
        "adam": PermissionDenied,
        "cora": None,
    }
    done = services.action_item_complete(actor=world.bob, item=task, note="erledigt")
    assert done.status == ActionItemStatus.DONE and done.completed_at is not None and done.note == "erledigt"
    audit = AuditEntry.objects.filter(action="action_item.status_changed").latest("id")
    assert audit.agency_id == world.social_office.pk and audit.changes == {"status": ["open", "done"]}
    with pytest.raises(ValidationError):
        services.action_item_set_status(actor=world.bob, item=task, status="cancelled")
    services.action_item_set_status(actor=world.cora, item=task, status="cancelled")
    assert (
        refused(world, "bob", lambda a: services.action_item_update(actor=a, item=task, title="x")) is PermissionDenied
    )


def test_the_overview_shows_what_an_agency_owes_with_overdue_items_first(world: World) -> None:
    past = held_meeting(world, days=-20)
    late = bobs_task(world, past, days=5)  # due 15 days ago
    soon = bobs_task(world, past, days=25)
    services.action_item_create(
        actor=world.cora, meeting=past, title="Eigenes", owner_agency=world.jobcenter, due_on=timezone.localdate()
    )
    rows = list(selectors.action_item_overview(user(world, "bob")))
    assert [(row.pk, row.is_overdue) for row in rows] == [(late.pk, True), (soon.pk, False)]
    assert [row.owner_agency for row in selectors.action_item_overview(user(world, "rita"))] == [world.jobcenter]
    assert list(selectors.action_item_overview(user(world, "carol"))) == []
    assert selectors.open_action_items(user(world, "carol"), world.workspace).count() == 0
    assert selectors.open_action_items(user(world, "bob"), world.workspace).count() == 3


# Carry-over -----------------------------------------------------------------------------------


def test_open_items_move_to_the_next_meeting_once(world: World) -> None:
    past = held_meeting(world, days=-14)
    open_task = bobs_task(world, past, days=3)
    done_task = bobs_task(world, past, days=3)
    services.action_item_complete(actor=world.bob, item=done_task)
    services.meeting_invite(actor=world.cora, meeting=past, agency=world.youth_office)
    youth_task = services.action_item_create(
        actor=world.cora,
        meeting=past,
        title="Jugendhilfe prüfen",
        owner_agency=world.youth_office,
        due_on=timezone.localdate(),
    )
    following = make_meeting(world, days=14)  # invites the social office only
    moved = ActionItem.objects.filter(meeting=following).order_by("pk")
    assert [item.carried_over_from_id for item in moved] == [open_task.pk, youth_task.pk]
    assert moved[0].owner == world.bob and moved[0].status == ActionItemStatus.OPEN
    open_task.refresh_from_db()
    assert open_task.status == ActionItemStatus.CARRIED_OVER
    # The youth office owes the round table something, so it takes part in the next meeting.
    assert "carol" in seeing(world, following)
    assert AuditEntry.objects.filter(action="action_item.carried_over").count() == 2
    assert last_event("action_item.carried_over").payload["from"] == youth_task.pk
    # Again, by hand: nothing moves twice.
    assert services.action_items_carry_over(actor=world.cora, meeting=following) == []
    assert ActionItem.objects.filter(meeting=following).count() == 2
    with pytest.raises(ValidationError):
        services.action_item_set_status(actor=world.bob, item=open_task, status="done")
    assert (
        refused(world, "bob", lambda a: services.action_items_carry_over(actor=a, meeting=following))
        is PermissionDenied
    )
    # The meeting after that gets them only once the one before has taken place.
    later = make_meeting(world, days=28)
    assert not ActionItem.objects.filter(meeting=later).exists()


def test_holding_or_cancelling_a_meeting_moves_its_open_items_on(world: World) -> None:
    today = held_meeting(world, days=-7)
    next_one = make_meeting(world, days=7)
    after = make_meeting(world, days=21)
    task = bobs_task(world, today, days=3)
    # The next meeting was planned before the task existed, so it moves when asked for.
    services.action_items_carry_over(actor=world.cora, meeting=next_one)
    copy = ActionItem.objects.get(meeting=next_one)
    assert copy.carried_over_from == task
    services.meeting_cancel(actor=world.cora, meeting=next_one)
    assert ActionItem.objects.get(meeting=after).carried_over_from == copy


# Reminders ------------------------------------------------------------------------------------


def test_owners_are_reminded_of_items_due_soon_and_overdue(world: World, settings: object) -> None:
    past = held_meeting(world, days=-20)
    due_soon = bobs_task(world, past, days=21)  # due tomorrow, bob is responsible
    overdue = services.action_item_create(
        actor=world.cora,
        meeting=past,
        title="Bescheid",
        owner_agency=world.jobcenter,
        due_on=timezone.localdate(past.starts_at) + datetime.timedelta(days=5),
    )
    later = bobs_task(world, past, days=40)
    NotificationPreference.objects.create(user=world.cora, email_action_item_due=False)
    mail.outbox.clear()
    assert services.action_items_remind() == 2
    notices = Notification.objects.filter(kind=NotificationKind.ACTION_ITEM_DUE)
    assert {(n.recipient.username, n.target_id) for n in notices} == {
        ("bob", str(due_soon.pk)),
        ("alice", str(overdue.pk)),  # nobody named: the jobcenter's caseworkers and coordinators
        ("cora", str(overdue.pk)),
    }
    assert all(n.target_type == "messaging.actionitem" and "Bescheid" not in n.url for n in notices)
    run_queued_tasks()
    assert sorted(message.to[0] for message in mail.outbox) == ["alice@example.org", "bob@example.org"]
    assert all("Bescheid" not in message.body and "Wohnung" not in message.body for message in mail.outbox)
    assert AuditEntry.objects.filter(action="action_item.reminded").count() == 2
    # Nothing twice on the same day. A week later the overdue item is reminded again, and the one that
    # was due soon is overdue by then; the one due in three weeks is still not.
    assert services.action_items_remind() == 0
    assert services.action_items_remind(today=timezone.localdate() + datetime.timedelta(days=7)) == 2
    later.refresh_from_db()
    assert later.reminded_on is None


def test_the_daily_command_reminds(world: World) -> None:
    past = held_meeting(world, days=-20)
    bobs_task(world, past, days=5)
    call_command("remind_action_items")
    assert Notification.objects.filter(kind=NotificationKind.ACTION_ITEM_DUE, recipient=world.bob).count() == 1


# Comments on agenda items ---------------------------------------------------------------------


def test_comments_on_an_agenda_item_are_read_by_the_agencies_at_the_meeting(world: World) -> None:
    from messaging import services as comment_services
    from messaging.models import Comment

    meeting = make_meeting(world)
    item = item_on(world, meeting)
    comment = comment_services.comment_create(actor=world.bob, target=item, body="Ich bringe die Liste mit, @cora")
    assert comment.agenda_item == item and comment.agency == world.social_office
    readers = {name for name in PERSONAS if access.visible(user(world, name), Comment).filter(pk=comment.pk).exists()}
    assert readers == INVITED
    assert access.comment_readers(item) == {world.jobcenter.pk, world.social_office.pk}
    event = last_event("comment.created")
    assert set(event.audience) == {f"agency.{world.jobcenter.pk}", f"agency.{world.social_office.pk}"}
    assert event.payload == {"on": "agenda_item", "on_id": item.pk}
    mention = Notification.objects.get(recipient=world.cora, kind=NotificationKind.MENTIONED)
    assert mention.url == f"/agenda-items/{item.pk}/comments/#comment-{comment.pk}"
    # The youth office is at the round table but not at the meeting: it cannot comment, nor be mentioned.
    with pytest.raises(Http404):
        comment_services.comment_create(actor=world.carol, target=item, body="Hallo")
    with pytest.raises(PermissionDenied):
        comment_services.comment_create(actor=world.rita, target=item, body="Hallo")
    with pytest.raises(ValidationError):
        comment_services.comment_create(actor=world.bob, target=item, body="@carol bitte ansehen")
