"""Demo meetings of the demo county's round table "Runder Tisch Integration", coordinated by the
social office: two past meetings with approved minutes, decisions (one of which refers a person to
the jobcenter) and action items, some done, some open and overdue and carried over; and an upcoming
meeting with a proposed agenda. The youth office is not invited to the upcoming one, so logging in as
``jugendamt.caseworker`` shows what an agency at the round table but not at the meeting sees: nothing.

Everything goes through ``messaging.meetings.services``; dates are relative to today.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from agencies.models import Agency, User, Workspace
from messaging.meetings import services
from messaging.models import ActionItem, Meeting
from referrals.models import Person


def _at(days: int, hour: int = 9, minute: int = 30) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _held_by(agency: Agency, skip: int = 0) -> Person:
    """A person the agency holds in its own files."""
    found = (
        Person.objects.filter(merged_into=None, case_files__agency=agency, case_files__closed_at=None)
        .order_by("pk")
        .distinct()[skip : skip + 1]
        .first()
    )
    if found is None:
        raise LookupError(f"The demo needs a person held by {agency}.")
    return found


def _minutes(coordinator: User, meeting: Meeting, texts: list[str]) -> None:
    for item, text in zip(meeting.agenda_items.order_by("position"), texts, strict=False):
        services.agenda_item_update_minutes(actor=coordinator, item=item, minutes=text, expected_version=item.version)


def _approve(coordinator: User, meeting: Meeting) -> None:
    services.minutes_circulate(actor=coordinator, meeting=meeting)
    services.minutes_approve(actor=coordinator, meeting=meeting)


def create_demo_meetings(agencies: dict[str, Agency], users: dict[str, User], workspace: Workspace) -> int:
    """Three meetings of ``workspace`` (coordinated by the social office) with their life so far."""
    coordinator = users["sozialamt.coordinator"]
    social, jobcenter, youth, kvhs = (
        agencies["sozialamt"],
        agencies["jobcenter"],
        agencies["jugendamt"],
        agencies["kvhs"],
    )
    everyone = [agencies[key] for key in ("jobcenter", "jugendamt", "abh", "arbeitsagentur", "kvhs")]
    family = _held_by(social)
    learner = _held_by(jobcenter)

    # Eight weeks ago: the first meeting, all agencies invited.
    first = services.meeting_create(
        actor=coordinator,
        workspace=workspace,
        title="Runder Tisch Integration – Sitzung 1",
        starts_at=_at(-56),
        ends_at=_at(-56, 11, 30),
        place="Kreishaus Musterstadt, Sitzungssaal 2",
        invited_agencies=everyone,
    )
    housing = services.agenda_item_propose(
        actor=coordinator, meeting=first, title="Wohnsituation Familie in der Gemeinschaftsunterkunft", person=family
    )
    courses = services.agenda_item_propose(
        actor=users["kvhs.caseworker"], meeting=first, title="Freie Plätze im Integrationskurs ab März"
    )
    youth_item = services.agenda_item_propose(
        actor=users["jugendamt.caseworker"], meeting=first, title="Übergang Schule–Beruf"
    )
    services.agenda_item_reorder(actor=coordinator, meeting=first, order=[courses.pk, housing.pk, youth_item.pk])
    services.meeting_hold(actor=coordinator, meeting=first)
    for user in ("jobcenter.caseworker", "jugendamt.caseworker", "kvhs.caseworker", "abh.caseworker"):
        services.attendance_record(actor=coordinator, meeting=first, user=users[user], present=True)
    services.attendance_record(
        actor=coordinator, meeting=first, user=users["arbeitsagentur.caseworker"], present=False, note="entschuldigt"
    )
    _minutes(
        coordinator,
        first,
        [
            "Die KVHS meldet 12 freie Plätze im Integrationskurs ab 1. März, davon 4 mit Kinderbetreuung.",
            "Die Familie lebt seit acht Monaten in der Gemeinschaftsunterkunft. Das Sozialamt sucht eine "
            "Drei-Zimmer-Wohnung; der Fall wird dem Jobcenter zur Prüfung der Zuständigkeit übergeben.",
            "Das Jugendamt stellt die Anschlussperspektive nach der Sprint-Klasse vor.",
        ],
    )
    services.decision_record(
        actor=coordinator,
        item=courses,
        text="Die Träger melden geeignete Teilnehmende bis zum 15. Februar an die KVHS.",
        action_item={
            "title": "Teilnehmendenliste an die KVHS senden",
            "owner_agency": jobcenter,
            "owner": users["jobcenter.caseworker"],
            "due_on": timezone.localdate() - datetime.timedelta(days=42),
        },
    )
    services.decision_record(
        actor=coordinator,
        item=housing,
        text="Überweisung an das Jobcenter zur Prüfung von Leistungen nach dem SGB II.",
        referral={
            "to_agency": jobcenter,
            "reason": "Prüfung der Zuständigkeit und Unterstützung bei der Wohnungssuche",
            "categories": ["identity", "contact"],
            "legal_basis": "sgb_x_69",
            "basis_reason": "Erfüllung der gesetzlichen Aufgaben beider Stellen (§ 69 Abs. 1 Nr. 1 SGB X).",
            "answer_due_on": timezone.localdate() + datetime.timedelta(days=10),
        },
        action_item={
            "title": "Wohnungsangebote aus dem Bestand prüfen",
            "owner_agency": social,
            "owner": users["sozialamt.housing"],
            "due_on": timezone.localdate() - datetime.timedelta(days=21),
        },
    )
    youth_task = services.action_item_create(
        actor=coordinator,
        meeting=first,
        title="Praktikumsplätze im Handwerk erfragen",
        owner_agency=youth,
        agenda_item=youth_item,
        due_on=timezone.localdate() - datetime.timedelta(days=30),
    )
    services.action_item_complete(actor=users["jugendamt.caseworker"], item=youth_task, note="Drei Zusagen")
    list_task = ActionItem.objects.get(meeting=first, owner_agency=jobcenter)
    services.action_item_complete(actor=users["jobcenter.caseworker"], item=list_task, note="Liste versandt")
    _approve(coordinator, first)
    services.meeting_close(actor=coordinator, meeting=first)

    # Four weeks ago: the second meeting; the open housing task moved into it.
    second = services.meeting_create(
        actor=coordinator,
        workspace=workspace,
        title="Runder Tisch Integration – Sitzung 2",
        starts_at=_at(-28),
        ends_at=_at(-28, 11),
        place="Jobcenter Musterstadt, Raum 104",
        video_url="https://video.landkreis-musterland.example/runder-tisch",
        invited_agencies=everyone,
    )
    language = services.agenda_item_propose(
        actor=users["jobcenter.caseworker"], meeting=second, title="Sprachstand und Kursbedarf", person=learner
    )
    services.meeting_hold(actor=coordinator, meeting=second)
    services.agenda_item_propose(actor=coordinator, meeting=second, title="Verschiedenes")
    _minutes(
        coordinator,
        second,
        [
            "Der Kursbedarf auf Niveau B1 ist gestiegen; die KVHS prüft einen zusätzlichen Abendkurs.",
            "Nächster Termin in vier Wochen, wieder hybrid.",
        ],
    )
    services.decision_record(
        actor=coordinator,
        item=language,
        text="Die KVHS plant einen Abendkurs B1, wenn sich mindestens zehn Teilnehmende finden.",
        action_item={
            "title": "Bedarf für einen Abendkurs B1 melden",
            "owner_agency": kvhs,
            "owner": users["kvhs.coordinator"],
            "due_on": timezone.localdate() - datetime.timedelta(days=7),
        },
    )
    _approve(coordinator, second)

    # In two weeks: the next meeting, without the youth office; open items carried over, agenda proposed.
    upcoming = services.meeting_create(
        actor=coordinator,
        workspace=workspace,
        title="Runder Tisch Integration – Sitzung 3",
        starts_at=_at(14),
        ends_at=_at(14, 11, 30),
        place="Kreishaus Musterstadt, Sitzungssaal 2",
        video_url="https://video.landkreis-musterland.example/runder-tisch",
        invited_agencies=[agencies[key] for key in ("jobcenter", "abh", "arbeitsagentur", "kvhs")],
    )
    services.agenda_item_propose(
        actor=users["jobcenter.caseworker"], meeting=upcoming, title="Stand der Wohnungssuche", person=family
    )
    services.agenda_item_propose(
        actor=users["abh.caseworker"], meeting=upcoming, title="Beschäftigungsduldungen: Verfahren abstimmen"
    )
    services.agenda_item_propose(actor=users["kvhs.coordinator"], meeting=upcoming, title="Abendkurs B1: Anmeldestand")
    services.action_item_create(
        actor=coordinator,
        meeting=upcoming,
        title="Raum und Videokonferenz vorbereiten",
        owner_agency=social,
        owner=coordinator,
        due_on=timezone.localdate() + datetime.timedelta(days=12),
    )
    return Meeting.objects.filter(workspace=workspace).count()


def delete_demo_meetings(workspaces: list[Workspace]) -> None:
    """Remove the demo meetings (for ``demo_county --reset``), before the persons and referrals they name."""
    meetings = Meeting.objects.filter(workspace__in=workspaces)
    # Carried-over copies point at their originals; untie them so that the meetings can go in any order.
    ActionItem.objects.filter(meeting__in=meetings).update(carried_over_from=None)
    ActionItem.objects.filter(meeting__in=meetings).delete()
    meetings.delete()
