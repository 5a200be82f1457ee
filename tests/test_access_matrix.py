"""Runs the access matrix (tests/access_matrix.py) and proves it covers every route."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access_matrix import ANON, ROWS, Row
from tests.conftest import PERSONAS, World

# Routes that belong to Django itself or only serve static assets.
OUTSIDE_THE_MATRIX = {"admin", "api:api-root"}


def route_names(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= route_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_route_is_in_the_matrix() -> None:
    covered = {row.name for row in ROWS}
    missing = {
        name
        for name in route_names()
        if name not in covered and name.split(":")[0] not in OUTSIDE_THE_MATRIX and name not in OUTSIDE_THE_MATRIX
    }
    assert not missing, f"routes missing from tests/access_matrix.py: {sorted(missing)}"


def test_every_row_names_every_persona() -> None:
    for row in ROWS:
        assert set(row.statuses) == set(PERSONAS), row.id


def answer(world: World, row: Row, persona: str, url: str, data: dict[str, Any]) -> int:
    """The status ``persona`` gets for ``row`` at ``url``."""
    client = Client()
    if persona != ANON:
        client.force_login(world.persona(persona))
    method = getattr(client, row.method.lower())
    if row.name.startswith("api:"):
        response = method(url, data=data, content_type="application/json")
    else:
        response = method(url, data=data)
    if persona == ANON and response.status_code == 302 and row.name not in PUBLIC_REDIRECTS:
        assert response["Location"].startswith(reverse("login")), f"{row.method} {url} as anon"
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_access_matrix(world: World, row: Row) -> None:
    """Every persona on one row. The row's objects are built once (as is the world), and each
    persona asks in a savepoint that is rolled back, so that one persona's successful write never
    changes what the next one finds."""
    url = reverse(row.name, args=row.args(world))
    data = row.data(world) if callable(row.data) else row.data
    wrong = {}
    for persona in PERSONAS:
        world.forget_access()
        with transaction.atomic():
            status = answer(world, row, persona, url, data)
            transaction.set_rollback(True)
        if status != row.statuses[persona]:
            wrong[persona] = f"{row.method} {url}: expected {row.statuses[persona]}, got {status}"
    assert not wrong, wrong


PUBLIC_REDIRECTS = {"logout", "set_language"}
