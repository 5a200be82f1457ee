"""Lists never leak: every id a list shows, the reader may open, and its count counts only those.

DRF checks object permissions on detail routes only, so a list with a wrong queryset would show
another agency's rows while every detail route still answers 404. Here every list of the API is
read by every persona in a world where both the jobcenter's side and the outsider's side
(the immigration authority) hold objects of every kind; the rows it shows must open at the
matching detail route for the same persona, ``count`` must equal the rows shown, and no row of
the outsider may appear in anybody else's list.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from hub import access
from tests.access_matrix import ANON
from tests.conftest import PERSONAS, World
from tests.security.populated import API_ROWS, populate

# List route → the detail route of its items.
ITEM_ROUTE: dict[str, str] = {
    "api:notification-list": "api:notification-detail",
    "api:agency-list": "api:agency-detail",
    "api:staff-list": "api:staff-detail",
    "api:invitation-list": "api:invitation-detail",
    "api:workspace-list": "api:workspace-detail",
    "api:person-list": "api:person-detail",
    "api:household-list": "api:household-detail",
    "api:consent-list": "api:consent-detail",
    "api:share-list": "api:share-detail",
    "api:referral-list": "api:referral-detail",
    "api:profile-list": "api:profile-detail",
    "api:plan-list": "api:plan-detail",
    "api:measure-list": "api:measure-detail",
    "api:enrollment-list": "api:enrollment-detail",
    "api:transfer-list": "api:transfer-detail",
    "api:recognition-list": "api:recognition-detail",
    "api:referral-comments": "api:comment-detail",
    "api:person-comments": "api:comment-detail",
    "api:listing-comments": "api:comment-detail",
    "api:agenda-item-comments": "api:comment-detail",
    "api:listing-list": "api:listing-detail",
    "api:rent-limit-list": "api:rent-limit-detail",
    "api:rent-approval-list": "api:rent-approval-detail",
    "api:housing-request-list": "api:housing-request-detail",
    "api:reservation-list": "api:reservation-detail",
    "api:tenancy-list": "api:tenancy-detail",
    "api:meeting-list": "api:meeting-detail",
    "api:meeting-agenda": "api:agenda-item-detail",
    "api:action-item-list": "api:action-item-detail",
    "api:action-item-overview": "api:action-item-detail",
}


# The first rows of each list are opened one by one (each list is ordered differently, so over all
# lists and personas most objects are); the outsider's rows are looked for in full below.
OPENED_PER_LIST = 3


def rows_of(body: Any) -> tuple[list[dict[str, Any]], int | None]:
    if isinstance(body, dict) and "results" in body:
        assert body["next"] is None, "the test world fits on one page"
        return list(body["results"]), body["count"]
    return list(body), None


@pytest.mark.django_db
def test_lists_show_and_count_only_what_the_reader_may_open(world: World) -> None:
    populated = populate(world)
    lists = [row for row in API_ROWS if row.method == "GET" and row.name in ITEM_ROUTE and populated.url(row)]
    assert {row.name for row in lists} == set(ITEM_ROUTE), "every list of the table has an object to show"

    problems: list[str] = []
    opened: dict[tuple[str, str, int], int] = {}
    shown = 0
    for row in lists:
        url = populated.url(row)
        assert url is not None
        for persona in PERSONAS:
            if persona == ANON:
                continue
            client = Client()
            client.force_login(world.persona(persona))
            with transaction.atomic():
                response = client.get(url, row.data(world) if callable(row.data) else row.data)
                if response.status_code == 200:
                    items, count = rows_of(response.json())
                    if count is not None and count != len(items):
                        problems.append(f"{row.id} as {persona}: count {count}, but {len(items)} rows")
                    for item in items[:OPENED_PER_LIST]:
                        shown += 1
                        key = (persona, ITEM_ROUTE[row.name], item["id"])
                        if key not in opened:
                            opened[key] = client.get(reverse(key[1], args=[key[2]])).status_code
                        if opened[key] != 200:
                            problems.append(f"{row.id} as {persona}: shows {item['id']}, whose detail answers "
                                            f"{opened[key]}")  # fmt: skip
                transaction.set_rollback(True)
            access.forget(world.persona(persona))
    assert shown > 0
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_outsiders_objects_stay_out_of_every_other_list(world: World) -> None:
    """The immigration authority shares nothing: none of its ids appears in anybody else's lists."""
    populated = populate(world)
    foreign = {
        (ITEM_ROUTE_OF_DETAIL[row.name], int(str(populated.url(row)).rstrip("/").split("/")[-1]))
        for row in API_ROWS
        if row.label == "foreign" and row.name in ITEM_ROUTE_OF_DETAIL and populated.url(row)
    }
    assert foreign, "the matrix builds objects on the outsider's side"
    leaks: list[str] = []
    for persona in ("alice", "bob", "carol", "rita", "adam", "cora"):
        client = Client()
        client.force_login(world.persona(persona))
        for list_route in {route for route, _ in foreign}:
            items, _ = rows_of(client.get(reverse(list_route)).json())
            ids = {item["id"] for item in items}
            leaks += [f"{list_route} as {persona}: {pk}" for route, pk in foreign if route == list_route and pk in ids]
    assert not leaks, leaks


# Detail route → the top-level list that would show its object (nested lists are covered above).
ITEM_ROUTE_OF_DETAIL = {detail: list_route for list_route, detail in ITEM_ROUTE.items() if list_route.endswith("-list")}
