"""The dashboard's API against the hand-built county (``tests.reporting.county``).

The API has no ``today`` to pass, so every call names the first quarter of 2025 explicitly and no
assertion rests on a figure that is counted against today (answers and action items overdue).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.models import User
from reporting.figures import HIDDEN, SMALL
from tests.conftest import World
from tests.reporting.county import Q1, County, grow_the_quarter

QUARTER: dict[str, Any] = {"start": Q1.start.isoformat(), "end": Q1.end.isoformat()}


def client(user: User | None = None, language: str = "de") -> APIClient:
    api = APIClient(headers={"accept-language": language})
    if user is not None:
        api.force_login(user)
    return api


def workspace_url(world: World, pk: int | None = None) -> str:
    return reverse("api:reporting-workspace", args=[pk if pk is not None else world.workspace.pk])


def agency_url(world: World, pk: int | None = None) -> str:
    return reverse("api:reporting-agency", args=[pk if pk is not None else world.jobcenter.pk])


def figures(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {figure["key"]: figure for figure in body["figures"]}


def shown(item: dict[str, Any]) -> tuple[Any, str, bool]:
    return item["value"], item["display"], item["suppressed"]


def series(figure: dict[str, Any], key: str) -> dict[str, tuple[Any, str, bool]]:
    """A series by its points' keys; by agency, the keys are ids, so the labels (short names) name them."""
    found = next(s for s in figure["series"] if s["key"] == key)
    by = "label" if key in ("by_agency", "by_receiving_agency") else "key"
    return {point[by]: shown(point) for point in found["points"]}


def every_value(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Figures, their extras and every point of their series."""
    items: list[dict[str, Any]] = []
    for figure in body["figures"]:
        items += [figure, *figure["extra"]]
        items += [point for s in figure["series"] for point in s["points"]]
    return items


# The round table -----------------------------------------------------------------------------


def test_round_table_figures_hide_small_numbers(county: County) -> None:
    world = county.world
    response = client(world.alice).get(workspace_url(world), QUARTER)
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == {
        "kind": "workspace",
        "id": world.workspace.pk,
        "name": "Runder Tisch Integration",
        "agency": None,
    }
    assert body["period"] == {"start": "2025-01-01", "end": "2025-03-31"}
    got = figures(body)
    served = got["people_served"]
    assert shown(served) == (7, "7", False)
    # The social office's two are hidden, the jobcenter's five by secondary suppression.
    assert series(served, "by_agency") == {
        "Jobcenter": (None, HIDDEN, True),
        "Sozialamt": (None, SMALL, True),
        "Jugendamt": (0, "0", False),
    }
    assert shown(got["referrals"]) == (8, "8", False)
    assert series(got["referrals"], "by_status")["accepted"] == (None, SMALL, True)
    assert series(got["referrals"], "by_status")["completed"] == (0, "0", False)
    assert [point[0] for point in series(got["referrals"], "by_month").values()] == [None, None, None]
    accept = got["time_to_accept"]
    assert shown(accept) == (6.0, "6,0", False)
    assert [shown(extra) for extra in accept["extra"]] == [(9.2, "9,2", False)]
    assert accept["extra"][0]["key"] == "time_to_accept_p90"
    # A median of three persons' waits: neither it nor its 90th percentile leaves the server.
    waiting = got["wait_first_measure"]
    assert shown(waiting) == (None, HIDDEN, True)
    assert shown(waiting["extra"][0]) == (None, HIDDEN, True)
    assert shown(got["measures_completed"]) == (None, SMALL, True)
    assert series(got["outcomes"], "by_kind")["course_completed"] == (None, SMALL, True)
    # Flats are not suppressed.
    assert [shown(got[key]) for key in ("flats_available", "flats_reserved", "flats_occupied")] == [
        (2, "2", False),
        (1, "1", False),
        (1, "1", False),
    ]


def test_no_suppressed_number_and_no_case_count_leaves_the_server(county: County) -> None:
    world = county.world
    body = client(world.cora).get(workspace_url(world), QUARTER).json()
    items = every_value(body)
    assert sum(item["suppressed"] for item in items) > 10
    assert all(item["value"] is None for item in items if item["suppressed"])
    assert all("cases" not in figure for figure in body["figures"])
    assert all("series" not in extra and "cases" not in extra for f in body["figures"] for extra in f["extra"])


def test_agency_filter_narrows_the_round_table(county: County) -> None:
    world = county.world
    api = client(world.carol)
    body = api.get(workspace_url(world), {**QUARTER, "agency": world.youth_office.pk}).json()
    assert body["scope"]["agency"] == world.youth_office.pk
    got = figures(body)
    assert shown(got["people_served"]) == (0, "0", False)
    assert shown(got["referrals"]) == (None, SMALL, True)
    assert shown(got["time_to_accept"]) == (None, HIDDEN, False)
    social = figures(api.get(workspace_url(world), {**QUARTER, "agency": world.social_office.pk}).json())
    # 6 of the round table's 8: the difference would count the youth office's 2, so it is hidden too.
    assert shown(social["referrals"]) == (None, HIDDEN, True)
    assert shown(social["flats_available"]) == (2, "2", False)


# One agency ----------------------------------------------------------------------------------


def test_own_agency_figures_are_not_suppressed(county: County) -> None:
    world = county.world
    response = client(world.rita).get(agency_url(world), QUARTER)
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == {"kind": "agency", "id": world.jobcenter.pk, "name": "Jobcenter", "agency": None}
    items = every_value(body)
    assert not any(item["suppressed"] for item in items)
    got = figures(body)
    assert shown(got["people_served"]) == (5, "5", False)
    referrals = got["referrals"]
    assert shown(referrals) == (9, "9", False)
    assert series(referrals, "by_receiving_agency") == {
        "Jobcenter": (0, "0", False),
        "ABH": (1, "1", False),
        "Jugendamt": (2, "2", False),
        "Sozialamt": (6, "6", False),
    }
    assert shown(got["caseload"]) == (5.0, "5,0", False)
    assert shown(got["wait_first_measure"]) == (40.5, "40,5", False)
    assert shown(got["wait_first_measure"]["extra"][0]) == (48.1, "48,1", False)
    assert series(got["outcomes"], "by_kind")["job"] == (1, "1", False)


def test_an_agency_has_no_agency_filter(county: County) -> None:
    world = county.world
    body = client(world.alice).get(agency_url(world), {**QUARTER, "agency": world.social_office.pk}).json()
    assert body["scope"]["agency"] is None
    assert figures(body)["people_served"]["value"] == 5


def test_labels_and_numbers_follow_the_request_language(county: County) -> None:
    world = county.world
    english = figures(client(world.alice, "en").get(workspace_url(world), QUARTER).json())
    assert english["people_served"]["label"] == "People served"
    assert english["time_to_accept"]["display"] == "6.0"
    german = figures(client(world.alice, "de").get(workspace_url(world), QUARTER).json())
    assert german["time_to_accept"]["display"] == "6,0"
    wrong = client(world.alice, "en").get(workspace_url(world), {"start": "soon"})
    assert wrong.json() == {"start": ["Enter a valid date."]}


# Bad input and strangers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2025-03-31", "end": "2025-01-01"}, "end"),
        ({"start": "garbage"}, "start"),
        ({"start": "2025-13-01"}, "start"),
        ({"end": "2025-02-30"}, "end"),
        ({"start": "1990-01-01", "end": "2025-01-01"}, "start"),
        # The last days of the calendar have no next day to end the period before.
        ({"start": "9999-12-30", "end": "9999-12-31"}, "end"),
        ({"start": "9999-12-01"}, "start"),
        ({"preset": "forever"}, "preset"),
        ({"agency": "Jobcenter"}, "agency"),
        ({"agency": 2**70}, "agency"),
    ],
)
def test_invalid_query_answers_400_with_the_field(world: World, query: dict[str, Any], field: str) -> None:
    response = client(world.alice).get(workspace_url(world), query)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert all(isinstance(message, str) and message for message in body[field])


def test_an_agency_outside_the_round_table_is_a_form_error(world: World) -> None:
    response = client(world.alice).get(workspace_url(world), {"agency": world.immigration.pk})
    assert response.status_code == 400
    assert response.json() == {
        "agency": ["Bitte eine gültige Auswahl treffen. Dies ist keine gültige Auswahl."],
    }
    end_first = client(world.alice).get(agency_url(world), {"start": "2025-03-31", "end": "2025-01-01"})
    assert end_first.status_code == 400
    assert set(end_first.json()) == {"end"}


def test_strangers_and_missing_ids_answer_404(county: County) -> None:
    world = county.world
    olga = client(world.olga)
    assert olga.get(workspace_url(world), QUARTER).status_code == 404
    assert olga.get(agency_url(world), QUARTER).status_code == 404
    # The scope is checked before the query: an invalid one tells a stranger nothing either.
    assert olga.get(workspace_url(world), {"start": "garbage"}).status_code == 404
    assert client(world.bob).get(agency_url(world), QUARTER).status_code == 404
    for url in (workspace_url(world, 999999), agency_url(world, 999999), workspace_url(world, 2**70)):
        assert client(world.alice).get(url, QUARTER).status_code == 404
    # Her own round table and agency she may read.
    assert olga.get(workspace_url(world, world.other_workspace.pk), QUARTER).status_code == 200
    assert olga.get(agency_url(world, world.immigration.pk), QUARTER).status_code == 200


def test_anonymous_calls_are_refused(world: World) -> None:
    for url in (workspace_url(world), agency_url(world)):
        response = client().get(url, QUARTER)
        assert response.status_code == 401
        assert "WWW-Authenticate" in response


def test_presets_answer_their_period(world: World) -> None:
    body = client(world.alice).get(agency_url(world), {"preset": "last_year"}).json()
    year = int(body["today"][:4]) - 1
    assert body["period"] == {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    default = client(world.alice).get(agency_url(world)).json()
    assert default["period"] == {"start": f"{year + 1}-01-01", "end": default["today"]}


# Schema and queries ----------------------------------------------------------------------------


def test_schema_documents_both_routes_with_their_parameters(world: World) -> None:
    schema = client(world.alice).get(reverse("api-schema"), {"format": "json"}).json()
    for path, parameters in [
        ("/api/v1/workspaces/{id}/figures/", {"id", "preset", "start", "end", "agency"}),
        ("/api/v1/agencies/{id}/figures/", {"id", "preset", "start", "end"}),
    ]:
        operation = schema["paths"][path]["get"]
        assert {parameter["name"] for parameter in operation["parameters"]} == parameters
        assert {"200", "400", "401", "404"} <= set(operation["responses"])
        assert operation["tags"] == ["reporting"]
        preset = next(parameter for parameter in operation["parameters"] if parameter["name"] == "preset")
        assert set(preset["schema"]["enum"]) == {
            "this_year",
            "last_year",
            "this_quarter",
            "last_quarter",
            "last_12_months",
        }
    point = schema["components"]["schemas"]["FigurePoint"]["properties"]
    assert point["value"]["nullable"] is True
    assert "cases" not in schema["components"]["schemas"]["Figure"]["properties"]


@pytest.mark.parametrize("route", ["workspace", "agency"])
def test_query_count_does_not_grow_with_the_data(county: County, route: str) -> None:
    world = county.world
    url = workspace_url(world) if route == "workspace" else agency_url(world)
    query = {**QUARTER, "agency": world.jobcenter.pk} if route == "workspace" else QUARTER

    def queries() -> tuple[int, int]:
        api = client(User.objects.get(pk=world.alice.pk))
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url, query)
        assert response.status_code == 200
        return len(captured), figures(response.json())["referrals"]["value"]

    grow_the_quarter(world, 5)
    few, referrals_few = queries()
    grow_the_quarter(world, 20)
    many, referrals_many = queries()
    assert referrals_many == referrals_few + 20
    assert few == many
