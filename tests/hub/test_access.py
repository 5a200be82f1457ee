"""The access policy, persona by persona: who sees what, who may do what, and who may not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.shortcuts import assign_perm

from agencies import services
from agencies.models import Agency, Invitation, Staff, User, Workspace, WorkspaceMembership
from hub import access
from hub.models import AuditEntry
from tests.conftest import World

pytestmark = pytest.mark.django_db


WORKSPACE_MEMBERS = ["alice", "bob", "carol", "rita", "adam", "cora"]


@pytest.mark.parametrize("persona", WORKSPACE_MEMBERS)
def test_workspace_members_see_the_workspace_and_its_agencies(world: World, persona: str) -> None:
    actor = world.persona(persona)
    assert set(access.visible(actor, Workspace)) == {world.workspace}
    assert set(access.visible(actor, Agency)) == {world.jobcenter, world.social_office, world.youth_office}
    assert world.immigration not in access.visible(actor, Agency)
    assert not access.visible(actor, Staff).filter(agency=world.immigration).exists()


def test_outsider_sees_only_its_own_agency(world: World) -> None:
    assert set(access.visible(world.olga, Agency)) == {world.immigration}
    assert set(access.visible(world.olga, Workspace)) == {world.other_workspace}
    assert set(access.visible(world.olga, Staff).values_list("agency_id", flat=True)) == {world.immigration.pk}
    assert not access.visible(world.olga, WorkspaceMembership).filter(workspace=world.workspace).exists()


def test_anonymous_and_membershipless_users_see_nothing(world: World) -> None:
    stranger = User.objects.create_user("stranger", password="x" * 16)
    for actor in (AnonymousUser(), stranger):
        for model in (Agency, Staff, Workspace, WorkspaceMembership, Invitation, AuditEntry):
            assert not access.visible(actor, model).exists()
        assert not access.can(actor, "view", world.jobcenter)
        assert not access.can(actor, "create", Workspace)
        assert access.groups_for(actor) == set()


def test_superuser_gets_nothing_extra(world: World) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "x" * 16)
    assert not access.visible(root, Agency).exists()
    assert not access.can(root, "change", world.jobcenter)


def test_unknown_models_are_refused_not_opened(world: World) -> None:
    with pytest.raises(LookupError):
        access.visible(world.alice, User)


def test_inactive_staff_are_visible_only_to_their_agencys_admins(world: World) -> None:
    services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    alice_staff = Staff.objects.get(user=world.alice)
    assert alice_staff in access.visible(world.adam, Staff)
    for persona in ("rita", "cora", "bob", "carol"):
        assert alice_staff not in access.visible(world.persona(persona), Staff)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("adam", True), ("alice", False), ("rita", False), ("cora", False), ("bob", False), ("olga", False)],
)
def test_only_the_agencys_admin_manages_its_staff(world: World, persona: str, allowed: bool) -> None:
    actor = world.persona(persona)
    target = world.staff(world.alice)
    assert access.can(actor, "change", world.jobcenter) is allowed
    assert access.can(actor, "invite", world.jobcenter) is allowed
    assert access.can(actor, "change", target) is allowed
    assert access.can(actor, "deactivate", target) is allowed


def test_admin_cannot_deactivate_themselves(world: World) -> None:
    assert not access.can(world.adam, "deactivate", world.staff(world.adam))


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("cora", True), ("adam", True), ("alice", False), ("rita", False), ("bob", False), ("carol", False)],
)
def test_only_the_coordinating_agencys_coordinators_and_admins_manage_the_workspace(
    world: World, persona: str, allowed: bool
) -> None:
    actor = world.persona(persona)
    membership = WorkspaceMembership.objects.get(workspace=world.workspace, agency=world.social_office)
    assert access.can(actor, "change", world.workspace) is allowed
    assert access.can(actor, "add_agency", world.workspace) is allowed
    assert access.can(actor, "remove", membership) is allowed


def test_the_coordinating_agency_cannot_be_removed(world: World) -> None:
    own = WorkspaceMembership.objects.get(workspace=world.workspace, agency=world.jobcenter)
    assert not access.can(world.cora, "remove", own)


def test_require_answers_404_for_invisible_and_403_for_forbidden(world: World) -> None:
    with pytest.raises(Http404):
        access.require(world.olga, "change", world.workspace)
    with pytest.raises(PermissionDenied):
        access.require(world.alice, "change", world.workspace)
    access.require(world.cora, "change", world.workspace)


def test_deactivation_ends_access_with_the_next_request(world: World) -> None:
    services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    fresh = User.objects.get(pk=world.alice.pk)  # a new request loads the user afresh
    assert not access.visible(fresh, Workspace).exists()
    assert access.groups_for(fresh) == set()


def test_removing_an_agency_from_the_workspace_ends_its_access(world: World) -> None:
    membership = WorkspaceMembership.objects.get(workspace=world.workspace, agency=world.youth_office)
    services.workspace_remove_agency(actor=world.cora, membership=membership)
    carol = User.objects.get(pk=world.carol.pk)
    assert not access.visible(carol, Workspace).exists()
    assert set(access.visible(carol, Agency)) == {world.youth_office}


def test_an_exceptional_user_grant_shows_one_workspace_only(world: World) -> None:
    assign_perm(access.VIEW_WORKSPACE, world.olga, world.workspace)
    olga = User.objects.get(pk=world.olga.pk)
    assert set(access.visible(olga, Workspace)) == {world.workspace, world.other_workspace}
    assert not access.can(olga, "change", world.workspace)


def test_groups_follow_memberships(world: World) -> None:
    assert access.groups_for(world.alice) == {
        f"user.{world.alice.pk}",
        f"agency.{world.jobcenter.pk}",
        f"workspace.{world.workspace.pk}",
    }
    assert f"workspace.{world.workspace.pk}" not in access.groups_for(world.olga)


def test_audience_names_only_scoped_groups(world: World) -> None:
    assert access.audience(world.workspace) == {f"workspace.{world.workspace.pk}"}
    staff = world.staff(world.alice)
    assert access.audience(staff) == {f"agency.{world.jobcenter.pk}", f"user.{world.alice.pk}"}
    with pytest.raises(LookupError):
        access.audience(world.alice)


def test_audit_entries_are_visible_to_the_agencys_admins_only(world: World) -> None:
    services.staff_update(actor=world.adam, staff=world.staff(world.alice), roles=["caseworker", "coordinator"])
    assert access.visible(world.adam, AuditEntry).filter(action="staff.update").exists()
    for persona in ("alice", "cora", "rita", "bob", "olga"):
        assert not access.visible(world.persona(persona), AuditEntry).exists()


def test_visible_lists_cost_a_constant_number_of_queries(world: World, django_assert_max_num_queries) -> None:
    actor = User.objects.get(pk=world.alice.pk)
    with django_assert_max_num_queries(2):  # memberships once, then one query per list
        list(access.visible(actor, Staff))
    with django_assert_max_num_queries(1):
        list(access.visible(actor, Agency))
