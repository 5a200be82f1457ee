"""Demo cases for the demo county: a few hundred persons with realistic histories, through the services.

Seeded, so that every demo looks the same. Called by ``manage.py demo_county``.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

from django.utils import timezone

from agencies.models import Agency, User
from referrals import services
from referrals.models import (
    BenefitScheme,
    CaseFile,
    Category,
    Person,
    Plan,
    Referral,
    ReferralStatusChange,
    StepStatus,
)
from referrals.samples import LANGUAGE_SETS, QUALIFICATIONS

FIRST_NAMES = [
    "Amina", "Ahmad", "Fatima", "Mohammed", "Yusuf", "Layla", "Omar", "Mariam", "Hassan", "Zainab",
    "Ali", "Nour", "Khaled", "Rania", "Samir", "Hiba", "Tarek", "Aisha", "Bilal", "Salma",
    "Olena", "Andrii", "Iryna", "Dmytro", "Natalia", "Oleksandr", "Tetiana", "Serhii", "Yulia", "Maksym",
    "Abdul", "Farida", "Habib", "Shirin", "Reza", "Parwin", "Jamshid", "Mina", "Nasrin", "Wahid",
    "Semhar", "Yonas", "Helen", "Dawit", "Senait", "Robel", "Selam", "Tesfay", "Mehret", "Filmon",
]  # fmt: skip
LAST_NAMES = [
    "Haddad", "Al-Masri", "Khalil", "Darwish", "Nasser", "Hamdan", "Saleh", "Yousef", "Aziz", "Rahimi",
    "Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko", "Oliinyk", "Moroz",
    "Ahmadi", "Hosseini", "Karimi", "Sultani", "Noori", "Popal", "Wardak", "Stanekzai",
    "Tesfamariam", "Gebremedhin", "Haile", "Kidane", "Tekle", "Berhane", "Yohannes", "Ghebre",
    "Al-Jaber", "Ibrahim", "Mustafa", "Jafar", "Qasim", "Abbas",
]  # fmt: skip
NATIONALITIES = ["syrisch", "ukrainisch", "afghanisch", "eritreisch", "irakisch", "türkisch", "iranisch"]
STREETS = ["Bahnhofstraße", "Lindenallee", "Am Markt", "Schulstraße", "Kirchweg", "Gartenstraße", "Mühlenweg"]
CITIES = [("48529", "Nordhorn"), ("49828", "Neuenhaus"), ("48465", "Schüttorf"), ("48455", "Bad Bentheim")]
STATUSES = [
    "Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",
    "Aufenthaltserlaubnis § 24 AufenthG",
    "Aufenthaltsgestattung",
    "Duldung § 60a AufenthG",
    "Niederlassungserlaubnis",
]
REASONS = [
    "Beratung zur beruflichen Orientierung und Anerkennung des Abschlusses",
    "Vermittlung in einen Integrationskurs (Zulassung liegt vor)",
    "Unterstützung bei der Wohnungssuche nach Zuweisung",
    "Klärung der Zuständigkeit nach Anerkennung als Flüchtling",
    "Sprachförderung für den Berufseinstieg (Berufssprachkurs)",
    "Erziehungsberatung und Kita-Platz für zwei Kinder",
    "Aktivierungsmaßnahme auf Arabisch vor Kursbeginn",
    "Praktikumsvermittlung im Bereich Pflege",
]
# Where referrals of each sending agency typically go, by agency key.
PARTNERS = {
    "jobcenter": ["arbeitsagentur", "kvhs", "sozialamt", "jugendamt"],
    "sozialamt": ["jobcenter", "kvhs", "abh", "jugendamt"],
    "arbeitsagentur": ["jobcenter", "kvhs"],
}


def create_demo_cases(agencies: dict[str, Agency], users: dict[str, User], *, count: int = 300) -> int:
    """Persons held by the jobcenter, the social office and the employment agency, with consents and referrals."""
    rng = random.Random(2026)  # noqa: S311 (demo data, not security)
    today = timezone.localdate()
    steps: list[Callable[[Referral, User], Referral]] = [
        lambda r, u: r,
        lambda r, u: services.referral_transition(actor=u, referral=r, action="receive"),
        lambda r, u: services.referral_transition(actor=u, referral=r, action="accept"),
        lambda r, u: _run(u, r, "accept", "start"),
        lambda r, u: _run(u, r, "accept", "waitlist"),
        lambda r, u: _complete(u, _run(u, r, "accept", "start"), rng),
        lambda r, u: _complete(u, _run(u, r, "receive", "accept", "start"), rng),
        lambda r, u: services.referral_transition(actor=u, referral=r, action="decline", note="Nicht zuständig"),
        lambda r, u: services.referral_transition(actor=None, referral=r, action="expire", note="Keine Antwort"),
    ]
    referred = 0
    created = 0
    for index in range(count):
        home = ("jobcenter", "sozialamt", "arbeitsagentur")[index % 3]
        caseworker = users[f"{home}.caseworker"]
        postcode, city = rng.choice(CITIES)
        arrival = today - datetime.timedelta(days=rng.randint(30, 1400))
        person = services.person_create(
            actor=caseworker,
            agency=agencies[home],
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            birth_date=today - datetime.timedelta(days=rng.randint(17 * 365, 60 * 365)),
            nationality=rng.choice(NATIONALITIES),
            street=f"{rng.choice(STREETS)} {rng.randint(1, 80)}",
            postcode=postcode,
            city=city,
            phone=f"0170 {rng.randint(1000000, 9999999)}",
            arrival_date=arrival,
            residence_status=rng.choice(STATUSES),
            benefit_scheme=BenefitScheme.SGB_II if home == "jobcenter" else BenefitScheme.ASYLBLG,
            benefits_since=arrival + datetime.timedelta(days=14),
        )
        created += 1
        partners = [agencies[key] for key in PARTNERS[home]]
        consent = services.consent_record(
            actor=caseworker,
            person=person,
            categories=[Category.IDENTITY, Category.CONTACT, Category.LANGUAGES, Category.EDUCATION, Category.PLAN],
            recipients=partners,
            purpose="Abstimmung der Integrationsschritte am Runden Tisch",
            text_version="2026-01",
            valid_from=arrival + datetime.timedelta(days=20),
        )
        if index % 4 == 3:
            continue  # not everyone is referred yet
        to_key = rng.choice(PARTNERS[home])
        referral = services.referral_create(
            actor=caseworker,
            person=person,
            to_agency=agencies[to_key],
            reason=rng.choice(REASONS),
            urgency="urgent" if index % 9 == 0 else "normal",
            categories=[Category.IDENTITY, Category.CONTACT, Category.LANGUAGES],
            legal_basis="consent",
            consent=consent,
            answer_due_on=today + datetime.timedelta(days=rng.randint(0, 21)),
        )
        steps[referred % len(steps)](referral, users[f"{to_key}.caseworker"])
        referred += 1
    return created


MEASURES = [
    ("Integrationskurs B1 (Vormittag)", "integration_course", "Deutsch", 20, 14),
    ("Integrationskurs mit Alphabetisierung", "integration_course", "Deutsch, Arabisch", 15, 30),
    ("Berufssprachkurs B2 Pflege", "language_course", "Deutsch", 18, 45),
    ("Aktivierung auf Arabisch: Arbeitsmarkt kennenlernen", "activation", "Arabisch", 12, 7),
    ("Orientierungskurs Ukrainisch-Deutsch", "counselling", "Ukrainisch, Deutsch", 16, 21),
    ("Qualifizierung Lagerlogistik mit Staplerschein", "qualification", "Deutsch, Dari", 10, 60),
]


def create_demo_plans(agencies: dict[str, Agency], users: dict[str, User], *, count: int = 60) -> None:
    """Courses at the adult-education centre, and profiles, plans and enrolments for the jobcenter's clients."""
    rng = random.Random(2027)  # noqa: S311 (demo data, not security)
    today = timezone.localdate()
    provider = users["kvhs.caseworker"]
    measures = [
        services.measure_create(
            actor=provider,
            provider=agencies["kvhs"],
            title=title,
            kind=kind,
            languages=languages,
            location="Nordhorn, Kreisvolkshochschule",
            starts_on=today + datetime.timedelta(days=starts_in),
            ends_on=today + datetime.timedelta(days=starts_in + 180),
            seats=seats,
        )
        for title, kind, languages, seats, starts_in in MEASURES
    ]
    caseworker = users["jobcenter.caseworker"]
    persons = Person.objects.filter(case_files__agency=agencies["jobcenter"]).order_by("pk")[:count]
    for index, person in enumerate(persons):
        languages = LANGUAGE_SETS[index % len(LANGUAGE_SETS)]
        services.profile_create(
            actor=caseworker,
            person=person,
            languages=[{"language": name, "level": level} for name, level in languages],
            qualifications=[QUALIFICATIONS[index % len(QUALIFICATIONS)]],
            work_experience=[{"occupation": "Verkauf", "country": "Herkunftsland", "years": rng.randint(1, 12)}],
            wishes="Arbeit im erlernten Beruf, Führerschein",
            childcare_needs="Kita-Platz für ein Kind" if index % 3 == 0 else "",
            assessment="Motiviert, braucht zuerst Sprachkurs auf B1.",
        )
        plan = services.plan_create(
            actor=caseworker,
            person=person,
            goals="Deutsch auf B1, danach Ausbildung oder Anerkennung des Abschlusses",
            plain_summary="Sie lernen Deutsch bis B1. Danach suchen wir zusammen eine Ausbildung oder Arbeit.",
            review_on=today + datetime.timedelta(days=rng.randint(-10, 90)),
        )
        course_start = today - datetime.timedelta(days=rng.randint(0, 90))
        services.plan_step_add(
            actor=caseworker,
            plan=plan,
            kind="integration_course",
            title="Integrationskurs B1",
            owner_agency=agencies["kvhs"],
            starts_on=course_start,
            due_on=course_start + datetime.timedelta(days=rng.randint(60, 200)),
        )
        services.plan_step_add(
            actor=caseworker,
            plan=plan,
            kind="counselling",
            title="Berufsberatung bei der Agentur für Arbeit",
            owner_agency=agencies["arbeitsagentur"],
            due_on=today + datetime.timedelta(days=rng.randint(30, 150)),
        )
        if index % 2 == 0:
            services.plan_agree(
                actor=caseworker, plan=plan, agreed_on=today - datetime.timedelta(days=rng.randint(1, 60))
            )
        services.enrollment_request(actor=caseworker, measure=measures[index % len(measures)], person=person)


# Courses that ran in the past year, by title, kind, seats and how many days ago they started; each
# lasts 150 days.
PAST_MEASURES = [
    ("Integrationskurs B1 (Frühjahr)", "integration_course", 20, 330),
    ("Berufssprachkurs B2 Handwerk", "language_course", 16, 250),
    ("Aktivierung: Bewerbungstraining", "activation", 12, 200),
    ("Integrationskurs A2 (Sommer)", "integration_course", 20, 120),
]
PAST_MEASURE_DAYS = 150
OUTCOME_KINDS = [
    ("job", "Arbeit als Lagerhelfer"),
    ("internship", "Praktikum Pflege"),
    ("apprenticeship", "Ausbildung"),
]
# Days an agency takes to answer a referral: mostly within the week, some much later.
ANSWER_DAYS = [1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 9, 12, 16, 24]


def create_demo_history(agencies: dict[str, Agency], users: dict[str, User]) -> None:
    """A year of the county's past, so that the figures by month, the answer times and the waiting
    times show what they would in a real county: the cases are opened over the past year (never
    before the person arrived), referrals sent and answered days apart, past courses attended and
    completed, and some plans reach a job, an internship or an apprenticeship.

    The courses, seats and outcomes go through the services; the dates of cases and referrals,
    which the services set to the present moment, are then moved back, as an import of old records
    would set them.
    """
    rng = random.Random(2028)  # noqa: S311 (demo data, not security)
    now = timezone.now()
    opened = _open_cases_over_the_year(agencies, rng, now)
    _date_referrals(opened, rng, now)
    _past_courses(agencies, users, rng)
    _outcomes(agencies, users, rng)


def _open_cases_over_the_year(
    agencies: dict[str, Agency], rng: random.Random, now: datetime.datetime
) -> dict[tuple[int, int], datetime.datetime]:
    files = list(CaseFile.objects.filter(agency__in=agencies.values()).select_related("person"))
    latest = now - datetime.timedelta(days=7)
    for file in files:
        arrival = file.person.arrival_date or latest.date()
        earliest = max(_nine_oclock(arrival + datetime.timedelta(days=14)), now - datetime.timedelta(days=360))
        span = max((latest - earliest).total_seconds(), 0)
        file.opened_at = min(earliest + datetime.timedelta(seconds=rng.random() * span), latest)
    CaseFile.objects.bulk_update(files, ["opened_at"])
    return {(file.person_id, file.agency_id): file.opened_at for file in files}


def _date_referrals(
    opened: dict[tuple[int, int], datetime.datetime], rng: random.Random, now: datetime.datetime
) -> None:
    referrals = list(Referral.objects.filter(sent_at__isnull=False, person_id__in={key[0] for key in opened}))
    history: dict[int, list[ReferralStatusChange]] = {}
    for change in ReferralStatusChange.objects.filter(referral__in=referrals):
        history.setdefault(change.referral_id, []).append(change)
    for referral in referrals:
        assert referral.sent_at is not None  # noqa: S101 (filtered above)
        start = opened.get((referral.person_id, referral.from_agency_id), now - datetime.timedelta(days=30))
        sent = min(start + datetime.timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 6)), now)
        answered_old = referral.answered_at or referral.closed_at
        answered = min(sent + datetime.timedelta(days=rng.choice(ANSWER_DAYS), hours=rng.randint(0, 5)), now)
        sent_shift, answer_shift = sent - referral.sent_at, answered - (answered_old or referral.sent_at)
        for change in history.get(referral.pk, []):
            later = answered_old is not None and change.at >= answered_old
            change.at += answer_shift if later else sent_shift
        referral.created_at += sent_shift
        referral.sent_at = sent
        if answered_old is not None:
            referral.answer_due_on = (sent + datetime.timedelta(days=14)).date()
            if referral.answered_at is not None:
                referral.answered_at = answered
            if referral.closed_at is not None:
                referral.closed_at += answer_shift
    Referral.objects.bulk_update(referrals, ["created_at", "sent_at", "answered_at", "closed_at", "answer_due_on"])
    ReferralStatusChange.objects.bulk_update([c for changes in history.values() for c in changes], ["at"])


def _past_courses(agencies: dict[str, Agency], users: dict[str, User], rng: random.Random) -> None:
    today = timezone.localdate()
    provider, caseworker = users["kvhs.caseworker"], users["jobcenter.caseworker"]
    persons = list(Person.objects.filter(case_files__agency=agencies["jobcenter"]).order_by("pk"))
    for title, kind, seats, days_ago in PAST_MEASURES:
        starts_on = today - datetime.timedelta(days=days_ago)
        measure = services.measure_create(
            actor=provider,
            provider=agencies["kvhs"],
            title=title,
            kind=kind,
            languages="Deutsch",
            location="Nordhorn, Kreisvolkshochschule",
            starts_on=starts_on,
            ends_on=starts_on + datetime.timedelta(days=PAST_MEASURE_DAYS),
            seats=seats,
        )
        arrived = [p for p in persons if p.arrival_date and p.arrival_date < starts_on]
        seated = [
            services.enrollment_request(actor=caseworker, measure=measure, person=person)
            for person in rng.sample(arrived, min(seats, len(arrived)))
        ]
        if days_ago > PAST_MEASURE_DAYS:
            for enrollment in seated:
                if rng.random() < 0.85:
                    services.enrollment_complete(actor=provider, enrollment=enrollment)
        services.measure_update(actor=provider, measure=measure, is_open=False)


def _outcomes(agencies: dict[str, Agency], users: dict[str, User], rng: random.Random) -> None:
    today = timezone.localdate()
    caseworker = users["jobcenter.caseworker"]
    plans = Plan.objects.filter(person__case_files__agency=agencies["jobcenter"]).order_by("pk")
    for index, plan in enumerate(plans):
        if index % 3:
            continue
        kind, title = OUTCOME_KINDS[index % len(OUTCOME_KINDS)]
        services.plan_step_add(
            actor=caseworker,
            plan=plan,
            kind=kind,
            title=title,
            owner_agency=agencies["arbeitsagentur"],
            starts_on=today - datetime.timedelta(days=rng.randint(5, 300)),
            status=StepStatus.DONE,
        )


def _nine_oclock(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


def _run(actor: User, referral: Referral, *actions: str) -> Referral:
    for action in actions:
        referral = services.referral_transition(actor=actor, referral=referral, action=action)
    return referral


def _complete(actor: User, referral: Referral, rng: random.Random) -> Referral:
    if rng.random() < 0.7:
        return services.referral_transition(actor=actor, referral=referral, action="complete", outcome="successful")
    return services.referral_transition(
        actor=actor,
        referral=referral,
        action="complete",
        outcome="not_successful",
        outcome_reason=rng.choice(["client_refused_services", "lack_of_capacity", "unable_to_contact_client"]),
    )


def delete_demo_cases(agencies: list[Agency]) -> None:
    """Remove the cases of the demo agencies (for ``demo_county --reset``); audit rows stay."""
    from referrals import models

    persons = list(Person.objects.filter(case_files__agency__in=agencies).values_list("pk", flat=True).distinct())
    households = list(models.Household.objects.filter(members__in=persons).values_list("pk", flat=True))
    models.Referral.objects.filter(person__in=persons).update(share=None, redirected_to=None)
    for model in (
        models.Referral,
        models.Share,
        models.Enrollment,
        models.ResponsibilityTransfer,
        models.Plan,
        models.Profile,
        models.RecognitionProcedure,
        models.Consent,
        models.CaseFile,
    ):
        model.objects.filter(person__in=persons).delete()
    models.Measure.objects.filter(provider__in=agencies).delete()
    Person.objects.filter(pk__in=persons).delete()
    models.Household.objects.filter(pk__in=households).delete()
