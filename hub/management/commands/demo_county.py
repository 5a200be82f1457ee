"""Builds the invented county "Landkreis Musterland" for the demo, through the services.

Seven agencies, every role in each of them, two round tables and one former
colleague whose membership has ended. Everyone shares one password, so that a
visitor can try each role. Running it again changes nothing; ``--reset``
removes the demo county first and is refused outside a SQLite or DEBUG setup,
because it deletes accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import ProtectedError, QuerySet

from agencies import services
from agencies.models import Agency, AgencyKind, Invitation, Role, Staff, User, Workspace, WorkspaceMembership
from housing.demo import create_demo_housing, delete_demo_housing
from messaging.demo import create_demo_meetings, delete_demo_meetings
from referrals.demo import create_demo_cases, create_demo_history, create_demo_plans, delete_demo_cases

DEMO_PASSWORD = "demo-passwort-2026"  # noqa: S105 (the published demo password)
COUNTY = "Landkreis Musterland"
MAIL_DOMAIN = "landkreis-musterland.example"


@dataclass(frozen=True)
class DemoAgency:
    key: str
    name: str
    short_name: str
    kind: str
    street: str
    postcode: str
    city: str
    email: str
    phone: str
    website: str


@dataclass(frozen=True)
class DemoPerson:
    agency: str
    role: str  # a Role value, or "" for read-only
    first_name: str
    last_name: str
    job_title: str
    extension: str


AGENCIES = [
    DemoAgency(
        "jobcenter",
        "Jobcenter Landkreis Musterland",
        "Jobcenter",
        AgencyKind.JOBCENTER,
        "Bahnhofstraße 12",
        "49999",
        "Musterstadt",
        f"jobcenter@{MAIL_DOMAIN}",
        "04711 9300-0",
        f"https://www.{MAIL_DOMAIN}/jobcenter",
    ),
    DemoAgency(
        "sozialamt",
        "Sozialamt Landkreis Musterland",
        "Sozialamt",
        AgencyKind.SOCIAL_OFFICE,
        "Am Kreishaus 1",
        "49999",
        "Musterstadt",
        f"sozialamt@{MAIL_DOMAIN}",
        "04711 820-500",
        f"https://www.{MAIL_DOMAIN}/soziales",
    ),
    DemoAgency(
        "jugendamt",
        "Jugendamt Landkreis Musterland",
        "Jugendamt",
        AgencyKind.YOUTH_OFFICE,
        "Am Kreishaus 1",
        "49999",
        "Musterstadt",
        f"jugendamt@{MAIL_DOMAIN}",
        "04711 820-510",
        f"https://www.{MAIL_DOMAIN}/jugend",
    ),
    DemoAgency(
        "abh",
        "Ausländerbehörde Landkreis Musterland",
        "Ausländerbehörde",
        AgencyKind.IMMIGRATION_AUTHORITY,
        "Schlossplatz 3",
        "49999",
        "Musterstadt",
        f"auslaenderbehoerde@{MAIL_DOMAIN}",
        "04711 820-330",
        f"https://www.{MAIL_DOMAIN}/auslaenderbehoerde",
    ),
    DemoAgency(
        "arbeitsagentur",
        "Agentur für Arbeit Musterstadt",
        "Agentur für Arbeit",
        AgencyKind.EMPLOYMENT_AGENCY,
        "Industriestraße 40",
        "49999",
        "Musterstadt",
        "musterstadt@arbeitsagentur.example",
        "04711 880-0",
        "https://www.arbeitsagentur.example/musterstadt",
    ),
    DemoAgency(
        "bbs",
        "Berufsbildende Schulen Musterstadt",
        "BBS",
        AgencyKind.VOCATIONAL_SCHOOL,
        "Schulstraße 21",
        "49998",
        "Musterstadt",
        "sekretariat@bbs-musterstadt.example",
        "04711 7720-0",
        "https://www.bbs-musterstadt.example",
    ),
    DemoAgency(
        "kvhs",
        "Kreisvolkshochschule Musterland",
        "KVHS",
        AgencyKind.COURSE_PROVIDER,
        "Lindenallee 7",
        "49997",
        "Neudorf am See",
        f"kvhs@{MAIL_DOMAIN}",
        "04712 6180-0",
        "https://www.kvhs-musterland.example",
    ),
]

# Usernames are "<agency>.<role>", so that a visitor finds each role without a list.
ROLE_SLUGS = {
    Role.CASEWORKER.value: "caseworker",
    Role.COORDINATOR.value: "coordinator",
    Role.HOUSING_OFFICER.value: "housing",
    Role.AGENCY_ADMIN.value: "admin",
    Role.DATA_PROTECTION_OFFICER.value: "dpo",
    "": "readonly",
}

PEOPLE = [
    DemoPerson("jobcenter", "agency_admin", "Sabine", "Krüger", "Teamleitung Markt und Integration", "101"),
    DemoPerson("jobcenter", "caseworker", "Mehmet", "Yılmaz", "Integrationsfachkraft", "214"),
    DemoPerson("jobcenter", "coordinator", "Katharina", "Vogt", "Koordinatorin Migration", "120"),
    DemoPerson("jobcenter", "housing_officer", "Thomas", "Brandt", "Sachbearbeiter Kosten der Unterkunft", "305"),
    DemoPerson("jobcenter", "", "Lena", "Hoffmann", "Auszubildende", "199"),
    DemoPerson("jobcenter", "data_protection_officer", "Gabriele", "Wagner", "Datenschutzbeauftragte", "180"),
    DemoPerson("sozialamt", "agency_admin", "Frank", "Meyer", "Fachbereichsleitung Soziales", "501"),
    DemoPerson("sozialamt", "caseworker", "Julia", "Schäfer", "Sachbearbeiterin AsylbLG", "523"),
    DemoPerson("sozialamt", "coordinator", "Andreas", "Lange", "Integrationskoordinator", "530"),
    DemoPerson("sozialamt", "housing_officer", "Petra", "Wolff", "Unterbringung und Wohnraum", "541"),
    DemoPerson("sozialamt", "", "Jonas", "Becker", "Verwaltungspraktikant", "599"),
    DemoPerson("sozialamt", "data_protection_officer", "Rainer", "Hofmann", "Datenschutzbeauftragter", "560"),
    DemoPerson("jugendamt", "agency_admin", "Claudia", "Neumann", "Leitung Allgemeiner Sozialer Dienst", "511"),
    DemoPerson("jugendamt", "caseworker", "Daniel", "Schröder", "Sozialarbeiter ASD", "514"),
    DemoPerson("jugendamt", "coordinator", "Miriam", "Haas", "Koordination unbegleitete Minderjährige", "516"),
    DemoPerson("jugendamt", "housing_officer", "Stefan", "Krause", "Jugendwohnen und Pflegefamilien", "518"),
    DemoPerson("jugendamt", "", "Anja", "Zimmermann", "Teamassistenz", "519"),
    DemoPerson("jugendamt", "data_protection_officer", "Ute", "Schmitt", "Datenschutzbeauftragte", "520"),
    DemoPerson("abh", "agency_admin", "Ralf", "Hartmann", "Leitung Ausländerbehörde", "331"),
    DemoPerson("abh", "caseworker", "Nadine", "Koch", "Sachbearbeiterin Aufenthaltsrecht", "334"),
    DemoPerson("abh", "coordinator", "Oliver", "Busch", "Koordination Beschäftigungsduldung", "336"),
    DemoPerson("abh", "housing_officer", "Birgit", "Lorenz", "Wohnsitzregelung", "338"),
    DemoPerson("abh", "", "Tim", "Kaiser", "Registratur", "339"),
    DemoPerson("abh", "data_protection_officer", "Werner", "Klein", "Datenschutzbeauftragter", "340"),
    DemoPerson("arbeitsagentur", "agency_admin", "Markus", "Weber", "Teamleitung Arbeitsvermittlung", "4100"),
    DemoPerson("arbeitsagentur", "caseworker", "Aylin", "Demir", "Arbeitsvermittlerin", "4120"),
    DemoPerson("arbeitsagentur", "coordinator", "Christian", "Jung", "Beauftragter für Chancengleichheit", "4130"),
    DemoPerson("arbeitsagentur", "housing_officer", "Susanne", "Roth", "Berufsberatung Mobilität", "4140"),
    DemoPerson("arbeitsagentur", "", "Lukas", "Franke", "Eingangszone", "4150"),
    DemoPerson("arbeitsagentur", "data_protection_officer", "Sandra", "Wolf", "Datenschutzbeauftragte", "4160"),
    DemoPerson("bbs", "agency_admin", "Heike", "Schulz", "Schulleitung", "10"),
    DemoPerson("bbs", "caseworker", "Martin", "Böhm", "Lehrkraft Sprint-Klassen", "21"),
    DemoPerson("bbs", "coordinator", "Eva", "Winter", "Koordination Berufsvorbereitung", "22"),
    DemoPerson("bbs", "housing_officer", "Jan", "Peters", "Schulsozialarbeit", "23"),
    DemoPerson("bbs", "", "Karin", "Albrecht", "Sekretariat", "11"),
    DemoPerson("bbs", "data_protection_officer", "Bernd", "Lehmann", "Datenschutzbeauftragter", "12"),
    DemoPerson("kvhs", "agency_admin", "Monika", "Graf", "Geschäftsführung", "100"),
    DemoPerson("kvhs", "caseworker", "Yusuf", "Aydın", "Kursberatung Integrationskurse", "110"),
    DemoPerson("kvhs", "coordinator", "Sarah", "Engel", "Fachbereichsleitung Deutsch als Zweitsprache", "120"),
    DemoPerson("kvhs", "housing_officer", "Michael", "Fuchs", "Sozialpädagogische Begleitung", "130"),
    DemoPerson("kvhs", "", "Laura", "Simon", "Verwaltung", "140"),
    DemoPerson("kvhs", "data_protection_officer", "Ingrid", "Meier", "Datenschutzbeauftragte", "150"),
]

# Someone who has left the Jobcenter: shows how staff management keeps the history.
FORMER = DemoPerson("jobcenter", "caseworker", "Uwe", "Pohl", "Integrationsfachkraft (ausgeschieden)", "215")

WORKSPACES: list[dict[str, Any]] = [
    {
        "name": "Runder Tisch Integration",
        "purpose": (
            f"Monatliche Abstimmung der Ämter und Träger im {COUNTY}: Zuweisungen, Integrationspläne, "
            "Wohnraum und offene Fälle Geflüchteter."
        ),
        "coordinator": "sozialamt",
        "agencies": ["jobcenter", "jugendamt", "abh", "arbeitsagentur", "kvhs"],
    },
    {
        "name": "Team Arbeitsintegration Flüchtlinge",
        "purpose": "Sprachkurse, Berufsvorbereitung und Vermittlung in Ausbildung und Arbeit aus einer Hand.",
        "coordinator": "jobcenter",
        "agencies": ["arbeitsagentur", "kvhs", "bbs"],
    },
]

_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i"})


def username(person: DemoPerson) -> str:
    if person is FORMER:
        return f"{person.agency}.former"
    return f"{person.agency}.{ROLE_SLUGS[person.role]}"


def mail_address(person: DemoPerson, agency: DemoAgency) -> str:
    local = f"{person.first_name}.{person.last_name}".lower().translate(_TRANSLITERATION)
    return f"{local}@{agency.email.split('@', 1)[1]}"


def extension_phone(agency: DemoAgency, extension: str) -> str:
    base = agency.phone.rsplit("-", 1)[0] if "-" in agency.phone else agency.phone
    return f"{base}-{extension}"


def demo_agencies() -> QuerySet[Agency]:
    return Agency.objects.filter(name__in=[agency.name for agency in AGENCIES])


class Command(BaseCommand):
    help = f"Create the demo county '{COUNTY}' with agencies, staff and workspaces (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo county first. Only on SQLite or with DEBUG on.",
        )
        parser.add_argument("--persons", type=int, default=300, help="How many demo persons to create (300).")

    def handle(self, *args: Any, reset: bool = False, persons: int = 300, **options: Any) -> None:
        try:
            validate_password(DEMO_PASSWORD)
        except ValidationError as error:
            raise CommandError(f"The demo password fails the password validators: {error.messages}") from error
        if reset:
            if connection.vendor != "sqlite" and not settings.DEBUG:
                raise CommandError("--reset deletes accounts; it runs only on SQLite or with DEBUG on.")
            self.reset()
        if demo_agencies().exists():
            self.stdout.write(f"The demo county '{COUNTY}' exists already; nothing changed.")
        else:
            self.create(persons)
            self.stdout.write(self.style.SUCCESS(f"Created the demo county '{COUNTY}'."))
        self.print_logins()

    @transaction.atomic
    def reset(self) -> None:
        agencies = list(demo_agencies())
        staff = Staff.objects.filter(agency__in=agencies)
        users = set(staff.values_list("user_id", flat=True))
        demo_usernames = [username(person) for person in [*PEOPLE, FORMER]]
        users |= set(User.objects.filter(username__in=demo_usernames).values_list("pk", flat=True))
        try:
            delete_demo_meetings(list(Workspace.objects.filter(coordinator_agency__in=agencies)))
            delete_demo_housing(agencies)
            delete_demo_cases(agencies)
            Workspace.objects.filter(coordinator_agency__in=agencies).delete()
            WorkspaceMembership.objects.filter(agency__in=agencies).delete()
            Invitation.objects.filter(agency__in=agencies).delete()
            staff.delete()
            # Accounts that still belong to another agency are not the demo's to delete.
            User.objects.filter(pk__in=users, memberships__isnull=True).delete()
            groups = [agency.group_id for agency in agencies]
            Agency.objects.filter(pk__in=[agency.pk for agency in agencies]).delete()
            Group.objects.filter(pk__in=groups).delete()
        except ProtectedError as error:
            raise CommandError(
                f"The demo county is still referenced elsewhere ({error}); delete the demo database instead."
            ) from error
        self.stdout.write(f"Removed the demo county '{COUNTY}'.")

    @transaction.atomic
    def create(self, person_count: int) -> None:
        agencies = {
            spec.key: services.agency_create(
                actor=None,
                name=spec.name,
                short_name=spec.short_name,
                kind=spec.kind,
                street=spec.street,
                postcode=spec.postcode,
                city=spec.city,
                email=spec.email,
                phone=spec.phone,
                website=spec.website,
            )
            for spec in AGENCIES
        }
        specs = {spec.key: spec for spec in AGENCIES}
        # One hash for everyone: hashing 36 times would only slow the demo's start.
        password_hash = make_password(DEMO_PASSWORD)
        staff: dict[str, Staff] = {}
        for person in [*PEOPLE, FORMER]:
            spec = specs[person.agency]
            user = User(
                username=username(person),
                first_name=person.first_name,
                last_name=person.last_name,
                email=mail_address(person, spec),
                password=password_hash,
            )
            user.full_clean()
            user.save()
            staff[user.username] = services.staff_create(
                actor=None,
                agency=agencies[person.agency],
                user=user,
                roles=[person.role] if person.role else [],
                job_title=person.job_title,
                phone=extension_phone(spec, person.extension),
            )
        services.staff_deactivate(actor=staff["jobcenter.admin"].user, staff=staff[username(FORMER)])
        for workspace in WORKSPACES:
            services.workspace_create(
                actor=None,
                name=workspace["name"],
                purpose=workspace["purpose"],
                coordinator_agency=agencies[workspace["coordinator"]],
                agencies=[agencies[key] for key in workspace["agencies"]],
            )
        persons = create_demo_cases(agencies, {name: member.user for name, member in staff.items()}, count=person_count)
        users = {name: member.user for name, member in staff.items()}
        create_demo_plans(agencies, users, count=min(60, person_count))
        create_demo_history(agencies, users)
        self.stdout.write(f"Created {persons} persons with consents, referrals, profiles, plans and enrolments.")
        round_tables = list(Workspace.objects.filter(coordinator_agency=agencies["sozialamt"]))
        flats = create_demo_housing(agencies, users, round_tables)
        self.stdout.write(f"Created {flats} flats with rent limits, requests, reservations and tenancies.")
        meetings = create_demo_meetings(agencies, users, round_tables[0])
        self.stdout.write(f"Created {meetings} round-table meetings with minutes, decisions and action items.")

    def print_logins(self) -> None:
        rows = [("Username", "Name", "Agency", "Roles")]
        for member in (
            Staff.objects.filter(agency__in=demo_agencies(), is_active=True)
            .select_related("user", "agency")
            .order_by("user__username")
        ):
            roles = ", ".join(ROLE_SLUGS[role] for role in member.roles) or "readonly"
            rows.append((member.user.username, member.user.get_full_name(), member.agency.display_name, roles))
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for index, row in enumerate(rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
        self.stdout.write("")
        self.stdout.write(f"Open {settings.HUB_BASE_URL.rstrip('/')}/ and log in, e.g. as jobcenter.admin.")
