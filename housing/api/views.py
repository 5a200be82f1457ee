"""API of the housing tool: listings with status steps, shares and photos; rent limits; requests,
reservations, allocations, tenancies and lease handovers; matching flats to a household.

Reads come from ``housing.selectors`` (scoped by ``hub.access``): a row the actor may not see
answers 404 like a missing one. Writes validate with a strict serializer and hand the data to
``housing.services``, which check permission again, keep the listing's history, audit and publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from agencies.models import Agency, Workspace
from housing import selectors, services
from housing.api import serializers as s
from housing.filters import (
    HousingRequestFilterSet,
    ListingFilterSet,
    RentLimitFilterSet,
    ReservationFilterSet,
    TenancyFilterSet,
)
from housing.models import (
    HousingRequest,
    Listing,
    ListingShare,
    OverLimitApproval,
    RentLimit,
    RequestStatus,
    Reservation,
    Tenancy,
)
from hub import access
from hub.api import BAD_REQUEST, FORBIDDEN, NOT_FOUND, AccessPolicy, HubAPIMixin, request_actor
from referrals.models import Household


class HousingViewSet[M: models.Model](HubAPIMixin, viewsets.GenericViewSet[M]):
    permission_classes = [IsAuthenticated, AccessPolicy]
    lookup_value_regex = "[0-9]+"
    lookup_value_converter = "int"

    def refetch(self, pk: int) -> M:
        """The object as the actor's list shows it, after a write (re-checks visibility too)."""
        return get_object_or_404(self.get_queryset(), pk=pk)

    def scopes(self) -> dict[str, QuerySet[Any]]:
        """What ids in a request body may name: only rows the actor may name there."""
        actor = request_actor(self.request)
        own = access.agency_ids(actor)
        households = access.visible(actor, Household)
        incoming = HousingRequest.objects.filter(
            to_agency_id__in=access.agency_ids(actor, *access.HOUSING_ROLES), status=RequestStatus.OPEN
        )
        return {
            "agencies": access.visible(actor, Agency),
            "workspaces": access.visible(actor, Workspace),
            "listings": access.visible(actor, Listing),
            "managed_listings": access.visible(actor, Listing).filter(
                owner_agency_id__in=access.agency_ids(actor, *access.HOUSING_ROLES)
            ),
            "households": households,
            "reservable_households": Household.objects.filter(
                Q(pk__in=households.values("pk")) | Q(pk__in=incoming.values("household_id"))
            ),
            "incoming_requests": incoming,
            "housing_agencies": Agency.objects.filter(pk__in=access.agency_ids(actor, *access.HOUSING_ROLES)),
            "kdu_agencies": Agency.objects.filter(pk__in=access.kdu_agencies(actor)),
            "own_agencies_qs": Agency.objects.filter(pk__in=own),
        }

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False):
            return context
        return {**context, **self.scopes(), "own_agencies": access.agency_ids(request_actor(self.request))}

    def validated(self, serializer_class: type[Any], data: Any = None) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data if data is None else data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return cast(dict[str, Any], serializer.validated_data)


# Listings -----------------------------------------------------------------------------------


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(summary=_("Flats you can see: your housing office's and those shared with you")),
    retrieve=extend_schema(
        summary=_("One flat, with its photos and the status steps you may take"),
        responses={200: s.ListingDetailSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Enter a flat as a draft (housing officers)"),
        request=s.ListingCreateSerializer,
        responses={201: s.ListingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change a flat's data (housing officers of the managing agency)"),
        request=s.ListingWriteSerializer,
        responses={200: s.ListingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    transition=extend_schema(
        summary=_("Publish, withdraw, end or reopen a flat"),
        request=s.ListingTransitionSerializer,
        responses={200: s.ListingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    history=extend_schema(
        summary=_("The flat's history: every change (the managing agency)"),
        responses={200: s.ListingChangeSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    occupancy=extend_schema(
        summary=_("Flats per district and status"), responses={200: s.OccupancySerializer(many=True)}
    ),
)
class ListingViewSet(mixins.ListModelMixin, HousingViewSet[Listing]):
    serializer_class = s.ListingSerializer
    filterset_class = ListingFilterSet
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change"}

    def get_queryset(self) -> QuerySet[Listing]:
        return selectors.with_photos(selectors.listing_list(request_actor(self.request))).order_by(
            "district", "street", "pk"
        )

    def show(self, listings: Sequence[Listing]) -> dict[str, Any]:
        return {**self.get_serializer_context(), "sizes": selectors.sizes_within_limits(listings)}

    def answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        listing = self.refetch(pk)
        return Response(s.ListingDetailSerializer(listing, context=self.show([listing])).data, status=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        listings = list(page if page is not None else queryset)
        data = s.ListingSerializer(listings, many=True, context=self.show(listings)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, pk: int) -> Response:
        return self.answer(self.get_object().pk)

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        access.require(actor, "create", Listing)
        data = self.validated(s.ListingCreateSerializer)
        owner = data.pop("owner_agency", None)
        if owner is None:
            mine = access.agency_ids(actor, *access.HOUSING_ROLES)
            if len(mine) != 1:
                raise ValidationError({"owner_agency": [_("Choose the managing agency.")]})
            owner = Agency.objects.get(pk=next(iter(mine)))
        listing = services.listing_create(actor=actor, owner_agency=owner, **data)
        return self.answer(listing.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        listing = self.get_object()
        serializer = s.ListingWriteSerializer(
            listing, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.listing_update(actor=request_actor(request), listing=listing, **serializer.validated_data)
        return self.answer(listing.pk)

    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        listing = self.get_object()
        if not access.can(actor, "change", listing):
            raise PermissionDenied
        data = self.validated(s.ListingTransitionSerializer)
        services.listing_transition(actor=actor, listing=listing, **data)
        return self.answer(listing.pk)

    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        listing = self.get_object()
        # The history names households: it is the managing agency's record.
        if listing.owner_agency_id not in access.agency_ids(actor):
            raise PermissionDenied
        rows = selectors.listing_history(actor, listing)
        return Response(s.ListingChangeSerializer(rows, many=True).data)

    @extend_schema(
        summary=_("Who the flat is shared with (the managing agency)"),
        responses={200: s.ListingShareSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["GET"],
    )
    @extend_schema(
        summary=_("Share the flat with an agency or a workspace"),
        request=s.ListingShareCreateSerializer,
        responses={201: s.ListingShareSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def shares(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        listing = self.get_object()
        access.require(actor, "share", listing)
        if request.method == "GET":
            return Response(s.ListingShareSerializer(selectors.listing_shares(actor, listing), many=True).data)
        data = self.validated(s.ListingShareCreateSerializer)
        share = services.listing_share(actor=actor, listing=listing, agency=data["agency"], workspace=data["workspace"])
        found = selectors.listing_shares(actor, listing).get(pk=share.pk)
        return Response(s.ListingShareSerializer(found).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Stop sharing the flat with an agency or workspace"),
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<share_id>[0-9]+)", url_name="share")
    def share(self, request: Request, pk: int, share_id: str) -> Response:
        actor = request_actor(request)
        listing = self.get_object()
        access.require(actor, "share", listing)
        found = get_object_or_404(access.visible(actor, ListingShare).filter(listing=listing), pk=int(share_id))
        services.listing_unshare(actor=actor, share=found)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("The flat's photos"), responses={200: s.PhotoSerializer(many=True), 404: NOT_FOUND}, methods=["GET"]
    )
    @extend_schema(
        summary=_("Upload a photo (JPEG, PNG or WebP, at most 10 MB)"),
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={201: s.PhotoSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        methods=["POST"],
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        pagination_class=None,
        filter_backends=[],
    )
    def photos(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        listing = self.get_object()
        if request.method == "GET":
            return Response(s.PhotoSerializer(selectors.listing_photos(actor, listing), many=True).data)
        access.require(actor, "add_photo", listing)
        data = self.validated(s.PhotoUploadSerializer)
        photo = services.photo_add(actor=actor, listing=listing, photo=data["photo"], caption=data["caption"])
        return Response(s.PhotoSerializer(photo).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("Delete a photo"), request=None, responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    @action(detail=True, methods=["delete"], url_path=r"photos/(?P<photo_id>[0-9]+)", url_name="photo")
    def photo(self, request: Request, pk: int, photo_id: str) -> Response:
        actor = request_actor(request)
        listing = self.get_object()
        found = get_object_or_404(selectors.listing_photos(actor, listing), pk=int(photo_id))
        services.photo_delete(actor=actor, photo=found)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def occupancy(self, request: Request) -> Response:
        rows = selectors.occupancy_by_district(request_actor(request))
        return Response(s.OccupancySerializer(rows, many=True).data)


# Rent limits --------------------------------------------------------------------------------


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(summary=_("The rent-limit table (KdU): every row with its validity")),
    retrieve=extend_schema(
        summary=_("One row of the rent-limit table"), responses={200: s.RentLimitSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary=_("Add a row to the rent-limit table (the jobcenter)"),
        request=s.RentLimitCreateSerializer,
        responses={201: s.RentLimitSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Correct a row of the rent-limit table (the jobcenter)"),
        request=s.RentLimitWriteSerializer,
        responses={200: s.RentLimitSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary=_("Delete a row of the rent-limit table (the jobcenter)"),
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class RentLimitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HousingViewSet[RentLimit]):
    serializer_class = s.RentLimitSerializer
    filterset_class = RentLimitFilterSet
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change", "destroy": "delete"}

    def get_queryset(self) -> QuerySet[RentLimit]:
        return selectors.rent_limit_list(request_actor(self.request))

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        access.require(actor, "create", RentLimit)
        data = self.validated(s.RentLimitCreateSerializer)
        limit = services.rent_limit_create(actor=actor, **data)
        return Response(s.RentLimitSerializer(self.refetch(limit.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        limit = self.get_object()
        serializer = s.RentLimitWriteSerializer(
            limit, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.rent_limit_update(actor=request_actor(request), rent_limit=limit, **serializer.validated_data)
        return Response(s.RentLimitSerializer(self.refetch(limit.pk)).data)

    def destroy(self, request: Request, pk: int) -> Response:
        services.rent_limit_delete(actor=request_actor(request), rent_limit=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(summary=_("Approvals of flats above the rent limit you can see")),
    retrieve=extend_schema(summary=_("One approval"), responses={200: s.OverLimitApprovalSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Approve a flat above the rent limit for a household (the jobcenter, § 22 (4) SGB II)"),
        request=s.OverLimitApprovalCreateSerializer,
        responses={201: s.OverLimitApprovalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
)
class OverLimitApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HousingViewSet[OverLimitApproval]):
    serializer_class = s.OverLimitApprovalSerializer

    def get_queryset(self) -> QuerySet[OverLimitApproval]:
        return selectors.approval_list(request_actor(self.request)).order_by("-approved_at", "-pk")

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        access.require(actor, "create", OverLimitApproval)
        data = self.validated(s.OverLimitApprovalCreateSerializer)
        approval = services.over_limit_approve(actor=actor, **data)
        return Response(s.OverLimitApprovalSerializer(self.refetch(approval.pk)).data, status=status.HTTP_201_CREATED)


# Requests -----------------------------------------------------------------------------------


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(summary=_("Housing requests your agencies sent or received")),
    retrieve=extend_schema(
        summary=_("One housing request"), responses={200: s.HousingRequestSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary=_("Ask for a flat for a household: a shared flat, or any that fits (caseworkers)"),
        request=s.HousingRequestCreateSerializer,
        responses={201: s.HousingRequestSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    withdraw=extend_schema(
        summary=_("Withdraw a request (the requesting agency)"),
        request=s.NoteSerializer,
        responses={200: s.HousingRequestSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    decline=extend_schema(
        summary=_("Decline a request, with the reason (the housing office)"),
        request=s.NoteSerializer,
        responses={200: s.HousingRequestSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    accept=extend_schema(
        summary=_("Accept a request by reserving a flat for the household (the housing office)"),
        request=s.RequestAcceptSerializer,
        responses={201: s.ReservationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class HousingRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HousingViewSet[HousingRequest]):
    serializer_class = s.HousingRequestSerializer
    filterset_class = HousingRequestFilterSet
    access_actions: ClassVar[dict[str, str]] = {"withdraw": "withdraw", "decline": "decline", "accept": "accept"}

    def get_queryset(self) -> QuerySet[HousingRequest]:
        return selectors.housing_request_list(request_actor(self.request)).order_by("-created_at", "-pk")

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        access.require(actor, "create", HousingRequest)
        data = self.validated(s.HousingRequestCreateSerializer)
        found = services.housing_request_create(actor=actor, **data)
        return Response(s.HousingRequestSerializer(self.refetch(found.pk)).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: int) -> Response:
        found = self.get_object()
        data = self.validated(s.NoteSerializer)
        services.housing_request_withdraw(actor=request_actor(request), request=found, **data)
        return Response(s.HousingRequestSerializer(self.refetch(found.pk)).data)

    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: int) -> Response:
        found = self.get_object()
        data = self.validated(s.NoteSerializer)
        services.housing_request_decline(actor=request_actor(request), request=found, **data)
        return Response(s.HousingRequestSerializer(self.refetch(found.pk)).data)

    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        found = self.get_object()
        data = self.validated(s.RequestAcceptSerializer)
        reservation = services.housing_request_accept(actor=actor, request=found, **data)
        reservation = selectors.reservation_list(actor).get(pk=reservation.pk)
        return Response(s.ReservationSerializer(reservation).data, status=status.HTTP_201_CREATED)


# Reservations and tenancies -----------------------------------------------------------------


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(summary=_("Reservations of flats you manage or for households you can see")),
    retrieve=extend_schema(summary=_("One reservation"), responses={200: s.ReservationSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Reserve a flat for a household until a date (housing officers); of two at once, one wins"),
        request=s.ReservationCreateSerializer,
        responses={201: s.ReservationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    release=extend_schema(
        summary=_("Release a reservation; the flat is available again"),
        request=s.NoteSerializer,
        responses={200: s.ReservationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    allocate=extend_schema(
        summary=_("Allocate the reserved flat to the household; above the rent limit only with an approval"),
        request=s.AllocateSerializer,
        responses={201: s.TenancySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HousingViewSet[Reservation]):
    serializer_class = s.ReservationSerializer
    filterset_class = ReservationFilterSet
    access_actions: ClassVar[dict[str, str]] = {"release": "release", "allocate": "allocate"}

    def get_queryset(self) -> QuerySet[Reservation]:
        return selectors.reservation_list(request_actor(self.request)).order_by("-reserved_at", "-pk")

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        if not access.agency_ids(actor, *access.HOUSING_ROLES):
            raise PermissionDenied
        data = self.validated(s.ReservationCreateSerializer)
        reservation = services.reservation_create(actor=actor, **data)
        return Response(s.ReservationSerializer(self.refetch(reservation.pk)).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: int) -> Response:
        reservation = self.get_object()
        data = self.validated(s.NoteSerializer)
        services.reservation_release(actor=request_actor(request), reservation=reservation, **data)
        return Response(s.ReservationSerializer(self.refetch(reservation.pk)).data)

    @action(detail=True, methods=["post"])
    def allocate(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        reservation = self.get_object()
        data = self.validated(s.AllocateSerializer)
        tenancy = services.tenancy_allocate(actor=actor, reservation=reservation, **data)
        tenancy = selectors.tenancy_list(actor).get(pk=tenancy.pk)
        return Response(s.TenancySerializer(tenancy).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(summary=_("Tenancies of flats you manage or of households you can see")),
    retrieve=extend_schema(
        summary=_("One tenancy with its lease handovers"), responses={200: s.TenancySerializer, 404: NOT_FOUND}
    ),
    move_in=extend_schema(
        summary=_("Record the move-in"),
        request=s.MoveInSerializer,
        responses={200: s.TenancySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    move_out=extend_schema(
        summary=_("Record the move-out; the flat is offered again or the listing ends"),
        request=s.MoveOutSerializer,
        responses={200: s.TenancySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    handover=extend_schema(
        summary=_("Hand the lease over (e.g. from the county to the tenant); the tenancy continues"),
        request=s.HandoverSerializer,
        responses={200: s.TenancySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class TenancyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HousingViewSet[Tenancy]):
    serializer_class = s.TenancySerializer
    filterset_class = TenancyFilterSet
    access_actions: ClassVar[dict[str, str]] = {"move_in": "move_in", "move_out": "move_out", "handover": "handover"}

    def get_queryset(self) -> QuerySet[Tenancy]:
        return selectors.tenancy_list(request_actor(self.request)).order_by("-allocated_at", "-pk")

    @action(detail=True, methods=["post"], url_path="move-in")
    def move_in(self, request: Request, pk: int) -> Response:
        tenancy = self.get_object()
        data = self.validated(s.MoveInSerializer)
        services.tenancy_move_in(actor=request_actor(request), tenancy=tenancy, **data)
        return Response(s.TenancySerializer(self.refetch(tenancy.pk)).data)

    @action(detail=True, methods=["post"], url_path="move-out")
    def move_out(self, request: Request, pk: int) -> Response:
        tenancy = self.get_object()
        data = self.validated(s.MoveOutSerializer)
        services.tenancy_move_out(actor=request_actor(request), tenancy=tenancy, **data)
        return Response(s.TenancySerializer(self.refetch(tenancy.pk)).data)

    @action(detail=True, methods=["post"])
    def handover(self, request: Request, pk: int) -> Response:
        tenancy = self.get_object()
        data = self.validated(s.HandoverSerializer)
        services.tenancy_handover(actor=request_actor(request), tenancy=tenancy, **data)
        return Response(s.TenancySerializer(self.refetch(tenancy.pk)).data)


# Matching -----------------------------------------------------------------------------------


@extend_schema(tags=["housing"])
@extend_schema_view(
    list=extend_schema(
        summary=_("Flats that fit a household, best first, with the reasons"),
        parameters=[
            OpenApiParameter("household", OpenApiTypes.INT, required=True, description=_("A household you can see.")),
            OpenApiParameter(
                "household_size", OpenApiTypes.INT, description=_("Default: its open request, or its members.")
            ),
            OpenApiParameter(
                "accessibility_need", OpenApiTypes.INT, description=_("0 none, 1 step-free, 2 wheelchair.")
            ),
            OpenApiParameter("districts", OpenApiTypes.STR, description=_("Wished districts, separated by commas.")),
            OpenApiParameter("wanted_from", OpenApiTypes.DATE),
        ],
        responses={200: s.MatchSerializer(many=True), 400: BAD_REQUEST},
    )
)
class HousingMatchViewSet(HousingViewSet[Listing]):
    serializer_class = s.MatchSerializer
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Listing]:
        return selectors.listing_list(request_actor(self.request))

    def list(self, request: Request) -> Response:
        actor = request_actor(request)
        data = self.validated(s.MatchQuerySerializer, request.query_params)
        districts = data.get("districts")
        profile = selectors.match_profile(
            actor,
            data["household"],
            household_size=data.get("household_size"),
            accessibility_need=data.get("accessibility_need"),
            districts=[d.strip() for d in districts.split(",") if d.strip()] if districts is not None else None,
            wanted_from=data.get("wanted_from"),
        )
        queryset = selectors.with_photos(selectors.match_listings(actor, profile))
        page = self.paginate_queryset(queryset)
        listings = list(page if page is not None else queryset)
        matches = selectors.matches_for_page(listings, profile)
        context = {**self.get_serializer_context(), "sizes": selectors.sizes_within_limits(listings)}
        body = s.MatchSerializer(
            [{"listing": m.listing, "score": m.score, "reasons": m.reasons} for m in matches],
            many=True,
            context=context,
        ).data
        return self.get_paginated_response(body) if page is not None else Response(body)


def register(router: BaseRouter) -> None:
    router.register("listings", ListingViewSet, basename="listing")
    router.register("rent-limits", RentLimitViewSet, basename="rent-limit")
    router.register("rent-approvals", OverLimitApprovalViewSet, basename="rent-approval")
    router.register("housing-requests", HousingRequestViewSet, basename="housing-request")
    router.register("reservations", ReservationViewSet, basename="reservation")
    router.register("tenancies", TenancyViewSet, basename="tenancy")
    router.register("housing-matches", HousingMatchViewSet, basename="housing-match")
