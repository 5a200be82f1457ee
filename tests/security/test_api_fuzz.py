"""Schemathesis against /api/schema/, once per persona, in-process through Django's WSGI handler.

Every operation of the schema is called with generated query parameters and bodies, with real
object ids in its path (those the access matrix builds), by each persona. Each answer must be no
5xx and must conform to the schema: a documented status code, the documented content type and
a body that matches the documented shape. Generation is derandomised and bounded, so a run is
repeatable and fits the CI budget; every call runs in a savepoint that is rolled back, so one
call's write never changes what the next one finds.

All findings are collected and reported together, one line per operation and persona.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from messaging.meetings import services as meeting_services
from tests.access_matrix import ANON
from tests.conftest import PERSONAS, World
from tests.security.populated import API_ROWS, populate, route_template, template_pattern

# Generated cases per operation; the personas take them in turn.
POSITIVE_EXAMPLES = 3
NEGATIVE_EXAMPLES = 2
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@contextmanager
def connection_kept_open() -> Iterator[None]:
    """Django's WSGI handler closes "old" connections around each request; that would end the
    test's transaction. Django's own test client disconnects the same receivers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def path_parameters(world: World, templates: list[str]) -> dict[str, dict[str, str]]:
    """Real ids for every path of the schema: those of the first API row of the matrix on it."""
    patterns = {template: template_pattern(template) for template in templates}
    populated = populate(world)
    found: dict[str, dict[str, str]] = {}
    for row in sorted(API_ROWS, key=lambda row: bool(row.label)):
        template = route_template(row.name, patterns)
        url = populated.url(row)
        if template is None or template in found or url is None:
            continue
        match = patterns[template].match(url)
        assert match is not None, row.id
        found[template] = match.groupdict()
    return found


def cases_for(operation: Any, fixed: dict[str, str]) -> list[Case]:
    """Derandomised cases of one operation, path ids fixed: valid input, and invalid input where
    the operation takes any (an operation without parameters or body has nothing to negate)."""
    collected: list[Case] = []
    # With only its (fixed) path ids, an operation has one case to try.
    modes = [(GenerationMode.POSITIVE, 1)]
    if list(operation.query) or list(operation.body):
        modes = [(GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)]
    for mode, examples in modes:

        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
        def collect(case: Case) -> None:
            collected.append(case)

        try:
            collect()
        except Unsatisfiable:
            continue
    return collected


def summary(error: BaseException) -> str:
    """One line: the failed checks and the request that shows them."""
    lines = str(error).strip().splitlines()
    if isinstance(error, FailureGroup):
        titles = "; ".join(f"{failure.title}: {failure.message}".replace("\n", " ") for failure in error.exceptions)
        curl = next((line.strip() for line in lines if line.strip().startswith("curl ")), "")
        return f"{titles} <- {curl}"
    return " | ".join(lines[-3:])


@pytest.mark.django_db
def test_api_conforms_to_its_schema_for_every_persona(world: World) -> None:
    app = WSGIHandler()
    tokens = {name: Token.objects.create(user=world.persona(name)).key for name in PERSONAS if name != ANON}
    with connection_kept_open():
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json", app, headers={"Authorization": f"Token {tokens['alice']}"}
        )
        results = list(schema.get_all_operations())
        broken = [str(result.err()) for result in results if isinstance(result, Err)]
        assert not broken, broken
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        ids = path_parameters(world, sorted({operation.path for operation in operations}))
        problems: list[str] = []
        for operation in operations:
            fixed = ids.get(operation.path, {})
            cases = cases_for(operation, fixed)
            # Each persona gets one of the cases in turn: every case is tried, every persona calls
            # every operation, and the run stays within its time budget.
            for index, persona in enumerate(PERSONAS):
                headers = {} if persona == ANON else {"Authorization": f"Token {tokens[persona]}"}
                case = cases[index % len(cases)]
                with transaction.atomic():
                    try:
                        response = case.call(headers=headers)
                        case.validate_response(response, checks=CHECKS, headers=headers)
                    except (Exception, FailureGroup) as error:
                        problems.append(f"{operation.label} as {persona}: {summary(error)}")
                    transaction.set_rollback(True)
                world.forget_access()
        assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_findings_of_the_fuzzing_stay_fixed(world: World) -> None:
    """What schemathesis found once: each is a plain request here, so a regression shows by name."""
    meeting = meeting_services.meeting_create(
        actor=world.cora,
        workspace=world.workspace,
        title="Runder Tisch",
        starts_at=timezone.now() + datetime.timedelta(days=3),
        place="Jobcenter",
    )
    client = Client()
    client.force_login(world.cora)
    # A year such as 0248 has no ISO offset in Europe/Berlin (local mean time): refused, not stored.
    response = client.patch(
        reverse("api:meeting-detail", args=[meeting.pk]),
        data={"starts_at": "0248-06-28T15:15:34+01:00"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "starts_at" in response.json()

    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert "401" in codes, f"{method} {path}: anonymous calls answer 401"
            if "{" in path:
                assert "404" in codes, f"{method} {path}: invisible ids answer 404"
    video = schema["components"]["schemas"]["MeetingDetail"]["properties"]["video_url"]
    assert {"type": "string", "maxLength": 0} in video["oneOf"], "a meeting without a video link answers ''"
