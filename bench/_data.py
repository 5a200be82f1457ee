"""The rows of the benchmark counties, written with PostgreSQL's COPY (used by ``bench/generate.py``).

Each county is generated from its own ``random.Random`` (seeded with the run's seed and the
county's number), so a county is the same whatever the number of worker processes, and gets its
own block of primary keys per table (``Plan.first_id``): counties load in parallel, in any order,
without asking the database for ids. Nothing here imports Django, so worker processes start fast;
``bench/generate.py`` and the tests hand in a psycopg connection.

What the services would write is written here directly, row for row, except the audit log, the
event outbox, notifications and comments (left empty for generated history):

- an agency with its Django group (``agency:<id>``); staff with ``user.groups`` holding the agency's
  group (deactivated staff without it), as ``staff_create``/``staff_deactivate`` leave them;
- a workspace with a membership for every agency and guardian's group grants: view for every
  member's group, manage for the coordinator's, as ``workspace_create`` leaves them;
- persons with the holding agency's open case file (``person_create``), a second open file at the
  jobcenter after a completed transfer (``transfer_complete``);
- for every sent referral its share (``referral_transition("send")``), ended when the referral
  ends in declined, expired, withdrawn or redirected, or when the consent it rests on is revoked;
  consent-based referrals rest on a consent that names the receiving agency and covers the
  categories; the status history has one row per step, as the services write it;
- flats of the social office, shared with the round table, with their history, reservations and
  tenancies; meetings with invitations, attendance, agenda, decisions, action items and frozen
  minutes.

Text values are written unescaped: every constant below is free of tabs, newlines and
backslashes (COPY's text format), which ``tests/bench/test_generate.py`` checks.
"""

from __future__ import annotations

import bisect
import datetime
import json
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from referrals.samples import LANGUAGE_SETS, QUALIFICATIONS

UTC = datetime.UTC
BERLIN = ZoneInfo("Europe/Berlin")
DAY = 86400
HOUR = 3600
NULL = "\\N"
# Rows of one table sent in one COPY.
CHUNK_ROWS = 40_000


# Scales ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Numbers per county; a scale of several counties repeats them for each."""

    name: str
    counties: int
    staff_per_agency: int
    persons: int
    referrals: int
    flats: int
    meetings: int


SCALES = {
    "tiny": Scale("tiny", counties=2, staff_per_agency=12, persons=80, referrals=200, flats=16, meetings=6),
    "county": Scale("county", 1, staff_per_agency=50, persons=20_000, referrals=60_000, flats=2_000, meetings=500),
    "state": Scale("state", 50, staff_per_agency=50, persons=20_000, referrals=60_000, flats=2_000, meetings=500),
}


# Tables ------------------------------------------------------------------------------------------
#
# The columns written, in the order of the values passed to ``Copier.add``. Every NOT NULL column
# is named (Django keeps defaults in Python, not in the database).

COLUMNS: dict[str, str] = {
    "auth_group": "id, name",
    "agencies_agency": "id, name, short_name, kind, street, postcode, city, email, phone, website, created_at, "
    "group_id, require_two_factor",
    "agencies_user": "id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, "
    "is_active, date_joined",
    "agencies_user_groups": "id, user_id, group_id",
    "agencies_staff": "id, is_caseworker, is_coordinator, is_housing_officer, is_agency_admin, "
    "is_data_protection_officer, job_title, phone, is_active, joined_at, deactivated_at, agency_id, "
    "deactivated_by_id, user_id",
    "agencies_workspace": "id, name, purpose, is_archived, created_at, coordinator_agency_id",
    "agencies_workspacemembership": "id, joined_at, added_by_id, agency_id, workspace_id",
    "agencies_workspacegroupobjectpermission": "id, content_object_id, group_id, permission_id",
    "referrals_household": "id, reference, name, created_at",
    "referrals_person": "id, reference, first_name, last_name, birth_date, nationality, gender, street, postcode, "
    "city, phone, email, arrival_date, residence_status, residence_permit_until, residence_obligation, "
    "health_notes, benefit_scheme, benefits_since, responsible_since, created_at, household_id, merged_into_id, "
    "responsible_agency_id",
    "referrals_casefile": "id, opened_at, closed_at, agency_id, case_manager_id, opened_by_id, person_id",
    "referrals_consent": "id, categories, purpose, valid_from, valid_until, text_version, document, recorded_at, "
    "revoked_at, recorded_by_id, recorded_by_agency_id, revoked_by_id, person_id",
    "referrals_consent_recipients": "id, consent_id, agency_id",
    "referrals_share": "id, categories, legal_basis, basis_reason, created_at, ended_at, consent_id, "
    "created_by_id, from_agency_id, person_id, to_agency_id",
    "referrals_referral": "id, reference, reason, urgency, categories, legal_basis, basis_reason, answer_due_on, "
    "status, outcome, outcome_reason, status_note, created_at, sent_at, answered_at, closed_at, consent_id, "
    "created_by_id, from_agency_id, measure_id, person_id, redirected_to_id, to_agency_id, share_id",
    "referrals_referralstatuschange": "id, from_status, to_status, note, at, actor_id, agency_id, referral_id",
    "referrals_responsibilitytransfer": "id, effective_on, new_benefit_scheme, checklist, note, status, "
    "proposed_at, decided_at, decided_by_id, from_agency_id, person_id, proposed_by_id, to_agency_id",
    "referrals_profile": "id, version, languages, qualifications, work_experience, wishes, childcare_needs, "
    "assessment, created_at, agency_id, created_by_id, person_id",
    "referrals_plan": "id, goals, plain_summary, status, agreed_on, review_on, created_at, updated_at, agency_id, "
    "created_by_id, person_id",
    "referrals_planstep": "id, position, kind, title, starts_on, due_on, status, notes, owner_agency_id, plan_id",
    "referrals_measure": "id, title, kind, description, languages, location, starts_on, ends_on, seats, is_open, "
    "created_at, provider_id",
    "referrals_enrollment": "id, status, waitlist_position, created_at, updated_at, created_by_id, "
    "requested_by_agency_id, measure_id, person_id",
    "referrals_recognitionprocedure": "id, qualification, country, reference_profession, competent_body, "
    "applied_on, decision, decided_on, gaps, bridging, created_at, agency_id, created_by_id, person_id",
    "housing_rentlimit": "id, comparison_area, household_size, max_gross_cold_rent, max_heating_costs, "
    "max_living_space, valid_from, created_at, agency_id, created_by_id",
    "housing_listing": "id, reference, title, street, postcode, city, district, comparison_area, rooms, "
    "living_space, floor, has_lift, accessibility, base_rent, running_costs, heating_costs, available_from, "
    "lease_holder, landlord_name, landlord_phone, landlord_email, description, status, created_at, updated_at, "
    "created_by_id, owner_agency_id",
    "housing_listingshare": "id, created_at, agency_id, created_by_id, listing_id, workspace_id",
    "housing_listingchange": "id, action, from_status, to_status, changes, note, at, actor_id, agency_id, listing_id",
    "housing_housingrequest": "id, household_size, accessibility_need, districts, wanted_from, note, status, "
    "created_at, decided_at, decision_note, decided_by_id, household_id, requested_by_id, requesting_agency_id, "
    "to_agency_id, listing_id",
    "housing_reservation": "id, household_size, status, expires_at, note, reserved_at, ended_at, agency_id, "
    "ended_by_id, household_id, listing_id, request_id, reserved_by_id",
    "housing_overlimitapproval": "id, household_size, gross_cold_rent, rent_limit, reason, approved_at, agency_id, "
    "approved_by_id, household_id, listing_id",
    "housing_tenancy": "id, household_size, status, lease_holder, move_in, move_out, gross_cold_rent, "
    "heating_costs, rent_limit, allocated_at, allocated_by_id, approval_id, household_id, listing_id, "
    "reservation_id",
    "messaging_meeting": "id, title, starts_at, ends_at, place, video_url, status, cancel_reason, minutes_status, "
    "created_at, updated_at, created_by_id, workspace_id",
    "messaging_meetinginvitation": "id, invited_at, agency_id, invited_by_id, meeting_id",
    "messaging_attendance": "id, present, note, recorded_at, agency_id, recorded_by_id, user_id, meeting_id",
    "messaging_agendaitem": "id, position, title, description, minutes, version, minutes_updated_at, created_at, "
    "minutes_updated_by_id, person_id, proposed_by_id, proposer_agency_id, referral_id, meeting_id",
    "messaging_decision": "id, text, created_at, agenda_item_id, recorded_by_id, referral_id",
    "messaging_actionitem": "id, title, due_on, status, note, completed_at, reminded_on, created_at, updated_at, "
    "carried_over_from_id, created_by_id, owner_id, owner_agency_id, person_id, referral_id, agenda_item_id, "
    "decision_id, meeting_id",
    "messaging_minutesversion": "id, number, status, content, reason, created_at, created_by_id, meeting_id",
}
TABLES = tuple(COLUMNS)


def strides(scale: Scale) -> dict[str, int]:
    """How many ids each county may use per table: generous upper bounds, checked as rows are made."""
    staff = scale.staff_per_agency * len(AGENCIES)
    p, r, f, m = scale.persons, scale.referrals, scale.flats, scale.meetings
    measures = measure_count(scale)
    return {
        "auth_group": len(AGENCIES),
        "agencies_agency": len(AGENCIES),
        "agencies_user": staff,
        "agencies_user_groups": staff,
        "agencies_staff": staff,
        "agencies_workspace": 1,
        "agencies_workspacemembership": len(AGENCIES),
        "agencies_workspacegroupobjectpermission": len(AGENCIES) + 1,
        "referrals_household": p,
        "referrals_person": p,
        "referrals_casefile": 2 * p,
        "referrals_consent": p,
        "referrals_consent_recipients": len(AGENCIES) * p,
        "referrals_share": r,
        "referrals_referral": r,
        "referrals_referralstatuschange": 8 * r,
        "referrals_responsibilitytransfer": p,
        "referrals_profile": 2 * p,
        "referrals_plan": p,
        "referrals_planstep": 6 * p,
        "referrals_measure": measures,
        "referrals_enrollment": measures * (MAX_SEATS + MAX_WAITLIST),
        "referrals_recognitionprocedure": p,
        "housing_rentlimit": 2 * len(COMPARISON_AREAS) * len(RENT_LIMITS),
        "housing_listing": f,
        "housing_listingshare": f,
        "housing_listingchange": 8 * f,
        "housing_housingrequest": f,
        "housing_reservation": f,
        "housing_overlimitapproval": f,
        "housing_tenancy": f,
        "messaging_meeting": m,
        "messaging_meetinginvitation": len(AGENCIES) * m,
        "messaging_attendance": len(AGENCIES) * m,
        "messaging_agendaitem": MAX_AGENDA * m,
        "messaging_decision": MAX_AGENDA * m,
        "messaging_actionitem": MAX_ACTIONS * m,
        "messaging_minutesversion": 2 * m,
    }


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs to generate any county of the run; picklable."""

    scale: Scale
    seed: int
    now: int  # the run's moment, seconds since the epoch
    password_hash: str  # BENCH_PASSWORD hashed once, the same string for every account
    view_permission: int  # auth_permission ids of the workspace grants
    manage_permission: int
    bases: dict[str, int]  # the highest id of each table before the run
    strides: dict[str, int]

    @property
    def today(self) -> int:
        """Today in the hub's time zone, as a date ordinal."""
        return datetime.datetime.fromtimestamp(self.now, BERLIN).date().toordinal()

    def first_id(self, table: str, county: int) -> int:
        """The id before the county's first row of ``table``."""
        return self.bases[table] + (county - 1) * self.strides[table]


def make_plan(
    conn: psycopg.Connection[Any], scale: Scale, *, seed: int, password_hash: str, now: float | None = None
) -> Plan:
    """Read what the run depends on from the database: the highest ids and the permission ids."""
    with conn.cursor() as cur:
        bases = {}
        for table in TABLES:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (our own table names)
            row = cur.fetchone()
            bases[table] = int(row[0]) if row else 0
        cur.execute(
            "SELECT p.codename, p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id "
            "WHERE t.app_label = 'agencies' AND t.model = 'workspace' "
            "AND p.codename IN ('view_workspace', 'manage_workspace')"
        )
        permissions = dict(cur.fetchall())
    if len(permissions) != 2:
        raise RuntimeError("The workspace permissions are missing: run the migrations first.")
    return Plan(
        scale=scale,
        seed=seed,
        now=int(now if now is not None else time.time()),
        password_hash=password_hash,
        view_permission=permissions["view_workspace"],
        manage_permission=permissions["manage_workspace"],
        bases=bases,
        strides=strides(scale),
    )


# Writing -----------------------------------------------------------------------------------------


class Copier:
    """Collects the rows of each table and sends them with COPY, ``CHUNK_ROWS`` at a time.

    ``threaded``: a thread of its own sends the chunks, so that PostgreSQL takes in one chunk while
    Python makes the next. The connection is then the thread's until ``close``.
    """

    def __init__(self, conn: psycopg.Connection[Any], *, threaded: bool = False) -> None:
        self.conn = conn
        self.rows: Counter[str] = Counter()
        self._lines: dict[str, list[str]] = {}
        self._queue: queue.Queue[tuple[str, str] | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=6)
            self._thread = threading.Thread(target=self._send_queued, name="copier", daemon=True)
            self._thread.start()

    def add(self, table: str, *values: str) -> None:
        lines = self._lines.get(table)
        if lines is None:
            lines = self._lines[table] = []
        lines.append("\t".join(values))
        if len(lines) >= CHUNK_ROWS:
            self.flush(table)

    def flush(self, table: str) -> None:
        lines = self._lines.pop(table, None)
        if not lines:
            return
        self.rows[table] += len(lines)
        data = "\n".join(lines) + "\n"
        if self._queue is None:
            self._copy(table, data)
            return
        if self._error is not None:
            raise RuntimeError("COPY failed") from self._error
        self._queue.put((table, data))

    def close(self) -> None:
        """Send what is left and wait until PostgreSQL has taken everything."""
        for table in list(self._lines):
            self.flush(table)
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        if self._error is not None:
            raise RuntimeError("COPY failed") from self._error

    def _copy(self, table: str, data: str) -> None:
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
            copy.write(data)

    def _send_queued(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self._copy(*item)
                except BaseException as error:  # handed to the generating thread by flush and close
                    self._error = error


class Ids:
    """The county's ids of one table: consecutive from its block, never beyond it."""

    __slots__ = ("last", "limit", "table")

    def __init__(self, plan: Plan, table: str, county: int) -> None:
        self.table = table
        self.last = plan.first_id(table, county)
        self.limit = self.last + plan.strides[table]

    def __call__(self) -> int:
        self.last += 1
        if self.last > self.limit:
            raise RuntimeError(f"{self.table}: more rows than the county's block of ids allows")
        return self.last


# Values ------------------------------------------------------------------------------------------


def ts(moment: float) -> str:
    return datetime.datetime.fromtimestamp(int(moment), UTC).isoformat(sep=" ")


def opt_ts(moment: float | None) -> str:
    return NULL if moment is None else ts(moment)


def day(ordinal: int) -> str:
    return datetime.date.fromordinal(ordinal).isoformat()


def opt_day(ordinal: int | None) -> str:
    return NULL if ordinal is None else day(ordinal)


def opt(value: int | None) -> str:
    return NULL if value is None else str(value)


def flag(value: bool) -> str:
    return "t" if value else "f"


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def money(value: float) -> str:
    return f"{value:.2f}"


ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# A different odd multiplier per prefix: the map from id to reference is a bijection on 40 bits, so
# references are unique (8 characters of 5 bits) yet look as random as the services' ones.
_SCRAMBLE = {"P": 0x9E3779B97F, "R": 0xC2B2AE3D27, "H": 0x165667B199, "W": 0x27D4EB2F16}


def reference(prefix: str, number: int) -> str:
    value = (number * (_SCRAMBLE[prefix] | 1)) & 0xFFFFFFFFFF
    chars = []
    for _ in range(8):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}-{''.join(chars)}"


def local_moment(ordinal: int, hour: int, minute: int = 0) -> int:
    """Seconds since the epoch of a wall-clock time in Berlin."""
    moment = datetime.datetime.combine(datetime.date.fromordinal(ordinal), datetime.time(hour, minute), BERLIN)
    return int(moment.timestamp())


def ordinal_of(moment: float) -> int:
    return datetime.datetime.fromtimestamp(moment, BERLIN).date().toordinal()


# The county's agencies, staff and their usernames ---------------------------------------------

# key (in usernames), AgencyKind value, name (of the county or its seat), short name
AGENCIES = (
    ("jobcenter", "jobcenter", "Jobcenter {county}", "Jobcenter"),
    ("sozialamt", "social_office", "Sozialamt {county}", "Sozialamt"),
    ("jugendamt", "youth_office", "Jugendamt {county}", "Jugendamt"),
    ("abh", "immigration_authority", "Ausländerbehörde {county}", "Ausländerbehörde"),
    ("arbeitsagentur", "employment_agency", "Agentur für Arbeit {town}", "Agentur für Arbeit"),
    ("bbs", "vocational_school", "Berufsbildende Schulen {town}", "BBS"),
    ("kvhs", "course_provider", "Kreisvolkshochschule {county}", "KVHS"),
    ("mbe", "other", "Migrationsberatung für Erwachsene {county}", "Migrationsberatung"),
)
AGENCY_KEYS = tuple(key for key, *_ in AGENCIES)
COORDINATING_AGENCY = "sozialamt"  # runs the round table and manages the county's flats

# Username codes of the roles (Role values; "" is read-only, "former" a deactivated membership).
ROLE_CODES = {
    "caseworker": "cw",
    "coordinator": "co",
    "housing_officer": "ho",
    "agency_admin": "ad",
    "data_protection_officer": "dpo",
    "": "ro",
    "former": "fm",
}
JOB_TITLES = {
    "caseworker": "Fallmanagement",
    "coordinator": "Koordination Runder Tisch",
    "housing_officer": "Wohnraumvermittlung",
    "agency_admin": "Verwaltung",
    "data_protection_officer": "Datenschutzbeauftragte/r",
    "": "Sachbearbeitung (lesend)",
    "former": "Fallmanagement",
}


def staff_roles(key: str, size: int) -> list[tuple[str, int]]:
    """How many staff of each role an agency of ``size`` has: mostly caseworkers."""
    housing = {"sozialamt": max(1, size // 10), "jobcenter": max(1, size // 25)}.get(key, 0)
    plan = [
        ("agency_admin", max(1, size // 25)),
        ("data_protection_officer", 1),
        ("coordinator", max(1, round(size * 0.06))),
        ("housing_officer", housing),
        ("", max(1, round(size * 0.08))),
        ("former", 1 if size >= 10 else 0),
    ]
    rest = size - sum(n for _, n in plan)
    if rest < 3:
        raise ValueError(f"An agency of {size} staff leaves too few caseworkers.")
    return [("caseworker", rest), *plan]


def username(county: int, key: str, role: str, number: int) -> str:
    return f"c{county:02d}.{key}.{ROLE_CODES[role]}{number:03d}"


COUNTY_TOWNS = [
    "Altenbrück", "Birkenau", "Hohenfeld", "Kirchdorf", "Lindholt", "Neudorf", "Eichstedt", "Wiesental",
    "Rosenhagen", "Sandbek", "Moorburg", "Heidekamp", "Bergfelde", "Tannhausen", "Ulmenried", "Falkenstein",
    "Grünwalde", "Haselbach", "Ilmenhorst", "Jägersdorf", "Kranichfeld", "Lerchenau", "Mühlhagen", "Nesselrode",
    "Ottersberg", "Pappelau", "Quellenstedt", "Rabenholz", "Schwanenfeld", "Trappenkamp", "Uhlenbusch",
    "Vogelsang", "Wolfsried", "Zeisigtal", "Ahornfeld", "Buchenhain", "Dornstedt", "Erlenbruch", "Fichtenau",
    "Ginsterheide", "Holunderhof", "Immenstedt", "Kastanienau", "Lindenbrook", "Marschhausen", "Nordwalde",
    "Ostmoor", "Priggenhagen", "Riedhausen", "Steinbek",
]  # fmt: skip


def county_names(county: int) -> tuple[str, str]:
    """The county's name and its seat; beyond the list, numbered."""
    town = COUNTY_TOWNS[(county - 1) % len(COUNTY_TOWNS)]
    if county > len(COUNTY_TOWNS):
        town = f"{town} {county}"
    return f"Landkreis {town}", town


STAFF_FIRST = [
    "Sabine", "Mehmet", "Katharina", "Thomas", "Gabriele", "Lena", "Frank", "Julia", "Andreas", "Petra",
    "Rainer", "Jonas", "Claudia", "Daniel", "Miriam", "Stefan", "Ute", "Anja", "Ralf", "Nadine", "Oliver",
    "Birgit", "Werner", "Tim", "Markus", "Aylin", "Christian", "Susanne", "Sandra", "Lukas", "Heike", "Martin",
    "Eva", "Jan", "Bernd", "Karin", "Monika", "Yusuf", "Sarah", "Michael", "Ingrid", "Laura",
]  # fmt: skip
STAFF_LAST = [
    "Krüger", "Yılmaz", "Vogt", "Brandt", "Wagner", "Hoffmann", "Meyer", "Schäfer", "Lange", "Wolff", "Hofmann",
    "Becker", "Neumann", "Schröder", "Haas", "Krause", "Schmitt", "Zimmermann", "Hartmann", "Koch", "Busch",
    "Lorenz", "Klein", "Kaiser", "Weber", "Demir", "Jung", "Roth", "Wolf", "Franke", "Schulz", "Böhm", "Winter",
    "Peters", "Lehmann", "Albrecht", "Graf", "Aydın", "Engel", "Fuchs", "Meier", "Simon",
]  # fmt: skip


# Persons -----------------------------------------------------------------------------------------

# origin: nationality, (female first names), (male first names), (last names)
ORIGINS = {
    "sy": ("syrisch", ("Amina", "Fatima", "Layla", "Mariam", "Zainab", "Nour", "Rania", "Hiba", "Aisha", "Salma"),
           ("Ahmad", "Mohammed", "Omar", "Hassan", "Ali", "Khaled", "Samir", "Tarek", "Bilal", "Yusuf"),
           ("Haddad", "Al-Masri", "Khalil", "Darwish", "Nasser", "Hamdan", "Saleh", "Yousef", "Aziz", "Al-Jaber",
            "Ibrahim", "Mustafa", "Othman", "Suleiman", "Mansour", "Al-Hassan")),
    "ua": ("ukrainisch", ("Olena", "Iryna", "Natalia", "Tetiana", "Yulia", "Oksana", "Svitlana", "Halyna", "Inna"),
           ("Andrii", "Dmytro", "Oleksandr", "Serhii", "Maksym", "Viktor", "Bohdan", "Taras", "Ivan"),
           ("Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko", "Oliinyk", "Moroz",
            "Boiko", "Lysenko", "Marchenko", "Rudenko")),
    "af": ("afghanisch", ("Farida", "Shirin", "Mina", "Nasrin", "Zahra", "Parwin", "Soraya"),
           ("Abdul", "Habib", "Jamshid", "Wahid", "Mahmood", "Reza", "Nawid"),
           ("Ahmadi", "Hosseini", "Karimi", "Sultani", "Noori", "Popal", "Wardak", "Stanekzai", "Rahimi", "Safi")),
    "er": ("eritreisch", ("Semhar", "Helen", "Senait", "Selam", "Mehret", "Luwam"),
           ("Yonas", "Dawit", "Robel", "Tesfay", "Filmon", "Samuel"),
           ("Tesfamariam", "Gebremedhin", "Haile", "Kidane", "Tekle", "Berhane", "Yohannes", "Ghebre")),
    "iq": ("irakisch", ("Zahraa", "Huda", "Shaima", "Noor", "Ban"),
           ("Haidar", "Mustafa", "Karrar", "Ammar", "Yasir"),
           ("Al-Obaidi", "Al-Saadi", "Kadhim", "Jasim", "Hamid", "Al-Tamimi")),
    "tr": ("türkisch", ("Ayşe", "Zeynep", "Elif", "Emine", "Fatma"),
           ("Mehmet", "Emre", "Murat", "Hasan", "Mustafa"),
           ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Aydın", "Öztürk")),
    "ir": ("iranisch", ("Parisa", "Neda", "Leila", "Maryam", "Shabnam"),
           ("Amir", "Saeed", "Hamid", "Behnam", "Arash"),
           ("Moradi", "Jafari", "Rezaei", "Mohammadi", "Hashemi", "Ahmadi")),
}  # fmt: skip
ORIGIN_KEYS = tuple(ORIGINS)
# Who came when: the years 2015-2017 and 2022 brought most (Syria, Afghanistan; Ukraine).
ORIGIN_WEIGHTS_EARLY = (40, 2, 22, 10, 16, 4, 6)
ORIGIN_WEIGHTS_2022 = (8, 70, 8, 4, 3, 4, 3)
ORIGIN_WEIGHTS_OTHER = (25, 20, 22, 10, 8, 8, 7)

STREETS = [
    "Bahnhofstraße", "Lindenallee", "Am Markt", "Schulstraße", "Kirchweg", "Gartenstraße", "Mühlenweg",
    "Birkenweg", "Am Sportplatz", "Hauptstraße", "Dorfstraße", "Eschweg", "Wiesenstraße", "Am Kanal",
    "Rosenstraße", "Feldweg", "Ringstraße", "Amselweg", "Brückenstraße", "Marktplatz",
]  # fmt: skip
DISTRICT_SUFFIXES = ["-Mitte", "-Nord", "-Süd", "Neudorf", "Oberhagen", "Niederfeld", "Westerbrook", "Osterholz"]
RESIDENCE_STATUSES = {
    "asylblg": ("Aufenthaltsgestattung", "Duldung § 60a AufenthG"),
    "sgb_ii": ("Aufenthaltserlaubnis § 25 Abs. 2 AufenthG", "Aufenthaltserlaubnis § 24 AufenthG",
               "Aufenthaltserlaubnis § 25 Abs. 1 AufenthG", "Niederlassungserlaubnis"),
    "sgb_xii": ("Aufenthaltserlaubnis § 25 Abs. 2 AufenthG",),
    "none": ("Aufenthaltserlaubnis § 25 Abs. 2 AufenthG", "Aufenthaltsgestattung",
             "Aufenthaltserlaubnis § 24 AufenthG"),
}  # fmt: skip
HEALTH_NOTES = [
    "Schwerbehinderung (GdB 50), Gehhilfe",
    "Traumatherapie läuft, Termine dienstags",
    "Diabetes, regelmäßige Kontrolle beim Hausarzt",
    "Schwangerschaft, Entbindung im Frühjahr erwartet",
]

# The share of persons each agency holds; the youth office holds unaccompanied minors.
HOLDERS = ("jobcenter", "sozialamt", "jugendamt", "arbeitsagentur", "abh")
HOLDER_WEIGHTS = (55, 25, 7, 8, 5)
BENEFITS = {"jobcenter": "sgb_ii", "sozialamt": "asylblg", "jugendamt": "none", "arbeitsagentur": "none", "abh": "none"}


class P:
    """What the generator remembers of a person while it makes the county's other rows."""

    __slots__ = (
        "id",
        "holder",
        "manager",
        "opened",
        "arrival",
        "birth",
        "household",
        "transfer_at",
        "jobcenter_manager",
    )

    id: int
    holder: str  # the agency key of the first case file
    manager: int  # its case manager
    opened: int
    arrival: int  # date ordinals from here
    birth: int
    household: int | None
    transfer_at: int  # when the jobcenter took over (a second open case file), 0: never
    jobcenter_manager: int

    def __init__(self) -> None:
        self.household = None
        self.transfer_at = 0
        self.jobcenter_manager = 0


# Referrals ---------------------------------------------------------------------------------------

CATEGORIES = ("identity", "contact", "residence", "languages", "education", "work", "health", "benefits", "plan")
_BIT = {name: 1 << index for index, name in enumerate(CATEGORIES)}
_JSON_BY_MASK: dict[int, str] = {}


def categories_json(mask: int) -> str:
    """The JSON list of a set of categories (a bit mask), in the canonical order the services use."""
    found = _JSON_BY_MASK.get(mask)
    if found is None:
        found = _JSON_BY_MASK[mask] = json.dumps([c for c in CATEGORIES if mask & _BIT[c]])
    return found


# Where each holding agency refers to, with weights.
PARTNERS = {
    "jobcenter": (("arbeitsagentur", 25), ("kvhs", 30), ("bbs", 8), ("sozialamt", 6), ("jugendamt", 5),
                  ("abh", 12), ("mbe", 14)),
    "sozialamt": (("jobcenter", 30), ("kvhs", 25), ("abh", 15), ("jugendamt", 10), ("mbe", 15), ("bbs", 5)),
    "jugendamt": (("bbs", 30), ("kvhs", 25), ("sozialamt", 15), ("jobcenter", 10), ("mbe", 10), ("abh", 10)),
    "arbeitsagentur": (("jobcenter", 35), ("kvhs", 35), ("bbs", 30)),
    "abh": (("sozialamt", 40), ("jobcenter", 30), ("kvhs", 30)),
}  # fmt: skip
REASONS = {
    "arbeitsagentur": ("Berufsberatung und Vermittlung in Ausbildung", "Beratung zur Anerkennung des Berufsabschlusses",
                       "Vermittlung in Arbeit im Bereich Lager und Logistik"),
    "kvhs": ("Vermittlung in einen Integrationskurs (Zulassung liegt vor)",
             "Berufssprachkurs B2 für den Berufseinstieg", "Alphabetisierungskurs vor dem Integrationskurs"),
    "jobcenter": ("Klärung der Zuständigkeit nach Anerkennung als Flüchtling",
                  "Antrag auf Bürgergeld nach Rechtskreiswechsel"),
    "sozialamt": ("Unterbringung und Leistungen nach dem AsylbLG",
                  "Unterstützung bei der Wohnungssuche nach Zuweisung"),
    "jugendamt": ("Erziehungsberatung und Kita-Platz für zwei Kinder", "Hilfe für junge Volljährige (§ 41 SGB VIII)"),
    "abh": ("Verlängerung der Aufenthaltserlaubnis", "Antrag auf Aufhebung der Wohnsitzauflage"),
    "bbs": ("Aufnahme in die Sprach- und Integrationsklasse (SPRINT)", "Berufsvorbereitungsjahr mit Sprachförderung"),
    "mbe": ("Migrationsberatung: Unterstützung bei Anträgen", "Begleitung zur Schuldnerberatung"),
}  # fmt: skip
BASIS_REASONS = {
    "sgb_x_69": "Erforderlich für die Erfüllung der gesetzlichen Aufgabe der empfangenden Stelle",
    "sgb_x_71": "Mitteilungspflicht gegenüber der Ausländerbehörde",
    "sgb_ii_50": "Datenübermittlung im Rahmen der Arbeitsvermittlung",
    "sgb_iii_368": "Zusammenarbeit am Übergang Schule–Beruf (Jugendberufsagentur)",
    "aufenthg_87": "Unterrichtung der Ausländerbehörde nach § 87 AufenthG",
}
DECLINE_NOTES = ("Nicht zuständig", "Keine Kapazität in diesem Quartal", "Voraussetzungen nicht erfüllt")
FAIL_NOTES = ("Person ist nicht mehr erreichbar", "Maßnahme abgebrochen")
# Days an agency takes to answer: mostly within the week, some late (then the nightly job expires it).
ANSWER_DAYS = (0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10, 12, 13, 17)
NOT_SUCCESSFUL = (
    "client_refused_services",
    "lack_of_capacity",
    "services_no_longer_needed",
    "unable_to_contact_client",
)
# The referrals before the window of the generated history: two years back.
HISTORY_DAYS = 730


# Measures, plans and profiles --------------------------------------------------------------------

MAX_SEATS = 25
MAX_WAITLIST = 6
MEASURE_KINDS = (
    ("integration_course", 35, ("Integrationskurs B1", "Integrationskurs mit Alphabetisierung",
                                "Jugendintegrationskurs")),
    ("language_course", 25, ("Berufssprachkurs B2", "Berufssprachkurs B2 Pflege", "Berufssprachkurs C1 Akademie")),
    ("activation", 15, ("Aktivierung: Arbeitsmarkt kennenlernen", "Bewerbungstraining")),
    ("counselling", 10, ("Orientierungskurs", "Berufsorientierung für Frauen")),
    ("qualification", 10, ("Qualifizierung Lagerlogistik mit Staplerschein", "Grundkurs Pflegehilfe")),
    ("other", 5, ("Erste-Hilfe-Kurs", "Führerschein-Theorie in einfacher Sprache")),
)  # fmt: skip
COURSE_LANGUAGES = ("Deutsch", "Deutsch, Arabisch", "Deutsch, Ukrainisch", "Deutsch, Dari", "Deutsch, Englisch")


def measure_count(scale: Scale) -> int:
    return max(6, scale.persons // 100)


PROFILE_LANGUAGES = [as_json([{"language": n, "level": level} for n, level in s]) for s in LANGUAGE_SETS]
PROFILE_QUALIFICATIONS = [as_json([q]) for q in QUALIFICATIONS]
PROFILE_WORK = [
    as_json([{"occupation": job, "country": "Herkunftsland", "years": years}])
    for job, years in (("Verkauf", 4), ("Bau", 7), ("Landwirtschaft", 10), ("Pflege", 3), ("Büro", 5))
]
OUTCOME_STEPS = (
    ("job", "Arbeit als Lagerhelfer"),
    ("internship", "Praktikum Pflege"),
    ("apprenticeship", "Ausbildung"),
)
RECOGNITIONS = (
    ("Elektriker", "Syrien", "Elektroniker/in", "Handwerkskammer"),
    ("Bachelor Pflegewissenschaft", "Ukraine", "Pflegefachfrau/-mann", "Landesamt für Soziales"),
    ("Lehrerin", "Afghanistan", "Lehrkraft", "Landesschulbehörde"),
    ("Bauingenieur", "Iran", "Bauingenieur/in", "Ingenieurkammer"),
)
CHECKLIST_DONE = as_json(
    {
        "effective_date_confirmed": True,
        "open_measures_reviewed": True,
        "plan_handed_over": True,
        "housing_checked": True,
    }
)
CHECKLIST_OPEN = as_json(
    {"effective_date_confirmed": True, "open_measures_reviewed": False, "plan_handed_over": False,
     "housing_checked": False}
)  # fmt: skip


# Housing -----------------------------------------------------------------------------------------

COMPARISON_AREAS = ("Vergleichsraum I", "Vergleichsraum II", "Vergleichsraum III")
# Household size: gross cold rent limit in areas I, II, III; heating; living space.
RENT_LIMITS = {
    1: (498.0, 452.0, 440.0, 95.0, 50),
    2: (594.0, 540.0, 528.0, 115.0, 60),
    3: (708.0, 642.0, 630.0, 138.0, 75),
    4: (822.0, 746.0, 731.0, 160.0, 85),
    5: (936.0, 850.0, 833.0, 182.0, 95),
    6: (1050.0, 954.0, 935.0, 204.0, 105),
}
ROOM_SIZES = {1: (28, 45), 2: (45, 66), 3: (62, 86), 4: (80, 102), 5: (95, 122)}
LANDLORDS = (
    ("Kreiswohnbau GmbH", "04711 820-700", "vermietung@kreiswohnbau.example"),
    ("Wohnungsgenossenschaft eG", "04711 5566-0", "info@wg.example"),
    ("Familie Hinrichs", "04712 3344", ""),
    ("Gerdes Immobilien", "04711 909090", "kontakt@gerdes-immobilien.example"),
)
LISTING_STATUSES = (("available", 35), ("reserved", 7), ("allocated", 45), ("ended", 6), ("withdrawn", 4), ("draft", 3))


# Meetings ----------------------------------------------------------------------------------------

MAX_AGENDA = 6
MAX_ACTIONS = 3
AGENDA_TOPICS = (
    "Wohnsituation in der Gemeinschaftsunterkunft",
    "Freie Plätze im Integrationskurs",
    "Übergang Schule–Beruf",
    "Anerkennungsverfahren: Stand der Anträge",
    "Rechtskreiswechsel: offene Fälle",
    "Kita-Plätze für Kinder in Sprachkursen",
    "Fallbesprechung",
    "Berichte aus den Ämtern",
)
ACTION_TITLES = (
    "Liste freier Kursplätze an alle schicken",
    "Rücksprache mit der Unterkunftsleitung",
    "Termin bei der Anerkennungsberatung vereinbaren",
    "Zahlen zum Quartal zusammenstellen",
    "Wohnungsangebote prüfen",
)


# The county -------------------------------------------------------------------------------------


def weighted(options: Sequence[tuple[Any, int]]) -> Callable[[random.Random], Any]:
    """A chooser among ``(value, weight)`` pairs: one bisect on a cumulative table per pick."""
    values = [value for value, _ in options]
    cumulative = []
    total = 0
    for _, w in options:
        total += w
        cumulative.append(total)

    def pick(rng: random.Random) -> Any:
        return values[bisect.bisect_right(cumulative, rng.random() * total)]

    return pick


PICK_HOLDER = weighted(list(zip(HOLDERS, HOLDER_WEIGHTS, strict=True)))
PICK_PARTNER = {key: weighted(options) for key, options in PARTNERS.items()}
PICK_ORIGIN_EARLY = weighted(list(zip(ORIGIN_KEYS, ORIGIN_WEIGHTS_EARLY, strict=True)))
PICK_ORIGIN_2022 = weighted(list(zip(ORIGIN_KEYS, ORIGIN_WEIGHTS_2022, strict=True)))
PICK_ORIGIN_OTHER = weighted(list(zip(ORIGIN_KEYS, ORIGIN_WEIGHTS_OTHER, strict=True)))
PICK_MEASURE_KIND = weighted([((kind, titles), w) for kind, w, titles in MEASURE_KINDS])
PICK_LISTING_STATUS = weighted(LISTING_STATUSES)


class County:
    """Generates one county's rows into a ``Copier``; ``load`` runs the parts in order."""

    def __init__(self, plan: Plan, county: int, out: Copier) -> None:
        self.plan = plan
        self.county = county
        self.out = out
        self.rng = random.Random(f"{plan.seed}:{county}")
        self.now = plan.now
        self.today = plan.today
        self.name, self.town = county_names(county)
        self.ids = {table: Ids(plan, table, county) for table in TABLES}
        self.agency: dict[str, int] = {}
        self.group: dict[str, int] = {}
        # users by agency key and role ("" read-only), in username order
        self.users: dict[tuple[str, str], list[int]] = {}
        self.usernames: dict[int, str] = {}
        self.workspace = 0
        self.persons: list[P] = []
        self.held: dict[str, list[P]] = {key: [] for key in AGENCY_KEYS}
        self.households: list[tuple[int, int, str, int]] = []  # id, size, holder, created
        self.measures: list[tuple[int, int, int, str]] = []  # id, starts_on, ends_on, kind
        self.measure_starts: list[int] = []
        # per person with a consent: [id, categories mask, recipient keys, valid from, last use, holder, recorder]
        self._consents: dict[int, list[Any]] = {}
        self._shares: list[list[Any]] = []  # formatted once revocations are known

    def load(self) -> Counter[str]:
        self.agencies_and_staff()
        self.round_table()
        self.measure_catalogue()
        self.people()
        self.referrals()
        self.plans_and_profiles()
        self.enrollments()
        self.housing()
        self.meetings()
        return self.out.rows

    # helpers

    def add(self, table: str, *values: str) -> None:
        self.out.add(table, *values)

    def caseworker(self, key: str) -> int:
        workers = self.users[(key, "caseworker")]
        return workers[int(self.rng.random() * len(workers))]

    def one_of(self, key: str, role: str) -> int:
        return self.users[(key, role)][0]

    def between(self, start: float, end: float) -> int:
        return int(start + self.rng.random() * max(end - start, 0))

    # agencies, staff and the round table

    def agencies_and_staff(self) -> None:
        rng, now = self.rng, self.now
        founded = now - int(5 * 365.25 * DAY)
        domain = f"{self.town.lower().replace(' ', '-')}.example"
        for key, kind, template, short in AGENCIES:
            group = self.ids["auth_group"]()
            agency = self.ids["agencies_agency"]()
            self.group[key], self.agency[key] = group, agency
            self.add("auth_group", str(group), f"agency:{agency}")
            self.add(
                "agencies_agency",
                str(agency),
                template.format(county=self.name, town=self.town),
                short,
                kind,
                f"{STREETS[len(self.agency) % len(STREETS)]} {len(self.agency) * 3 + 1}",
                f"{10000 + self.county * 200:05d}",
                self.town,
                f"{key}@{domain}",
                f"0{4700 + self.county} {900 + len(self.agency)}-0",
                f"https://www.{domain}/{key}",
                ts(founded),
                str(group),
                "f",
            )
        size = self.plan.scale.staff_per_agency
        password = self.plan.password_hash
        for key in AGENCY_KEYS:
            agency, group = self.agency[key], self.group[key]
            admins: list[int] = []
            for role, count in staff_roles(key, size):
                users = self.users.setdefault((key, role), [])
                for number in range(1, count + 1):
                    user = self.ids["agencies_user"]()
                    users.append(user)
                    name = username(self.county, key, role, number)
                    self.usernames[user] = name
                    first, last = rng.choice(STAFF_FIRST), rng.choice(STAFF_LAST)
                    joined = self.between(founded, now - 3 * 365 * DAY)
                    self.add(
                        "agencies_user",
                        str(user),
                        password,
                        NULL,
                        "f",
                        name,
                        first,
                        last,
                        f"{name}@{domain}",
                        "f",
                        "t",
                        ts(joined),
                    )
                    former = role == "former"
                    if not former:
                        self.add("agencies_user_groups", str(self.ids["agencies_user_groups"]()), str(user), str(group))
                    roles = {"caseworker"} if former else {role}
                    self.add(
                        "agencies_staff",
                        str(self.ids["agencies_staff"]()),
                        flag("caseworker" in roles),
                        flag("coordinator" in roles),
                        flag("housing_officer" in roles),
                        flag("agency_admin" in roles),
                        flag("data_protection_officer" in roles),
                        JOB_TITLES[role],
                        f"0{4700 + self.county} {900 + len(self.agency)}-{100 + len(self.usernames) % 900}",
                        flag(not former),
                        ts(joined),
                        ts(self.between(now - 400 * DAY, now - 30 * DAY)) if former else NULL,
                        str(agency),
                        str(admins[0]) if former and admins else NULL,
                        str(user),
                    )
                    if role == "agency_admin":
                        admins.append(user)

    def round_table(self) -> None:
        coordinator_key = COORDINATING_AGENCY
        coordinator = self.one_of(coordinator_key, "coordinator")
        created = self.now - (HISTORY_DAYS + 60) * DAY
        workspace = self.workspace = self.ids["agencies_workspace"]()
        self.add(
            "agencies_workspace",
            str(workspace),
            f"Runder Tisch Integration {self.name}",
            "Abstimmung der Integrationsschritte zwischen Ämtern und Trägern des Landkreises",
            "f",
            ts(created),
            str(self.agency[coordinator_key]),
        )
        for key in AGENCY_KEYS:
            self.add(
                "agencies_workspacemembership",
                str(self.ids["agencies_workspacemembership"]()),
                ts(created),
                str(coordinator),
                str(self.agency[key]),
                str(workspace),
            )
            grants = [self.plan.view_permission]
            if key == coordinator_key:
                grants.append(self.plan.manage_permission)
            for permission in grants:
                self.add(
                    "agencies_workspacegroupobjectpermission",
                    str(self.ids["agencies_workspacegroupobjectpermission"]()),
                    str(workspace),
                    str(self.group[key]),
                    str(permission),
                )

    # measures of the adult-education centre

    def measure_catalogue(self) -> None:
        rng, today = self.rng, self.today
        provider = self.agency["kvhs"]
        location = f"{self.town}, Kreisvolkshochschule"
        for _ in range(measure_count(self.plan.scale)):
            kind, titles = PICK_MEASURE_KIND(rng)
            starts = today - HISTORY_DAYS + int(rng.random() * (HISTORY_DAYS + 120))
            ends = starts + 90 + int(rng.random() * 120)
            seats = 12 + int(rng.random() * (MAX_SEATS - 11))
            measure = self.ids["referrals_measure"]()
            self.measures.append((measure, starts, ends, kind))
            self.add(
                "referrals_measure",
                str(measure),
                f"{rng.choice(titles)} ({datetime.date.fromordinal(starts):%m/%Y})",
                kind,
                "",
                rng.choice(COURSE_LANGUAGES),
                location,
                day(starts),
                day(ends),
                str(seats),
                flag(starts > today - 14),
                ts(local_moment(starts - 60, 10)),
                str(provider),
            )
        self.measures.sort(key=lambda m: m[1])
        self.measure_starts = [m[1] for m in self.measures]

    # persons, households, case files and transfers

    def people(self) -> None:
        rng, now, today = self.rng, self.now, self.today
        target = self.plan.scale.persons
        postcode_base = 10000 + self.county * 200
        while len(self.persons) < target:
            holder = PICK_HOLDER(rng)
            arrival = self._arrival()
            origin = self._origin(arrival)
            nationality, female, male, lasts = ORIGINS[origin]
            family = rng.choice(lasts)
            size = 1
            if holder in ("jobcenter", "sozialamt") and rng.random() < 0.35:
                size = min(2 + int(rng.random() * 5), target - len(self.persons))
            household = None
            # Mostly soon after arrival; files older than the hub came with it (six years at most).
            opened_from = max(local_moment(arrival + 14, 9), now - 6 * 365 * DAY)
            opened = opened_from + int(rng.random() ** 3 * max(now - 2 * DAY - opened_from, 0))
            manager = self.caseworker(holder)
            transfer = self._transfer(holder, opened)
            taken_over = transfer[3] if transfer and transfer[0] == "completed" else 0
            jobcenter_manager = self.caseworker("jobcenter") if taken_over else 0
            if size > 1:
                household = self.ids["referrals_household"]()
                self.households.append((household, size, holder, opened))
                self.add(
                    "referrals_household", str(household), reference("H", household), f"Familie {family}", ts(opened)
                )
            district = int(rng.random() * len(DISTRICT_SUFFIXES))
            street = f"{rng.choice(STREETS)} {1 + int(rng.random() * 90)}"
            for member in range(size):
                p = P()
                p.id = self.ids["referrals_person"]()
                p.holder, p.manager, p.opened, p.arrival, p.household = holder, manager, opened, arrival, household
                p.transfer_at, p.jobcenter_manager = taken_over, jobcenter_manager
                if holder == "jugendamt":
                    age_days = 14 * 365 + int(rng.random() * (4 * 365 - 30))
                elif member >= 2 or (member == 1 and rng.random() < 0.3):
                    age_days = int(rng.random() * 17.9 * 365)  # a child
                else:
                    age_days = 18 * 365 + int((rng.random() ** 1.6) * 42 * 365)
                p.birth = today - age_days
                woman = rng.random() < (0.5 if member != 1 else 0.9)
                first = rng.choice(female if woman else male)
                scheme = BENEFITS[holder]
                if scheme == "asylblg" and arrival < today - 3 * 365 and rng.random() < 0.3:
                    scheme = "sgb_xii"
                if taken_over:
                    scheme = "sgb_ii"
                status = rng.choice(RESIDENCE_STATUSES[scheme])
                permit_until = today + 90 + int(rng.random() * 900) if "erlaubnis §" in status else None
                responsible = "jobcenter" if taken_over else holder
                since = ordinal_of(taken_over or opened)
                self.add(
                    "referrals_person",
                    str(p.id),
                    reference("P", p.id),
                    first,
                    family,
                    day(p.birth),
                    nationality,
                    "weiblich" if woman else "männlich",
                    street,
                    f"{postcode_base + district:05d}",
                    f"{self.town}{DISTRICT_SUFFIXES[district]}" if district < 3 else DISTRICT_SUFFIXES[district],
                    f"01{60 + int(rng.random() * 20)} {1000000 + int(rng.random() * 8999999)}"
                    if age_days > 5840
                    else "",
                    "",
                    day(arrival),
                    status,
                    opt_day(permit_until),
                    "",
                    rng.choice(HEALTH_NOTES) if rng.random() < 0.04 else "",
                    scheme,
                    day(since) if scheme != "none" else NULL,
                    day(since),
                    ts(opened),
                    opt(household),
                    NULL,
                    str(self.agency[responsible]),
                )
                self._case_file(p.id, holder, opened, manager)
                if transfer is not None:
                    self._transfer_row(p, transfer)
                if taken_over:
                    self._case_file(p.id, "jobcenter", taken_over, jobcenter_manager)
                    self.held["jobcenter"].append(p)
                self.persons.append(p)
                self.held[holder].append(p)

    def _arrival(self) -> int:
        rng, today = self.rng, self.today
        roll = rng.random()
        if roll < 0.3:
            start, end = datetime.date(2015, 6, 1), datetime.date(2017, 12, 31)
        elif roll < 0.55:
            start, end = datetime.date(2022, 3, 1), datetime.date(2022, 12, 31)
        else:
            start, end = datetime.date(2018, 1, 1), datetime.date.fromordinal(today - 30)
        first, last = start.toordinal(), min(end.toordinal(), today - 30)
        return first + int(rng.random() * max(last - first, 1))

    def _origin(self, arrival: int) -> str:
        year = datetime.date.fromordinal(arrival).year
        if year <= 2017:
            return str(PICK_ORIGIN_EARLY(self.rng))
        if year == 2022:
            return str(PICK_ORIGIN_2022(self.rng))
        return str(PICK_ORIGIN_OTHER(self.rng))

    def _case_file(self, person: int, key: str, opened: int, manager: int) -> None:
        self.add(
            "referrals_casefile",
            str(self.ids["referrals_casefile"]()),
            ts(opened),
            NULL,
            str(self.agency[key]),
            str(manager),
            str(manager),
            str(person),
        )

    def _transfer(self, holder: str, opened: int) -> tuple[str, int, int, int, int] | None:
        """Whether the social office's household passes to the jobcenter (Rechtskreiswechsel): status,
        proposed, effective day, decided (0: open), decided by (0: nobody)."""
        rng, now = self.rng, self.now
        if holder != "sozialamt" or opened > now - 90 * DAY or rng.random() > 0.1:
            return None
        proposed = self.between(opened + 30 * DAY, now - 20 * DAY)
        roll = rng.random()
        status = "completed" if roll < 0.85 else ("proposed" if roll < 0.95 else "cancelled")
        decided = 0
        if status == "completed":
            decided = min(proposed + int((1 + rng.random() * 10) * DAY), now - DAY)
        elif status == "cancelled":
            decided = min(proposed + 3 * DAY, now - DAY)
        return status, proposed, ordinal_of(proposed) + 14, decided, 0

    def _transfer_row(self, p: P, transfer: tuple[str, int, int, int, int]) -> None:
        status, proposed, effective, decided, _ = transfer
        decided_by = {"completed": p.jobcenter_manager, "cancelled": p.manager}.get(status)
        self.add(
            "referrals_responsibilitytransfer",
            str(self.ids["referrals_responsibilitytransfer"]()),
            day(effective),
            "sgb_ii",
            CHECKLIST_DONE if status == "completed" else CHECKLIST_OPEN,
            "Anerkennung als Flüchtling, Leistungen nach SGB II ab dem Stichtag",
            status,
            ts(proposed),
            ts(decided) if decided else NULL,
            opt(decided_by),
            str(self.agency["sozialamt"]),
            str(p.id),
            str(p.manager),
            str(self.agency["jobcenter"]),
        )

    # referrals, their shares and consents

    def referrals(self) -> None:
        """``scale.referrals`` referrals between the county's agencies over the last two years.

        A referral's life is drawn forward from its sending: received, answered after
        ``ANSWER_DAYS``, or withdrawn or redirected before; after acceptance waitlisted, started,
        completed or failed. Only the steps that lie before now happen; where the answer is still
        due the referral waits (sent or received), and the nightly job expires what is not answered
        the day after its due date.
        """
        rng, now, today = self.rng, self.now, self.today
        target = self.plan.scale.referrals
        window = now - HISTORY_DAYS * DAY
        # Sent at a steady rate over the two years, each for a person whose file was open by then.
        referable = sorted((p for p in self.persons if today - p.birth >= 14 * 365), key=lambda p: p.opened)
        opened = [p.opened for p in referable]
        made = 0
        while made < target:
            sent = self.between(window, now - 600)
            known = bisect.bisect_left(opened, sent - DAY)
            if not known:
                continue
            p = referable[int(rng.random() * known)]
            holder = "jobcenter" if p.transfer_at and sent >= p.transfer_at else p.holder
            to = PICK_PARTNER[holder](rng)
            made += self._referral(p, holder, to, sent, redirect_ok=made + 1 < target)
        self._write_consents()
        for share in self._shares:
            self.add("referrals_share", *share)
        self._shares = []

    def _basis(self, p: P, holder: str, to: str) -> tuple[str, int]:
        """The legal basis and the categories of a referral (a bit mask), within the rules of sharing."""
        rng = self.rng
        mask = _BIT["identity"] | _BIT["contact"]
        if rng.random() < 0.7:
            mask |= _BIT["languages"]
        if rng.random() < 0.5:
            mask |= _BIT["education"]
        if rng.random() < (0.6 if to in ("arbeitsagentur", "jobcenter") else 0.25):
            mask |= _BIT["work"]
        if rng.random() < 0.4:
            mask |= _BIT["plan"]
        if to == "abh" or rng.random() < 0.25:
            mask |= _BIT["residence"]
        if to in ("jobcenter", "sozialamt") and rng.random() < 0.5:
            mask |= _BIT["benefits"]
        if holder == "jugendamt" or rng.random() < 0.7:
            if rng.random() < 0.08:
                mask |= _BIT["health"]
            return "consent", mask
        if to == "abh":
            basis = "sgb_x_71" if rng.random() < 0.6 else "aufenthg_87"
        elif holder == "jobcenter" and to == "arbeitsagentur":
            basis = "sgb_ii_50"
        elif to in ("arbeitsagentur", "jobcenter", "bbs") and self.today - p.birth < 25 * 365:
            basis = "sgb_iii_368"
        else:
            basis = "sgb_x_69"
        return basis, mask

    def _consent_for(self, p: P, holder: str, to: str, mask: int, sent: int) -> int:
        consent = self._consents.get(p.id)
        if consent is None:
            consent = self._consents[p.id] = [
                self.ids["referrals_consent"](),
                mask | _BIT["languages"] | _BIT["education"],
                set(),
                ordinal_of(min(p.opened + HOUR, sent)),
                sent,
                holder,
                p.manager if holder == p.holder else p.jobcenter_manager,
            ]
        consent[1] |= mask
        consent[2].add(to)
        consent[3] = min(consent[3], ordinal_of(sent))
        consent[4] = max(consent[4], sent)
        return int(consent[0])

    def _referral(self, p: P, holder: str, to: str, sent: int, *, redirect_ok: bool, redirected: bool = False) -> int:
        """One referral with its share and history; returns how many referrals it made (2 with a redirect)."""
        rng, now = self.rng, self.now
        ids = self.ids
        referral = ids["referrals_referral"]()
        creator = p.manager if holder == p.holder else p.jobcenter_manager
        receiver = self.caseworker(to)
        sender_agency, receiver_agency = self.agency[holder], self.agency[to]
        basis, mask = self._basis(p, holder, to)
        consent = self._consent_for(p, holder, to, mask, sent) if basis == "consent" else None
        urgent = rng.random() < 0.1
        due = ordinal_of(sent) + (5 if urgent else 14)
        measure = None
        if to == "kvhs" and rng.random() < 0.6:
            at = bisect.bisect_left(self.measure_starts, ordinal_of(sent))
            if at < len(self.measures):
                measure = self.measures[min(at + int(rng.random() * 3), len(self.measures) - 1)][0]
        history: list[tuple[str, str, str, int, int | None, int]] = []  # from, to, note, at, actor, agency

        def step(before: str, after: str, moment: int, actor: int | None, agency: int, note: str = "") -> None:
            history.append((before, after, note, moment, actor, agency))

        draft = not redirected and rng.random() < 0.015 and sent > now - 30 * DAY
        if draft:
            due = max(due, self.today + 7)
        created = sent - (int(rng.random() * 4 * DAY) if rng.random() < 0.05 else 1)
        step("", "draft", created, creator, sender_agency)
        status, answered, closed, outcome, outcome_reason, note = "draft", None, None, "", "", ""
        made = 1
        redirect_to: int | None = None
        if not draft:
            status = "sent"
            step("draft", "sent", sent, creator, sender_agency)
            received = sent + int((0.1 + rng.random() * 2) * DAY)
            answer = sent + int((rng.choice(ANSWER_DAYS) / (3 if urgent else 1) + rng.random() * 0.4) * DAY)
            if rng.random() < 0.7 and received < min(answer, now):
                status = "received"
                step("sent", "received", received, receiver, receiver_agency)
            expiry = local_moment(due + 1, 2) + int(rng.random() * 2) * DAY
            sender_step = sent + int((1 + rng.random() * 8) * DAY)
            roll = rng.random()
            if roll < 0.035 and sender_step < min(answer, expiry, now):
                closed, note = sender_step, "Person ist verzogen"
                step(status, "withdrawn", closed, creator, sender_agency, note)
                status = "withdrawn"
            elif roll < 0.06 and redirect_ok and not redirected and sender_step < min(answer, expiry, now):
                closed = sender_step
                new_to = PICK_PARTNER[holder](rng)
                if new_to == to:
                    new_to = "kvhs" if to != "kvhs" else "mbe"
                    if new_to == holder:
                        new_to = "bbs"
                step(status, "redirected", closed, creator, sender_agency)
                status = "redirected"
                redirect_to = ids["referrals_referral"].last + 1
                made += self._referral(p, holder, new_to, closed, redirect_ok=False, redirected=True)
            elif expiry <= min(answer, now):
                closed, note = expiry, "Keine Antwort bis zum Fälligkeitstag."
                step(status, "expired", closed, None, receiver_agency, note)
                status = "expired"
            elif answer <= now:
                answered = answer
                if rng.random() < 0.12:
                    closed, note = answer, rng.choice(DECLINE_NOTES)
                    step(status, "declined", closed, receiver, receiver_agency, note)
                    status = "declined"
                else:
                    step(status, "accepted", answer, receiver, receiver_agency)
                    status = "accepted"
                    status, closed, outcome, outcome_reason, note = self._after_acceptance(
                        step, answer, creator, receiver, sender_agency, receiver_agency
                    )
        share = None
        if not draft:
            share = referral  # shares take the ids of their referrals (same block size)
            ended = closed if status in ("declined", "expired", "withdrawn", "redirected") else None
            self._shares.append(
                [
                    str(share),
                    categories_json(mask),
                    basis,
                    "" if basis == "consent" else BASIS_REASONS[basis],
                    ts(sent),
                    ended,  # formatted after the consents are settled: a revocation may end it
                    opt(consent),
                    str(creator),
                    str(sender_agency),
                    str(p.id),
                    str(receiver_agency),
                ]
            )
        self.add(
            "referrals_referral",
            str(referral),
            reference("R", referral),
            rng.choice(REASONS[to]),
            "urgent" if urgent else "normal",
            categories_json(mask),
            basis,
            "" if basis == "consent" else BASIS_REASONS[basis],
            day(due),
            status,
            outcome,
            outcome_reason,
            note,
            ts(created),
            NULL if draft else ts(sent),
            opt_ts(answered),
            opt_ts(closed),
            opt(consent),
            str(creator),
            str(sender_agency),
            opt(measure),
            str(p.id),
            opt(redirect_to),
            str(receiver_agency),
            opt(share),
        )
        changes = self.ids["referrals_referralstatuschange"]
        for before, after, text, moment, actor, agency in history:
            self.add(
                "referrals_referralstatuschange",
                str(changes()),
                before,
                after,
                text,
                ts(moment),
                opt(actor),
                str(agency),
                str(referral),
            )
        return made

    def _after_acceptance(
        self,
        step: Callable[..., None],
        accepted: int,
        sender: int,
        receiver: int,
        sender_agency: int,
        receiver_agency: int,
    ) -> tuple[str, int | None, str, str, str]:
        """Waitlisted, started, completed or failed, or withdrawn, as far as time has come."""
        rng, now = self.rng, self.now
        status, moment = "accepted", accepted
        if rng.random() < 0.03:
            withdrawn = accepted + int((2 + rng.random() * 20) * DAY)
            if withdrawn <= now:
                step(status, "withdrawn", withdrawn, sender, sender_agency, "Person hat eine Arbeit gefunden")
                return "withdrawn", withdrawn, "", "", "Person hat eine Arbeit gefunden"
        if rng.random() < 0.2:
            waitlisted = moment + int((1 + rng.random() * 9) * DAY)
            if waitlisted > now:
                return status, None, "", "", ""
            step(status, "waitlisted", waitlisted, receiver, receiver_agency)
            status, moment = "waitlisted", waitlisted
        started = moment + int(((7 + rng.random() * 50) if status == "waitlisted" else (2 + rng.random() * 28)) * DAY)
        if started > now:
            return status, None, "", "", ""
        step(status, "in_progress", started, receiver, receiver_agency)
        status = "in_progress"
        ended = started + int((20 + rng.random() * 180) * DAY)
        if ended > now:
            return status, None, "", "", ""
        roll = rng.random()
        if roll < 0.85:
            successful = rng.random() < 0.7
            reason = "" if successful else rng.choice(NOT_SUCCESSFUL)
            step(status, "completed", ended, receiver, receiver_agency)
            return "completed", ended, "successful" if successful else "not_successful", reason, ""
        if roll < 0.95:
            note = rng.choice(FAIL_NOTES)
            step(status, "failed", ended, receiver, receiver_agency, note)
            return "failed", ended, "", "", note
        step(status, "withdrawn", ended, sender, sender_agency, "Umzug in einen anderen Landkreis")
        return "withdrawn", ended, "", "", "Umzug in einen anderen Landkreis"

    def _write_consents(self) -> None:
        """The consents the referrals rest on, each covering them; a few revoked since, ending their shares."""
        rng, now = self.rng, self.now
        revoked_at: dict[str, int] = {}
        for person, (consent, mask, recipients, valid_from, last_use, holder, recorder) in self._consents.items():
            until = valid_from + 3 * 365 if rng.random() < 0.3 else None
            if until is not None and until < ordinal_of(now) + 30:
                until = None
            revoked = None
            if last_use < now - 30 * DAY and rng.random() < 0.02:
                revoked = self.between(last_use + DAY, now - DAY)
                revoked_at[str(consent)] = revoked
            self.add(
                "referrals_consent",
                str(consent),
                categories_json(mask),
                "Abstimmung der Integrationsschritte am Runden Tisch",
                day(valid_from),
                opt_day(until),
                "2025-01",
                "",
                ts(local_moment(valid_from, 9)),
                opt_ts(revoked),
                str(recorder),
                str(self.agency[holder]),
                str(recorder) if revoked else NULL,
                str(person),
            )
            extra = [key for key in ("mbe", "kvhs") if key != holder and rng.random() < 0.3]
            for key in sorted(recipients | set(extra)):
                self.add(
                    "referrals_consent_recipients",
                    str(self.ids["referrals_consent_recipients"]()),
                    str(consent),
                    str(self.agency[key]),
                )
        for share in self._shares:
            ended = share[5]
            revocation = revoked_at.get(share[6])
            if revocation is not None and (ended is None or revocation < ended):
                ended = revocation
            share[5] = opt_ts(ended)

    # profiles, plans, recognition

    def plans_and_profiles(self) -> None:
        rng, now, today = self.rng, self.now, self.today
        for p in self.persons:
            if today - p.birth < 18 * 365 or p.holder not in ("jobcenter", "sozialamt", "arbeitsagentur"):
                continue
            agency = "jobcenter" if p.transfer_at else p.holder
            manager = p.jobcenter_manager if p.transfer_at else p.manager
            if rng.random() < 0.35:
                moment = p.opened + int((7 + rng.random() * 50) * DAY)
                versions = 2 if rng.random() < 0.15 else 1
                for version in range(1, versions + 1):
                    if moment > now:
                        break
                    self.add(
                        "referrals_profile",
                        str(self.ids["referrals_profile"]()),
                        str(version),
                        rng.choice(PROFILE_LANGUAGES),
                        rng.choice(PROFILE_QUALIFICATIONS),
                        rng.choice(PROFILE_WORK),
                        "Arbeit im erlernten Beruf, Führerschein",
                        "Kita-Platz für ein Kind" if rng.random() < 0.25 else "",
                        "Motiviert, braucht zuerst einen Sprachkurs auf B1.",
                        ts(moment),
                        str(self.agency[agency]),
                        str(manager),
                        str(p.id),
                    )
                    moment += int((60 + rng.random() * 200) * DAY)
            if p.holder != "arbeitsagentur" and rng.random() < 0.3:
                self._plan(p, agency, manager)
            if rng.random() < 0.04:
                qualification, country, profession, body = rng.choice(RECOGNITIONS)
                applied = ordinal_of(p.opened) + 20 + int(rng.random() * 120)
                if applied >= today:
                    continue
                roll = rng.random()
                decision = (
                    "pending" if roll < 0.45 else ("full" if roll < 0.7 else ("partial" if roll < 0.9 else "none"))
                )
                decided = None if decision == "pending" else min(applied + 60 + int(rng.random() * 200), today - 1)
                self.add(
                    "referrals_recognitionprocedure",
                    str(self.ids["referrals_recognitionprocedure"]()),
                    qualification,
                    country,
                    profession,
                    body,
                    day(applied),
                    decision,
                    opt_day(decided),
                    "Praxisanteile in der Krankenpflege fehlen" if decision == "partial" else "",
                    "Anpassungslehrgang" if decision == "partial" else "",
                    ts(local_moment(applied, 11)),
                    str(self.agency[agency]),
                    str(manager),
                    str(p.id),
                )

    def _plan(self, p: P, agency: str, manager: int) -> None:
        rng, now, today = self.rng, self.now, self.today
        created = p.opened + int((14 + rng.random() * 76) * DAY)
        if created > now - DAY:
            return
        plan = self.ids["referrals_plan"]()
        created_day = ordinal_of(created)
        roll = rng.random()
        status = "agreed" if roll < 0.6 else ("draft" if roll < 0.85 else "closed")
        agreed = min(created_day + 1 + int(rng.random() * 30), today) if status != "draft" else None
        review = (agreed or created_day) + 90 + int(rng.random() * 120)
        self.add(
            "referrals_plan",
            str(plan),
            "Deutsch auf B1, danach Ausbildung oder Anerkennung des Abschlusses",
            "Sie lernen Deutsch bis B1. Danach suchen wir zusammen eine Ausbildung oder Arbeit.",
            status,
            opt_day(agreed),
            day(review),
            ts(created),
            ts(created + 2 * DAY if created + 2 * DAY < now else created),
            str(self.agency[agency]),
            str(manager),
            str(p.id),
        )
        course_start = created_day + 10 + int(rng.random() * 50)
        steps = [
            ("integration_course", "Integrationskurs B1", "kvhs", course_start, course_start + 180),
            ("counselling", "Berufsberatung bei der Agentur für Arbeit", "arbeitsagentur", None, course_start + 90),
        ]
        if rng.random() < 0.35:
            kind, title = rng.choice(OUTCOME_STEPS)
            start = course_start + 150 + int(rng.random() * 200)
            steps.append((kind, title, rng.choice(("arbeitsagentur", "jobcenter", "bbs")), start, start + 365))
        for position, (kind, title, owner, starts, due) in enumerate(steps, start=1):
            dated = starts or due
            if kind in ("job", "internship", "apprenticeship"):
                step_status = "done" if dated < today - 7 else "planned"
            elif due < today:
                step_status = "done" if rng.random() < 0.8 else "cancelled"
            elif dated <= today:
                step_status = "in_progress"
            else:
                step_status = "planned"
            self.add(
                "referrals_planstep",
                str(self.ids["referrals_planstep"]()),
                str(position),
                kind,
                title,
                opt_day(starts),
                day(due),
                step_status,
                "",
                str(self.agency[owner]),
                str(plan),
            )

    def enrollments(self) -> None:
        """Seats in the measures, for persons who had arrived and were known before the start."""
        rng, today = self.rng, self.today
        candidates = [p for p in self.persons if today - p.birth >= 16 * 365]
        candidates.sort(key=lambda p: p.opened)
        opened = [ordinal_of(p.opened) for p in candidates]
        ids = self.ids["referrals_enrollment"]
        for measure, starts, ends, _kind in self.measures:
            known = bisect.bisect_left(opened, starts - 5)
            if known < 5:
                continue
            seats = 12 + int(rng.random() * (MAX_SEATS - 11))
            wanted = int(seats * (0.6 + rng.random() * 0.4))
            waiting = int(rng.random() * (MAX_WAITLIST + 1)) if starts > today else 0
            chosen: dict[int, P] = {}
            for _ in range(4 * (wanted + waiting)):
                if len(chosen) >= wanted + waiting:
                    break
                p = candidates[int(rng.random() * known)]
                if p.arrival < starts:
                    chosen[p.id] = p
            for index, p in enumerate(chosen.values()):
                if index >= wanted:
                    status, position = "waitlisted", index - wanted + 1
                elif ends < today:
                    roll = rng.random()
                    status = "completed" if roll < 0.8 else ("dropped_out" if roll < 0.92 else "cancelled")
                    position = None
                else:
                    status, position = ("enrolled" if rng.random() < 0.95 else "cancelled"), None
                agency = "jobcenter" if p.transfer_at and p.transfer_at < local_moment(starts, 8) else p.holder
                manager = p.jobcenter_manager if agency != p.holder else p.manager
                created = max(local_moment(starts - 5 - int(rng.random() * 35), 10), p.opened + HOUR)
                updated = local_moment(ends, 16) if status in ("completed", "dropped_out") else created
                self.add(
                    "referrals_enrollment",
                    str(ids()),
                    status,
                    opt(position),
                    ts(created),
                    ts(min(updated, self.now)),
                    str(manager),
                    str(self.agency[agency]),
                    str(measure),
                    str(p.id),
                )

    # housing

    def housing(self) -> None:
        rng, now, today = self.rng, self.now, self.today
        ids = self.ids
        owner_key = COORDINATING_AGENCY
        owner = self.agency[owner_key]
        officers = self.users[(owner_key, "housing_officer")]
        kdu_officer = self.one_of("jobcenter", "housing_officer")
        areas = [f"{area} – {self.town}" for area in COMPARISON_AREAS]
        valid_from = datetime.date.fromordinal(today - HISTORY_DAYS).replace(month=1, day=1).toordinal()
        renewed = datetime.date.fromordinal(today).replace(month=1, day=1).toordinal()
        limits: dict[tuple[int, int], float] = {}
        for start, factor in ((valid_from, 1.0), (renewed, 1.04)):
            for size, (town, north, south, heating, space) in RENT_LIMITS.items():
                for index, rent in enumerate((town, north, south)):
                    limits[(index, size)] = rent * factor
                    self.add(
                        "housing_rentlimit",
                        str(ids["housing_rentlimit"]()),
                        areas[index],
                        str(size),
                        money(rent * factor),
                        money(heating * factor),
                        str(space),
                        day(start),
                        ts(local_moment(start - 20, 10)),
                        str(self.agency["jobcenter"]),
                        str(kdu_officer),
                    )
        districts = [
            (f"{self.town}{suffix}" if index < 3 else suffix, f"{10000 + self.county * 200 + index:05d}", index % 3)
            for index, suffix in enumerate(DISTRICT_SUFFIXES)
        ]
        homes = [h for h in self.households if h[2] in ("sozialamt", "jobcenter")]
        rng.shuffle(homes)
        next_home = 0
        for _ in range(self.plan.scale.flats):
            listing = ids["housing_listing"]()
            officer = officers[int(rng.random() * len(officers))]
            district, postcode, area = districts[int(rng.random() * len(districts))]
            rooms = 1 + min(int(rng.random() ** 1.3 * 5), 4)
            space = ROOM_SIZES[rooms][0] + int(rng.random() * (ROOM_SIZES[rooms][1] - ROOM_SIZES[rooms][0]))
            per_m2 = (6.8 if area == 0 else 5.3) + rng.random() * 1.6
            base, running, heating = (
                space * per_m2,
                space * (1.7 + rng.random() * 0.8),
                space * (1.1 + rng.random() * 0.6),
            )
            created = self.between(now - HISTORY_DAYS * DAY, now - DAY)
            status = PICK_LISTING_STATUS(rng)
            home = None
            if status in ("reserved", "allocated", "ended"):
                if next_home < len(homes):
                    home = homes[next_home]
                    next_home += 1
                else:
                    status = "available"
            county_lease = rng.random() < 0.67
            landlord = rng.choice(LANDLORDS)
            floor = rng.choice((0, 0, 1, 1, 2, 3))
            history: list[tuple[str, str, str, str, int]] = [("listing.create", "", "draft", "{}", created)]
            history.append(
                ("listing.share", "", "", as_json({"shared_with": [None, {"workspace": self.workspace}]}), created + 60)
            )
            published = created + 3600
            if status != "draft":
                history.append(("listing.publish", "draft", "available", "{}", published))
            if status == "withdrawn":
                history.append(("listing.withdraw", "available", "withdrawn", "{}", self.between(published, now)))
            if home is not None:
                self._let(listing, status, home, officer, published, base + running, heating, limits, area, history)
            updated = max(moment for *_, moment in history)
            self.add(
                "housing_listing",
                str(listing),
                reference("W", listing),
                f"{rooms}-Zimmer-Wohnung in {district}",
                f"{rng.choice(STREETS)} {1 + int(rng.random() * 90)}",
                postcode,
                self.town if area == 0 else district,
                district,
                areas[area],
                f"{rooms}.0",
                f"{space}.00",
                str(floor),
                flag(floor > 1 and rng.random() < 0.4),
                "2" if rng.random() < 0.06 else ("1" if floor == 0 and rng.random() < 0.2 else "0"),
                money(base),
                money(running),
                money(heating),
                day(ordinal_of(created) + int(rng.random() * 60)),
                "county" if county_lease else "private_landlord",
                landlord[0],
                landlord[1],
                landlord[2],
                "Renoviert, Laminat, Einbauküche vorhanden." if rng.random() < 0.25 else "",
                status,
                ts(created),
                ts(updated),
                str(officer),
                str(owner),
            )
            self.add(
                "housing_listingshare",
                str(ids["housing_listingshare"]()),
                ts(created + 60),
                NULL,
                str(officer),
                str(listing),
                str(self.workspace),
            )
            for action, before, after, changes, moment in history:
                self.add(
                    "housing_listingchange",
                    str(ids["housing_listingchange"]()),
                    action,
                    before,
                    after,
                    changes,
                    "",
                    ts(moment),
                    str(officer),
                    str(owner),
                    str(listing),
                )
        # Households still looking: open requests of their caseworkers to the housing office.
        for household, size, holder, created in homes[next_home : next_home + self.plan.scale.flats // 20]:
            caseworker = self.caseworker(holder)
            asked = self.between(max(created, now - 120 * DAY), now - HOUR)
            self.add(
                "housing_housingrequest",
                str(ids["housing_housingrequest"]()),
                str(size),
                "0",
                as_json([districts[int(rng.random() * len(districts))][0]]),
                NULL,
                "Familie lebt bisher in der Gemeinschaftsunterkunft.",
                "open",
                ts(asked),
                NULL,
                "",
                NULL,
                str(household),
                str(caseworker),
                str(self.agency[holder]),
                str(owner),
                NULL,
            )

    def _let(
        self,
        listing: int,
        status: str,
        home: tuple[int, int, str, int],
        officer: int,
        published: int,
        cold: float,
        heating: float,
        limits: dict[tuple[int, int], float],
        area: int,
        history: list[tuple[str, str, str, str, int]],
    ) -> None:
        """The reservation, and for a let flat the tenancy (and an approval above the rent limit)."""
        rng, now = self.rng, self.now
        ids = self.ids
        household, size, holder, household_created = home
        owner = self.agency[COORDINATING_AGENCY]
        if status == "reserved":
            reserved = self.between(max(published, now - 6 * DAY), now - HOUR)
        else:
            reserved = self.between(max(published, household_created), now - 30 * DAY)
        expires = reserved + 7 * DAY
        reservation = ids["housing_reservation"]()
        ended = None if status == "reserved" else min(reserved + int((1 + rng.random() * 5) * DAY), now - HOUR)
        self.add(
            "housing_reservation",
            str(reservation),
            str(size),
            "active" if status == "reserved" else "allocated",
            ts(expires),
            "",
            ts(reserved),
            opt_ts(ended),
            str(owner),
            NULL if ended is None else str(officer),
            str(household),
            str(listing),
            NULL,
            str(officer),
        )
        history.append(
            ("reservation.create", "available", "reserved", as_json({"household": [None, household]}), reserved)
        )
        if ended is None:
            return
        limit = limits[(area, min(size, 6))]
        approval = None
        if cold > limit:
            approval = ids["housing_overlimitapproval"]()
            self.add(
                "housing_overlimitapproval",
                str(approval),
                str(size),
                money(cold),
                money(limit),
                "Kein angemessener Wohnraum in der Gemeinde verfügbar; Schulweg der Kinder.",
                ts(ended - HOUR),
                str(self.agency["jobcenter"]),
                str(self.one_of("jobcenter", "housing_officer")),
                str(household),
                str(listing),
            )
        moved_in = ordinal_of(ended) + int(rng.random() * 20)
        tenancy_status = "allocated" if local_moment(moved_in, 12) > now or rng.random() < 0.1 else "active"
        moved_out = None
        if status == "ended":
            tenancy_status = "ended"
            moved_in = min(moved_in, self.today - 1)
            moved_out = max(moved_in, min(moved_in + 30 + int(rng.random() * 300), self.today))
        self.add(
            "housing_tenancy",
            str(ids["housing_tenancy"]()),
            str(size),
            tenancy_status,
            "county",
            NULL if tenancy_status == "allocated" else day(moved_in),
            opt_day(moved_out),
            money(cold),
            money(heating),
            money(limit),
            ts(ended),
            str(officer),
            opt(approval),
            str(household),
            str(listing),
            str(reservation),
        )
        history.append(("tenancy.allocate", "reserved", "allocated", "{}", ended))
        if moved_out is not None:
            history.append(("tenancy.move_out", "allocated", "ended", "{}", local_moment(moved_out, 12)))

    # meetings of the round table

    def meetings(self) -> None:
        rng, now, today = self.rng, self.now, self.today
        ids = self.ids
        coordinator = self.one_of(COORDINATING_AGENCY, "coordinator")
        others = [key for key in AGENCY_KEYS if key != COORDINATING_AGENCY]
        count = self.plan.scale.meetings
        upcoming = max(1, count // 30)
        first_day = today - HISTORY_DAYS
        days = sorted(
            [first_day + int(rng.random() * (HISTORY_DAYS - 1)) for _ in range(count - upcoming)]
            + [today + 1 + int(rng.random() * 60) for _ in range(upcoming)]
        )
        for number, meeting_day in enumerate(days, start=1):
            while datetime.date.fromordinal(meeting_day).weekday() >= 5:
                meeting_day += 1  # a weekday
            starts = local_moment(meeting_day, 9 + int(rng.random() * 5), (0, 30)[int(rng.random() * 2)])
            meeting = ids["messaging_meeting"]()
            past = starts < now
            roll = rng.random()
            if not past:
                status, minutes_status = "planned", "draft"
            elif roll < 0.04:
                status, minutes_status = "cancelled", "draft"
            elif starts > now - 45 * DAY or roll < 0.12:
                status, minutes_status = "held", ("circulated" if rng.random() < 0.5 else "draft")
            else:
                status, minutes_status = "closed", "approved"
            invited = others if rng.random() < 0.8 else rng.sample(others, 3 + int(rng.random() * 4))
            created = starts - 14 * DAY
            video = rng.random() < 0.3
            self.add(
                "messaging_meeting",
                str(meeting),
                f"Runder Tisch Integration – Sitzung {number}",
                ts(starts),
                ts(starts + 2 * HOUR),
                "" if video else f"Kreishaus {self.town}, Sitzungssaal 2",
                f"https://video.example/{self.county:02d}-{number}" if video else "",
                status,
                "Terminkollision mit dem Kreistag" if status == "cancelled" else "",
                minutes_status,
                ts(created),
                ts(min(starts + 3 * HOUR, now) if past else created),
                str(coordinator),
                str(self.workspace),
            )
            for key in [COORDINATING_AGENCY, *sorted(invited)]:
                self.add(
                    "messaging_meetinginvitation",
                    str(ids["messaging_meetinginvitation"]()),
                    ts(created),
                    str(self.agency[key]),
                    str(coordinator),
                    str(meeting),
                )
                if status in ("held", "closed"):
                    attendee = coordinator if key == COORDINATING_AGENCY else self.caseworker(key)
                    self.add(
                        "messaging_attendance",
                        str(ids["messaging_attendance"]()),
                        flag(rng.random() < 0.9),
                        "",
                        ts(starts),
                        str(self.agency[key]),
                        str(coordinator),
                        str(attendee),
                        str(meeting),
                    )
            self._agenda(meeting, status, starts, created, coordinator, [COORDINATING_AGENCY, *invited])
            if status in ("held", "closed") and minutes_status != "draft":
                versions = [("circulated", starts + DAY)]
                if minutes_status == "approved":
                    versions.append(("approved", starts + 10 * DAY))
                for version, (state, moment) in enumerate(versions, start=1):
                    content = {
                        "meeting": {"title": f"Runder Tisch Integration – Sitzung {number}", "starts_at": ts(starts)},
                        "invited_agencies": sorted(self.agency[key] for key in [COORDINATING_AGENCY, *invited]),
                        "items": [],
                        "action_items": [],
                    }
                    self.add(
                        "messaging_minutesversion",
                        str(ids["messaging_minutesversion"]()),
                        str(version),
                        state,
                        as_json(content),
                        "",
                        ts(min(moment, now)),
                        str(coordinator),
                        str(meeting),
                    )

    def _agenda(
        self, meeting: int, status: str, starts: int, created: int, coordinator: int, agencies: list[str]
    ) -> None:
        rng, now, today = self.rng, self.now, self.today
        ids = self.ids
        minuted = status in ("held", "closed")
        items = []
        for position in range(1, 3 + int(rng.random() * (MAX_AGENDA - 2)) + 1):
            key = agencies[int(rng.random() * len(agencies))]
            proposer = coordinator if key == COORDINATING_AGENCY else self.caseworker(key)
            person = None
            held = [p for p in self.held[key][:200] if p.opened < created]
            if held and rng.random() < 0.4:
                person = held[int(rng.random() * len(held))].id
            item = ids["messaging_agendaitem"]()
            items.append((item, key))
            self.add(
                "messaging_agendaitem",
                str(item),
                str(position),
                rng.choice(AGENDA_TOPICS),
                "",
                "Die Ämter berichten; das weitere Vorgehen ist abgestimmt." if minuted else "",
                "1" if minuted else "0",
                ts(starts + HOUR) if minuted else NULL,
                ts(created + int(rng.random() * 10 * DAY)),
                str(coordinator) if minuted else NULL,
                opt(person),
                str(proposer),
                str(self.agency[key]),
                NULL,
                str(meeting),
            )
            if minuted and rng.random() < 0.3:
                self.add(
                    "messaging_decision",
                    str(ids["messaging_decision"]()),
                    "Der Fall wird in der nächsten Sitzung erneut besprochen.",
                    ts(starts + HOUR),
                    str(item),
                    str(coordinator),
                    NULL,
                )
        if status == "cancelled":
            return
        for _ in range(int(rng.random() * (MAX_ACTIONS + 1))):
            item, key = items[int(rng.random() * len(items))]
            due = ordinal_of(starts) + 14 + int(rng.random() * 46)
            if due < today - 30 and status != "planned":
                roll = rng.random()
                action_status = "done" if roll < 0.85 else ("cancelled" if roll < 0.9 else "open")
            else:
                action_status = "open"
            completed = local_moment(due - int(rng.random() * 10), 15) if action_status == "done" else None
            self.add(
                "messaging_actionitem",
                str(ids["messaging_actionitem"]()),
                rng.choice(ACTION_TITLES),
                day(due),
                action_status,
                "",
                opt_ts(min(completed, now) if completed else None),
                NULL,
                ts(starts + HOUR if status != "planned" else created),
                ts(min(completed or starts + HOUR, now) if status != "planned" else created),
                NULL,
                str(coordinator),
                NULL,
                str(self.agency[key]),
                NULL,
                NULL,
                str(item),
                NULL,
                str(meeting),
            )


# Loading -----------------------------------------------------------------------------------------


def load_county(conn: psycopg.Connection[Any], plan: Plan, county: int, *, threaded: bool = False) -> Counter[str]:
    """Generate and COPY one county's rows into the caller's open transaction; returns rows per table."""
    out = Copier(conn, threaded=threaded)
    try:
        rows = County(plan, county, out).load()
    finally:
        out.close()
    return rows


def reset_sequences(conn: psycopg.Connection[Any], tables: Iterable[str] = TABLES) -> None:
    """Move every table's id sequence past its highest id, so that the app inserts after the generated rows."""
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "  # noqa: S608
                f"FROM {table}"
            )


def sample_logins(county: int = 1) -> list[str]:
    """Usernames to try first: a caseworker of each agency that holds files, a coordinator, a housing officer."""
    return [
        username(county, "jobcenter", "caseworker", 1),
        username(county, "sozialamt", "caseworker", 1),
        username(county, "kvhs", "caseworker", 1),
        username(county, COORDINATING_AGENCY, "coordinator", 1),
        username(county, COORDINATING_AGENCY, "housing_officer", 1),
        username(county, "jobcenter", "agency_admin", 1),
        username(county, "jobcenter", "", 1),
    ]
