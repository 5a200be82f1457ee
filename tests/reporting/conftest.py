"""The county of known figures, built once per test module and copied for each test.

Building it through the services takes about 2,000 queries. As Django's ``setUpTestData`` does for
a test class, a module builds it once inside a transaction that is rolled back after the module's
last test; every test runs in a savepoint of its own (pytest-django's ``db``) and gets a deep copy
of the Python objects, so that neither rows nor attributes a test changes reach the next test.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import DjangoDbBlocker

from tests.conftest import make_world, module_transaction
from tests.reporting.county import County, make_county

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def built_county(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[County]:
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            county = make_county(make_world())
        yield county


@pytest.fixture
def county(db: None, built_county: County) -> County:
    return copy.deepcopy(built_county)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In each module here, the tests of an empty world run before the county's: once built, the
    county stays in the database until the module's last test. Only the places this folder's
    tests already hold are reordered, so pytest-django's order of the rest stays as it is."""
    places: dict[Path, list[int]] = {}
    for index, item in enumerate(items):
        if item.path.is_relative_to(HERE):
            places.setdefault(item.path, []).append(index)
    for indices in places.values():
        module_items = [items[index] for index in indices]
        module_items.sort(key=lambda item: "built_county" in getattr(item, "fixturenames", ()))
        for index, item in zip(indices, module_items, strict=True):
            items[index] = item
