"""The pages of the round table's work through Django's test client: the live minutes editor (saving
with and without htmx, conflicts that keep both texts, read-only meetings), decisions with a referral
or an action item in the same step, action items and their progress, carry-over, what an agency owes,
and the comments on an agenda item. Who may, who may not, and bad input as form errors.

The world (tests/messaging/meeting_helpers.py): cora coordinates the round table for the jobcenter;
the meetings invite the jobcenter and the social office (bob); the youth office (carol) sits at the
round table but is not invited, and the immigration authority (olga) shares nothing with them.
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
from hub.models import AuditEntry
from messaging.meetings import services
from messaging.meetings.action_views import read_only_reason
from messaging.models import (
    ActionItem,
    ActionItemStatus,
    AgendaItem,
    Comment,
    Decision,
    Meeting,
    MeetingStatus,
    Notification,
    NotificationKind,
)
from referrals.models import Referral
from tests.conftest import World
from tests.messaging.meeting_helpers import amina, bobs_person, held_meeting, item_on, make_meeting

pytestmark = pytest.mark.django_db


def htmx(target: str = "") -> dict[str, str]:
    """The headers htmx sends: the request is htmx's, aimed at the element ``target``."""
    return {"HX-Request": "true", **({"HX-Target": target} if target else {})}


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def html_of(response: Any) -> str:
    return str(response.content.decode())


def messages_on(response: Any) -> str:
    return " ".join(str(message) for message in response.context["messages"]) if response.context else ""


def shown(text: str, html: str) -> bool:
    """Whether ``text`` is on the page: template tags escape it, ``{% translate %}`` does not."""
    return text in html or escape(text) in html


def assert_accessible_layout(html: str, url: str) -> None:
    assert '<html lang="de">' in html, url
    assert '<main id="main"' in html, url
    assert html.count("<h1") == 1, url
    # The CSP forbids inline styles and scripts.
    assert "style=" not in html and "<style" not in html, url
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url


def editor_url(meeting: Meeting) -> str:
    return reverse("meeting-minutes", args=[meeting.pk])


def save_url(item: AgendaItem) -> str:
    return reverse("agenda-item-minutes", args=[item.pk])


def in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def task(world: World, meeting: Meeting, **fields: Any) -> ActionItem:
    """An action item the social office (bob) owes, due in a week unless told otherwise."""
    fields.setdefault("title", "Wohnungsangebot prüfen")
    fields.setdefault("owner_agency", world.social_office)
    fields.setdefault("owner", world.bob)
    fields.setdefault("due_on", timezone.localdate() + datetime.timedelta(days=7))
    return services.action_item_create(actor=world.cora, meeting=meeting, **fields)


def overdue_task(world: World, **fields: Any) -> ActionItem:
    """Due five days after a meeting three weeks ago: overdue today."""
    past = held_meeting(world, days=-20)
    return task(world, past, due_on=timezone.localdate(past.starts_at) + datetime.timedelta(days=5), **fields)


def approved(world: World) -> tuple[Meeting, AgendaItem]:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Beschlossen.", expected_version=0)
    services.minutes_circulate(actor=world.cora, meeting=meeting)
    services.minutes_approve(actor=world.cora, meeting=meeting)
    return meeting, item


# Every page -----------------------------------------------------------------------------------


def test_every_page_renders_with_the_accessible_layout(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting, person=amina(world))
    action = task(world, meeting, agenda_item=item)
    pages = {
        world.cora: [
            editor_url(meeting),
            reverse("decision-create", args=[item.pk]),
            reverse("action-item-create", args=[meeting.pk]) + f"?agenda_item={item.pk}",
            reverse("action-item-detail", args=[action.pk]),
            reverse("action-item-edit", args=[action.pk]),
            reverse("action-item-overview"),
            reverse("comment-thread-agenda_item", args=[item.pk]),
        ],
        world.bob: [
            reverse("action-item-detail", args=[action.pk]),
            reverse("action-item-overview"),
            reverse("comment-thread-agenda_item", args=[item.pk]),
        ],
    }
    for user, urls in pages.items():
        client = client_for(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_accessible_layout(html_of(response), url)


def test_the_members_navigation_links_to_the_action_items(world: World) -> None:
    html = html_of(client_for(world.bob).get(reverse("dashboard")))
    assert f'href="{reverse("action-item-overview")}"' in html
    html = html_of(client_for(world.bob).get(reverse("action-item-overview")))
    assert f'href="{reverse("action-item-overview")}" aria-current="page"' in html


# The live minutes editor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("cora", 200), ("alice", 403), ("bob", 403), ("rita", 403), ("adam", 403), ("carol", 404), ("olga", 404)],
)
def test_only_the_coordinator_opens_the_editor(world: World, persona: str, status: int) -> None:
    meeting = held_meeting(world)
    item_on(world, meeting)
    assert client_for(world.persona(persona)).get(editor_url(meeting)).status_code == status


def test_anonymous_visitors_are_sent_to_the_login(world: World) -> None:
    meeting = held_meeting(world)
    response = Client().get(editor_url(meeting))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_editor_shows_each_item_with_its_text_and_version(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Frau H. berichtet.", expected_version=0)
    html = html_of(client_for(world.cora).get(editor_url(meeting)))
    assert f'id="minutes-text-{item.pk}"' in html and "Frau H. berichtet.</textarea>" in html
    assert f'<input type="hidden" id="minutes-version-{item.pk}" name="version" value="1">' in html
    # Saved as they write: after a pause, and when they leave the field.
    assert 'hx-trigger="keyup changed delay:1s, change"' in html
    assert f'id="minutes-status-{item.pk}" class="minutes-status" role="status"' in html
    assert 'src="/static/hub/minutes.js"' in html
    # The page never follows the agenda items themselves: a refresh would replace the text being written.
    assert 'data-live=""' in html and 'data-live-part="decision actionitem"' in html


def test_the_editor_names_cases_by_reference_where_the_coordinator_may_not_see_the_person(world: World) -> None:
    meeting = make_meeting(world)
    foreign = bobs_person(world)  # only the social office holds her
    item_on(world, meeting, person=foreign, actor=world.bob)
    own = amina(world)
    item_on(world, meeting, person=own)
    html = html_of(client_for(world.cora).get(editor_url(meeting)))
    assert foreign.reference in html and "Nasser" not in html and "Leyla" not in html
    assert f"Amina Haddad ({own.reference})" in html


def test_saving_without_javascript_redirects_back_to_the_item(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    response = client_for(world.cora).post(save_url(item), {"minutes": "Kurs ab Mai.", "version": 0})
    assert response.status_code == 302
    assert response["Location"] == editor_url(meeting) + f"#minutes-item-{item.pk}"
    item.refresh_from_db()
    assert (item.minutes, item.version, item.minutes_updated_by) == ("Kurs ab Mai.", 1, world.cora)
    followed = client_for(world.cora).get(response["Location"])
    assert "Kurs ab Mai." in html_of(followed)


def test_autosave_answers_the_status_and_the_new_version_only(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    client = client_for(world.cora)
    headers = htmx(f"minutes-status-{item.pk}")
    response = client.post(save_url(item), {"minutes": "Erster Satz.", "version": 0}, headers=headers)
    assert response.status_code == 200
    html = html_of(response)
    item.refresh_from_db()
    with translation.override("de"):
        saved = gettext("Saved at %(time)s (version %(version)s).") % {
            "time": timezone.localtime(item.minutes_updated_at).strftime("%H:%M"),
            "version": 1,
        }
    assert saved in html
    assert f'id="minutes-version-{item.pk}" name="version" value="1" hx-swap-oob="true"' in html
    # The box being written in is not part of the answer: nothing typed meanwhile is replaced.
    assert "<textarea" not in html
    # The next save is based on the new version.
    response = client.post(save_url(item), {"minutes": "Erster Satz. Zweiter.", "version": 1}, headers=headers)
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.minutes, item.version) == ("Erster Satz. Zweiter.", 2)


def test_a_conflict_with_htmx_keeps_both_texts_and_saving_again_overwrites_deliberately(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Text aus Tab A.", expected_version=0)
    client = client_for(world.cora)
    headers = htmx(f"minutes-status-{item.pk}")
    response = client.post(save_url(item), {"minutes": "Text aus Tab B.", "version": 0}, headers=headers)
    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#minutes-item-{item.pk}" and response["HX-Reswap"] == "outerHTML"
    html = html_of(response)
    # Your text, still editable; the current text beside it, with who saved it; the current version.
    assert re.search(rf'<textarea id="minutes-text-{item.pk}" name="minutes"[^>]*>Text aus Tab B\.</textarea>', html)
    assert re.search(rf'<textarea id="minutes-current-{item.pk}"[^>]*readonly[^>]*>Text aus Tab A\.</textarea>', html)
    assert f'id="minutes-version-{item.pk}" name="version" value="1"' in html
    assert "Cora Cramer" in html
    with translation.override("de"):
        assert shown(gettext("Someone else changed these minutes in the meantime"), html)
        assert shown(gettext("Your text (not saved)"), html)
    # In the conflict, nothing saves by itself: only the button does.
    assert "hx-trigger" not in html
    item.refresh_from_db()
    assert (item.minutes, item.version) == ("Text aus Tab A.", 1)

    merged = "Text aus Tab A. Text aus Tab B."
    deliberate = htmx(f"minutes-item-{item.pk}")
    response = client.post(save_url(item), {"minutes": merged, "version": 1}, headers=deliberate)
    assert response.status_code == 200
    html = html_of(response)
    # The item is an ordinary editor again.
    assert f'<section id="minutes-item-{item.pk}"' in html and 'hx-trigger="keyup changed delay:1s, change"' in html
    assert 'name="version" value="2"' in html and "minutes-current-" not in html
    item.refresh_from_db()
    assert (item.minutes, item.version) == (merged, 2)


def test_a_conflict_without_javascript_shows_the_editor_with_both_texts(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    other = item_on(world, meeting)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Neuere Fassung.", expected_version=0)
    response = client_for(world.cora).post(save_url(item), {"minutes": "Meine Fassung.", "version": 0})
    assert response.status_code == 409
    html = html_of(response)
    assert_accessible_layout(html, "conflict")
    assert "Meine Fassung.</textarea>" in html and "Neuere Fassung.</textarea>" in html
    assert "data-autofocus" in html  # the warning takes the focus, so that it is announced
    # The other items stay ordinary editors.
    assert (
        f'id="minutes-form-{other.pk}"' in html
        and f'<section id="minutes-item-{other.pk}" class="card minutes-item"' in html
    )


def test_a_post_without_version_is_treated_as_a_conflict_not_an_overwrite(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Bestand.", expected_version=0)
    response = client_for(world.cora).post(save_url(item), {"minutes": "Ohne Version."}, headers=htmx())
    assert response.status_code == 409
    assert "Ohne Version.</textarea>" in html_of(response)
    item.refresh_from_db()
    assert item.minutes == "Bestand."


def test_too_long_minutes_are_refused_with_the_text_kept(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    too_long = "x" * 20001
    response = client_for(world.cora).post(save_url(item), {"minutes": too_long, "version": 0}, headers=htmx())
    assert response.status_code == 422
    html = html_of(response)
    assert too_long in html and f'id="minutes-error-{item.pk}"' in html
    assert response["HX-Retarget"] == f"#minutes-item-{item.pk}"
    item.refresh_from_db()
    assert item.version == 0


def test_approved_minutes_are_read_only_and_explain_why(world: World) -> None:
    meeting, item = approved(world)
    response = client_for(world.cora).get(editor_url(meeting))
    html = html_of(response)
    assert response.status_code == 200
    with translation.override("de"):
        assert shown(read_only_reason(meeting), html)
    assert 'name="minutes"' not in html and "Beschlossen." in html
    # A save that was on its way when the minutes were approved keeps the writer's text.
    response = client_for(world.cora).post(save_url(item), {"minutes": "Zu spät.", "version": 1}, headers=htmx())
    assert response.status_code == 422
    html = html_of(response)
    assert "Zu spät.</textarea>" in html and "readonly" in html
    item.refresh_from_db()
    assert item.minutes == "Beschlossen."


def test_a_cancelled_meeting_has_no_minutes_to_write(world: World) -> None:
    meeting = make_meeting(world)
    item_on(world, meeting)
    services.meeting_cancel(actor=world.cora, meeting=meeting, reason="Krankheit")
    meeting.refresh_from_db()
    html = html_of(client_for(world.cora).get(editor_url(meeting)))
    with translation.override("de"):
        assert shown(read_only_reason(meeting), html)
    assert 'name="minutes"' not in html


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("rita", 403), ("alice", 403), ("carol", 404)])
def test_only_the_coordinator_saves_minutes(world: World, persona: str, status: int) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    response = client_for(world.persona(persona)).post(save_url(item), {"minutes": "Fremd.", "version": 0})
    assert response.status_code == status
    item.refresh_from_db()
    assert item.version == 0


# Decisions ------------------------------------------------------------------------------------


def decision_url(item: AgendaItem) -> str:
    return reverse("decision-create", args=[item.pk])


def action_fields(world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "with_action_item": "on",
        "action_item-title": "Kursplatz beantragen",
        "action_item-owner_agency": world.social_office.pk,
        "action_item-owner": world.bob.pk,
        "action_item-due_on": in_days(14),
    }
    body.update(overrides)
    return body


def referral_fields(world: World, **overrides: Any) -> dict[str, Any]:
    person = AgendaItem.objects.filter(person__isnull=False).latest("pk").person
    assert person is not None
    body = {
        "with_referral": "on",
        "referral-to_agency": world.social_office.pk,
        "referral-reason": "Beratung zur Wohnsituation",
        "referral-urgency": "normal",
        "referral-categories": ["identity", "contact"],
        "referral-legal_basis": "consent",
        "referral-consent": person.consents.get().pk,
        "referral-answer_due_on": in_days(14),
    }
    body.update(overrides)
    return body


def test_a_decision_is_recorded_with_an_action_item_in_the_same_step(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    response = client_for(world.cora).post(decision_url(item), {"text": "Kurs beantragen.", **action_fields(world)})
    assert response.status_code == 302
    assert response["Location"] == editor_url(meeting) + f"#minutes-item-{item.pk}"
    decision = Decision.objects.get(agenda_item=item)
    action = ActionItem.objects.get(decision=decision)
    assert (action.title, action.owner, action.agenda_item) == ("Kursplatz beantragen", world.bob, item)


def test_a_decision_refers_the_person_on_a_legal_basis(world: World) -> None:
    meeting = held_meeting(world)
    person = amina(world)
    item = item_on(world, meeting, person=person)
    html = html_of(client_for(world.cora).get(decision_url(item)))
    assert 'name="referral-to_agency"' in html and "Amina Haddad" in html
    response = client_for(world.cora).post(decision_url(item), {"text": "Weiterleiten.", **referral_fields(world)})
    assert response.status_code == 302
    decision = Decision.objects.get(agenda_item=item)
    assert decision.referral is not None and decision.referral.person == person
    assert decision.referral.to_agency == world.social_office


def test_errors_of_the_nested_steps_land_on_their_fields_and_nothing_is_saved(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting, person=amina(world))
    client = client_for(world.cora)
    body = {
        "text": "Weiterleiten.",
        **referral_fields(world, **{"referral-consent": ""}),
        **action_fields(world, **{"action_item-due_on": in_days(-60)}),
    }
    response = client.post(decision_url(item), body)
    assert response.status_code == 200
    referral_form = response.context["referral_form"]
    # The referral's basis is checked first; its error names the consent field.
    assert "consent" in referral_form.errors
    assert 'href="#id_referral-consent"' in html_of(response)
    assert not Decision.objects.exists() and not Referral.objects.exists() and not ActionItem.objects.exists()
    # With the referral right, the action item's due date is refused on its own field.
    body = {
        "text": "Weiterleiten.",
        **referral_fields(world),
        **action_fields(world, **{"action_item-due_on": in_days(-60)}),
    }
    response = client.post(decision_url(item), body)
    assert response.status_code == 200
    assert "due_on" in response.context["action_form"].errors
    assert 'href="#id_action_item-due_on"' in html_of(response)
    assert not Decision.objects.exists() and not Referral.objects.exists() and not ActionItem.objects.exists()


@pytest.mark.parametrize(
    ("body", "form", "field"),
    [
        ({"text": ""}, "form", "text"),
        ({"text": "   "}, "form", "text"),
        ({"text": "Ja.", **{"with_action_item": "on", "action_item-title": ""}}, "action_form", "title"),
        ({"text": "Ja.", **{"with_action_item": "on", "action_item-owner": "999999"}}, "action_form", "owner"),
        ({"text": "Ja.", "action_item-title": "Vergessen anzukreuzen"}, "form", "with_action_item"),
    ],
    ids=["empty", "blank", "no-task", "unknown-owner", "not-ticked"],
)
def test_bad_decisions_are_form_errors(world: World, body: dict[str, Any], form: str, field: str) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    if body.get("with_action_item"):
        body = {**action_fields(world), **body}
    response = client_for(world.cora).post(decision_url(item), body)
    assert response.status_code == 200
    assert field in response.context[form].errors
    assert not Decision.objects.exists()


def test_a_coordinator_who_may_not_see_the_person_cannot_refer_from_the_round_table(world: World) -> None:
    meeting = make_meeting(world)
    item = item_on(world, meeting, person=bobs_person(world), actor=world.bob)
    html = html_of(client_for(world.cora).get(decision_url(item)))
    assert 'name="referral-to_agency"' not in html and "Nasser" not in html
    with translation.override("de"):
        assert shown(
            gettext("Only an agency that holds the person's file can refer the person; ask it to do so itself."), html
        )


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("rita", 403), ("carol", 404), ("olga", 404)])
def test_only_the_coordinator_records_decisions(world: World, persona: str, status: int) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    client = client_for(world.persona(persona))
    assert client.get(decision_url(item)).status_code == status
    assert client.post(decision_url(item), {"text": "Nein."}).status_code == status
    assert not Decision.objects.exists()


def test_no_decisions_once_the_minutes_are_approved(world: World) -> None:
    meeting, item = approved(world)
    response = client_for(world.cora).post(decision_url(item), {"text": "Nachträglich."})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Decision.objects.exists()


# Action items ---------------------------------------------------------------------------------


def create_url(meeting: Meeting) -> str:
    return reverse("action-item-create", args=[meeting.pk])


def test_the_coordinator_creates_an_action_item_under_an_agenda_item(world: World) -> None:
    meeting = held_meeting(world)
    item = item_on(world, meeting)
    client = client_for(world.cora)
    html = html_of(client.get(create_url(meeting) + f"?agenda_item={item.pk}"))
    assert f'<option value="{item.pk}" selected>' in html
    body = {
        "agenda_item": item.pk,
        "title": "Nachweis anfordern",
        "owner_agency": world.social_office.pk,
        "owner": world.bob.pk,
        "due_on": in_days(10),
        "note": "Bis zur nächsten Sitzung",
    }
    response = client.post(create_url(meeting), body)
    created = ActionItem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("action-item-detail", args=[created.pk])
    assert (created.agenda_item, created.owner_agency, created.owner) == (item, world.social_office, world.bob)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_on": in_days(-30)}, "due_on"),
        ({"owner": "999999"}, "owner"),
        ({"owner": "ALICE"}, "owner"),
        ({"owner_agency": "YOUTH"}, "owner_agency"),
        ({"title": ""}, "title"),
    ],
    ids=["due-in-the-past", "unknown-owner", "owner-of-another-agency", "agency-not-invited", "no-title"],
)
def test_bad_action_items_are_form_errors(world: World, overrides: dict[str, Any], field: str) -> None:
    meeting = make_meeting(world, days=0)
    body = {"title": "Nachweis", "owner_agency": world.social_office.pk, "due_on": in_days(7), **overrides}
    body = {
        key: {"ALICE": world.alice.pk, "YOUTH": world.youth_office.pk}.get(value, value)
        if isinstance(value, str)
        else value
        for key, value in body.items()
    }
    response = client_for(world.cora).post(create_url(meeting), body)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("rita", 403), ("carol", 404), ("olga", 404)])
def test_only_the_coordinator_creates_action_items(world: World, persona: str, status: int) -> None:
    meeting = held_meeting(world)
    client = client_for(world.persona(persona))
    assert client.get(create_url(meeting)).status_code == status
    body = {"title": "x", "owner_agency": world.social_office.pk, "due_on": in_days(3)}
    assert client.post(create_url(meeting), body).status_code == status
    assert not ActionItem.objects.exists()


def test_the_owner_agency_reports_progress_and_only_the_coordinator_cancels(world: World) -> None:
    meeting = held_meeting(world)
    action = task(world, meeting)
    detail = reverse("action-item-detail", args=[action.pk])
    status_url = reverse("action-item-status", args=[action.pk])
    bob = client_for(world.bob)
    html = html_of(bob.get(detail))
    assert 'name="status"' in html and '<option value="done"' in html and '"cancelled"' not in html
    # Cancelling is not bob's to choose; forced through anyway, the service refuses it.
    response = bob.post(status_url, {"status": "cancelled"}, follow=True)
    with translation.override("de"):
        assert gettext("Only the coordinator cancels an action item.") in messages_on(response)
    action.refresh_from_db()
    assert action.status == ActionItemStatus.OPEN
    response = bob.post(status_url, {"status": "done", "note": "Angebot liegt vor"})
    assert response.status_code == 302 and response["Location"] == detail
    action.refresh_from_db()
    assert (action.status, action.note) == (ActionItemStatus.DONE, "Angebot liegt vor")
    assert AuditEntry.objects.filter(action="action_item.status_changed").exists()
    # The coordinator may also cancel; alice (a jobcenter caseworker, not the owner) only reads.
    assert '<option value="cancelled"' in html_of(client_for(world.cora).get(detail))
    assert 'name="status"' not in html_of(client_for(world.alice).get(detail))


@pytest.mark.parametrize(("persona", "status"), [("alice", 403), ("rita", 403), ("carol", 404), ("olga", 404)])
def test_others_cannot_report_progress(world: World, persona: str, status: int) -> None:
    action = task(world, held_meeting(world))
    response = client_for(world.persona(persona)).post(
        reverse("action-item-status", args=[action.pk]), {"status": "done"}
    )
    assert response.status_code == status
    action.refresh_from_db()
    assert action.status == ActionItemStatus.OPEN


def test_a_bad_status_is_a_message_not_an_error_page(world: World) -> None:
    action = task(world, held_meeting(world))
    response = client_for(world.bob).post(
        reverse("action-item-status", args=[action.pk]), {"status": "carried_over"}, follow=True
    )
    assert response.status_code == 200 and messages_on(response)
    action.refresh_from_db()
    assert action.status == ActionItemStatus.OPEN


def test_the_coordinator_edits_an_open_action_item(world: World) -> None:
    action = task(world, held_meeting(world))
    url = reverse("action-item-edit", args=[action.pk])
    client = client_for(world.cora)
    body = {"title": "Angebot prüfen", "owner_agency": world.social_office.pk, "owner": "", "due_on": in_days(21)}
    response = client.post(url, body)
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.title, action.owner, action.due_on.isoformat()) == ("Angebot prüfen", None, in_days(21))
    response = client.post(url, {**body, "title": ""})
    assert response.status_code == 200 and "title" in response.context["form"].errors
    services.action_item_complete(actor=world.bob, item=action)
    response = client.post(url, body)
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert client_for(world.bob).get(url).status_code == 403
    assert client_for(world.carol).get(url).status_code == 404


def test_carry_over_moves_open_items_into_the_planned_meeting(world: World) -> None:
    following = make_meeting(world, days=7)
    past = held_meeting(world, days=-14)
    open_item = task(world, past)
    url = reverse("action-items-carry-over", args=[following.pk])
    assert client_for(world.bob).post(url).status_code == 403
    assert client_for(world.carol).post(url).status_code == 404
    response = client_for(world.cora).post(url, follow=True)
    assert response.redirect_chain[0] == (reverse("meeting-detail", args=[following.pk]), 302)
    open_item.refresh_from_db()
    assert open_item.status == ActionItemStatus.CARRIED_OVER
    moved = ActionItem.objects.get(carried_over_from=open_item)
    assert moved.meeting == following
    with translation.override("de"):
        assert "1" in messages_on(response)
    # Running it again moves nothing twice.
    response = client_for(world.cora).post(url, follow=True)
    assert ActionItem.objects.filter(carried_over_from=open_item).count() == 1
    with translation.override("de"):
        assert gettext("No open action items of earlier meetings are waiting.") in messages_on(response)
    # Both ends link to each other.
    html = html_of(client_for(world.bob).get(reverse("action-item-detail", args=[open_item.pk])))
    assert reverse("action-item-detail", args=[moved.pk]) in html


# What we owe the round table ------------------------------------------------------------------


def test_the_overview_lists_the_agencys_open_items_overdue_first_and_marked_in_words(world: World) -> None:
    meeting = held_meeting(world)
    later = task(world, meeting, title="Später fällig", due_on=timezone.localdate() + datetime.timedelta(days=3))
    late = overdue_task(world, title="Schon überfällig")
    theirs = task(world, meeting, title="Sache des Jobcenters", owner_agency=world.jobcenter, owner=None)
    done = task(world, meeting, title="Erledigt")
    services.action_item_complete(actor=world.bob, item=done)
    response = client_for(world.bob).get(reverse("action-item-overview"))
    html = html_of(response)
    assert [row.pk for row in response.context["rows"]] == [late.pk, later.pk]
    assert theirs.title not in html and done.title not in html
    with translation.override("de"):
        overdue = gettext("overdue")
    # Not only a colour: the word, in a badge, on the overdue row only.
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    marked = [row for row in rows if f'<span class="badge badge-danger action-overdue">{overdue}</span>' in row]
    assert len(marked) == 1 and late.title in marked[0] and 'class="action-overdue-row"' in marked[0]
    assert reverse("meeting-detail", args=[late.meeting_id]) in html
    assert reverse("action-item-detail", args=[late.pk]) in html


def test_the_overview_filters_by_status_and_agency_and_pages(world: World) -> None:
    meeting = held_meeting(world)
    done = task(world, meeting, title="Erledigt")
    services.action_item_complete(actor=world.bob, item=done)
    for number in range(27):
        task(world, meeting, title=f"Aufgabe {number}")
    client = client_for(world.bob)
    response = client.get(reverse("action-item-overview"))
    assert response.context["page_obj"].paginator.count == 27
    assert "page=2" in html_of(response)
    response = client.get(reverse("action-item-overview"), {"status": "done"})
    assert [row.pk for row in response.context["rows"]] == [done.pk]
    response = client.get(reverse("action-item-overview"), {"status": ""})
    assert response.context["page_obj"].paginator.count == 28
    # htmx asks for the results only.
    response = client.get(reverse("action-item-overview"), {"status": "done"}, headers=htmx())
    assert "<html" not in html_of(response) and done.title in html_of(response)
    # The coordinator sees the jobcenter's items; the social office's are not the jobcenter's to owe.
    task(world, meeting, title="Jobcenter-Aufgabe", owner_agency=world.jobcenter, owner=None)
    response = client_for(world.cora).get(reverse("action-item-overview"), {"owner_agency": world.jobcenter.pk})
    assert [row.title for row in response.context["rows"]] == ["Jobcenter-Aufgabe"]
    response = client_for(world.cora).get(reverse("action-item-overview"), {"owner_agency": world.social_office.pk})
    assert list(response.context["rows"]) == []


def test_the_overview_names_cases_by_reference_only_where_the_person_is_hidden(world: World) -> None:
    meeting = held_meeting(world)
    person = amina(world)  # the jobcenter holds her; the social office does not see her
    task(world, meeting, person=person)
    html = html_of(client_for(world.bob).get(reverse("action-item-overview")))
    assert person.reference in html and "Haddad" not in html


def test_reminders_link_to_the_action_items_page(world: World) -> None:
    action = overdue_task(world)
    services.action_items_remind()
    notice = Notification.objects.get(kind=NotificationKind.ACTION_ITEM_DUE, recipient=world.bob)
    assert notice.url == reverse("action-item-detail", args=[action.pk]) == services.action_item_url(action)
    assert client_for(world.bob).get(notice.url).status_code == 200


def test_the_action_item_page_shows_the_overdue_state_in_words(world: World) -> None:
    action = overdue_task(world)
    html = html_of(client_for(world.bob).get(reverse("action-item-detail", args=[action.pk])))
    with translation.override("de"):
        assert f">{gettext('overdue')}</span>" in html and gettext("Overdue.") in html
    assert client_for(world.carol).get(reverse("action-item-detail", args=[action.pk])).status_code == 404
    assert client_for(world.olga).get(reverse("action-item-detail", args=[action.pk])).status_code == 404


# Comments on agenda items ---------------------------------------------------------------------


def test_the_agencies_at_the_meeting_discuss_an_agenda_item_on_its_page(world: World) -> None:
    meeting = make_meeting(world)
    item = item_on(world, meeting)
    thread = reverse("comment-thread-agenda_item", args=[item.pk])
    create = reverse("comment-create-agenda_item", args=[item.pk])
    response = client_for(world.bob).post(create, {"body": "Ich bringe die Kursliste mit, @cora"})
    comment = Comment.objects.get(agenda_item=item)
    assert response.status_code == 302 and response["Location"] == f"{thread}#comment-{comment.pk}"
    html = html_of(client_for(world.cora).get(thread))
    assert "Ich bringe die Kursliste mit" in html and reverse("meeting-detail", args=[meeting.pk]) in html
    mention = Notification.objects.get(recipient=world.cora, kind=NotificationKind.MENTIONED)
    assert mention.url == f"{thread}#comment-{comment.pk}"
    # With htmx the section alone comes back, with the new comment.
    response = client_for(world.alice).post(create, {"body": "Danke!"}, headers=htmx())
    assert response.status_code == 200 and "<html" not in html_of(response) and "Danke!" in html_of(response)
    # An empty comment is a form error; read-only members read; the youth office is not at the meeting.
    response = client_for(world.bob).post(create, {"body": ""})
    assert response.status_code == 200 and response.context["form"].errors
    assert client_for(world.rita).get(thread).status_code == 200
    assert client_for(world.rita).post(create, {"body": "Hallo"}).status_code == 403
    assert client_for(world.carol).get(thread).status_code == 404
    assert client_for(world.carol).post(create, {"body": "Hallo"}).status_code == 404
    assert client_for(world.olga).get(thread).status_code == 404
    assert Comment.objects.filter(agenda_item=item).count() == 2


def test_a_meeting_that_is_planned_accepts_decisions_too(world: World) -> None:
    meeting = make_meeting(world, days=0)
    assert meeting.status == MeetingStatus.PLANNED
    item = item_on(world, meeting)
    response = client_for(world.cora).post(decision_url(item), {"text": "Vorab beschlossen."})
    assert response.status_code == 302 and Decision.objects.filter(agenda_item=item).exists()


# Queries --------------------------------------------------------------------------------------


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_editor_and_the_overview_cost_the_same_queries_for_more_rows(world: World) -> None:
    meeting = held_meeting(world)
    person = amina(world)

    def grow(count: int) -> None:
        for _number in range(count):
            item = item_on(world, meeting, person=person)
            services.agenda_item_update_minutes(actor=world.cora, item=item, minutes="Text", expected_version=0)
            services.decision_record(actor=world.cora, item=item, text="Beschluss")
            task(world, meeting, agenda_item=item, person=person)

    grow(2)
    cora, bob = client_for(world.cora), client_for(world.bob)
    editor, overview = editor_url(meeting), reverse("action-item-overview")
    few = (queries_for(cora, editor), queries_for(bob, overview))
    grow(6)
    assert (queries_for(cora, editor), queries_for(bob, overview)) == few
