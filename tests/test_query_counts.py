"""The number of queries of every list page is independent of how many rows it shows.

Each list page that a caseworker, a coordinator or a housing officer opens often, in the UI and in
the API, is loaded twice by a reader who sees its rows: with a few rows, then with a full page (the
page size of that list, or at least three times as many rows where pages are large). Both loads
must cost exactly the same number of queries; a query per row (an N+1) fails here, whether it
hides in a view, a serializer, a template or a permission check per row.

The rows are built through the services (or the helpers of the other test modules, which use
them), and they are rows the reader may see: persons its agency holds, referrals sent to it, flats
shared with its round table. Each load is preceded by the same request once, so that what the
first request of a session costs (the session's activity stamp, caches filled once) is not counted.
Both loads paginate alike: Django's ``Paginator`` and DRF's ``PageNumberPagination`` count the rows
on every page, whether there is a second page or not.

The counts measured here are listed in bench/README.md.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies import services as agency_services
from agencies.models import User
from housing import services as housing_services
from hub.views import UPCOMING_MEETINGS
from hub.web import PAGE_SIZE
from referrals import services as case_services
from referrals.views.referrals import INBOX_PAGE_SIZE
from tests.conftest import World, make_case, make_user
from tests.housing.helpers import jpeg_upload, make_household, make_housing, make_limits, make_listing
from tests.messaging.meeting_helpers import amina, held_meeting, item_on, make_meeting
from tests.messaging.test_action_views import task
from tests.referrals.test_measures import make_measure, make_person, make_provider
from tests.referrals.test_referral_views import refer
from tests.reporting.county import grow_the_quarter

pytestmark = pytest.mark.django_db

# The API's page size (settings.REST_FRAMEWORK["PAGE_SIZE"], 50) is large: its "full" load shows
# five times the rows of the small one instead.
API_ROWS = 10
SOON = timezone.localdate() + datetime.timedelta(days=14)
QUARTER = {"start": "2025-01-01", "end": "2025-03-31"}


@dataclass
class Scenario:
    """A list page as one reader sees it, and how to give it more rows."""

    reader: User
    url: str
    add: Callable[[int], object]  # adds that many rows the reader sees on the page
    shown: Callable[[Any], int]  # how many rows an answer shows
    query: dict[str, str] = field(default_factory=dict)
    api: bool = False
    before: int = 0  # rows the reader sees before any are added (the world's agencies, staff, …)


def numbers() -> Callable[[], int]:
    """A counter, so that rows added later get names of their own."""
    return itertools.count().__next__


def page_rows(response: Any) -> int:
    return len(response.context["page_obj"].object_list)


def api_rows(response: Any) -> int:
    return len(response.json()["results"])


# The pages -------------------------------------------------------------------------------------


def inbox_incoming(world: World) -> Scenario:
    """Bob's inbox: referrals sent to the social office, some received, every other one due today."""
    case = make_case(world)
    today = timezone.localdate()

    def add(count: int) -> None:
        for number in range(count):
            referral = refer(world, case, answer_due_on=today if number % 2 else SOON)
            if number % 3 == 0:
                case_services.referral_transition(actor=world.bob, referral=referral, action="receive")

    def shown(response: Any) -> int:
        return next(len(section.rows) for section in response.context["sections"] if section.key == "incoming")

    return Scenario(world.bob, reverse("referral-inbox"), add, shown)


def inbox_outgoing(world: World) -> Scenario:
    """Alice's inbox: referrals the jobcenter sent, awaiting an answer, and as many recently declined."""
    case = make_case(world)

    def add(count: int) -> None:
        for _number in range(count):
            refer(world, case)
            declined = refer(world, case)
            case_services.referral_transition(actor=world.bob, referral=declined, action="decline", note="voll")

    def shown(response: Any) -> int:
        sections = {section.key: len(section.rows) for section in response.context["sections"]}
        assert sections["closed"] == sections["outgoing"]
        return sections["outgoing"]

    return Scenario(world.alice, reverse("referral-inbox"), add, shown)


def referral_list(world: World) -> Scenario:
    case = make_case(world)

    def add(count: int) -> None:
        for _number in range(count):
            refer(world, case)

    return Scenario(world.alice, reverse("referral-list"), add, page_rows)


def person_search(world: World) -> Scenario:
    """Alice searches the jobcenter's persons by a name they share."""
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            make_person(world.alice, world.jobcenter, f"Person{number()}", "Suchname")

    return Scenario(world.alice, reverse("person-list"), add, page_rows, query={"q": "suchname"})


def plan_list(world: World) -> Scenario:
    """Plans of the jobcenter's persons, each with a step and due for review (the page's overview too)."""
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            person = make_person(world.alice, world.jobcenter, f"Person{number()}")
            plan = case_services.plan_create(
                actor=world.alice, person=person, goals="Sprachkurs, dann Ausbildung", review_on=SOON
            )
            case_services.plan_step_add(
                actor=world.alice, plan=plan, kind="language_course", title="Kurs", owner_agency=world.jobcenter
            )

    return Scenario(world.alice, reverse("plan-list"), add, page_rows)


def measure_list(world: World) -> Scenario:
    """The catalogue of the adult-education centre, as the jobcenter's caseworker sees it."""
    vhs, vera = make_provider(world)
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            make_measure(vera, vhs, title=f"Integrationskurs {number()}")

    return Scenario(world.alice, reverse("measure-list"), add, page_rows)


def flat_search(reader: str) -> Callable[[World], Scenario]:
    """Flats of the social office shared with the round table, each with a photo, searched with filters."""

    def build(world: World) -> Scenario:
        housing = make_housing(world)
        make_limits(housing)
        number = numbers()

        def add(count: int) -> None:
            for _ in range(count):
                listing = make_listing(housing, street=f"Gartenweg {number()}")
                housing_services.photo_add(actor=housing.hana, listing=listing, photo=jpeg_upload(width=64, height=48))

        query = {
            "district": "Nordhorn-Mitte",
            "rooms_min": "2",
            "within_limit_for": "3",
            "free_from": timezone.localdate().isoformat(),
        }
        user = housing.hana if reader == "hana" else world.persona(reader)
        return Scenario(user, reverse("housing-listing-list"), add, page_rows, query=query)

    return build


def housing_requests(world: World) -> Scenario:
    """Hana, housing officer of the social office, answers the jobcenter's requests for flats."""
    housing = make_housing(world)
    make_limits(housing)
    listing = make_listing(housing)
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            at = number()
            household = make_household(world.alice, world.jobcenter, size=1, name=f"Familie{at}")
            housing_services.housing_request_create(
                actor=world.alice,
                household=household,
                **({"listing": listing} if at % 2 else {"to_agency": world.social_office}),
            )

    return Scenario(housing.hana, reverse("housing-request-list"), add, page_rows)


def meeting_list(world: World) -> Scenario:
    """Cora's round table meets weekly."""
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            at = number()
            make_meeting(world, days=7 + at, title=f"Runder Tisch {at}")

    return Scenario(world.cora, reverse("meeting-list"), add, page_rows)


def action_items(world: World) -> Scenario:
    """What the social office owes the round table; every other item about a case, under an agenda item."""
    meeting = held_meeting(world)
    person = amina(world)
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            about = person if number() % 2 else None
            item = item_on(world, meeting, person=about)
            task(world, meeting, agenda_item=item, person=about)

    return Scenario(world.bob, reverse("action-item-overview"), add, page_rows)


def notification_list(world: World) -> Scenario:
    """Each referral sent to the social office notifies bob."""
    case = make_case(world)

    def add(count: int) -> None:
        for _ in range(count):
            refer(world, case)

    return Scenario(world.bob, reverse("notification-list"), add, page_rows)


def workspace_list(world: World) -> Scenario:
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            agency_services.workspace_create(
                actor=world.cora,
                name=f"Arbeitskreis {number()}",
                coordinator_agency=world.jobcenter,
                agencies=[world.social_office],
            )

    return Scenario(world.alice, reverse("workspace-list"), add, page_rows, before=1)


def agency_list(world: World) -> Scenario:
    """New course providers join cora's round table; the jobcenter sees its partners."""
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            agency = agency_services.agency_create(
                actor=None, name=f"Bildungsträger {number()}", kind="course_provider", city="Nordhorn"
            )
            agency_services.workspace_add_agency(actor=world.cora, workspace=world.workspace, agency=agency)

    return Scenario(world.alice, reverse("agency-list"), add, page_rows, before=3)


def staff_list(world: World) -> Scenario:
    """Adam, the jobcenter's agency admin, looks at his colleagues."""
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            name = f"kollege{number()}"
            user = make_user(name, "Kollege", name.title())
            agency_services.staff_create(actor=world.adam, agency=world.jobcenter, user=user, roles=["caseworker"])

    url = reverse("staff-list", args=[world.jobcenter.pk])
    return Scenario(world.adam, url, add, page_rows, before=4)


def dashboard(world: World) -> Scenario:
    """Alice's start page: her round tables (all of them) and the next meetings (the first five)."""
    number = numbers()

    def add(count: int) -> None:
        for _ in range(count):
            at = number()
            make_meeting(world, days=1 + at, title=f"Runder Tisch {at}")
            agency_services.workspace_create(
                actor=world.cora, name=f"Arbeitskreis {at}", coordinator_agency=world.jobcenter
            )

    def shown(response: Any) -> int:
        meetings = len(response.context["upcoming_meetings"])
        assert len(response.context["workspaces"]) == meetings + 1
        return meetings

    return Scenario(world.alice, reverse("dashboard"), add, shown)


def figures(name: str) -> Callable[[World], Scenario]:
    """The figures of a quarter in which the jobcenter referred persons to the social office."""

    def build(world: World) -> Scenario:
        def add(count: int) -> None:
            grow_the_quarter(world, count)

        def shown(response: Any) -> int:
            value = response.context["loaded"].dashboard["referrals"].value
            assert isinstance(value, int)
            return value

        pk = world.workspace.pk if name == "reporting-workspace" else world.jobcenter.pk
        return Scenario(world.alice, reverse(name, args=[pk]), add, shown, query=QUARTER)

    return build


# The API's lists -------------------------------------------------------------------------------


def api_persons(world: World) -> Scenario:
    scenario = person_search(world)
    return Scenario(world.alice, reverse("api:person-list"), scenario.add, api_rows, query={"q": "suchname"}, api=True)


def api_referrals(world: World) -> Scenario:
    """Referrals sent to the social office, as bob's program reads them."""
    case = make_case(world)

    def add(count: int) -> None:
        for _ in range(count):
            refer(world, case)

    return Scenario(world.bob, reverse("api:referral-list"), add, api_rows, api=True)


def api_listings(world: World) -> Scenario:
    scenario = flat_search("alice")(world)
    return Scenario(world.alice, reverse("api:listing-list"), scenario.add, api_rows, api=True)


def api_meetings(world: World) -> Scenario:
    """The meetings the social office is invited to."""
    scenario = meeting_list(world)
    return Scenario(world.bob, reverse("api:meeting-list"), scenario.add, api_rows, api=True)


def api_notifications(world: World) -> Scenario:
    scenario = notification_list(world)
    return Scenario(world.bob, reverse("api:notification-list"), scenario.add, api_rows, api=True)


@dataclass(frozen=True)
class Page:
    build: Callable[[World], Scenario]
    small: int
    large: int


PAGES = {
    "referral-inbox-incoming": Page(inbox_incoming, 2, INBOX_PAGE_SIZE),
    "referral-inbox-outgoing": Page(inbox_outgoing, 2, INBOX_PAGE_SIZE),
    "referral-list": Page(referral_list, 2, PAGE_SIZE),
    "person-list-search": Page(person_search, 2, PAGE_SIZE),
    "plan-list": Page(plan_list, 2, PAGE_SIZE),
    "measure-list": Page(measure_list, 2, PAGE_SIZE),
    "housing-listing-list-caseworker": Page(flat_search("alice"), 2, PAGE_SIZE),
    "housing-listing-list-housing-officer": Page(flat_search("hana"), 2, PAGE_SIZE),
    "housing-request-list": Page(housing_requests, 2, PAGE_SIZE),
    "meeting-list": Page(meeting_list, 2, PAGE_SIZE),
    "action-item-overview": Page(action_items, 2, PAGE_SIZE),
    "notification-list": Page(notification_list, 2, PAGE_SIZE),
    "workspace-list": Page(workspace_list, 2, PAGE_SIZE),
    "agency-list": Page(agency_list, 3, PAGE_SIZE),
    "staff-list": Page(staff_list, 4, PAGE_SIZE),
    "dashboard": Page(dashboard, 2, UPCOMING_MEETINGS),
    # The figures pages are not paged: their rows are the quarter's referrals, counted in SQL.
    "reporting-workspace": Page(figures("reporting-workspace"), 2, 10),
    "reporting-agency": Page(figures("reporting-agency"), 2, 10),
    "api:person-list": Page(api_persons, 2, API_ROWS),
    "api:referral-list": Page(api_referrals, 2, API_ROWS),
    "api:listing-list": Page(api_listings, 2, API_ROWS),
    "api:meeting-list": Page(api_meetings, 2, API_ROWS),
    "api:notification-list": Page(api_notifications, 2, API_ROWS),
}


def client_for(scenario: Scenario) -> Client | APIClient:
    if scenario.api:
        # Programs call with a token, as the API page of the profile hands it out.
        return APIClient(headers={"authorization": f"Token {agency_services.api_token_create(actor=scenario.reader)}"})
    client = Client()
    client.force_login(scenario.reader)
    return client


def load(client: Client | APIClient, scenario: Scenario) -> tuple[int, Any]:
    """The queries of one load of the page, after the same load once."""
    assert client.get(scenario.url, scenario.query).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(scenario.url, scenario.query)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("name", PAGES)
def test_a_full_page_costs_the_queries_of_a_few_rows(world: World, name: str) -> None:
    page = PAGES[name]
    scenario = page.build(world)
    client = client_for(scenario)

    scenario.add(page.small - scenario.before)
    few, response = load(client, scenario)
    assert scenario.shown(response) == page.small

    scenario.add(page.large - page.small)
    many, response = load(client, scenario)
    assert scenario.shown(response) == page.large

    # Shown with -s: the table of bench/README.md.
    print(f"{name}: {page.small} rows {few} queries, {page.large} rows {many} queries")
    assert many == few, f"{name}: {few} queries for {page.small} rows, {many} for {page.large}"
