"""The access matrix: every route × method × persona → the expected HTTP status.

This table is the executable permission concept (Berechtigungskonzept): the matrix
test runs every row, and fails when a route of the URLconf is missing here.
Objects are built per row by ``target``, both on the jobcenter's side and on the
outsider's (immigration authority's) side, so that every object route is also
tried with the id of an agency the persona shares nothing with (IDOR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agencies import services
from agencies.models import Staff, WorkspaceMembership
from tests.conftest import PERSONAS, World

ANON = "anon"
MEMBERS = ("alice", "bob", "carol", "rita", "adam", "cora")
JOBCENTER = ("alice", "rita", "adam", "cora")


def expect(default: int, anon: int | None = None, **overrides: int) -> dict[str, int]:
    """Statuses for all personas: ``default`` unless overridden; ``anon`` for the anonymous visitor."""
    table = {name: default for name in PERSONAS}
    table[ANON] = anon if anon is not None else default
    table.update(overrides)
    return table


def only(allowed: dict[str, int], others: int, anon: int, **overrides: int) -> dict[str, int]:
    table = expect(others, anon=anon, **overrides)
    table.update(allowed)
    return table


@dataclass
class Row:
    name: str
    method: str
    statuses: dict[str, int]
    args: Callable[[World], list[Any]] = lambda w: []
    data: dict[str, Any] | Callable[[World], dict[str, Any]] = field(default_factory=dict)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}-{self.method}{'-' + self.label if self.label else ''}"


def staff_of(username: str) -> Callable[[World], list[Any]]:
    return lambda w: [Staff.objects.get(user__username=username).pk]


def deactivated_colleague(w: World) -> list[Any]:
    staff = w.staff(w.rita)
    services.staff_deactivate(actor=w.adam, staff=staff)
    return [staff.pk]


def open_invitation(w: World) -> list[Any]:
    invitation, _ = services.staff_invite(
        actor=w.adam, agency=w.jobcenter, email="neu@example.org", first_name="Nina", last_name="Neu"
    )
    return [invitation.pk]


def invitation_token(w: World) -> list[Any]:
    _, token = services.staff_invite(
        actor=w.adam, agency=w.jobcenter, email="neu@example.org", first_name="Nina", last_name="Neu"
    )
    return [token]


def membership(w: World) -> list[Any]:
    return [w.workspace.pk, WorkspaceMembership.objects.get(workspace=w.workspace, agency=w.social_office).pk]


LOGIN = 302  # the UI sends anonymous visitors to the login page
ADAM_ONLY = {"adam": 200}
MANAGERS = {"cora": 200, "adam": 200}

UI_ROWS: list[Row] = [
    Row("dashboard", "GET", expect(200, anon=LOGIN)),
    Row("login", "GET", expect(200)),
    Row("logout", "POST", expect(302)),
    Row("set_language", "POST", expect(302), data={"language": "en", "next": "/"}),
    Row("profile", "GET", expect(200, anon=LOGIN)),
    Row("profile", "POST", expect(200, anon=LOGIN), data={"email": "not-an-address"}, label="invalid"),
    Row("password-change", "GET", expect(200, anon=LOGIN)),
    Row("api-token", "POST", expect(302, anon=LOGIN)),
    Row("api-token-delete", "POST", expect(302, anon=LOGIN)),
    Row("agency-list", "GET", expect(200, anon=LOGIN)),
    Row("agency-detail", "GET", expect(200, anon=LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("agency-detail", "GET", only({"olga": 200}, 404, LOGIN), lambda w: [w.immigration.pk], label="foreign"),
    Row("agency-detail", "GET", expect(404, anon=LOGIN), lambda w: [999999], label="missing"),
    Row("agency-edit", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("agency-edit", "POST", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk], {"email": "x"}),
    Row("agency-edit", "GET", only({}, 404, LOGIN, olga=403), lambda w: [w.immigration.pk], label="foreign"),
    Row("staff-list", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("staff-list", "GET", only({}, 404, LOGIN, olga=403), lambda w: [w.immigration.pk], label="foreign"),
    Row("staff-edit", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), staff_of("alice")),
    Row("staff-edit", "POST", only(ADAM_ONLY, 403, LOGIN, olga=404), staff_of("alice"), {"roles": ["superhero"]}),
    Row("staff-edit", "GET", only({}, 404, LOGIN, olga=403), staff_of("ines"), label="foreign"),
    Row("staff-deactivate", "POST", only({"adam": 302}, 403, LOGIN, olga=404), staff_of("alice")),
    Row("staff-deactivate", "POST", only({}, 404, LOGIN, olga=403), staff_of("ines"), label="foreign"),
    # A deactivated membership is visible to its agency's admins only.
    Row("staff-reactivate", "POST", only({"adam": 302}, 404, LOGIN), deactivated_colleague),
    Row("invitation-create", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row(
        "invitation-create",
        "POST",
        only(ADAM_ONLY, 403, LOGIN, olga=404),
        lambda w: [w.jobcenter.pk],
        {"email": "broken"},
        label="invalid",
    ),
    Row("invitation-revoke", "POST", only({"adam": 302}, 404, LOGIN), open_invitation),
    Row("invitation-accept", "GET", expect(200), invitation_token),
    Row("invitation-accept", "GET", expect(404), lambda w: ["no-such-token"], label="unknown"),
    Row("invitation-accept", "POST", expect(200), invitation_token, {"username": ""}, label="invalid"),
    Row("audit-list", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("audit-list", "GET", only({}, 404, LOGIN, olga=403), lambda w: [w.immigration.pk], label="foreign"),
    Row("workspace-list", "GET", expect(200, anon=LOGIN)),
    Row("workspace-create", "GET", only(MANAGERS, 403, LOGIN)),
    Row("workspace-create", "POST", only(MANAGERS, 403, LOGIN), data={"name": ""}, label="invalid"),
    Row("workspace-detail", "GET", expect(200, anon=LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "workspace-detail",
        "GET",
        only({"olga": 200}, 404, LOGIN),
        lambda w: [w.other_workspace.pk],
        label="foreign",
    ),
    Row("workspace-edit", "GET", only(MANAGERS, 403, LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row("workspace-edit", "POST", only(MANAGERS, 403, LOGIN, olga=404), lambda w: [w.workspace.pk], {"name": ""}),
    Row("workspace-add-agency", "GET", only(MANAGERS, 403, LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "workspace-add-agency",
        "POST",
        only(MANAGERS, 403, LOGIN, olga=404),
        lambda w: [w.workspace.pk],
        {"agency": "999999"},
        label="invalid",
    ),
    Row("workspace-remove-agency", "POST", only({"cora": 302, "adam": 302}, 403, LOGIN, olga=404), membership),
]

UNAUTHORISED = 401  # the API answers anonymous calls with 401 and a WWW-Authenticate header


def invite_body(w: World) -> dict[str, Any]:
    return {"agency": w.jobcenter.pk, "email": "neu@example.org", "first_name": "Nina", "last_name": "Neu"}


def new_workspace(w: World) -> dict[str, Any]:
    return {"name": "Team Arbeit", "coordinator_agency": w.jobcenter.pk}


API_ROWS: list[Row] = [
    Row("api-schema", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api-docs", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:me-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:agency-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:agency-detail", "GET", expect(200, anon=UNAUTHORISED, olga=404), lambda w: [w.jobcenter.pk]),
    Row(
        "api:agency-detail",
        "GET",
        only({"olga": 200}, 404, UNAUTHORISED),
        lambda w: [w.immigration.pk],
        label="foreign",
    ),
    Row(
        "api:agency-detail",
        "PATCH",
        only(ADAM_ONLY, 403, UNAUTHORISED, olga=404),
        lambda w: [w.jobcenter.pk],
        {"phone": "05921 96-0"},
    ),
    Row("api:staff-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:staff-detail", "GET", expect(200, anon=UNAUTHORISED, olga=404), staff_of("alice")),
    Row("api:staff-detail", "GET", only({"olga": 200}, 404, UNAUTHORISED), staff_of("ines"), label="foreign"),
    Row(
        "api:staff-detail",
        "PATCH",
        only(ADAM_ONLY, 403, UNAUTHORISED, olga=404),
        staff_of("alice"),
        {"job_title": "Fallmanagerin"},
    ),
    Row("api:staff-deactivate", "POST", only(ADAM_ONLY, 403, UNAUTHORISED, olga=404), staff_of("alice")),
    Row("api:staff-reactivate", "POST", only(ADAM_ONLY, 404, UNAUTHORISED), deactivated_colleague),
    Row("api:invitation-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:invitation-list", "POST", only({"adam": 201}, 403, UNAUTHORISED, olga=400), data=invite_body),
    Row("api:invitation-detail", "GET", only(ADAM_ONLY, 404, UNAUTHORISED), open_invitation),
    Row("api:invitation-revoke", "POST", only(ADAM_ONLY, 404, UNAUTHORISED), open_invitation),
    Row("api:workspace-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:workspace-list", "POST", only({"cora": 201, "adam": 201}, 403, UNAUTHORISED), data=new_workspace),
    Row("api:workspace-detail", "GET", expect(200, anon=UNAUTHORISED, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "api:workspace-detail",
        "GET",
        only({"olga": 200}, 404, UNAUTHORISED),
        lambda w: [w.other_workspace.pk],
        label="foreign",
    ),
    Row(
        "api:workspace-detail",
        "PATCH",
        only({"cora": 200, "adam": 200}, 403, UNAUTHORISED, olga=404),
        lambda w: [w.workspace.pk],
        {"purpose": "Neu"},
    ),
    Row("api:workspace-members", "GET", expect(200, anon=UNAUTHORISED, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "api:workspace-members",
        "POST",
        only({"cora": 201, "adam": 201}, 403, UNAUTHORISED, olga=404),
        lambda w: [w.workspace.pk],
        lambda w: {"agency": w.immigration.pk},
    ),
    Row(
        "api:workspace-member",
        "DELETE",
        only({"cora": 204, "adam": 204}, 403, UNAUTHORISED, olga=404),
        membership,
    ),
]

ROWS: list[Row] = UI_ROWS + API_ROWS
