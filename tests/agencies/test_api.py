"""The agencies REST API: who may and who may not, no foreign rows, no mass assignment, no 500s."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agencies import services
from agencies.models import Agency, Invitation, Staff, User, Workspace, WorkspaceMembership
from hub.models import AuditEntry, Event
from tests.conftest import World, make_world, module_transaction

pytestmark = [
    pytest.mark.django_db,
    # Pages of an unordered list may repeat or skip rows.
    pytest.mark.filterwarnings("error::django.core.paginator.UnorderedObjectListWarning"),
]


class Response(Protocol):
    status_code: int

    def json(self) -> Any: ...

    def __getitem__(self, header: str) -> str: ...


@pytest.fixture(scope="module")
def module_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The personas, built once for this module inside a transaction that is rolled back at its end.

    Each test runs in a savepoint within it (pytest-django's ``db``), as with
    Django's ``setUpTestData``: building the world for each of the many cases
    here would take most of the run.
    """
    with module_transaction(django_db_blocker), django_db_blocker.unblock():
        yield make_world()


@pytest.fixture
def world(module_world: World, db: None) -> World:
    """Fresh copies of the module's personas, so that no cached state crosses tests."""
    return module_world.reloaded()


API = "/api/v1"
HUGE_ID = 2**70


@functools.cache
def shared_handler() -> Any:
    """One request handler for all clients of this module.

    A new client loads the middleware again (WhiteNoise scans the static files),
    about 0.1 s each. The handler keeps no per-user state as long as no test calls
    ``force_authenticate``: sessions and credentials live on the client.
    """
    return APIClient().handler


def client(user: User | None = None) -> APIClient:
    api = APIClient()
    api.handler = shared_handler()
    if user is not None:
        # A real session, so that every request loads the user and their memberships afresh.
        api.force_login(user)
    return api


def as_(world: World, persona: str) -> APIClient:
    return client(world.persona(persona))


def ids(response: Response) -> set[int]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["id"] for row in rows}


def audited(action: str, **fields: Any) -> AuditEntry:
    return AuditEntry.objects.filter(action=action, **fields).latest("id")


def published(verb: str) -> Event:
    return Event.objects.filter(verb=verb).latest("id")


def write_counts() -> tuple[int, int]:
    return AuditEntry.objects.count(), Event.objects.count()


def staff_pk(username: str) -> int:
    return Staff.objects.get(user__username=username).pk


# Authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/agencies/", "/staff/", "/invitations/", "/workspaces/", "/me/", "/"])
def test_anonymous_gets_nothing(world: World, path: str) -> None:
    response = client().get(API + path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "results" not in response.json()


def test_token_authentication_works_and_ends_with_the_membership(world: World) -> None:
    token = Token.objects.create(user=world.alice)
    api = client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(f"{API}/agencies/").json()["count"] == 3
    assert api.get(f"{API}/workspaces/").json()["count"] == 1

    services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))

    for path in ["/agencies/", "/staff/", "/workspaces/", "/invitations/"]:
        body = api.get(API + path).json()
        assert (body["count"], body["results"]) == (0, []), path
    assert api.get(f"{API}/agencies/{world.jobcenter.pk}/").status_code == 404
    assert api.get(f"{API}/workspaces/{world.workspace.pk}/").status_code == 404
    assert api.get(f"{API}/workspaces/{world.workspace.pk}/members/").status_code == 404
    me = api.get(f"{API}/me/").json()
    assert [(m["agency"]["id"], m["is_active"]) for m in me["memberships"]] == [(world.jobcenter.pk, False)]


def test_a_wrong_token_is_refused(world: World) -> None:
    api = client()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get(f"{API}/agencies/").status_code == 401


# Agencies ---------------------------------------------------------------------------------

AGENCY_KEYS = {
    "id",
    "name",
    "short_name",
    "kind",
    "street",
    "postcode",
    "city",
    "email",
    "phone",
    "website",
    "created_at",
    "active_staff_count",
}


def test_agency_list_shows_own_and_partner_agencies_only(world: World) -> None:
    response = as_(world, "alice").get(f"{API}/agencies/")
    assert response.status_code == 200
    body = response.json()
    assert ids(response) == {world.jobcenter.pk, world.social_office.pk, world.youth_office.pk}
    assert body["count"] == 3
    assert set(body["results"][0]) == AGENCY_KEYS
    counts = {row["id"]: row["active_staff_count"] for row in body["results"]}
    assert counts[world.jobcenter.pk] == 4  # alice, rita, adam, cora


def test_outsider_sees_only_her_own_agency(world: World) -> None:
    response = as_(world, "olga").get(f"{API}/agencies/")
    assert response.json()["count"] == 1
    assert ids(response) == {world.immigration.pk}
    assert response.json()["results"][0]["active_staff_count"] == 2  # olga and ines


def test_agency_filters(world: World) -> None:
    api = as_(world, "alice")
    assert ids(api.get(f"{API}/agencies/", {"kind": "youth_office"})) == {world.youth_office.pk}
    assert ids(api.get(f"{API}/agencies/", {"q": "Sozial"})) == {world.social_office.pk}
    # The outsider's agency is not found by searching for it either.
    assert ids(api.get(f"{API}/agencies/", {"q": "Ausländer"})) == set()
    assert api.get(f"{API}/agencies/", {"kind": "castle"}).status_code == 400
    assert api.get(f"{API}/agencies/", {"q": "x" * 101}).status_code == 400
    assert api.get(f"{API}/agencies/", {"page": "abc"}).status_code == 404


@pytest.mark.parametrize(
    ("persona", "agency", "expected"),
    [
        ("alice", "jobcenter", 200),
        ("bob", "jobcenter", 200),
        ("olga", "jobcenter", 404),
        ("alice", "immigration", 404),
        ("olga", "immigration", 200),
    ],
)
def test_agency_retrieve(world: World, persona: str, agency: str, expected: int) -> None:
    pk = getattr(world, agency).pk
    assert as_(world, persona).get(f"{API}/agencies/{pk}/").status_code == expected


@pytest.mark.parametrize("pk", ["999999", str(HUGE_ID), "abc", "-1", "1.5", "%20"])
def test_agency_retrieve_of_odd_ids_is_404(world: World, pk: str) -> None:
    assert as_(world, "alice").get(f"{API}/agencies/{pk}/").status_code == 404


def test_agency_admin_changes_contact_data(world: World) -> None:
    response = as_(world, "adam").patch(
        f"{API}/agencies/{world.jobcenter.pk}/", {"phone": "05921 96-0", "city": "Lingen"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["phone"], response.json()["city"]) == ("05921 96-0", "Lingen")
    world.jobcenter.refresh_from_db()
    assert world.jobcenter.phone == "05921 96-0"
    entry = audited("agency.update", actor=world.adam)
    assert entry.changes["phone"] == ["", "05921 96-0"]
    assert published("agency.updated").target_id == str(world.jobcenter.pk)


def test_agency_put_replaces_and_needs_the_required_fields(world: World) -> None:
    api = as_(world, "adam")
    url = f"{API}/agencies/{world.jobcenter.pk}/"
    response = api.put(url, {"phone": "1"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "kind"}
    response = api.put(url, {"name": "Jobcenter Musterstadt", "kind": "jobcenter", "city": "Lingen"}, format="json")
    assert response.status_code == 200
    assert audited("agency.update").changes["name"][1] == "Jobcenter Musterstadt"


@pytest.mark.parametrize(
    ("persona", "agency", "expected"),
    [
        ("rita", "jobcenter", 403),
        ("alice", "jobcenter", 403),
        ("cora", "jobcenter", 403),
        ("bob", "jobcenter", 403),
        ("olga", "jobcenter", 404),
        ("adam", "immigration", 404),
        ("adam", "social_office", 403),
    ],
)
def test_agency_change_is_refused_to_others(world: World, persona: str, agency: str, expected: int) -> None:
    before = write_counts()
    pk = getattr(world, agency).pk
    response = as_(world, persona).patch(f"{API}/agencies/{pk}/", {"phone": "0"}, format="json")
    assert response.status_code == expected
    # Refused before the body is even read: an invalid body gets the same answer.
    response = as_(world, persona).patch(f"{API}/agencies/{pk}/", {"kind": "castle"}, format="json")
    assert response.status_code == expected
    assert write_counts() == before


def test_agency_mass_assignment_is_refused(world: World) -> None:
    api = as_(world, "adam")
    url = f"{API}/agencies/{world.jobcenter.pk}/"
    before = Agency.objects.values().get(pk=world.jobcenter.pk)

    # Read-only fields are ignored ...
    response = api.patch(url, {"id": 4711, "created_at": "2000-01-01T00:00:00Z", "active_staff_count": 99})
    assert response.status_code == 200
    assert Agency.objects.values().get(pk=world.jobcenter.pk) == before
    assert response.json()["id"] == world.jobcenter.pk

    # ... fields the API does not know are refused.
    response = api.patch(url, {"group": 1, "group_id": 1, "phone": "1"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"group", "group_id"}
    assert Agency.objects.values().get(pk=world.jobcenter.pk) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"name": "x" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"email": "not an address"}, "email"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"postcode": "1" * 11}, "postcode"),
        ({"phone": {"nested": "object"}}, "phone"),
        ({"name": "Sozialamt Landkreis Musterstadt"}, "name"),  # taken
        ([1, 2], "non_field_errors"),
        ("a string", "non_field_errors"),
    ],
)
def test_agency_bad_input_is_a_400_with_the_field(world: World, body: Any, field: str) -> None:
    before = write_counts()
    response = as_(world, "adam").patch(f"{API}/agencies/{world.jobcenter.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert write_counts() == before


@pytest.mark.parametrize("raw", ["{not json", "null", "", "\x00"])
def test_malformed_json_is_a_400(world: World, raw: str) -> None:
    response = as_(world, "adam").generic(
        "PATCH", f"{API}/agencies/{world.jobcenter.pk}/", raw, content_type="application/json"
    )
    assert response.status_code in {200, 400}  # an empty PATCH changes nothing
    if response.status_code == 400:
        assert response.json()


# Staff ------------------------------------------------------------------------------------

STAFF_KEYS = {"id", "user", "agency", "roles", "job_title", "phone", "is_active", "joined_at", "deactivated_at"}


def test_staff_list_shows_own_and_partner_staff_only(world: World) -> None:
    response = as_(world, "alice").get(f"{API}/staff/")
    body = response.json()
    agencies = {row["agency"]["id"] for row in body["results"]}
    assert agencies == {world.jobcenter.pk, world.social_office.pk, world.youth_office.pk}
    assert body["count"] == len(body["results"]) == 8
    assert set(body["results"][0]) == STAFF_KEYS
    assert set(body["results"][0]["user"]) == {"id", "username", "first_name", "last_name", "full_name"}
    usernames = {row["user"]["username"] for row in body["results"]}
    assert not usernames & {"olga", "ines"}


def test_outsider_sees_no_jobcenter_staff(world: World) -> None:
    api = as_(world, "olga")
    body = api.get(f"{API}/staff/").json()
    assert {row["user"]["username"] for row in body["results"]} == {"olga", "ines"}
    assert body["count"] == 2
    assert api.get(f"{API}/staff/", {"agency": world.jobcenter.pk}).json()["count"] == 0
    assert api.get(f"{API}/staff/{staff_pk('alice')}/").status_code == 404


def test_inactive_staff_are_visible_to_their_agency_admins_only(world: World) -> None:
    rita = world.staff(world.rita)
    services.staff_deactivate(actor=world.adam, staff=rita)
    assert rita.pk not in ids(as_(world, "alice").get(f"{API}/staff/"))
    assert as_(world, "alice").get(f"{API}/staff/{rita.pk}/").status_code == 404
    assert as_(world, "bob").get(f"{API}/staff/{rita.pk}/").status_code == 404
    response = as_(world, "adam").get(f"{API}/staff/", {"is_active": "false"})
    assert ids(response) == {rita.pk}
    assert response.json()["results"][0]["deactivated_at"]


def test_staff_filters(world: World) -> None:
    api = as_(world, "alice")
    assert ids(api.get(f"{API}/staff/", {"role": "coordinator"})) == {staff_pk("cora")}
    assert ids(api.get(f"{API}/staff/", {"q": "Becker"})) == {staff_pk("bob")}
    assert api.get(f"{API}/staff/", {"role": "superhero"}).status_code == 400
    assert api.get(f"{API}/staff/", {"agency": "abc"}).status_code == 400
    assert api.get(f"{API}/staff/", {"agency": str(HUGE_ID)}).json()["count"] == 0


def test_agency_admin_changes_roles_job_title_and_phone(world: World) -> None:
    pk = staff_pk("rita")
    response = as_(world, "adam").patch(
        f"{API}/staff/{pk}/", {"roles": ["housing_officer", "caseworker"], "job_title": "Sachbearbeiterin"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["roles"] == ["caseworker", "housing_officer"]
    staff = Staff.objects.get(pk=pk)
    assert (staff.is_caseworker, staff.is_housing_officer, staff.job_title) == (True, True, "Sachbearbeiterin")
    assert audited("staff.update", actor=world.adam).changes["is_caseworker"] == [False, True]
    assert published("staff.updated").target_id == str(pk)


def test_staff_patch_without_roles_keeps_them(world: World) -> None:
    pk = staff_pk("alice")
    response = as_(world, "adam").patch(f"{API}/staff/{pk}/", {"phone": "123"}, format="json")
    assert response.status_code == 200
    assert response.json()["roles"] == ["caseworker"]
    assert Staff.objects.get(pk=pk).phone == "123"


def test_an_empty_roles_list_means_read_only(world: World) -> None:
    pk = staff_pk("alice")
    response = as_(world, "adam").patch(f"{API}/staff/{pk}/", {"roles": []}, format="json")
    assert response.status_code == 200
    assert Staff.objects.get(pk=pk).is_read_only


@pytest.mark.parametrize(
    ("persona", "target", "expected"),
    [
        ("rita", "alice", 403),
        ("alice", "rita", 403),
        ("cora", "alice", 403),
        ("alice", "bob", 403),
        ("sam", "alice", 403),
        ("olga", "alice", 404),
        ("adam", "olga", 404),
    ],
)
def test_staff_change_is_refused_to_others(world: World, persona: str, target: str, expected: int) -> None:
    before = write_counts()
    api = client(User.objects.get(username=persona))
    response = api.patch(f"{API}/staff/{staff_pk(target)}/", {"roles": ["agency_admin"]}, format="json")
    assert response.status_code == expected
    assert write_counts() == before
    assert not Staff.objects.get(pk=staff_pk(target)).is_agency_admin


def test_staff_mass_assignment_is_refused(world: World) -> None:
    pk = staff_pk("rita")
    before = Staff.objects.values().get(pk=pk)
    api = as_(world, "adam")
    response = api.patch(
        f"{API}/staff/{pk}/",
        {
            "is_active": False,
            "agency": world.immigration.pk,
            "user": world.adam.pk,
            "joined_at": "2000-01-01T00:00:00Z",
            "deactivated_at": "2000-01-01T00:00:00Z",
            "id": 1,
        },
        format="json",
    )
    assert response.status_code == 200
    assert Staff.objects.values().get(pk=pk) == before

    for key in ["group", "is_agency_admin", "deactivated_by", "user_id", "agency_id"]:
        response = api.patch(f"{API}/staff/{pk}/", {key: True}, format="json")
        assert response.status_code == 400, key
        assert key in response.json()
    assert Staff.objects.values().get(pk=pk) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roles": ["superhero"]}, "roles"),
        ({"roles": "caseworker"}, "roles"),
        ({"roles": [["caseworker"]]}, "roles"),
        ({"roles": ["caseworker"] * 6}, "roles"),  # more entries than there are roles
        ({"roles": None}, "roles"),
        ({"job_title": "x" * 121}, "job_title"),
        ({"phone": "1" * 41}, "phone"),
        ([], "non_field_errors"),
    ],
)
def test_staff_bad_input_is_a_400_with_the_field(world: World, body: Any, field: str) -> None:
    before = write_counts()
    response = as_(world, "adam").patch(f"{API}/staff/{staff_pk('alice')}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert write_counts() == before


def test_the_last_admin_cannot_drop_the_admin_role(world: World) -> None:
    response = as_(world, "adam").patch(f"{API}/staff/{staff_pk('adam')}/", {"roles": []}, format="json")
    assert response.status_code == 400
    assert "roles" in response.json()
    assert world.staff(world.adam).is_agency_admin


def test_deactivate_and_reactivate(world: World) -> None:
    api = as_(world, "adam")
    pk = staff_pk("alice")
    response = api.post(f"{API}/staff/{pk}/deactivate/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert not Staff.objects.get(pk=pk).is_active
    assert audited("staff.deactivate", actor=world.adam).target_id == str(pk)
    assert published("access.revoked").target_id == str(pk)
    # Deactivating twice is refused; the membership is visible to the admin, so 403.
    assert api.post(f"{API}/staff/{pk}/deactivate/").status_code == 403

    response = api.post(f"{API}/staff/{pk}/reactivate/")
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert audited("staff.reactivate", actor=world.adam).target_id == str(pk)
    assert published("staff.updated").target_id == str(pk)
    assert api.post(f"{API}/staff/{pk}/reactivate/").status_code == 403


@pytest.mark.parametrize(
    ("persona", "target", "expected"),
    [
        ("adam", "adam", 403),  # no locking oneself out
        ("alice", "rita", 403),
        ("rita", "alice", 403),
        ("cora", "alice", 403),
        ("sam", "bob", 200),
        ("sam", "alice", 403),
        ("olga", "alice", 404),
        ("adam", "ines", 404),
    ],
)
def test_deactivate_permissions(world: World, persona: str, target: str, expected: int) -> None:
    response = client(User.objects.get(username=persona)).post(f"{API}/staff/{staff_pk(target)}/deactivate/")
    assert response.status_code == expected
    assert Staff.objects.get(pk=staff_pk(target)).is_active is (expected != 200)


def test_reactivating_an_invisible_membership_is_404(world: World) -> None:
    services.staff_deactivate(actor=world.adam, staff=world.staff(world.rita))
    for persona in ["alice", "cora", "bob", "olga"]:
        assert as_(world, persona).post(f"{API}/staff/{staff_pk('rita')}/reactivate/").status_code == 404
    assert not world.staff(world.rita).is_active


# Invitations ------------------------------------------------------------------------------

INVITATION = {
    "email": "Nina.Neu@Example.org",
    "first_name": "Nina",
    "last_name": "Neu",
    "job_title": "Fallmanagerin",
    "roles": ["caseworker"],
}
INVITATION_KEYS = {
    "id",
    "agency",
    "email",
    "first_name",
    "last_name",
    "job_title",
    "roles",
    "status",
    "invited_by",
    "created_at",
    "expires_at",
    "accepted_at",
    "revoked_at",
}


def invite(api: APIClient, to: Agency, **overrides: Any) -> Response:
    return api.post(f"{API}/invitations/", {**INVITATION, "agency": to.pk, **overrides}, format="json")


def test_agency_admin_invites_and_sees_the_link_once(world: World) -> None:
    api = as_(world, "adam")
    response = invite(api, world.jobcenter)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == INVITATION_KEYS | {"accept_url"}
    assert body["status"] == "open" and body["roles"] == ["caseworker"] and body["email"] == "nina.neu@example.org"
    token = urlparse(body["accept_url"]).path.rstrip("/").rsplit("/", 1)[-1]
    found = services.invitation_for_token(token)
    assert found is not None and found.pk == body["id"]
    assert audited("invitation.create", actor=world.adam).target_id == str(body["id"])
    assert published("invitation.created").target_id == str(body["id"])

    listed = api.get(f"{API}/invitations/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    detail = api.get(f"{API}/invitations/{body['id']}/").json()
    for row in [listed[0], detail]:
        assert set(row) == INVITATION_KEYS
        assert token not in json.dumps(row)
        assert found.token_hash not in json.dumps(row)


@pytest.mark.parametrize(
    ("persona", "agency", "expected", "field"),
    [
        ("alice", "jobcenter", 403, None),  # a caseworker cannot invite
        ("rita", "jobcenter", 403, None),
        ("cora", "jobcenter", 403, None),
        ("adam", "social_office", 403, None),  # visible, but not his agency
        ("olga", "jobcenter", 400, "agency"),  # not visible: reads as nonexistent
        ("adam", "immigration", 400, "agency"),
    ],
)
def test_invitation_create_is_refused_to_others(
    world: World, persona: str, agency: str, expected: int, field: str | None
) -> None:
    target = getattr(world, agency)
    response = invite(as_(world, persona), target)
    assert response.status_code == expected
    if field:
        # Exactly the answer for an id that does not exist.
        missing = as_(world, persona).post(f"{API}/invitations/", {**INVITATION, "agency": 999999}, format="json")
        assert response.json()[field] == [m.replace("999999", str(target.pk)) for m in missing.json()[field]]
    assert not Invitation.objects.exists()
    assert not AuditEntry.objects.filter(action="invitation.create").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "broken"}, "email"),
        ({"email": None}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"job_title": "x" * 121}, "job_title"),
        ({"roles": ["superhero"]}, "roles"),
        ({"agency": "abc"}, "agency"),
        ({"agency": 1.5}, "agency"),
        ({"agency": True}, "agency"),
        ({"agency": HUGE_ID}, "agency"),
        ({"agency": [1]}, "agency"),
        ({"token_hash": "0" * 64}, "token_hash"),
        ({"invited_by": 1}, "invited_by"),
        ({"accepted_at": "2000-01-01T00:00:00Z"}, "accepted_at"),
    ],
)
def test_invitation_bad_input_is_a_400_with_the_field(world: World, overrides: dict[str, Any], field: str) -> None:
    response = invite(as_(world, "adam"), world.jobcenter, **overrides)
    assert response.status_code == 400
    assert field in response.json()
    assert not Invitation.objects.exists()


def test_invitation_missing_fields_are_named(world: World) -> None:
    response = as_(world, "adam").post(f"{API}/invitations/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"agency", "email", "first_name", "last_name"}


def test_a_second_open_invitation_is_refused_by_the_service(world: World) -> None:
    api = as_(world, "adam")
    assert invite(api, world.jobcenter).status_code == 201
    response = invite(api, world.jobcenter)
    assert response.status_code == 400
    assert "email" in response.json()


def test_invitations_are_listed_to_the_agency_admins_only(world: World) -> None:
    invitation, _token = services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="n@example.org", first_name="N", last_name="N"
    )
    for persona in ["alice", "rita", "cora", "bob", "olga"]:
        api = as_(world, persona)
        assert api.get(f"{API}/invitations/").json()["count"] == 0, persona
        assert api.get(f"{API}/invitations/{invitation.pk}/").status_code == 404, persona
    sam = client(User.objects.get(username="sam"))
    assert sam.get(f"{API}/invitations/").json()["count"] == 0
    assert ids(as_(world, "adam").get(f"{API}/invitations/")) == {invitation.pk}


def test_revoke(world: World) -> None:
    invitation, _token = services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="n@example.org", first_name="N", last_name="N"
    )
    for persona in ["alice", "rita", "olga"]:
        assert as_(world, persona).post(f"{API}/invitations/{invitation.pk}/revoke/").status_code == 404
    api = as_(world, "adam")
    response = api.post(f"{API}/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert audited("invitation.revoke", actor=world.adam).target_id == str(invitation.pk)
    assert published("invitation.revoked").target_id == str(invitation.pk)
    # Not open any more: visible, but nothing to revoke.
    assert api.post(f"{API}/invitations/{invitation.pk}/revoke/").status_code == 403


def test_invitations_cannot_be_changed_or_deleted(world: World) -> None:
    invitation, _token = services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="n@example.org", first_name="N", last_name="N"
    )
    api = as_(world, "adam")
    assert api.patch(f"{API}/invitations/{invitation.pk}/", {"email": "x@example.org"}).status_code == 405
    assert api.delete(f"{API}/invitations/{invitation.pk}/").status_code == 405


# Workspaces -------------------------------------------------------------------------------

WORKSPACE_KEYS = {"id", "name", "purpose", "coordinator_agency", "is_archived", "created_at", "agency_count"}


def test_workspace_list_shows_the_actors_workspaces_only(world: World) -> None:
    response = as_(world, "alice").get(f"{API}/workspaces/")
    body = response.json()
    assert ids(response) == {world.workspace.pk}
    assert body["count"] == 1
    assert set(body["results"][0]) == WORKSPACE_KEYS
    assert body["results"][0]["agency_count"] == 3
    assert body["results"][0]["coordinator_agency"]["id"] == world.jobcenter.pk


def test_outsider_sees_no_jobcenter_workspace(world: World) -> None:
    api = as_(world, "olga")
    response = api.get(f"{API}/workspaces/")
    assert ids(response) == {world.other_workspace.pk}
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["agency_count"] == 1
    assert api.get(f"{API}/workspaces/{world.workspace.pk}/").status_code == 404
    assert api.get(f"{API}/workspaces/{world.workspace.pk}/members/").status_code == 404
    assert api.get(f"{API}/workspaces/", {"q": "Integration"}).json()["count"] == 0


def test_workspace_retrieve_and_members(world: World) -> None:
    api = as_(world, "carol")
    assert api.get(f"{API}/workspaces/{world.workspace.pk}/").json()["name"] == "Runder Tisch Integration"
    assert api.get(f"{API}/workspaces/{world.other_workspace.pk}/").status_code == 404
    members = api.get(f"{API}/workspaces/{world.workspace.pk}/members/").json()
    assert {row["agency"]["id"] for row in members} == {
        world.jobcenter.pk,
        world.social_office.pk,
        world.youth_office.pk,
    }
    assert set(members[0]) == {"id", "agency", "joined_at"}
    assert set(members[0]["agency"]) == {"id", "name", "kind"}


def test_coordinator_opens_a_workspace(world: World) -> None:
    response = as_(world, "cora").post(
        f"{API}/workspaces/",
        {
            "name": "Runder Tisch Wohnen",
            "purpose": "Wohnraum",
            "coordinator_agency": world.jobcenter.pk,
            "agencies": [world.social_office.pk, world.social_office.pk, world.jobcenter.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == WORKSPACE_KEYS
    assert body["coordinator_agency"]["id"] == world.jobcenter.pk and body["agency_count"] == 2
    workspace = Workspace.objects.get(pk=body["id"])
    assert set(workspace.agencies.all()) == {world.jobcenter, world.social_office}
    assert audited("workspace.create", actor=world.cora).target_id == str(workspace.pk)
    assert audited("workspace.add_agency", actor=world.cora).changes == {"agency": [None, world.social_office.pk]}
    assert published("workspace.created").target_id == str(workspace.pk)
    assert published("workspace.agency_added").payload["agency"] == world.social_office.pk
    # Bob's social office now sits at the new table.
    assert workspace.pk in ids(as_(world, "bob").get(f"{API}/workspaces/"))


@pytest.mark.parametrize("persona", ["alice", "rita", "bob", "olga"])
def test_workspace_create_is_refused_to_those_who_neither_coordinate_nor_administer(world: World, persona: str) -> None:
    api = as_(world, persona)
    body = {"name": "Neu", "coordinator_agency": world.jobcenter.pk}
    assert api.post(f"{API}/workspaces/", body, format="json").status_code == 403
    assert api.post(f"{API}/workspaces/", {"name": ""}, format="json").status_code == 403
    assert not Workspace.objects.filter(name="Neu").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"coordinator_agency": "immigration"}, "coordinator_agency"),  # invisible: reads as nonexistent
        ({"coordinator_agency": "social_office"}, "coordinator_agency"),  # visible, but not hers to coordinate
        ({"coordinator_agency": 999999}, "coordinator_agency"),
        ({"coordinator_agency": None}, "coordinator_agency"),
        ({"agencies": ["immigration"]}, "agencies"),
        ({"agencies": [999999]}, "agencies"),
        ({"agencies": ["abc"]}, "agencies"),
        ({"agencies": [HUGE_ID]}, "agencies"),
        ({"agencies": "social_office"}, "agencies"),
        ({"agencies": list(range(1, 1002))}, "agencies"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"purpose": "x" * 4001}, "purpose"),
        ({"is_archived": True}, "is_archived"),
        ({"coordinator": 1}, "coordinator"),
    ],
)
def test_workspace_create_bad_input_is_a_400_with_the_field(world: World, body: dict[str, Any], field: str) -> None:
    def resolve_names(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve_names(item) for item in value]
        if isinstance(value, str) and hasattr(world, value):
            return getattr(world, value).pk
        return value

    data = {"name": "Neu", "coordinator_agency": world.jobcenter.pk}
    data.update({key: resolve_names(value) for key, value in body.items()})
    before = Workspace.objects.count(), write_counts()
    response = as_(world, "cora").post(f"{API}/workspaces/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert (Workspace.objects.count(), write_counts()) == before


def test_an_invisible_agency_reads_like_a_missing_one(world: World) -> None:
    api = as_(world, "cora")
    base = {"name": "Neu", "coordinator_agency": world.jobcenter.pk}
    hidden = api.post(f"{API}/workspaces/", {**base, "agencies": [world.immigration.pk]}, format="json").json()
    missing = api.post(f"{API}/workspaces/", {**base, "agencies": [999999]}, format="json").json()
    assert hidden["agencies"][0].replace(str(world.immigration.pk), "N") == missing["agencies"][0].replace(
        "999999", "N"
    )


def test_coordinator_changes_the_workspace(world: World) -> None:
    response = as_(world, "cora").patch(
        f"{API}/workspaces/{world.workspace.pk}/", {"purpose": "Neuer Zweck", "is_archived": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["purpose"], response.json()["is_archived"]) == ("Neuer Zweck", True)
    world.workspace.refresh_from_db()
    assert world.workspace.purpose == "Neuer Zweck"
    assert audited("workspace.update", actor=world.cora).changes["is_archived"] == [False, True]
    assert published("workspace.updated").target_id == str(world.workspace.pk)
    response = as_(world, "adam").put(f"{API}/workspaces/{world.workspace.pk}/", {"name": "RT"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "RT"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 403), ("rita", 403), ("bob", 403), ("sam", 403), ("carol", 403), ("olga", 404), ("ines", 404)],
)
def test_workspace_change_is_refused_to_others(world: World, persona: str, expected: int) -> None:
    before = write_counts()
    api = client(User.objects.get(username=persona))
    url = f"{API}/workspaces/{world.workspace.pk}/"
    assert api.patch(url, {"purpose": "gekapert"}, format="json").status_code == expected
    assert api.put(url, {"name": "gekapert"}, format="json").status_code == expected
    assert write_counts() == before


def test_workspace_mass_assignment_is_refused(world: World) -> None:
    url = f"{API}/workspaces/{world.workspace.pk}/"
    api = as_(world, "cora")
    before = Workspace.objects.values().get(pk=world.workspace.pk)
    response = api.patch(
        url,
        {"coordinator_agency": world.social_office.pk, "id": 1, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 200
    assert Workspace.objects.values().get(pk=world.workspace.pk) == before
    for key in ["agencies", "coordinator_agency_id", "memberships"]:
        response = api.patch(url, {key: [world.immigration.pk]}, format="json")
        assert response.status_code == 400
        assert key in response.json()
    assert Workspace.objects.values().get(pk=world.workspace.pk) == before
    assert world.immigration not in world.workspace.agencies.all()


def test_coordinator_adds_any_agency_of_the_county(world: World) -> None:
    api = as_(world, "cora")
    url = f"{API}/workspaces/{world.workspace.pk}/members/"
    response = api.post(url, {"agency": world.immigration.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["agency"]["id"] == world.immigration.pk
    assert WorkspaceMembership.objects.filter(workspace=world.workspace, agency=world.immigration).exists()
    assert audited("workspace.add_agency", actor=world.cora).changes == {"agency": [None, world.immigration.pk]}
    assert published("workspace.agency_added").payload["agency"] == world.immigration.pk
    # Olga's agency sits at the table now, so she sees it.
    assert world.workspace.pk in ids(as_(world, "olga").get(f"{API}/workspaces/"))


@pytest.mark.parametrize(
    ("agency", "field"),
    [(999999, "agency"), ("social_office", "agency"), ("abc", "agency"), (None, "agency"), (HUGE_ID, "agency")],
)
def test_member_add_bad_input_is_a_400(world: World, agency: Any, field: str) -> None:
    value = getattr(world, agency).pk if isinstance(agency, str) and hasattr(world, agency) else agency
    before = write_counts()
    response = as_(world, "adam").post(
        f"{API}/workspaces/{world.workspace.pk}/members/", {"agency": value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert write_counts() == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 403), ("rita", 403), ("bob", 403), ("sam", 403), ("carol", 403), ("olga", 404)],
)
def test_member_add_is_refused_to_others(world: World, persona: str, expected: int) -> None:
    api = client(User.objects.get(username=persona))
    url = f"{API}/workspaces/{world.workspace.pk}/members/"
    assert api.post(url, {"agency": world.immigration.pk}, format="json").status_code == expected
    # The permission comes first: nobody else can probe which agency ids exist.
    assert api.post(url, {"agency": 999999}, format="json").status_code == expected
    assert not WorkspaceMembership.objects.filter(workspace=world.workspace, agency=world.immigration).exists()


def test_coordinator_removes_a_member_agency(world: World) -> None:
    membership = WorkspaceMembership.objects.get(workspace=world.workspace, agency=world.social_office)
    url = f"{API}/workspaces/{world.workspace.pk}/members/{membership.pk}/"
    for persona, expected in [("bob", 403), ("alice", 403), ("sam", 403), ("olga", 404)]:
        api = client(User.objects.get(username=persona))
        assert api.delete(url).status_code == expected, persona
    response = as_(world, "cora").delete(url)
    assert response.status_code == 204
    assert not WorkspaceMembership.objects.filter(pk=membership.pk).exists()
    assert audited("workspace.remove_agency", actor=world.cora).changes == {"agency": [world.social_office.pk, None]}
    assert published("access.revoked").payload == {"workspace": world.workspace.pk, "agency": world.social_office.pk}
    assert as_(world, "bob").get(f"{API}/workspaces/").json()["count"] == 0
    assert as_(world, "cora").delete(url).status_code == 404


def test_member_removal_odd_cases(world: World) -> None:
    api = as_(world, "cora")
    own = WorkspaceMembership.objects.get(workspace=world.workspace, agency=world.jobcenter)
    assert api.delete(f"{API}/workspaces/{world.workspace.pk}/members/{own.pk}/").status_code == 403
    foreign = WorkspaceMembership.objects.get(workspace=world.other_workspace)
    assert api.delete(f"{API}/workspaces/{world.workspace.pk}/members/{foreign.pk}/").status_code == 404
    assert api.delete(f"{API}/workspaces/{world.other_workspace.pk}/members/{foreign.pk}/").status_code == 404
    assert api.delete(f"{API}/workspaces/{world.workspace.pk}/members/{HUGE_ID}/").status_code == 404
    assert api.delete(f"{API}/workspaces/{world.workspace.pk}/members/abc/").status_code == 404
    assert WorkspaceMembership.objects.filter(pk__in=[own.pk, foreign.pk]).count() == 2


def test_workspace_filters(world: World) -> None:
    api = as_(world, "alice")
    assert api.get(f"{API}/workspaces/", {"is_archived": "true"}).json()["count"] == 0
    assert api.get(f"{API}/workspaces/", {"is_archived": "false"}).json()["count"] == 1


# Me ---------------------------------------------------------------------------------------


def test_me(world: World) -> None:
    body = as_(world, "alice").get(f"{API}/me/").json()
    assert set(body) == {"id", "username", "first_name", "last_name", "full_name", "email", "memberships"}
    assert (body["id"], body["username"], body["email"]) == (world.alice.pk, "alice", "alice@example.org")
    assert body["memberships"] == [
        {
            "id": staff_pk("alice"),
            "agency": {"id": world.jobcenter.pk, "name": world.jobcenter.name, "kind": "jobcenter"},
            "roles": ["caseworker"],
            "job_title": "",
            "is_active": True,
        }
    ]


def test_me_is_read_only(world: World) -> None:
    api = as_(world, "alice")
    for method in ["post", "put", "patch", "delete"]:
        assert getattr(api, method)(f"{API}/me/", {"username": "root"}, format="json").status_code == 405
    world.alice.refresh_from_db()
    assert world.alice.username == "alice"


# No 500s ----------------------------------------------------------------------------------


def write_urls(world: World) -> list[tuple[str, str]]:
    membership = WorkspaceMembership.objects.get(workspace=world.workspace, agency=world.social_office)
    return [
        ("patch", f"{API}/agencies/{world.jobcenter.pk}/"),
        ("put", f"{API}/agencies/{world.jobcenter.pk}/"),
        ("patch", f"{API}/staff/{staff_pk('alice')}/"),
        ("post", f"{API}/staff/{staff_pk('alice')}/deactivate/"),
        ("post", f"{API}/staff/{staff_pk('alice')}/reactivate/"),
        ("post", f"{API}/invitations/"),
        ("post", f"{API}/workspaces/"),
        ("patch", f"{API}/workspaces/{world.workspace.pk}/"),
        ("put", f"{API}/workspaces/{world.workspace.pk}/"),
        ("post", f"{API}/workspaces/{world.workspace.pk}/members/"),
        ("delete", f"{API}/workspaces/{world.workspace.pk}/members/{membership.pk}/"),
    ]


ODD_BODIES: list[Any] = [
    [],
    "text",
    42,
    None,
    {"": ""},
    {"name": ["a"], "roles": {"a": 1}, "agency": {"id": 1}, "agencies": None, "purpose": 5, "email": []},
    {"x" * 1000: "y"},
]


def test_odd_bodies_never_give_a_500(world: World) -> None:
    # Adam administers the jobcenter, which coordinates the workspace: every body reaches validation.
    api = as_(world, "adam")
    for method, url in write_urls(world):
        for body in ODD_BODIES:
            response = getattr(api, method)(url, json.dumps(body), content_type="application/json")
            assert response.status_code < 500, (method, url, body)
        response = getattr(api, method)(url, "a=1&a=2&roles=x", content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (method, url)
        response = getattr(api, method)(url, "<xml/>", content_type="application/xml")
        assert response.status_code in {400, 403, 404, 415}, (method, url)
        assert api.options(url).status_code == 405, url


# Schema -----------------------------------------------------------------------------------

CONTRACT = {
    ("api:agency-list", "get"): "/api/v1/agencies/",
    ("api:agency-detail", "get"): "/api/v1/agencies/{id}/",
    ("api:agency-detail", "patch"): "/api/v1/agencies/{id}/",
    ("api:agency-detail", "put"): "/api/v1/agencies/{id}/",
    ("api:staff-list", "get"): "/api/v1/staff/",
    ("api:staff-detail", "get"): "/api/v1/staff/{id}/",
    ("api:staff-detail", "patch"): "/api/v1/staff/{id}/",
    ("api:staff-deactivate", "post"): "/api/v1/staff/{id}/deactivate/",
    ("api:staff-reactivate", "post"): "/api/v1/staff/{id}/reactivate/",
    ("api:invitation-list", "get"): "/api/v1/invitations/",
    ("api:invitation-list", "post"): "/api/v1/invitations/",
    ("api:invitation-detail", "get"): "/api/v1/invitations/{id}/",
    ("api:invitation-revoke", "post"): "/api/v1/invitations/{id}/revoke/",
    ("api:workspace-list", "get"): "/api/v1/workspaces/",
    ("api:workspace-list", "post"): "/api/v1/workspaces/",
    ("api:workspace-detail", "get"): "/api/v1/workspaces/{id}/",
    ("api:workspace-detail", "patch"): "/api/v1/workspaces/{id}/",
    ("api:workspace-detail", "put"): "/api/v1/workspaces/{id}/",
    ("api:workspace-members", "get"): "/api/v1/workspaces/{id}/members/",
    ("api:workspace-members", "post"): "/api/v1/workspaces/{id}/members/",
    ("api:workspace-member", "delete"): "/api/v1/workspaces/{id}/members/{membership_id}/",
    ("api:me-list", "get"): "/api/v1/me/",
}


def test_schema_documents_every_route_of_the_contract(world: World) -> None:
    response = as_(world, "alice").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    documented = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {(path, method) for (_name, method), path in CONTRACT.items()} <= documented
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert all(op.get("tags") for item in schema["paths"].values() for op in item.values())


def test_url_names_follow_the_contract(world: World) -> None:
    for (name, _method), path in CONTRACT.items():
        args = [1] * path.count("{")
        url = reverse(name, args=args)
        assert url == path.replace("{id}", "1").replace("{membership_id}", "1"), name
        assert resolve(url).url_name == name.split(":")[1]


# Query counts -----------------------------------------------------------------------------


def test_lists_take_a_constant_number_of_queries(world: World) -> None:
    for n in range(4):
        user = User.objects.create(username=f"extra{n}", first_name="E", last_name=str(n))
        services.staff_create(actor=None, agency=world.jobcenter, user=user, roles=["caseworker"])
        services.staff_create(actor=None, agency=world.social_office, user=user)
        services.staff_invite(
            actor=world.adam, agency=world.jobcenter, email=f"n{n}@example.org", first_name="N", last_name="N"
        )
        services.workspace_create(
            actor=None, name=f"Tisch {n}", coordinator_agency=world.social_office, agencies=[world.jobcenter]
        )
    api = as_(world, "adam")
    for path, rows in [("/agencies/", 3), ("/staff/", 16), ("/invitations/", 4), ("/workspaces/", 5)]:
        with CaptureQueriesContext(connection) as queries:
            body = api.get(API + path).json()
        assert body["count"] == rows, path
        # Session, user, memberships, count, page: no query per row.
        assert len(queries) <= 5, (path, [q["sql"] for q in queries])
    extra = client(User.objects.get(username="extra0"))
    with CaptureQueriesContext(connection) as queries:
        assert len(extra.get(f"{API}/me/").json()["memberships"]) == 2
    assert len(queries) <= 3
