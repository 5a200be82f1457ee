"""The meeting pages through Django's test client: every page for the coordinator and a participant,
404 for an agency of the round table that is not invited, pseudonymised cases on the page and on
paper, the agenda order, invitations, attendance, cancelling, the approval and correction of the
minutes, form errors instead of server errors, and a constant number of queries.

The world (tests/messaging/meeting_helpers.py): cora coordinates the round table for the jobcenter;
the meetings invite the jobcenter and the social office (bob); the youth office (carol) sits at the
round table but is not invited.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from agencies.models import User
from messaging.meetings import services
from messaging.models import (
    AgendaItem,
    Attendance,
    Meeting,
    MeetingInvitation,
    MeetingStatus,
    MinutesStatus,
    MinutesVersion,
)
from tests.conftest import World
from tests.messaging.meeting_helpers import amina, at, bobs_person, held_meeting, item_on, make_meeting

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return str(response.content.decode())


def messages_on(response: Any) -> str:
    return " ".join(str(message) for message in response.context["messages"]) if response.context else ""


def assert_accessible_layout(html: str, url: str) -> None:
    assert '<html lang="de">' in html, url
    assert '<main id="main"' in html, url
    assert html.count("<h1") == 1, url
    # The CSP forbids inline styles and scripts.
    assert "style=" not in html and "<style" not in html, url
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url


def detail_url(meeting: Meeting) -> str:
    return reverse("meeting-detail", args=[meeting.pk])


def write_minutes(world: World, item: AgendaItem, text: str) -> AgendaItem:
    item.refresh_from_db()
    return services.agenda_item_update_minutes(actor=world.cora, item=item, minutes=text, expected_version=item.version)


def approved(world: World) -> tuple[Meeting, AgendaItem]:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    write_minutes(world, item, "Frau H. beginnt den Kurs im Mai.")
    services.minutes_circulate(actor=world.cora, meeting=meeting)
    services.minutes_approve(actor=world.cora, meeting=meeting)
    meeting.refresh_from_db()
    return meeting, item


# Every page -----------------------------------------------------------------------------------


def test_every_page_renders_for_the_coordinator_and_a_participant(world: World) -> None:
    planned = make_meeting(world)
    planned_item = item_on(world, planned, amina(world))
    done, done_item = approved(world)
    version = MinutesVersion.objects.filter(meeting=done).latest("number")
    pages = {
        world.cora: [
            reverse("meeting-list"),
            reverse("meeting-create"),
            detail_url(planned),
            detail_url(done),
            reverse("meeting-edit", args=[planned.pk]),
            reverse("meeting-cancel", args=[planned.pk]),
            reverse("meeting-attendance", args=[planned.pk]),
            reverse("agenda-item-create", args=[planned.pk]),
            reverse("agenda-item-edit", args=[planned_item.pk]),
            reverse("minutes-correct", args=[done.pk]),
            reverse("minutes-version", args=[done.pk, version.number]),
        ],
        world.bob: [
            reverse("meeting-list"),
            detail_url(planned),
            detail_url(done),
            reverse("agenda-item-create", args=[planned.pk]),
            reverse("minutes-version", args=[done.pk, version.number]),
        ],
    }
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            assert_accessible_layout(html_of(response), url)
    for user in (world.cora, world.bob):
        for meeting in (planned, done):
            response = client_for(user).get(reverse("meeting-print", args=[meeting.pk]))
            html = html_of(response)
            assert response.status_code == 200 and '<html lang="de">' in html
            assert "print.css" in html and html.count("<h1") == 1
            assert "signature-line" in html
    assert done_item.title in html_of(client_for(world.bob).get(detail_url(done)))


def test_the_print_page_is_german_even_for_an_english_reader(world: World) -> None:
    meeting, _item = approved(world)
    client = client_for(world.bob)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("meeting-print", args=[meeting.pk]))
    html = html_of(response)
    assert '<html lang="de">' in html
    assert response["Content-Language"] == "de"
    with translation.override("de"):
        assert escape(gettext("Place, date, signature of the minute-taker")) in html
    # The rest of the hub stays in the reader's language.
    assert '<html lang="en">' in html_of(client.get(detail_url(meeting)))


def test_a_member_agency_that_is_not_invited_gets_404_everywhere(world: World) -> None:
    meeting, item = approved(world)
    planned = make_meeting(world)
    carol = client_for(world.carol)
    for url in [
        detail_url(meeting),
        reverse("meeting-print", args=[meeting.pk]),
        reverse("minutes-version", args=[meeting.pk, 1]),
        reverse("minutes-correct", args=[meeting.pk]),
        reverse("meeting-edit", args=[planned.pk]),
        reverse("meeting-attendance", args=[planned.pk]),
        reverse("agenda-item-create", args=[planned.pk]),
        reverse("agenda-item-edit", args=[item.pk]),
    ]:
        assert carol.get(url).status_code == 404, url
    assert carol.post(reverse("agenda-item-move", args=[item.pk]), {"direction": "up"}).status_code == 404
    listing = html_of(carol.get(reverse("meeting-list")))
    assert detail_url(meeting) not in listing and detail_url(planned) not in listing


def test_the_list_shows_upcoming_meetings_first_and_filters_with_htmx(world: World) -> None:
    past = held_meeting(world, title="Runder Tisch März")
    soon = make_meeting(world, days=3, title="Runder Tisch April")
    later = make_meeting(world, days=30, title="Runder Tisch Mai")
    item_on(world, soon)
    html = html_of(client_for(world.bob).get(reverse("meeting-list")))
    assert html.index(detail_url(soon)) < html.index(detail_url(later)) < html.index(detail_url(past))
    assert reverse("meeting-create") not in html  # bob plans no meetings
    partial = client_for(world.bob).get(reverse("meeting-list"), {"upcoming": "false"}, headers={"HX-Request": "true"})
    body = html_of(partial)
    assert "<html" not in body and detail_url(past) in body and detail_url(soon) not in body
    # A date the filter cannot read narrows nothing and breaks nothing.
    assert client_for(world.bob).get(reverse("meeting-list"), {"starts_from": "gestern"}).status_code == 200
    coordinator = html_of(client_for(world.cora).get(reverse("meeting-list")))
    assert reverse("meeting-create") in coordinator
    assert 'aria-current="page">' + escape(gettext("Meetings")) in coordinator


def test_the_dashboard_lists_upcoming_meetings_of_invited_agencies_only(world: World) -> None:
    meeting = make_meeting(world, title="Runder Tisch Juni")
    assert detail_url(meeting) in html_of(client_for(world.bob).get(reverse("dashboard")))
    assert detail_url(meeting) not in html_of(client_for(world.carol).get(reverse("dashboard")))


# Pseudonymised cases --------------------------------------------------------------------------


def test_cases_appear_by_reference_to_agencies_that_may_not_see_the_person(world: World) -> None:
    meeting = make_meeting(world)
    person = amina(world)  # held by the jobcenter; the social office has no share of her
    leyla = bobs_person(world)  # held by the social office only
    item_on(world, meeting, person)
    item_on(world, meeting, leyla, actor=world.bob)
    for page in (detail_url(meeting), reverse("meeting-print", args=[meeting.pk])):
        bob = html_of(client_for(world.bob).get(page))
        assert person.reference in bob and "Haddad" not in bob and "Amina" not in bob, page
        assert "Leyla Nasser" in bob, page
        cora = html_of(client_for(world.cora).get(page))
        assert "Amina Haddad" in cora and person.reference in cora, page
        assert leyla.reference in cora and "Nasser" not in cora, page


# The agenda -----------------------------------------------------------------------------------


def test_the_coordinator_reorders_the_agenda(world: World) -> None:
    meeting = make_meeting(world)
    first, second = item_on(world, meeting), item_on(world, meeting)
    cora = client_for(world.cora)
    html = html_of(cora.get(detail_url(meeting)))
    assert reverse("agenda-item-move", args=[first.pk]) in html
    assert reverse("agenda-item-move", args=[first.pk]) not in html_of(client_for(world.bob).get(detail_url(meeting)))

    response = cora.post(reverse("agenda-item-move", args=[first.pk]), {"direction": "down"}, follow=True)
    assert response.status_code == 200
    assert list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    # Already at the top: said on the page, nothing changes.
    response = cora.post(reverse("agenda-item-move", args=[second.pk]), {"direction": "up"}, follow=True)
    assert gettext("The item is already at that end of the agenda.") in messages_on(response)
    response = cora.post(reverse("agenda-item-move", args=[second.pk]), {"direction": "sideways"}, follow=True)
    assert gettext("Choose whether to move the item up or down.") in messages_on(response)
    assert AgendaItem.objects.get(pk=second.pk).position == 1
    assert (
        client_for(world.bob).post(reverse("agenda-item-move", args=[second.pk]), {"direction": "down"}).status_code
        == 403
    )


def test_participants_propose_topics_by_case_reference(world: World) -> None:
    meeting = make_meeting(world)
    leyla = bobs_person(world)
    bob = client_for(world.bob)
    url = reverse("agenda-item-create", args=[meeting.pk])
    response = bob.post(url, {"title": "Wohnung", "case_reference": "P-NOTHERE"})
    assert response.status_code == 200 and gettext("Unknown or not visible to you.") in html_of(response)
    # A person the social office does not see reads as unknown, too.
    response = bob.post(url, {"title": "Wohnung", "case_reference": amina(world).reference})
    assert response.status_code == 200 and not AgendaItem.objects.filter(meeting=meeting).exists()
    response = bob.post(url, {"title": "", "description": "x"})
    assert response.status_code == 200 and 'aria-invalid="true"' in html_of(response)

    response = bob.post(url, {"title": "Wohnung", "case_reference": leyla.reference.lower()})
    item = AgendaItem.objects.get(meeting=meeting)
    assert response.status_code == 302 and response["Location"] == f"{detail_url(meeting)}#item-{item.pk}"
    assert item.person_id == leyla.pk and item.proposer_agency_id == world.social_office.pk
    assert client_for(world.rita).get(url).status_code == 403


def test_the_coordinator_edits_an_agenda_item(world: World) -> None:
    meeting = make_meeting(world)
    item = item_on(world, meeting)
    url = reverse("agenda-item-edit", args=[item.pk])
    assert client_for(world.bob).get(url).status_code == 403
    cora = client_for(world.cora)
    assert cora.post(url, {"title": ""}).status_code == 200
    assert cora.post(url, {"title": "Sprachkurse B2", "description": "Kursplätze"}).status_code == 302
    item.refresh_from_db()
    assert (item.title, item.description) == ("Sprachkurse B2", "Kursplätze")


# Planning, changing, cancelling, holding --------------------------------------------------------


def planning_body(world: World, **overrides: Any) -> dict[str, Any]:
    start = at(10)
    body = {
        "workspace": world.workspace.pk,
        "title": "Runder Tisch Juli",
        "starts_at": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "place": "Kreishaus",
        "video_url": "",
        "invited_agencies": [world.social_office.pk],
    }
    body.update(overrides)
    return body


def test_the_coordinator_plans_a_meeting_through_the_form(world: World) -> None:
    cora = client_for(world.cora)
    form = html_of(cora.get(reverse("meeting-create"), {"workspace": world.workspace.pk}))
    assert f'value="{world.workspace.pk}" selected' in form
    assert world.youth_office.name in form and world.immigration.name not in form
    response = cora.post(reverse("meeting-create"), planning_body(world))
    meeting = Meeting.objects.get(title="Runder Tisch Juli")
    assert response.status_code == 302 and response["Location"] == detail_url(meeting)
    assert timezone.localtime(meeting.starts_at) == at(10)
    assert set(MeetingInvitation.objects.filter(meeting=meeting).values_list("agency_id", flat=True)) == {
        world.jobcenter.pk,
        world.social_office.pk,
    }
    assert client_for(world.carol).get(detail_url(meeting)).status_code == 404
    assert client_for(world.alice).get(reverse("meeting-create")).status_code == 403


def test_bad_input_becomes_form_errors_not_server_errors(world: World) -> None:
    cora = client_for(world.cora)
    start = timezone.localtime(at(10))
    before = (start - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = cora.post(reverse("meeting-create"), planning_body(world, ends_at=before))
    assert response.status_code == 200
    assert escape(gettext("The meeting must end after it starts.")) in html_of(response)
    response = cora.post(reverse("meeting-create"), planning_body(world, place="", video_url=""))
    assert response.status_code == 200 and escape(gettext("Give a place or a video link.")) in html_of(response)
    response = cora.post(reverse("meeting-create"), planning_body(world, starts_at="morgen", workspace=""))
    assert response.status_code == 200 and 'aria-invalid="true"' in html_of(response)
    assert not Meeting.objects.exists()

    meeting = make_meeting(world)
    edit = reverse("meeting-edit", args=[meeting.pk])
    body = {key: value for key, value in planning_body(world, ends_at=before).items() if key != "invited_agencies"}
    response = cora.post(edit, body)
    assert response.status_code == 200
    assert escape(gettext("The meeting must end after it starts.")) in html_of(response)
    meeting.refresh_from_db()
    assert meeting.ends_at is None
    later = timezone.localtime(at(11)).strftime("%Y-%m-%dT%H:%M")
    assert cora.post(edit, {**body, "starts_at": later, "ends_at": "", "place": "Raum 3"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.place == "Raum 3" and meeting.starts_at == at(11)


def test_the_coordinator_cancels_a_meeting_with_a_reason(world: World) -> None:
    meeting = make_meeting(world)
    url = reverse("meeting-cancel", args=[meeting.pk])
    assert client_for(world.bob).get(url).status_code == 403
    cora = client_for(world.cora)
    response = cora.post(url, {"reason": "Krankheit der Moderation"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED and meeting.cancel_reason == "Krankheit der Moderation"
    page = html_of(client_for(world.bob).get(detail_url(meeting)))
    assert "Krankheit der Moderation" in page and url not in page
    # Cancelling twice is refused on the form.
    response = cora.post(url, {"reason": "nochmal"})
    assert response.status_code == 200 and "error-summary" in html_of(response)


def test_holding_and_closing_follow_the_state(world: World) -> None:
    today = make_meeting(world, days=0)
    cora = client_for(world.cora)
    assert reverse("meeting-step", args=[today.pk, "hold"]) in html_of(cora.get(detail_url(today)))
    assert client_for(world.bob).post(reverse("meeting-step", args=[today.pk, "hold"])).status_code == 403
    assert cora.post(reverse("meeting-step", args=[today.pk, "hold"])).status_code == 302
    today.refresh_from_db()
    assert today.status == MeetingStatus.HELD
    response = cora.post(reverse("meeting-step", args=[today.pk, "close"]), follow=True)
    assert gettext("Approve the minutes before closing the meeting.") in messages_on(response)
    today.refresh_from_db()
    assert today.status == MeetingStatus.HELD


# Invitations and attendance -------------------------------------------------------------------


def test_the_coordinator_invites_and_uninvites_through_the_page(world: World) -> None:
    meeting = make_meeting(world)
    cora = client_for(world.cora)
    page = html_of(cora.get(detail_url(meeting)))
    assert reverse("meeting-invite", args=[meeting.pk]) in page
    assert reverse("meeting-uninvite", args=[meeting.pk, world.social_office.pk]) in page
    assert reverse("meeting-uninvite", args=[meeting.pk, world.jobcenter.pk]) not in page
    assert reverse("meeting-invite", args=[meeting.pk]) not in html_of(client_for(world.bob).get(detail_url(meeting)))

    response = cora.post(reverse("meeting-invite", args=[meeting.pk]), {"agency": ""}, follow=True)
    assert response.status_code == 200 and messages_on(response)
    assert client_for(world.carol).get(detail_url(meeting)).status_code == 404
    assert cora.post(reverse("meeting-invite", args=[meeting.pk]), {"agency": world.youth_office.pk}).status_code == 302
    assert client_for(world.carol).get(detail_url(meeting)).status_code == 200

    uninvite = reverse("meeting-uninvite", args=[meeting.pk, world.social_office.pk])
    assert client_for(world.bob).post(uninvite).status_code == 403
    assert cora.post(uninvite).status_code == 302
    assert client_for(world.bob).get(detail_url(meeting)).status_code == 404
    # The coordinating agency stays; an agency that is not invited is not found.
    response = cora.post(reverse("meeting-uninvite", args=[meeting.pk, world.jobcenter.pk]), follow=True)
    assert gettext("The coordinating agency takes part in every meeting.") in messages_on(response)
    assert cora.post(reverse("meeting-uninvite", args=[meeting.pk, world.immigration.pk])).status_code == 404


def test_the_coordinator_records_attendance(world: World) -> None:
    meeting = held_meeting(world)
    url = reverse("meeting-attendance", args=[meeting.pk])
    assert client_for(world.bob).get(url).status_code == 403
    cora = client_for(world.cora)
    form = html_of(cora.get(url))
    assert "Bob Becker" in form and "Cora Cramer" in form and "Carol" not in form
    response = cora.post(
        url,
        {
            f"presence_{world.bob.pk}": "present",
            f"presence_{world.alice.pk}": "absent",
            f"note_{world.alice.pk}": "Urlaub",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{detail_url(meeting)}#attendance"
    rows = {row.user_id: row for row in Attendance.objects.filter(meeting=meeting)}
    assert set(rows) == {world.bob.pk, world.alice.pk}
    assert rows[world.bob.pk].present and not rows[world.alice.pk].present and rows[world.alice.pk].note == "Urlaub"
    page = html_of(client_for(world.bob).get(detail_url(meeting)))
    assert "Bob Becker" in page and "Urlaub" in page

    # A note too long is a form error, and nothing else of the post is recorded.
    response = cora.post(url, {f"presence_{world.cora.pk}": "present", f"note_{world.bob.pk}": "x" * 201})
    assert response.status_code == 200 and 'aria-invalid="true"' in html_of(response)
    assert not Attendance.objects.filter(meeting=meeting, user=world.cora).exists()
    response = cora.post(url, {f"presence_{world.bob.pk}": "maybe"})
    assert response.status_code == 200 and "error-summary" in html_of(response)


def test_attendance_refused_by_the_service_rolls_back_the_whole_form(world: World) -> None:
    meeting, _item = approved(world)  # approved minutes lock the attendance
    response = client_for(world.cora).post(
        reverse("meeting-attendance", args=[meeting.pk]), {f"presence_{world.bob.pk}": "present"}
    )
    assert response.status_code == 200 and "error-summary" in html_of(response)
    assert not Attendance.objects.filter(meeting=meeting).exists()


# Minutes: circulate, approve, correct, versions ---------------------------------------------------


def test_the_minutes_are_circulated_approved_and_corrected_through_the_pages(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting, amina(world))
    write_minutes(world, item, "Frau H. beginnt den Kurs im Mai.")
    cora = client_for(world.cora)
    assert reverse("minutes-step", args=[meeting.pk, "circulate"]) in html_of(cora.get(detail_url(meeting)))
    assert client_for(world.bob).post(reverse("minutes-step", args=[meeting.pk, "circulate"])).status_code == 403
    # Approval needs circulation first: said as a message.
    response = cora.post(reverse("minutes-step", args=[meeting.pk, "approve"]), follow=True)
    assert response.status_code == 200 and messages_on(response)
    assert cora.post(reverse("minutes-step", args=[meeting.pk, "circulate"])).status_code == 302
    assert cora.post(reverse("minutes-step", args=[meeting.pk, "approve"])).status_code == 302
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.APPROVED
    assert list(MinutesVersion.objects.filter(meeting=meeting).values_list("number", "status")) == [
        (1, MinutesStatus.CIRCULATED),
        (2, MinutesStatus.APPROVED),
    ]

    url = reverse("minutes-correct", args=[meeting.pk])
    assert client_for(world.bob).get(url).status_code == 403
    field = f"minutes_{item.pk}"
    response = cora.post(url, {field: "Frau H. beginnt den Kurs im Juni.", "reason": ""})
    assert response.status_code == 200 and 'aria-invalid="true"' in html_of(response)
    response = cora.post(url, {field: "Frau H. beginnt den Kurs im Mai.", "reason": "Tippfehler"})
    assert response.status_code == 200 and "error-summary" in html_of(response)
    assert MinutesVersion.objects.filter(meeting=meeting).count() == 2
    response = cora.post(url, {field: "Frau H. beginnt den Kurs im Juni.\r\n", "reason": "Monat verwechselt"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.minutes == "Frau H. beginnt den Kurs im Juni."
    latest = MinutesVersion.objects.filter(meeting=meeting).latest("number")
    assert (latest.number, latest.reason) == (3, "Monat verwechselt")

    bob = client_for(world.bob)
    page = html_of(bob.get(detail_url(meeting)))
    for number in (1, 2, 3):
        assert reverse("minutes-version", args=[meeting.pk, number]) in page
    first = html_of(bob.get(reverse("minutes-version", args=[meeting.pk, 1])))
    assert "im Mai" in first and "im Juni" not in first
    third = html_of(bob.get(reverse("minutes-version", args=[meeting.pk, 3])))
    assert "im Juni" in third and "Monat verwechselt" in third and "Haddad" not in third
    assert bob.get(reverse("minutes-version", args=[meeting.pk, 9])).status_code == 404
    printed = html_of(bob.get(reverse("meeting-print", args=[meeting.pk])))
    assert "im Juni" in printed and "Haddad" not in printed


def test_correcting_is_offered_only_for_approved_minutes(world: World) -> None:
    meeting = held_meeting(world)
    item_on(world, meeting)
    html = html_of(client_for(world.cora).get(reverse("minutes-correct", args=[meeting.pk])))
    assert "<textarea" not in html and "alert-info" in html


# The live page and its cost --------------------------------------------------------------------


def test_the_page_follows_the_meetings_events_and_marks_each_items_minutes(world: World) -> None:
    meeting = make_meeting(world, days=0)
    item = item_on(world, meeting)
    write_minutes(world, item, "Erste Notizen")
    html = html_of(client_for(world.bob).get(detail_url(meeting)))
    live = re.search(r'data-live="([^"]*)"', html)
    assert live is not None
    assert {"meeting", "agendaitem", "decision", "actionitem", "attendance", "minutesversion"} <= set(
        live.group(1).split()
    )
    assert re.search(rf'id="minutes-{item.pk}"[^>]*aria-live="polite"', html)
    assert "Erste Notizen" in html
    # Participants read the minutes; only the coordinator gets the editor.
    assert reverse("meeting-minutes", args=[meeting.pk]) not in html
    assert reverse("meeting-minutes", args=[meeting.pk]) in html_of(client_for(world.cora).get(detail_url(meeting)))


def fill_agenda(world: World, meeting: Meeting, count: int) -> None:
    person = amina(world)
    due = timezone.localdate() + datetime.timedelta(days=14)
    for number in range(count):
        item = services.agenda_item_propose(
            actor=world.cora, meeting=meeting, title=f"Thema {number}", person=person if number % 2 else None
        )
        write_minutes(world, item, f"Notiz {number}")
        services.decision_record(
            actor=world.cora,
            item=item,
            text=f"Beschluss {number}",
            action_item={"title": f"Aufgabe {number}", "owner_agency": world.social_office, "due_on": due},
        )


@pytest.mark.parametrize("persona", ["cora", "bob"])
def test_the_meeting_page_costs_the_same_queries_for_a_longer_agenda(world: World, persona: str) -> None:
    # Both today, so that they offer the same steps (recording a meeting as held is one of them).
    short, long = make_meeting(world, days=0), make_meeting(world, days=0)
    fill_agenda(world, short, 3)
    fill_agenda(world, long, 10)
    client = client_for(world.persona(persona))
    client.get(detail_url(short))  # the session and the language settle on the first request
    with CaptureQueriesContext(connection) as three:
        assert client.get(detail_url(short)).status_code == 200
    with CaptureQueriesContext(connection) as ten:
        assert client.get(detail_url(long)).status_code == 200
    assert len(ten) == len(three), [query["sql"] for query in ten.captured_queries]
    with CaptureQueriesContext(connection) as printed_three:
        assert client.get(reverse("meeting-print", args=[short.pk])).status_code == 200
    with CaptureQueriesContext(connection) as printed_ten:
        assert client.get(reverse("meeting-print", args=[long.pk])).status_code == 200
    assert len(printed_ten) == len(printed_three)
