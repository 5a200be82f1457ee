"""Reads on agencies, staff, invitations and workspaces, always scoped by ``hub.access``.

Every list is one query plus a constant number of prefetches, whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, cast

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from agencies.models import Agency, Invitation, Role, Staff, Workspace, WorkspaceMembership
from hub import access
from hub.models import AuditEntry

if TYPE_CHECKING:
    from hub.access import Actor


def agency_list(actor: Actor) -> QuerySet[Agency]:
    # Meta.ordering does not apply to aggregating queries, and pages need a stable order.
    return (
        access.visible(actor, Agency)
        .annotate(active_staff_count=Count("staff", filter=Q(staff__is_active=True), distinct=True))
        .order_by("name")
    )


def agency_detail(actor: Actor, pk: object) -> Agency:
    return access.get_visible_or_404(actor, Agency, pk=pk)


def staff_list(actor: Actor) -> QuerySet[Staff]:
    return access.visible(actor, Staff).select_related("user", "agency")


def workspace_list(actor: Actor) -> QuerySet[Workspace]:
    return (
        access.visible(actor, Workspace)
        .select_related("coordinator_agency")
        .annotate(agency_count=Count("memberships", distinct=True))
        .order_by("name")
    )


def workspace_detail(actor: Actor, pk: object) -> Workspace:
    return access.get_visible_or_404(actor, Workspace, pk=pk)


def workspace_memberships(workspace: Workspace) -> QuerySet[WorkspaceMembership]:
    """Member agencies of a workspace the caller has already been allowed to see."""
    return (
        WorkspaceMembership.objects.filter(workspace=workspace)
        .select_related("agency")
        .prefetch_related(
            Prefetch("agency__staff", queryset=Staff.objects.filter(is_active=True).select_related("user"))
        )
    )


def agencies_addable_to(workspace: Workspace) -> QuerySet[Agency]:
    """Agencies not yet at the table: names only, offered to those who manage the workspace."""
    return Agency.objects.exclude(workspace_memberships__workspace=workspace).only("pk", "name", "kind")


def invitation_list(actor: Actor) -> QuerySet[Invitation]:
    return access.visible(actor, Invitation).select_related("agency", "invited_by")


def my_memberships(actor: Actor) -> QuerySet[Staff]:
    return (
        Staff.objects.filter(user_id=cast(int, actor.pk))
        .select_related("agency")
        .order_by("-is_active", "agency__name")
    )


def agency_workspaces(actor: Actor, agency: Agency) -> QuerySet[Workspace]:
    """The workspaces ``agency`` sits at that the actor can see too."""
    return workspace_list(actor).filter(memberships__agency=agency)


def agency_staff(actor: Actor, agency: Agency) -> QuerySet[Staff]:
    """Staff of ``agency`` the actor may see: everyone for its admins, the active ones for partners."""
    return staff_list(actor).filter(agency=agency)


def open_invitations(actor: Actor, agency: Agency) -> QuerySet[Invitation]:
    return invitation_list(actor).filter(
        agency=agency, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    )


def audit_entries(actor: Actor, agency: Agency) -> QuerySet[AuditEntry]:
    return access.visible(actor, AuditEntry).filter(agency_id=agency.pk)


def agencies_for_new_workspace(actor: Actor) -> QuerySet[Agency]:
    """The actor's agencies that may coordinate a new workspace: where they coordinate or administer."""
    return Agency.objects.filter(pk__in=access.agency_ids(actor, Role.COORDINATOR, Role.AGENCY_ADMIN))


def agencies_to_invite() -> QuerySet[Agency]:
    """Names of all agencies, offered when opening a workspace (as ``agencies_addable_to`` does)."""
    return Agency.objects.only("pk", "name", "kind")


def admin_agencies(actor: Actor) -> QuerySet[Agency]:
    """The agencies whose staff the actor manages."""
    return Agency.objects.filter(pk__in=access.agency_ids(actor, Role.AGENCY_ADMIN)).only("pk", "name", "short_name")


def api_token_created(actor: Actor) -> datetime | None:
    """When the actor's API token was made, or None if they have none. The key itself is never read back."""
    return Token.objects.filter(user_id=cast(int, actor.pk)).values_list("created", flat=True).first()


def agency_names(ids: Iterable[int]) -> dict[int, str]:
    """Names of agencies by id, for labels (the audit log records ids). Names are public within the hub."""
    return dict(Agency.objects.filter(pk__in=set(ids)).values_list("pk", "name"))
