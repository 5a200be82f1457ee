"""Every service: the database state, the audit row, the event, and who may not call it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from agencies import services
from agencies.models import Invitation, Staff, User, WorkspaceMembership
from hub.models import AuditEntry, Event
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("id")


def last_event(verb: str) -> Event:
    return Event.objects.filter(verb=verb).latest("id")


def test_agency_update_records_the_changes(world: World) -> None:
    services.agency_update(actor=world.adam, agency=world.jobcenter, phone="05921 96-0", name="Jobcenter Musterstadt")
    world.jobcenter.refresh_from_db()
    assert world.jobcenter.phone == "05921 96-0"
    entry = last_audit("agency.update")
    assert entry.changes["phone"] == ["", "05921 96-0"]
    assert entry.actor_id == world.adam.pk and entry.agency_id == world.jobcenter.pk
    assert last_event("agency.updated").audience == [f"agency.{world.jobcenter.pk}"]


def test_agency_update_ignores_fields_outside_the_allowlist(world: World) -> None:
    group_before = world.jobcenter.group_id
    services.agency_update(actor=world.adam, agency=world.jobcenter, group_id=999, city="Lingen")
    world.jobcenter.refresh_from_db()
    assert world.jobcenter.group_id == group_before and world.jobcenter.city == "Lingen"


@pytest.mark.parametrize(
    ("persona", "error"), [("alice", PermissionDenied), ("bob", PermissionDenied), ("olga", Http404)]
)
def test_agency_update_is_refused_to_others(world: World, persona: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        services.agency_update(actor=world.persona(persona), agency=world.jobcenter, phone="0")
    assert not AuditEntry.objects.filter(action="agency.update").exists()


def test_agency_update_validates(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.agency_update(actor=world.adam, agency=world.jobcenter, email="not an address", kind="bakery")
    assert set(excinfo.value.message_dict) == {"email", "kind"}


def test_staff_update_changes_roles_and_audits_old_and_new(world: World) -> None:
    staff = services.staff_update(
        actor=world.adam, staff=world.staff(world.alice), roles=["caseworker", "housing_officer"]
    )
    assert staff.roles == ["caseworker", "housing_officer"]
    assert last_audit("staff.update").changes == {"is_housing_officer": [False, True]}
    assert set(last_event("staff.updated").audience) == {f"agency.{world.jobcenter.pk}", f"user.{world.alice.pk}"}


def test_staff_update_refuses_unknown_roles(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.staff_update(actor=world.adam, staff=world.staff(world.alice), roles=["superhero"])
    assert "roles" in excinfo.value.message_dict


def test_the_last_admin_keeps_the_admin_role(world: World) -> None:
    with pytest.raises(ValidationError):
        services.staff_update(actor=world.adam, staff=world.staff(world.adam), roles=["caseworker"])
    assert Staff.objects.get(user=world.adam).is_agency_admin


@pytest.mark.parametrize("persona", ["alice", "rita", "cora", "bob"])
def test_staff_update_is_refused_to_non_admins(world: World, persona: str) -> None:
    with pytest.raises((PermissionDenied, Http404)):
        services.staff_update(actor=world.persona(persona), staff=world.staff(world.rita), roles=["agency_admin"])
    assert Staff.objects.get(user=world.rita).roles == []


def test_deactivate_and_reactivate(world: World) -> None:
    staff = services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    assert not staff.is_active and staff.deactivated_by == world.adam
    assert not world.alice.groups.filter(pk=world.jobcenter.group_id).exists()
    assert last_event("access.revoked").payload == {"staff": staff.pk}
    with pytest.raises(PermissionDenied):
        services.staff_deactivate(actor=world.adam, staff=staff)
    staff = services.staff_reactivate(actor=world.adam, staff=staff)
    assert staff.is_active and world.alice.groups.filter(pk=world.jobcenter.group_id).exists()
    assert [e.action for e in AuditEntry.objects.filter(target_id=str(staff.pk)).order_by("id")][-2:] == [
        "staff.deactivate",
        "staff.reactivate",
    ]


def test_invite_accept_and_log_in(world: World, client) -> None:
    invitation, token = services.staff_invite(
        actor=world.adam,
        agency=world.jobcenter,
        email="Neu@Example.org",
        first_name="Nina",
        last_name="Neumann",
        roles=["caseworker"],
    )
    assert invitation.email == "neu@example.org" and token not in invitation.token_hash
    assert last_audit("invitation.create").agency_id == world.jobcenter.pk
    staff = services.invitation_accept(token=token, username="nina", password=PASSWORD)
    assert staff.agency == world.jobcenter and staff.roles == ["caseworker"]
    assert client.login(username="nina", password=PASSWORD)
    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, username="nina2", password=PASSWORD)
    assert services.invitation_for_token("not-a-token") is None


def test_invitation_mail_is_sent_after_commit(world: World, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _, token = services.staff_invite(
            actor=world.adam, agency=world.jobcenter, email="neu@example.org", first_name="Nina", last_name="Neumann"
        )
    assert len(mail.outbox) == 1 and token in mail.outbox[0].body


def test_invitations_are_refused_for_duplicates_and_non_admins(world: World) -> None:
    with pytest.raises(ValidationError):
        services.staff_invite(
            actor=world.adam, agency=world.jobcenter, email="alice@example.org", first_name="A", last_name="A"
        )
    services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="x@example.org", first_name="X", last_name="X"
    )
    with pytest.raises(ValidationError):
        services.staff_invite(
            actor=world.adam, agency=world.jobcenter, email="X@example.org", first_name="X", last_name="X"
        )
    with pytest.raises(PermissionDenied):
        services.staff_invite(
            actor=world.alice, agency=world.jobcenter, email="y@example.org", first_name="Y", last_name="Y"
        )
    with pytest.raises(Http404):
        services.staff_invite(
            actor=world.olga, agency=world.jobcenter, email="y@example.org", first_name="Y", last_name="Y"
        )


def test_revoked_invitations_cannot_be_accepted(world: World) -> None:
    invitation, token = services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="z@example.org", first_name="Z", last_name="Z"
    )
    services.invitation_revoke(actor=world.adam, invitation=invitation)
    with pytest.raises(ValidationError):
        services.invitation_accept(token=token, username="zed", password=PASSWORD)
    assert not User.objects.filter(username="zed").exists()
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None


def test_workspace_create_by_a_coordinator(world: World) -> None:
    workspace = services.workspace_create(
        actor=world.cora, name="Team Arbeit", coordinator_agency=world.jobcenter, agencies=[world.immigration]
    )
    assert set(workspace.agencies.all()) == {world.jobcenter, world.immigration}
    assert last_audit("workspace.create").actor_id == world.cora.pk
    assert last_event("workspace.agency_added").payload == {"workspace": workspace.pk, "agency": world.immigration.pk}


def test_workspace_create_is_refused_for_foreign_agencies_and_caseworkers(world: World) -> None:
    with pytest.raises(ValidationError):
        services.workspace_create(actor=world.cora, name="Fremd", coordinator_agency=world.social_office)
    with pytest.raises(PermissionDenied):
        services.workspace_create(actor=world.alice, name="Nein", coordinator_agency=world.jobcenter)


def test_workspace_add_and_remove_agency(world: World) -> None:
    membership = services.workspace_add_agency(actor=world.cora, workspace=world.workspace, agency=world.immigration)
    with pytest.raises(ValidationError):
        services.workspace_add_agency(actor=world.cora, workspace=world.workspace, agency=world.immigration)
    services.workspace_remove_agency(actor=world.cora, membership=membership)
    assert not WorkspaceMembership.objects.filter(pk=membership.pk).exists()
    assert last_audit("workspace.remove_agency").changes == {"agency": [world.immigration.pk, None]}
    assert last_event("access.revoked").payload == {"workspace": world.workspace.pk, "agency": world.immigration.pk}


@pytest.mark.parametrize(
    ("persona", "error"), [("alice", PermissionDenied), ("bob", PermissionDenied), ("olga", Http404)]
)
def test_workspace_changes_are_refused_to_non_managers(world: World, persona: str, error: type[Exception]) -> None:
    actor = world.persona(persona)
    with pytest.raises(error):
        services.workspace_update(actor=actor, workspace=world.workspace, name="Übernommen")
    with pytest.raises(error):
        services.workspace_add_agency(actor=actor, workspace=world.workspace, agency=world.immigration)
    world.workspace.refresh_from_db()
    assert world.workspace.name == "Runder Tisch Integration"


def test_workspace_update_validates_length(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.workspace_update(actor=world.cora, workspace=world.workspace, name="x" * 500)
    assert "name" in excinfo.value.message_dict


def test_password_change_is_audited_without_the_password(world: World, client) -> None:
    client.force_login(world.alice)
    response = client.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    entry = last_audit("user.change_password")
    assert entry.actor_id == world.alice.pk and entry.changes == {}
    assert client.get("/").status_code == 200  # the session survives its own password change
    world.alice.refresh_from_db()
    assert world.alice.check_password("a-new-long-passphrase")
