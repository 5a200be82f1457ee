"""Builders for the meeting tests, on top of the shared personas.

The round table of the personas is coordinated by the jobcenter (cora is its coordinator); the social
office and the youth office are members. The meetings here invite the jobcenter and the social office
only, so the youth office (carol) sits at the round table but is not invited; the immigration
authority (olga) shares nothing with them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from messaging.meetings import services
from messaging.models import AgendaItem, Meeting
from referrals import services as referral_services
from referrals.models import Person
from tests.conftest import World, make_case


def at(days: int, hour: int = 10) -> datetime.datetime:
    """A time ``days`` from today, in the hub's time zone (Europe/Berlin)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def make_meeting(world: World, days: int = 7, **fields: Any) -> Meeting:
    fields.setdefault("title", "Runder Tisch")
    fields.setdefault("place", "Kreishaus, Raum 12")
    fields.setdefault("invited_agencies", [world.social_office])
    return services.meeting_create(actor=world.cora, workspace=world.workspace, starts_at=at(days), **fields)


def held_meeting(world: World, days: int = -14, **fields: Any) -> Meeting:
    """A meeting that took place ``-days`` days ago; planned then, recorded as held now."""
    meeting = make_meeting(world, days=days, **fields)
    return services.meeting_hold(actor=world.cora, meeting=meeting)


def amina(world: World) -> Person:
    """Amina, held by the jobcenter, with a consent naming the social and youth offices."""
    return make_case(world).person


def bobs_person(world: World) -> Person:
    """A person only the social office holds: the jobcenter does not see her."""
    return referral_services.person_create(
        actor=world.bob,
        agency=world.social_office,
        first_name="Leyla",
        last_name="Nasser",
        birth_date=datetime.date(1994, 7, 1),
        nationality="syrisch",
    )


def item_on(world: World, meeting: Meeting, person: Person | None = None, actor: Any = None) -> AgendaItem:
    return services.agenda_item_propose(
        actor=actor or world.cora, meeting=meeting, title="Sprachkurs und Wohnung", person=person
    )
