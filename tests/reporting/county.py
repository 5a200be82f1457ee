"""A hand-built county with known answers for every figure.

The data set (built through the services, then dated into the first quarter of 2025):

- the jobcenter holds Amir, Bilal, Chiara, Dana and Emil (served in the quarter), Fatma (file
  closed before it) and Goran (file opened after it); the social office holds Sara and Sami;
  the immigration authority, outside the round table, holds Olek;
- referrals: eight between round-table agencies (five accepted after 2, 4, 6, 8 and 10 days, one
  declined, one still waiting after its due date, one expired), one to the immigration authority,
  one sent after the quarter;
- a course provider's integration course, language course and activation measure;
- plan steps reaching a job and an internship; flats of the social office; a meeting's action items.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from agencies import services as agency_services
from agencies.models import Agency, Staff, User
from housing import services as housing_services
from messaging.meetings import services as meeting_services
from messaging.models import ActionItem
from referrals import services as case_services
from referrals.models import CaseFile, Consent, Enrollment, Measure, Person, Referral
from reporting.figures import (
    Period,
)
from tests.conftest import World, make_user
from tests.housing.helpers import make_household, make_housing, make_limits, make_listing
from tests.messaging.meeting_helpers import make_meeting

Q1 = Period(datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
TODAY = datetime.date(2025, 4, 15)


def at(year: int, month: int, day: int, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=timezone.get_default_timezone())


def day(year: int, month: int, d: int) -> datetime.date:
    return datetime.date(year, month, d)


@dataclass
class County:
    world: World
    provider: Agency
    kurt: User
    persons: dict[str, Person]


def make_person(
    actor: User, agency: Agency, name: str, arrival: datetime.date | None, opened: datetime.datetime
) -> Person:
    person = case_services.person_create(
        actor=actor,
        agency=agency,
        first_name=name,
        last_name="Muster",
        birth_date=day(1990, 1, 1),
        nationality="syrisch",
        arrival_date=arrival,
    )
    CaseFile.objects.filter(person=person).update(opened_at=opened)
    return person


def give_consent(actor: User, person: Person, world: World) -> Consent:
    return case_services.consent_record(
        actor=actor,
        person=person,
        categories=["identity", "plan"],
        recipients=[world.jobcenter, world.social_office, world.youth_office, world.immigration],
        purpose="Abstimmung",
        text_version="2025-01",
    )


def refer(
    world: World, person: Person, to: Agency, sent: datetime.datetime, due: datetime.date, consent: Consent
) -> Referral:
    referral = case_services.referral_create(
        actor=world.alice,
        person=person,
        to_agency=to,
        reason="Unterstützung",
        categories=["identity"],
        legal_basis="consent",
        consent=consent,
        answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
    )
    Referral.objects.filter(pk=referral.pk).update(sent_at=sent, answer_due_on=due)
    return referral


def answer(referral: Referral, actor: User, action: str, answered: datetime.datetime, note: str = "") -> None:
    case_services.referral_transition(actor=actor, referral=referral, action=action, note=note)
    Referral.objects.filter(pk=referral.pk).update(answered_at=answered)


def make_county(world: World) -> County:
    Staff.objects.update(joined_at=at(2024, 1, 1))
    opened = at(2024, 12, 1)
    jc = {
        name: make_person(world.alice, world.jobcenter, name, arrival, opened)
        for name, arrival in [
            ("Amir", day(2024, 10, 1)),
            ("Bilal", day(2024, 12, 1)),
            ("Chiara", day(2025, 1, 1)),
            ("Dana", None),
        ]
    }
    jc["Emil"] = make_person(world.alice, world.jobcenter, "Emil", day(2025, 1, 10), at(2025, 2, 10))
    fatma = make_person(world.alice, world.jobcenter, "Fatma", None, at(2024, 11, 1))
    CaseFile.objects.filter(person=fatma).update(closed_at=at(2024, 12, 20))
    make_person(world.alice, world.jobcenter, "Goran", None, at(2025, 5, 1))
    sara = make_person(world.bob, world.social_office, "Sara", day(2024, 11, 20), at(2025, 1, 15))
    make_person(world.bob, world.social_office, "Sami", None, at(2025, 1, 15))
    make_person(world.olga, world.immigration, "Olek", None, at(2025, 1, 15))

    consents = {name: give_consent(world.alice, person, world) for name, person in jc.items()}
    social, youth = world.social_office, world.youth_office
    # Accepted after 2, 4, 6, 8 and 10 days; Dana's answer came after its due date.
    for name, sent, days, due in [
        ("Amir", at(2025, 1, 10), 2, day(2025, 1, 20)),
        ("Bilal", at(2025, 1, 10), 4, day(2025, 1, 20)),
        ("Chiara", at(2025, 2, 1), 6, day(2025, 2, 10)),
        ("Dana", at(2025, 2, 1), 8, day(2025, 2, 5)),
        ("Emil", at(2025, 3, 1), 10, day(2025, 3, 20)),
    ]:
        referral = refer(world, jc[name], social, sent, due, consents[name])
        answer(referral, world.bob, "accept", sent + datetime.timedelta(days=days))
        if name == "Amir":
            case_services.referral_transition(actor=world.bob, referral=referral, action="start")
    declined = refer(world, jc["Amir"], youth, at(2025, 3, 5), day(2025, 3, 20), consents["Amir"])
    answer(declined, world.carol, "decline", at(2025, 3, 6), note="Nicht zuständig")
    refer(world, jc["Bilal"], youth, at(2025, 3, 10), day(2025, 3, 20), consents["Bilal"])
    expired = refer(world, jc["Chiara"], social, at(2025, 3, 15), day(2025, 3, 25), consents["Chiara"])
    case_services.referral_transition(actor=None, referral=expired, action="expire")
    refer(world, jc["Dana"], world.immigration, at(2025, 2, 1), day(2025, 2, 15), consents["Dana"])
    refer(world, jc["Emil"], social, at(2025, 4, 2), day(2025, 4, 20), consents["Emil"])

    provider = agency_services.agency_create(actor=None, name="Bildungswerk", short_name="BW", kind="course_provider")
    kurt = make_user("kurt", "Kurt", "Kramer")
    agency_services.staff_create(actor=None, agency=provider, user=kurt, roles=["caseworker"])

    def measure(kind: str, starts: datetime.date, ends: datetime.date) -> Measure:
        return case_services.measure_create(
            actor=kurt, provider=provider, title=kind, kind=kind, starts_on=starts, ends_on=ends, seats=20
        )

    course = measure("integration_course", day(2025, 2, 1), day(2025, 3, 15))
    language = measure("language_course", day(2025, 1, 20), day(2025, 6, 30))
    activation = measure("activation", day(2024, 11, 1), day(2025, 1, 31))

    def enrol(actor: User, m: Measure, person: Person) -> Enrollment:
        return case_services.enrollment_request(actor=actor, measure=m, person=person)

    case_services.enrollment_complete(actor=kurt, enrollment=enrol(world.alice, activation, jc["Amir"]))
    enrol(world.alice, course, jc["Amir"])
    enrol(world.alice, language, jc["Bilal"])
    case_services.enrollment_complete(actor=kurt, enrollment=enrol(world.alice, course, jc["Chiara"]))
    case_services.enrollment_complete(actor=kurt, enrollment=enrol(world.alice, course, jc["Dana"]))
    case_services.enrollment_cancel(actor=world.alice, enrollment=enrol(world.alice, language, jc["Emil"]))
    enrol(world.bob, course, sara)

    for name, kind, owner, status, starts in [
        ("Amir", "job", world.jobcenter, "done", day(2025, 3, 1)),
        ("Bilal", "internship", social, "done", day(2025, 2, 15)),
        ("Chiara", "apprenticeship", world.jobcenter, "done", day(2025, 9, 1)),
        ("Dana", "job", world.jobcenter, "in_progress", day(2025, 3, 1)),
        ("Emil", "job", world.jobcenter, "done", None),
    ]:
        plan = case_services.plan_create(actor=world.alice, person=jc[name], goals="Arbeit")
        case_services.plan_step_add(
            actor=world.alice, plan=plan, kind=kind, title=kind, owner_agency=owner, status=status, starts_on=starts
        )

    housing = make_housing(world)
    make_limits(housing)
    flats = [make_listing(housing) for _ in range(4)]
    make_listing(housing, publish=False)
    make_listing(housing, share=False)
    for number, flat in enumerate(flats[2:]):
        household = make_household(world.bob, social, size=3, name=f"Wohnung{number}")
        reservation = housing_services.reservation_create(actor=housing.hana, listing=flat, household=household)
        if number == 1:
            housing_services.tenancy_allocate(actor=housing.hana, reservation=reservation)

    meeting = make_meeting(world)
    items = [
        meeting_services.action_item_create(
            actor=world.cora,
            meeting=meeting,
            title=f"Aufgabe {number}",
            owner_agency=owner,
            due_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        for number, owner in enumerate([world.jobcenter, social, social, world.jobcenter])
    ]
    for item, due in zip(items, [day(2025, 4, 1), day(2025, 5, 1), day(2025, 4, 1), day(2025, 4, 10)], strict=True):
        ActionItem.objects.filter(pk=item.pk).update(due_on=due)
    meeting_services.action_item_complete(actor=world.cora, item=items[2])
    return County(world=world, provider=provider, kurt=kurt, persons=jc)


def grow_the_quarter(world: World, count: int, course: Measure | None = None) -> None:
    """``count`` more persons of the jobcenter, each referred to the social office in the quarter
    and accepted, given a job that started in March and, with a ``course``, a seat in it."""
    for number in range(count):
        person = make_person(world.alice, world.jobcenter, f"Extra{number}", day(2024, 9, 1), at(2024, 12, 1))
        consent = give_consent(world.alice, person, world)
        referral = refer(world, person, world.social_office, at(2025, 2, 2), day(2025, 2, 20), consent)
        answer(referral, world.bob, "accept", at(2025, 2, 3))
        if course is not None:
            case_services.enrollment_request(actor=world.alice, measure=course, person=person)
        plan = case_services.plan_create(actor=world.alice, person=person, goals="Arbeit")
        case_services.plan_step_add(
            actor=world.alice,
            plan=plan,
            kind="job",
            title="Arbeit",
            owner_agency=world.jobcenter,
            status="done",
            starts_on=day(2025, 3, 1),
        )
