"""Serializers of the housing API: read serializers with explicit fields, strict input serializers.

Input serializers only validate (``hub.api.StrictInputMixin``); the views hand
``validated_data`` to ``housing.services``. Ids in a body resolve only among the rows the
actor may name (``context[scope]``); any other id reads as nonexistent. Households appear by
id and case reference only: the housing tool needs no names.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.api.serializers import AgencyBriefSerializer, UserBriefSerializer
from agencies.models import Agency
from housing import services
from housing.models import (
    MAX_HOUSEHOLD_SIZE,
    Accessibility,
    HousingRequest,
    LeaseHandover,
    LeaseHolder,
    Listing,
    ListingChange,
    ListingPhoto,
    ListingShare,
    OverLimitApproval,
    RentLimit,
    Reservation,
    Tenancy,
)
from hub import access
from hub.api import StrictInputMixin
from referrals.models import Household

MAX_DISTRICTS = services.MAX_DISTRICTS


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(serializers.PrimaryKeyRelatedField[Any]):
    """An id among the rows in ``context[scope]``; any other id reads as nonexistent."""

    def __init__(self, *, scope: str, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        rows = self.context.get(self.scope)
        return rows if rows is not None else Listing.objects.none()

    def to_internal_value(self, data: Any) -> Any:
        # Only whole numbers: the database would read 1.5 or True as row 1.
        value: Any = int(data) if isinstance(data, str) and data.isascii() and data.isdecimal() else data
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("incorrect_type", data_type=type(value).__name__)
        return super().to_internal_value(value)


class HouseholdBriefSerializer(serializers.ModelSerializer[Household]):
    class Meta:
        model = Household
        fields = ["id", "reference"]
        read_only_fields = fields


class ListingRefSerializer(serializers.ModelSerializer[Listing]):
    class Meta:
        model = Listing
        fields = ["id", "reference", "street", "postcode", "city", "district", "status"]
        read_only_fields = fields


# Listings -----------------------------------------------------------------------------------


class PhotoSerializer(serializers.ModelSerializer[ListingPhoto]):
    url = serializers.SerializerMethodField(help_text=_("Served only to those who may see the flat."))
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ListingPhoto
        fields = ["id", "caption", "width", "height", "size_bytes", "position", "uploaded_at", "url", "thumbnail_url"]
        read_only_fields = fields

    def get_url(self, photo: ListingPhoto) -> str:
        return reverse("listing-photo", args=[photo.pk])

    def get_thumbnail_url(self, photo: ListingPhoto) -> str:
        return reverse("listing-photo-thumbnail", args=[photo.pk])


class LandlordSerializer(serializers.Serializer[Listing]):
    name = serializers.CharField(source="landlord_name", read_only=True)
    phone = serializers.CharField(source="landlord_phone", read_only=True)
    email = serializers.CharField(source="landlord_email", read_only=True)


class ListingSerializer(serializers.ModelSerializer[Listing]):
    """A flat. The landlord's contact is shown to the managing agency only (null for the others)."""

    owner_agency = AgencyBriefSerializer(read_only=True)
    gross_cold_rent = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    total_rent = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    within_limits_for = serializers.SerializerMethodField(
        help_text=_("The household sizes for whose rent limit (KdU) this flat is reasonable today.")
    )
    landlord = serializers.SerializerMethodField()
    photos = PhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Listing
        fields = [
            "id",
            "reference",
            "owner_agency",
            "status",
            "title",
            "street",
            "postcode",
            "city",
            "district",
            "comparison_area",
            "rooms",
            "living_space",
            "floor",
            "has_lift",
            "accessibility",
            "base_rent",
            "running_costs",
            "heating_costs",
            "gross_cold_rent",
            "total_rent",
            "within_limits_for",
            "available_from",
            "lease_holder",
            "landlord",
            "description",
            "photos",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_within_limits_for(self, listing: Listing) -> list[int]:
        return list(self.context.get("sizes", {}).get(listing.pk, []))

    @extend_schema_field(LandlordSerializer(allow_null=True))
    def get_landlord(self, listing: Listing) -> Any:
        if listing.owner_agency_id not in self.context.get("own_agencies", set()):
            return None
        return LandlordSerializer(listing).data


class ListingDetailSerializer(ListingSerializer):
    allowed_actions = serializers.SerializerMethodField(help_text=_("The status steps you may take now."))
    can_manage = serializers.SerializerMethodField(help_text=_("You are a housing officer of the managing agency."))

    class Meta(ListingSerializer.Meta):
        fields = [*ListingSerializer.Meta.fields, "allowed_actions", "can_manage"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, listing: Listing) -> list[str]:
        return services.allowed_listing_actions(self.context["request"].user, listing)

    def get_can_manage(self, listing: Listing) -> bool:
        return access.can(self.context["request"].user, "change", listing)


class ListingWriteSerializer(StrictInputMixin, serializers.ModelSerializer[Listing]):
    class Meta:
        model = Listing
        fields = list(services.LISTING_FIELDS)
        extra_kwargs = {
            "lease_holder": {"help_text": _("county or private_landlord; the tenant only through a handover.")}
        }


class ListingCreateSerializer(ListingWriteSerializer):
    owner_agency = ScopedIdField(
        scope="housing_agencies",
        required=False,
        help_text=_("One of your agencies where you are a housing officer; optional if there is only one."),
    )

    class Meta(ListingWriteSerializer.Meta):
        fields = ["owner_agency", *services.LISTING_FIELDS]


class ListingTransitionSerializer(StrictInputMixin, serializers.Serializer[Listing]):
    action = serializers.ChoiceField(choices=list(services.LISTING_TRANSITIONS))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ListingShareSerializer(serializers.ModelSerializer[ListingShare]):
    agency = AgencyBriefSerializer(read_only=True, allow_null=True)
    workspace = serializers.SerializerMethodField()
    created_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = ListingShare
        fields = ["id", "agency", "workspace", "created_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_workspace(self, share: ListingShare) -> dict[str, Any] | None:
        if share.workspace is None:
            return None
        return {"id": share.workspace.pk, "name": share.workspace.name}


class ListingShareCreateSerializer(StrictInputMixin, serializers.Serializer[ListingShare]):
    agency = ScopedIdField(scope="agencies", required=False, allow_null=True, default=None)
    workspace = ScopedIdField(scope="workspaces", required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("agency") is None) == (attrs.get("workspace") is None):
            raise serializers.ValidationError({"non_field_errors": [_("Name either an agency or a workspace.")]})
        return attrs


class PhotoUploadSerializer(StrictInputMixin, serializers.Serializer[ListingPhoto]):
    photo = serializers.FileField(help_text=_("JPEG, PNG or WebP, at most 10 MB; stored re-encoded without metadata."))
    caption = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ListingChangeSerializer(serializers.ModelSerializer[ListingChange]):
    actor = UserBriefSerializer(read_only=True, allow_null=True, help_text=_("Null: the system (expiry)."))
    agency = AgencyBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ListingChange
        fields = ["id", "action", "from_status", "to_status", "changes", "actor", "agency", "note", "at"]
        read_only_fields = fields


class OccupancySerializer(serializers.Serializer[Any]):
    district = serializers.CharField()
    total = serializers.IntegerField()
    available = serializers.IntegerField()
    reserved = serializers.IntegerField()
    allocated = serializers.IntegerField()
    withdrawn_or_ended = serializers.IntegerField()


# Rent limits --------------------------------------------------------------------------------


class RentLimitSerializer(serializers.ModelSerializer[RentLimit]):
    agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = RentLimit
        fields = [
            "id",
            "agency",
            "comparison_area",
            "household_size",
            "max_gross_cold_rent",
            "max_heating_costs",
            "max_living_space",
            "valid_from",
            "created_at",
        ]
        read_only_fields = fields


class RentLimitWriteSerializer(StrictInputMixin, serializers.ModelSerializer[RentLimit]):
    class Meta:
        model = RentLimit
        fields = list(services.RENT_LIMIT_FIELDS)
        # Uniqueness is the service's to judge, with a message that names the field.
        validators: list[Any] = []


class RentLimitCreateSerializer(RentLimitWriteSerializer):
    agency = ScopedIdField(
        scope="kdu_agencies", required=False, help_text=_("Your jobcenter; optional if there is only one.")
    )

    class Meta(RentLimitWriteSerializer.Meta):
        fields = ["agency", *services.RENT_LIMIT_FIELDS]


class OverLimitApprovalSerializer(serializers.ModelSerializer[OverLimitApproval]):
    listing = ListingRefSerializer(read_only=True)
    household = HouseholdBriefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    approved_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = OverLimitApproval
        fields = [
            "id",
            "listing",
            "household",
            "household_size",
            "gross_cold_rent",
            "rent_limit",
            "reason",
            "agency",
            "approved_by",
            "approved_at",
        ]
        read_only_fields = fields


class OverLimitApprovalCreateSerializer(StrictInputMixin, serializers.Serializer[OverLimitApproval]):
    listing = ScopedIdField(scope="listings")
    household = ScopedIdField(scope="households")
    household_size = serializers.IntegerField(min_value=1, max_value=MAX_HOUSEHOLD_SIZE, required=False)
    reason = serializers.CharField(max_length=2000)


# Requests, reservations, tenancies ----------------------------------------------------------


class HousingRequestSerializer(serializers.ModelSerializer[HousingRequest]):
    household = HouseholdBriefSerializer(read_only=True)
    listing = ListingRefSerializer(read_only=True, allow_null=True)
    to_agency = AgencyBriefSerializer(read_only=True)
    requesting_agency = AgencyBriefSerializer(read_only=True)
    requested_by = UserBriefSerializer(read_only=True)
    districts = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = HousingRequest
        fields = [
            "id",
            "household",
            "listing",
            "to_agency",
            "requesting_agency",
            "requested_by",
            "household_size",
            "accessibility_need",
            "districts",
            "wanted_from",
            "note",
            "status",
            "created_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class HousingRequestCreateSerializer(StrictInputMixin, serializers.Serializer[HousingRequest]):
    household = ScopedIdField(scope="households", help_text=_("A household you can see."))
    listing = ScopedIdField(
        scope="listings", required=False, allow_null=True, default=None, help_text=_("A flat shared with you.")
    )
    to_agency = ScopedIdField(
        scope="agencies",
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The housing office, when no flat is named."),
    )
    household_size = serializers.IntegerField(min_value=1, max_value=MAX_HOUSEHOLD_SIZE, required=False)
    accessibility_need = serializers.ChoiceField(choices=Accessibility.choices, default=Accessibility.NONE)
    districts = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_DISTRICTS, required=False, default=list
    )
    wanted_from = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class NoteSerializer(StrictInputMixin, serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RequestAcceptSerializer(StrictInputMixin, serializers.Serializer[Any]):
    listing = ScopedIdField(
        scope="managed_listings",
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The flat to reserve, if the request names none."),
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReservationSerializer(serializers.ModelSerializer[Reservation]):
    listing = ListingRefSerializer(read_only=True)
    household = HouseholdBriefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    reserved_by = UserBriefSerializer(read_only=True)

    class Meta:
        model = Reservation
        fields = [
            "id",
            "listing",
            "household",
            "household_size",
            "request",
            "status",
            "expires_at",
            "note",
            "agency",
            "reserved_by",
            "reserved_at",
            "ended_at",
        ]
        read_only_fields = fields


class ReservationCreateSerializer(StrictInputMixin, serializers.Serializer[Reservation]):
    listing = ScopedIdField(scope="managed_listings", help_text=_("A flat your housing office manages."))
    household = ScopedIdField(scope="reservable_households", help_text=_("A household you can see or were asked for."))
    household_size = serializers.IntegerField(min_value=1, max_value=MAX_HOUSEHOLD_SIZE, required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    request = ScopedIdField(scope="incoming_requests", required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AllocateSerializer(StrictInputMixin, serializers.Serializer[Any]):
    move_in = serializers.DateField(required=False, allow_null=True, default=None)
    lease_holder = serializers.ChoiceField(choices=LeaseHolder.choices, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class LeaseHandoverSerializer(serializers.ModelSerializer[LeaseHandover]):
    recorded_by = UserBriefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = LeaseHandover
        fields = ["id", "from_holder", "to_holder", "effective_on", "note", "recorded_by", "agency", "recorded_at"]
        read_only_fields = fields


class TenancySerializer(serializers.ModelSerializer[Tenancy]):
    listing = ListingRefSerializer(read_only=True)
    household = HouseholdBriefSerializer(read_only=True)
    allocated_by = UserBriefSerializer(read_only=True)
    handovers = LeaseHandoverSerializer(many=True, read_only=True)

    class Meta:
        model = Tenancy
        fields = [
            "id",
            "listing",
            "household",
            "household_size",
            "status",
            "lease_holder",
            "move_in",
            "move_out",
            "gross_cold_rent",
            "heating_costs",
            "rent_limit",
            "approval",
            "allocated_by",
            "allocated_at",
            "handovers",
        ]
        read_only_fields = fields


class MoveInSerializer(StrictInputMixin, serializers.Serializer[Any]):
    move_in = serializers.DateField()


class MoveOutSerializer(StrictInputMixin, serializers.Serializer[Any]):
    move_out = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    relist = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Offer the flat again; by default, when the county or the landlord keeps the lease."),
    )


class HandoverSerializer(StrictInputMixin, serializers.Serializer[Any]):
    to_holder = serializers.ChoiceField(choices=LeaseHolder.choices, default=LeaseHolder.TENANT)
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# Matching -----------------------------------------------------------------------------------


class MatchQuerySerializer(StrictInputMixin, serializers.Serializer[Any]):
    household = ScopedIdField(scope="households", help_text=_("A household you can see."))
    household_size = serializers.IntegerField(min_value=1, max_value=MAX_HOUSEHOLD_SIZE, required=False)
    accessibility_need = serializers.ChoiceField(choices=Accessibility.choices, required=False)
    districts = serializers.CharField(
        required=False, max_length=2000, help_text=_("Wished districts, separated by commas.")
    )
    wanted_from = serializers.DateField(required=False)

    def to_internal_value(self, data: Any) -> Any:
        # Query parameters arrive as a QueryDict; the page and the page size belong to the paginator.
        if hasattr(data, "dict"):
            data = {key: value for key, value in data.dict().items() if key not in {"page", "page_size"}}
        return super().to_internal_value(data)


class ReasonSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    met = serializers.BooleanField()
    text = serializers.CharField()


class MatchSerializer(serializers.Serializer[Any]):
    listing = ListingSerializer()
    score = serializers.IntegerField()
    reasons = ReasonSerializer(many=True)


def agency_choices(actor: Any) -> Any:
    return Agency.objects.filter(pk__in=access.agency_ids(actor, *access.HOUSING_ROLES))
