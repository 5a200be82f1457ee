"""The meetings API: pseudonymised cases in every answer, 404 for an agency that is not invited,
409 with the current text on a minutes conflict, strict input (400), and decisions that refer."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import User
from messaging.meetings import services
from messaging.models import ActionItem, AgendaItem, Meeting
from referrals.models import Referral
from tests.conftest import World
from tests.messaging.meeting_helpers import amina, at, bobs_person, held_meeting, item_on, make_meeting

pytestmark = pytest.mark.django_db


def client(user: User) -> APIClient:
    found = APIClient()
    found.force_authenticate(user)
    return found


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def test_the_agenda_never_shows_a_name_the_caller_may_not_see(world: World) -> None:
    meeting = make_meeting(world)
    person = amina(world)
    item = services.agenda_item_propose(actor=world.alice, meeting=meeting, title="Sprachkurs", person=person)
    services.action_item_create(
        actor=world.cora,
        meeting=meeting,
        title="Kursplatz",
        owner_agency=world.social_office,
        due_on=timezone.localdate() + datetime.timedelta(days=10),
        person=person,
        agenda_item=item,
    )
    for path in (
        url("meeting-agenda", meeting.pk),
        url("agenda-item-detail", item.pk),
        url("action-item-list"),
        url("action-item-overview"),
    ):
        answer = client(world.bob).get(path)
        assert answer.status_code == 200, path
        text = json.dumps(answer.json(), ensure_ascii=False)
        assert person.reference in text and "Haddad" not in text and "Amina" not in text, path
    mine = client(world.cora).get(url("meeting-agenda", meeting.pk)).json()
    assert mine[0]["case_name"] == "Amina Haddad" and mine[0]["case_reference"] == person.reference
    assert mine[0]["action_items"][0]["case_label"] == f"Amina Haddad ({person.reference})"


def test_an_agency_at_the_round_table_but_not_invited_gets_404(world: World) -> None:
    meeting = make_meeting(world)
    item = item_on(world, meeting)
    for path in (
        url("meeting-detail", meeting.pk),
        url("meeting-agenda", meeting.pk),
        url("agenda-item-detail", item.pk),
        url("agenda-item-comments", item.pk),
    ):
        assert client(world.carol).get(path).status_code == 404, path
    assert client(world.carol).get(url("meeting-list")).json()["count"] == 0
    assert client(world.bob).get(url("meeting-list")).json()["count"] == 1


def test_a_stale_minutes_version_answers_409_with_the_current_text(world: World) -> None:
    meeting = make_meeting(world, days=0)
    item = item_on(world, meeting)
    path = url("agenda-item-minutes", item.pk)
    first = client(world.cora).put(path, {"minutes": "Stand 1", "version": 0}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 1
    stale = client(world.cora).put(path, {"minutes": "Meins", "version": 0}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 1 and stale.json()["current_minutes"] == "Stand 1"
    assert "minutes" in stale.json()
    item.refresh_from_db()
    assert item.minutes == "Stand 1"
    assert client(world.bob).put(path, {"minutes": "x", "version": 1}, format="json").status_code == 403
    assert client(world.carol).put(path, {"minutes": "x", "version": 1}, format="json").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"minutes": "x"},
        {"minutes": "x", "version": "eins"},
        {"minutes": "x", "version": -1},
        {"minutes": "x", "version": 0, "extra": 1},
        {"minutes": "x" * 20001, "version": 0},
    ],
)
def test_bad_minutes_input_answers_400(world: World, body: dict[str, Any]) -> None:
    item = item_on(world, make_meeting(world, days=0))
    answer = client(world.cora).put(url("agenda-item-minutes", item.pk), body, format="json")
    assert answer.status_code == 400, answer.content


def test_meeting_create_and_bad_input(world: World) -> None:
    body = {
        "workspace": world.workspace.pk,
        "title": "Runder Tisch Dezember",
        "starts_at": at(10).isoformat(),
        "place": "Kreishaus",
        "invited_agencies": [world.social_office.pk],
    }
    created = client(world.cora).post(url("meeting-list"), body, format="json")
    assert created.status_code == 201, created.content
    assert {a["id"] for a in created.json()["invited_agencies"]} == {world.jobcenter.pk, world.social_office.pk}
    assert created.json()["may_run"] is True
    assert client(world.bob).post(url("meeting-list"), body, format="json").status_code == 403
    # Ids of rows the caller cannot see read as nonexistent.
    assert client(world.olga).post(url("meeting-list"), body, format="json").status_code == 400
    for wrong in (
        {**body, "starts_at": "morgen"},
        {**body, "place": ""},
        {**body, "video_url": "not a link"},
        {**body, "invited_agencies": [world.immigration.pk]},
        {**body, "colour": "blue"},
        {**body, "ends_at": at(9).isoformat()},
    ):
        answer = client(world.cora).post(url("meeting-list"), wrong, format="json")
        assert answer.status_code == 400, (wrong, answer.content)


def test_proposing_with_a_person_the_caller_cannot_see_answers_400(world: World) -> None:
    meeting = make_meeting(world)
    hers = bobs_person(world)
    answer = client(world.alice).post(
        url("meeting-agenda", meeting.pk), {"title": "Fall", "person": hers.pk}, format="json"
    )
    assert answer.status_code == 400 and "person" in answer.json()
    answer = client(world.bob).post(
        url("meeting-agenda", meeting.pk), {"title": "Fall", "person": hers.pk}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["case_name"] == "Leyla Nasser"


def test_a_decision_refers_and_creates_an_action_item_through_the_api(world: World) -> None:
    meeting = held_meeting(world, days=0)
    person = amina(world)
    item = item_on(world, meeting, person=person)
    body: dict[str, Any] = {
        "text": "Überweisung an das Sozialamt",
        "referral": {
            "to_agency": world.social_office.pk,
            "reason": "Wohnungssuche",
            "categories": ["identity"],
            "legal_basis": "consent",
            "consent": person.consents.get().pk,
            "answer_due_on": (timezone.localdate() + datetime.timedelta(days=14)).isoformat(),
        },
        "action_item": {
            "title": "Erstgespräch",
            "owner_agency": world.social_office.pk,
            "due_on": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        },
    }
    bad = {**body, "referral": {**body["referral"], "consent": None, "legal_basis": "sgb_x_69"}}
    answer = client(world.cora).post(url("agenda-item-decisions", item.pk), bad, format="json")
    assert answer.status_code == 400 and any(key.startswith("referral") for key in answer.json())
    assert not Referral.objects.exists()
    answer = client(world.cora).post(url("agenda-item-decisions", item.pk), body, format="json")
    assert answer.status_code == 201, answer.content
    referral = Referral.objects.get()
    assert answer.json()["referral_reference"] == referral.reference
    assert ActionItem.objects.get().referral == referral
    assert client(world.bob).post(url("agenda-item-decisions", item.pk), body, format="json").status_code == 403


def test_the_owner_reports_and_the_overview_flags_overdue_items(world: World) -> None:
    past = held_meeting(world, days=-20)
    task = services.action_item_create(
        actor=world.cora,
        meeting=past,
        title="Nachweis",
        owner_agency=world.social_office,
        due_on=timezone.localdate(past.starts_at) + datetime.timedelta(days=3),
    )
    rows = client(world.bob).get(url("action-item-overview")).json()["results"]
    assert [(row["id"], row["is_overdue"]) for row in rows] == [(task.pk, True)]
    assert client(world.bob).get(url("action-item-list"), {"overdue": "true"}).json()["count"] == 1
    done = client(world.bob).post(url("action-item-status", task.pk), {"status": "done"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["is_overdue"] is False
    assert (
        client(world.bob).post(url("action-item-status", task.pk), {"status": "weg"}, format="json").status_code == 400
    )
    assert (
        client(world.alice).post(url("action-item-status", task.pk), {"status": "open"}, format="json").status_code
        == 403
    )


def test_approval_and_versions_through_the_api(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Protokoll", expected_version=0)
    assert client(world.cora).post(url("meeting-approve", meeting.pk)).status_code == 400
    assert client(world.cora).post(url("meeting-circulate", meeting.pk)).status_code == 200
    assert client(world.cora).post(url("meeting-approve", meeting.pk)).status_code == 200
    locked = client(world.cora).put(
        url("agenda-item-minutes", item.pk), {"minutes": "neu", "version": 1}, format="json"
    )
    assert locked.status_code == 400
    body = {"reason": "Name korrigiert", "corrections": [{"item": item.pk, "minutes": "Protokoll, berichtigt"}]}
    assert client(world.cora).post(url("meeting-correct", meeting.pk), body, format="json").status_code == 200
    versions = client(world.bob).get(url("meeting-versions", meeting.pk)).json()
    assert [(v["number"], v["status"]) for v in versions] == [(1, "circulated"), (2, "approved"), (3, "approved")]
    assert Meeting.objects.get().minutes_status == "approved" and AgendaItem.objects.get().version == 2


def test_the_schema_describes_the_meetings_api(world: World) -> None:
    schema = client(world.alice).get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/meetings/{id}/agenda/" in paths
    assert "409" in paths["/api/v1/agenda-items/{id}/minutes/"]["put"]["responses"]
