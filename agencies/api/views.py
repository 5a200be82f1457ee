"""API views of agencies, staff, invitations, workspaces and the current user.

Reads come from ``agencies.selectors`` and ``hub.access.visible``, so a row the
actor may not see answers 404 like a missing one. Writes validate the input with
a serializer and hand ``validated_data`` to ``agencies.services``, which check
permission again, audit and publish. Object actions on a visible object the actor
may not act on answer 403 (``hub.api.AccessPolicy``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from agencies import selectors, services
from agencies.api.serializers import (
    AgencySerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MeSerializer,
    StaffSerializer,
    WorkspaceCreateSerializer,
    WorkspaceMemberAddSerializer,
    WorkspaceMembershipSerializer,
    WorkspaceSerializer,
)
from agencies.filters import AgencyFilterSet, StaffFilterSet, WorkspaceFilterSet
from agencies.models import Agency, Invitation, Staff, Workspace, WorkspaceMembership
from hub import access
from hub.api import BAD_REQUEST, FORBIDDEN, NOT_FOUND, AccessPolicy, HubAPIMixin, SingleObjectSchema, request_actor


class HubViewSet[M: Agency | Staff | Invitation | Workspace](HubAPIMixin, viewsets.GenericViewSet[M]):
    permission_classes = [IsAuthenticated, AccessPolicy]
    # Non-numeric ids never reach a view: the URL does not match and answers 404.
    lookup_value_converter = "int"

    def refetch(self, pk: int) -> M:
        """The object as the actor's list shows it, after a write (re-checks visibility too)."""
        return get_object_or_404(self.get_queryset(), pk=pk)


@extend_schema(tags=["agencies"])
@extend_schema_view(
    list=extend_schema(summary=_("Agencies you can see: your own and those you share a workspace with")),
    retrieve=extend_schema(summary=_("One agency"), responses={200: AgencySerializer, 404: NOT_FOUND}),
    update=extend_schema(
        summary=_("Replace an agency's contact data (its administrators)"),
        responses={200: AgencySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary=_("Change an agency's contact data (its administrators)"),
        responses={200: AgencySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class AgencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubViewSet[Agency]):
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    access_actions: ClassVar[dict[str, str]] = {"update": "change", "partial_update": "change"}

    def get_queryset(self) -> QuerySet[Agency]:
        return selectors.agency_list(request_actor(self.request))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        agency = self.get_object()
        serializer = self.get_serializer(agency, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.agency_update(actor=request_actor(request), agency=agency, **serializer.validated_data)
        return Response(self.get_serializer(self.refetch(agency.pk)).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema(tags=["staff"])
@extend_schema_view(
    list=extend_schema(
        summary=_("Staff you can see: active staff of your and partner agencies; inactive ones for admins")
    ),
    retrieve=extend_schema(summary=_("One staff member"), responses={200: StaffSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary=_("Change roles, job title or phone (the agency's administrators)"),
        responses={200: StaffSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    deactivate=extend_schema(
        summary=_("End a membership; access ends with the next request"),
        request=None,
        responses={200: StaffSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    reactivate=extend_schema(
        summary=_("Restore an ended membership"),
        request=None,
        responses={200: StaffSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubViewSet[Staff]):
    serializer_class = StaffSerializer
    filterset_class = StaffFilterSet
    access_actions: ClassVar[dict[str, str]] = {
        "partial_update": "change",
        "deactivate": "deactivate",
        "reactivate": "reactivate",
    }

    def get_queryset(self) -> QuerySet[Staff]:
        return selectors.staff_list(request_actor(self.request))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        staff = self.get_object()
        serializer = self.get_serializer(staff, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.staff_update(
            actor=request_actor(request),
            staff=staff,
            roles=data.get("roles", staff.roles),
            job_title=data.get("job_title"),
            phone=data.get("phone"),
        )
        return Response(self.get_serializer(self.refetch(staff.pk)).data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: int) -> Response:
        staff = self.get_object()
        services.staff_deactivate(actor=request_actor(request), staff=staff)
        return Response(self.get_serializer(self.refetch(staff.pk)).data)

    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: int) -> Response:
        staff = self.get_object()
        services.staff_reactivate(actor=request_actor(request), staff=staff)
        return Response(self.get_serializer(self.refetch(staff.pk)).data)


@extend_schema(tags=["invitations"])
@extend_schema_view(
    list=extend_schema(summary=_("Invitations of the agencies you administer")),
    retrieve=extend_schema(summary=_("One invitation"), responses={200: InvitationSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Invite a colleague; the answer carries the acceptance link, once"),
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    revoke=extend_schema(
        summary=_("Revoke an open invitation"),
        request=None,
        responses={200: InvitationSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubViewSet[Invitation]):
    serializer_class = InvitationSerializer
    access_actions: ClassVar[dict[str, str]] = {"revoke": "revoke"}

    def get_queryset(self) -> QuerySet[Invitation]:
        return selectors.invitation_list(request_actor(self.request))

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return InvitationCreateSerializer if self.action == "create" else InvitationSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        # The agencies an id may name: those the actor sees; any other reads as nonexistent.
        return {**super().get_serializer_context(), "agencies": access.visible(request_actor(self.request), Agency)}

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, token = services.staff_invite(actor=actor, **serializer.validated_data)
        context = {**self.get_serializer_context(), "token": token}
        body = InvitationCreatedSerializer(self.refetch(invitation.pk), context=context).data
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: int) -> Response:
        invitation = self.get_object()
        services.invitation_revoke(actor=request_actor(request), invitation=invitation)
        return Response(self.get_serializer(self.refetch(invitation.pk)).data)


@extend_schema(tags=["workspaces"])
@extend_schema_view(
    list=extend_schema(summary=_("Workspaces (round tables) of your agencies")),
    retrieve=extend_schema(summary=_("One workspace"), responses={200: WorkspaceSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Open a workspace coordinated by one of your agencies"),
        request=WorkspaceCreateSerializer,
        responses={201: WorkspaceSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    update=extend_schema(
        summary=_("Replace name, purpose and archive flag (the coordinating agency)"),
        responses={200: WorkspaceSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary=_("Change name, purpose or archive flag (the coordinating agency)"),
        responses={200: WorkspaceSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class WorkspaceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubViewSet[Workspace]):
    serializer_class = WorkspaceSerializer
    filterset_class = WorkspaceFilterSet
    access_actions: ClassVar[dict[str, str]] = {
        "update": "change",
        "partial_update": "change",
        "add_member": "add_agency",
    }

    def get_queryset(self) -> QuerySet[Workspace]:
        return selectors.workspace_list(request_actor(self.request))

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return WorkspaceCreateSerializer if self.action == "create" else WorkspaceSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        # The agencies a new workspace may name: those the actor sees; any other reads as nonexistent.
        return {**super().get_serializer_context(), "agencies": access.visible(request_actor(self.request), Agency)}

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        # Asked first, so that someone who may not open workspaces learns nothing from validation.
        access.require(actor, "create", Workspace)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = services.workspace_create(actor=actor, **serializer.validated_data)
        body = WorkspaceSerializer(self.refetch(workspace.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        workspace = self.get_object()
        serializer = self.get_serializer(workspace, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.workspace_update(actor=request_actor(request), workspace=workspace, **serializer.validated_data)
        return Response(self.get_serializer(self.refetch(workspace.pk)).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Member agencies of the workspace"),
        responses={200: WorkspaceMembershipSerializer(many=True), 404: NOT_FOUND},
    )
    # A county has a few dozen agencies: the members come as one plain list, unfiltered.
    @action(
        detail=True,
        methods=["get"],
        url_path="members",
        url_name="members",
        filter_backends=[],
        pagination_class=None,
    )
    def members(self, request: Request, pk: int) -> Response:
        workspace = self.get_object()
        memberships = (
            access.visible(request_actor(request), WorkspaceMembership)
            .filter(workspace=workspace)
            .select_related("agency")
        )
        return Response(WorkspaceMembershipSerializer(memberships, many=True).data)

    @extend_schema(
        summary=_("Add an agency of the county to the workspace (the coordinating agency)"),
        request=WorkspaceMemberAddSerializer,
        responses={201: WorkspaceMembershipSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @members.mapping.post
    def add_member(self, request: Request, pk: int) -> Response:
        # get_object asks hub.access for "add_agency" before the body is read: the
        # candidates are all agencies of the county, which only managers may probe.
        workspace = self.get_object()
        # Unlike a new workspace's members, these may be any agency of the county not yet at the table.
        serializer = WorkspaceMemberAddSerializer(
            data=request.data,
            context={**self.get_serializer_context(), "agencies": selectors.agencies_addable_to(workspace)},
        )
        serializer.is_valid(raise_exception=True)
        membership = services.workspace_add_agency(
            actor=request_actor(request), workspace=workspace, agency=serializer.validated_data["agency"]
        )
        body = WorkspaceMembershipSerializer(membership).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Take an agency off the workspace (the coordinating agency; not itself)"),
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["delete"], url_path="members/<int:membership_id>", url_name="member")
    def remove_member(self, request: Request, pk: int, membership_id: int) -> Response:
        workspace = self.get_object()
        actor = request_actor(request)
        membership = access.get_visible_or_404(actor, WorkspaceMembership, pk=membership_id, workspace=workspace)
        services.workspace_remove_agency(actor=actor, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class MeViewSet(HubAPIMixin, viewsets.ViewSet):
    """The current user: one object, though the router files it under "list"."""

    permission_classes = [IsAuthenticated]
    schema = SingleObjectSchema()

    @extend_schema(summary=_("You: your account and your memberships"), responses={200: MeSerializer})
    def list(self, request: Request) -> Response:
        return Response(MeSerializer(request_actor(request)).data)
