"""Reads on agencies, staff, invitations and workspaces, always scoped by ``hub.access``.

Every list is one query plus a constant number of prefetches, whatever its length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.db.models import Count, Prefetch, Q, QuerySet

from agencies.models import Agency, Invitation, Staff, Workspace, WorkspaceMembership
from hub import access

if TYPE_CHECKING:
    from hub.access import Actor


def agency_list(actor: Actor) -> QuerySet[Agency]:
    return access.visible(actor, Agency).annotate(
        active_staff_count=Count("staff", filter=Q(staff__is_active=True), distinct=True)
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
