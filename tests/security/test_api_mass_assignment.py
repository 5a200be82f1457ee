"""Mass assignment: a privileged field slipped into a write is refused or has no effect.

Every API write of the access matrix that succeeds for some persona is sent again by that persona
with one extra field at a time: ids, authors, owning agencies, statuses, account flags. The
answer must be 400 (``hub.api.StrictInputMixin`` refuses unknown keys, a scoped id field refuses
an agency the writer may not name), or a success in which the object does not carry the value
sent, and no account gained a privilege (ASVS 4.0.3 4.1.2; threat 5 in the security reference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from agencies.models import User
from hub import access
from tests.access_matrix import ROWS, Row
from tests.conftest import PERSONAS, World

WRITES = ("POST", "PATCH", "PUT")

# Field → the value slipped in; the agencies and users are the outsider's, whom no writer may name.
PRIVILEGED: dict[str, Callable[[World], Any]] = {
    "id": lambda w: 999999,
    "created_by": lambda w: w.olga.pk,
    "agency": lambda w: w.immigration.pk,
    "owner_agency": lambda w: w.immigration.pk,
    "responsible_agency": lambda w: w.immigration.pk,
    "from_agency": lambda w: w.immigration.pk,
    "status": lambda w: "closed",
    "reference": lambda w: "FREMD-1",
    "is_staff": lambda w: True,
}


def successful_writer(row: Row) -> str | None:
    return next((name for name in PERSONAS if row.statuses[name] in (200, 201)), None)


WRITABLE = [row for row in ROWS if row.name.startswith("api:") and row.method in WRITES and successful_writer(row)]


def reflected(body: Any, field: str) -> Any:
    value = body.get(field) if isinstance(body, dict) else None
    return value.get("id") if isinstance(value, dict) else value


@pytest.mark.django_db
def test_privileged_fields_in_a_write_are_refused_or_without_effect(world: World) -> None:
    assert len(WRITABLE) > 30
    accepted: list[str] = []
    for row in WRITABLE:
        writer = successful_writer(row)
        assert writer is not None
        client = Client()
        client.force_login(world.persona(writer))
        with transaction.atomic():
            url = reverse(row.name, args=row.args(world))
            base = row.data(world) if callable(row.data) else dict(row.data)
            method = getattr(client, row.method.lower())
            # What the write answers without the extra field: a value it sets itself (a plan's
            # "closed" on closing) is no injection.
            with transaction.atomic():
                plain = method(url, data=base, content_type="application/json")
                baseline = plain.json() if plain["Content-Type"] == "application/json" else {}
                transaction.set_rollback(True)
            for field, make in PRIVILEGED.items():
                if field in base:
                    continue
                value = make(world)
                with transaction.atomic():
                    response = method(url, data={**base, field: value}, content_type="application/json")
                    if response.status_code in (200, 201) and response["Content-Type"] == "application/json":
                        if reflected(response.json(), field) == value != reflected(baseline, field):
                            accepted.append(f"{row.id} as {writer}: {field}={value!r} was stored")
                    elif response.status_code not in (400, 204):
                        accepted.append(f"{row.id} as {writer}: {field} answered {response.status_code}")
                    if User.objects.filter(is_staff=True).exists() or User.objects.filter(is_superuser=True).exists():
                        accepted.append(f"{row.id} as {writer}: {field} made an account privileged")
                    transaction.set_rollback(True)
                access.forget(world.persona(writer))
            transaction.set_rollback(True)
    assert not accepted, "\n".join(accepted)


@pytest.mark.django_db
def test_an_unknown_key_is_refused_with_its_name(world: World) -> None:
    """The strict input: a guessed field answers 400 and names the key, nothing is written."""
    client = Client()
    client.force_login(world.cora)
    response = client.post(
        reverse("api:workspace-list"),
        data={"name": "Team Arbeit", "coordinator_agency": world.jobcenter.pk, "is_staff": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "is_staff" in response.json()
    assert not User.objects.filter(is_staff=True).exists()
