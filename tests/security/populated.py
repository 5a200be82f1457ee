"""A world with an object behind every API route, built from the access matrix's own targets.

The security tests (schema fuzzing, field allowlists, list scoping) need real ids: the objects
the matrix builds for its API rows, on the jobcenter's side and on the outsider's. Each
target is built once, in a savepoint: targets are not all independent (two of them may open
an agency of the same name), and one that clashes with an earlier one is left out, since an
earlier row already built an object of that kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse

from tests.access_matrix import ROWS, Row
from tests.conftest import World


@dataclass
class Populated:
    """The URL of every API row whose target could be built, by row id."""

    urls: dict[str, str] = field(default_factory=dict)
    unbuilt: dict[str, str] = field(default_factory=dict)

    def url(self, row: Row) -> str | None:
        return self.urls.get(row.id)


# Targets that change a persona itself (rita's membership ends): the other routes would see a
# different rita than the matrix describes.
CHANGES_A_PERSONA = {"deactivated_colleague"}

# An over-limit approval needs a flat above the rent limit of its household: none may exist yet.
BUILT_FIRST = {"approval"}

API_ROWS: list[Row] = [row for row in ROWS if row.name.startswith("api:")]


def populate(world: World) -> Populated:
    """Build the target of every API row (own objects first, then "foreign" ones)."""
    built: dict[Callable[[World], list[Any]], list[Any] | str] = {}
    populated = Populated()
    for row in sorted(API_ROWS, key=lambda row: (row.args.__name__ not in BUILT_FIRST, bool(row.label))):
        if row.args.__name__ in CHANGES_A_PERSONA:
            continue
        if row.args not in built:
            try:
                with transaction.atomic():
                    built[row.args] = row.args(world)
            except (ValidationError, IntegrityError) as error:
                built[row.args] = repr(error)
        args = built[row.args]
        if isinstance(args, str):
            populated.unbuilt[row.id] = args
        else:
            populated.urls[row.id] = reverse(row.name, args=args)
    return populated


def template_pattern(path: str) -> re.Pattern[str]:
    """A regular expression that matches the URLs of an OpenAPI path such as /api/v1/persons/{id}/."""
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def route_template(name: str, templates: dict[str, re.Pattern[str]]) -> str | None:
    """The OpenAPI path of a route, found by reversing it with placeholder ids."""
    for count in range(4):
        try:
            url = reverse(name, args=[1] * count)
        except NoReverseMatch:
            continue
        return next((template for template, pattern in templates.items() if pattern.match(url)), None)
    return None
