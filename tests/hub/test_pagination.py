"""The one-pass paginator gives the pages, counts and errors of Django's own, in one query a page."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from agencies import services
from agencies.models import Agency, AgencyKind
from hub.pagination import OnePassPaginator
from referrals import services as referral_services
from tests.conftest import World

pytestmark = pytest.mark.django_db

PER_PAGE = 3
ROWS = 7  # three pages: 3, 3 and 1
BORN = datetime.date(1990, 4, 12)


@pytest.fixture
def agencies() -> QuerySet[Agency]:
    for number in range(ROWS):
        services.agency_create(actor=None, name=f"Träger {number}", short_name=f"T{number}", kind=AgencyKind.OTHER)
    return Agency.objects.order_by("name", "pk")


def shown(page: Any) -> tuple[int, list[str], int, int, bool, bool]:
    paginator = page.paginator
    names = [agency.name for agency in page.object_list]
    return page.number, names, paginator.count, paginator.num_pages, page.has_previous(), page.has_next()


@pytest.mark.parametrize("asked", ["1", "2", "3", "4", "99", "0", "-1", "abc", "", None, "2.0", 2.0, 2.5, 3])
def test_get_page_answers_as_djangos_paginator(agencies: QuerySet[Agency], asked: Any) -> None:
    plain = Paginator(agencies, PER_PAGE).get_page(asked)
    one_pass = OnePassPaginator(agencies, PER_PAGE).get_page(asked)
    assert shown(one_pass) == shown(plain)


@pytest.mark.parametrize("asked", [1, 2, 3, 4, 0, "abc", 2.5])
def test_page_raises_as_djangos_paginator(agencies: QuerySet[Agency], asked: Any) -> None:
    def outcome(paginator: Paginator) -> Any:
        try:
            return shown(paginator.page(asked))
        except (EmptyPage, PageNotAnInteger) as error:
            return type(error), str(error)

    assert outcome(OnePassPaginator(agencies, PER_PAGE)) == outcome(Paginator(agencies, PER_PAGE))


def test_an_empty_list_has_one_empty_page(agencies: QuerySet[Agency]) -> None:
    with CaptureQueriesContext(connection) as queries:
        page = OnePassPaginator(agencies.none() | agencies.filter(name="niemand"), PER_PAGE).get_page("1")
        assert shown(page) == (1, [], 0, 1, False, False)
    assert len(queries) == 1


@pytest.mark.parametrize("asked", ["1", "2", "3"])
def test_a_page_and_its_count_take_one_query(agencies: QuerySet[Agency], asked: str) -> None:
    with CaptureQueriesContext(connection) as queries:
        page = OnePassPaginator(agencies, PER_PAGE).get_page(asked)
        shown(page)
    assert len(queries) == 1
    assert "COUNT(*) OVER ()" in queries[0]["sql"]


def test_the_person_api_counts_pages_past_the_end_as_not_found(world: World) -> None:
    for first_name in ("Amina", "Bilal", "Chadi"):
        referral_services.person_create(
            actor=world.alice,
            agency=world.jobcenter,
            first_name=first_name,
            last_name="Haddad",
            birth_date=BORN,
            nationality="syrisch",
        )
    client = APIClient()
    client.force_authenticate(world.alice)
    body = client.get("/api/v1/persons/", {"q": "haddad"}).json()
    assert body["count"] == 3 and [person["first_name"] for person in body["results"]] == ["Amina", "Bilal", "Chadi"]
    assert client.get("/api/v1/persons/", {"q": "haddad", "page": "2"}).status_code == 404
    assert client.get("/api/v1/persons/", {"q": "haddad", "page": "x"}).status_code == 404


def test_it_pages_querysets_only(agencies: QuerySet[Agency]) -> None:
    with pytest.raises(TypeError):
        OnePassPaginator(list(agencies), PER_PAGE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        OnePassPaginator(agencies, PER_PAGE, orphans=1)
