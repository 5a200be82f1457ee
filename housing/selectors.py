"""Reads of the housing tool, scoped by ``hub.access``.

Lists stay at a constant number of queries: the rent limits a page needs are read in one
query for all its listings, occupancy per district is one aggregate, and the matching score
is computed in SQL; only the reasons are derived per row, from the annotated values.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from housing.models import (
    Accessibility,
    HousingRequest,
    LeaseHandover,
    Listing,
    ListingChange,
    ListingPhoto,
    ListingShare,
    ListingStatus,
    OverLimitApproval,
    RentLimit,
    RequestStatus,
    Reservation,
    Tenancy,
)
from housing.services import within_limit
from hub import access
from referrals.models import Household, Person

if TYPE_CHECKING:
    from hub.access import Actor

MONEY = DecimalField(max_digits=10, decimal_places=2)
HOUSEHOLD_SIZES = range(1, 9)


# Listings -----------------------------------------------------------------------------------


def listing_list(actor: Actor) -> QuerySet[Listing]:
    """Listings the actor may see, with the gross cold rent annotated (the measure of the rent limits)."""
    return (
        access.visible(actor, Listing)
        .select_related("owner_agency")
        .annotate(gross_cold=F("base_rent") + F("running_costs"))
    )


def listing_detail(actor: Actor, pk: Any) -> Listing:
    try:
        return listing_list(actor).get(pk=pk)
    except (Listing.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def listing_photos(actor: Actor, listing: Listing) -> QuerySet[ListingPhoto]:
    return access.visible(actor, ListingPhoto).filter(listing=listing).order_by("position", "pk")


def listing_shares(actor: Actor, listing: Listing) -> QuerySet[ListingShare]:
    return (
        access.visible(actor, ListingShare)
        .filter(listing=listing)
        .select_related("agency", "workspace", "created_by")
        .order_by("pk")
    )


def listing_history(actor: Actor, listing: Listing) -> QuerySet[ListingChange]:
    return (
        access.visible(actor, ListingChange)
        .filter(listing=listing)
        .select_related("actor", "agency")
        .order_by("at", "pk")
    )


def visible_photo(actor: Actor, pk: object) -> ListingPhoto:
    """A photo of a listing the actor may see; 404 for everyone else, as for a missing one."""
    return access.get_visible_or_404(actor, ListingPhoto, pk=pk)


def with_photos(queryset: QuerySet[Listing]) -> QuerySet[Listing]:
    return queryset.prefetch_related(Prefetch("photos", queryset=ListingPhoto.objects.order_by("position", "pk")))


def district_choices(actor: Actor) -> list[str]:
    return list(listing_list(actor).order_by("district").values_list("district", flat=True).distinct())


# Rent limits --------------------------------------------------------------------------------


def rent_limit_list(actor: Actor) -> QuerySet[RentLimit]:
    return (
        access.visible(actor, RentLimit)
        .select_related("agency")
        .order_by("comparison_area", "household_size", "-valid_from", "pk")
    )


def current_limits(areas: Iterable[str], day: datetime.date | None = None) -> dict[tuple[str, int], RentLimit]:
    """The rows in force on ``day`` for these comparison areas, in one query: (area, size) -> row."""
    day = day or timezone.localdate()
    wanted = set(areas)
    if not wanted:
        return {}
    found: dict[tuple[str, int], RentLimit] = {}
    rows = RentLimit.objects.filter(comparison_area__in=wanted, valid_from__lte=day).order_by("valid_from", "pk")
    for row in rows:
        found[(row.comparison_area, row.household_size)] = row
    return found


def sizes_within_limits(listings: Sequence[Listing], day: datetime.date | None = None) -> dict[int, list[int]]:
    """For each listing, the household sizes whose rent limit it keeps; one query for the whole page."""
    limits = current_limits({listing.comparison_area for listing in listings}, day)
    answer: dict[int, list[int]] = {}
    for listing in listings:
        sizes = sorted(
            size
            for (area, size), limit in limits.items()
            if area == listing.comparison_area and within_limit(listing, limit)
        )
        answer[listing.pk] = sizes
    return answer


def limit_subquery(size: int, day: datetime.date, column: str = "max_gross_cold_rent") -> Subquery:
    """The limit in force for the listing's comparison area and ``size``, as a correlated subquery."""
    rows = RentLimit.objects.filter(
        comparison_area=OuterRef("comparison_area"), household_size=size, valid_from__lte=day
    ).order_by("-valid_from")
    return Subquery(rows.values(column)[:1], output_field=MONEY)


def within_limit_for(queryset: QuerySet[Listing], size: int, day: datetime.date | None = None) -> QuerySet[Listing]:
    """Only listings within the rent limit (gross cold rent and heating) for a household of ``size``."""
    day = day or timezone.localdate()
    return (
        queryset.annotate(
            _limit=limit_subquery(size, day),
            _heating_limit=limit_subquery(size, day, "max_heating_costs"),
            _gross=F("base_rent") + F("running_costs"),
        )
        .filter(_limit__isnull=False, _gross__lte=F("_limit"))
        .filter(Q(_heating_limit__isnull=True) | Q(heating_costs__lte=F("_heating_limit")))
    )


# Occupancy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictOccupancy:
    district: str
    total: int
    available: int
    reserved: int
    allocated: int
    withdrawn_or_ended: int


def occupancy_by_district(actor: Actor) -> list[DistrictOccupancy]:
    """Flats per district and status, in one aggregate query over the listings the actor may see."""
    rows = (
        access.visible(actor, Listing)
        .exclude(status=ListingStatus.DRAFT)
        .values("district")
        .annotate(
            total=Count("pk"),
            available=Count("pk", filter=Q(status=ListingStatus.AVAILABLE)),
            reserved=Count("pk", filter=Q(status=ListingStatus.RESERVED)),
            allocated=Count("pk", filter=Q(status=ListingStatus.ALLOCATED)),
            withdrawn_or_ended=Count("pk", filter=Q(status__in=[ListingStatus.WITHDRAWN, ListingStatus.ENDED])),
        )
        .order_by("district")
    )
    return [DistrictOccupancy(**row) for row in rows]


# Matching -----------------------------------------------------------------------------------

# Points of each criterion; the ranking is their sum, computed in SQL.
POINTS_WITHIN_LIMIT = 40
POINTS_DISTRICT = 30
POINTS_AVAILABLE_IN_TIME = 15
POINTS_SPACE = 10


@dataclass(frozen=True)
class MatchProfile:
    """What a household needs: from its open housing request, or its size alone."""

    household_size: int
    accessibility_need: int = Accessibility.NONE
    districts: tuple[str, ...] = ()
    wanted_from: datetime.date | None = None

    @property
    def min_rooms(self) -> Decimal:
        return Decimal(max(1, (self.household_size + 1) // 2))

    @property
    def max_rooms(self) -> Decimal:
        return Decimal(self.household_size) + Decimal("1.5")


@dataclass(frozen=True)
class Reason:
    code: str
    met: bool
    text: str


@dataclass
class Match:
    listing: Listing
    score: int
    reasons: list[Reason] = field(default_factory=list)


def match_profile(
    actor: Actor,
    household: Household,
    *,
    household_size: int | None = None,
    accessibility_need: int | None = None,
    districts: Sequence[str] | None = None,
    wanted_from: datetime.date | None = None,
) -> MatchProfile:
    """The profile to match: what is given, else the household's latest open request, else its size."""
    request = (
        access.visible(actor, HousingRequest)
        .filter(household=household, status=RequestStatus.OPEN)
        .order_by("-created_at", "-pk")
        .first()
    )
    size = household_size or (request.household_size if request else 0)
    if not size:
        size = max(1, Person.objects.filter(household=household, merged_into=None).count())
    return MatchProfile(
        household_size=size,
        accessibility_need=(
            accessibility_need
            if accessibility_need is not None
            else (request.accessibility_need if request else Accessibility.NONE)
        ),
        districts=tuple(districts if districts is not None else (request.districts if request else ())),
        wanted_from=wanted_from or (request.wanted_from if request else None),
    )


def match_listings(actor: Actor, profile: MatchProfile, day: datetime.date | None = None) -> QuerySet[Listing]:
    """Available flats that fit the household's size and accessibility needs, best first.

    Hard conditions: available, accessible enough, rooms for the household. Ranked by points
    for keeping the rent limit, lying in a wished district, being free in time, and a living
    space within the reasonable size; ties go to the cheaper flat.
    """
    day = day or timezone.localdate()
    wanted = profile.wanted_from or day
    districts = list(profile.districts)
    size = profile.household_size
    queryset = (
        listing_list(actor)
        .filter(
            status=ListingStatus.AVAILABLE,
            accessibility__gte=profile.accessibility_need,
            rooms__gte=profile.min_rooms,
            rooms__lte=profile.max_rooms,
        )
        .annotate(
            limit=limit_subquery(size, day),
            heating_limit=limit_subquery(size, day, "max_heating_costs"),
            space_limit=limit_subquery(size, day, "max_living_space"),
        )
        .annotate(
            p_limit=Case(
                When(
                    Q(limit__isnull=False)
                    & Q(**{"gross_cold__lte": F("limit")})
                    & (Q(heating_limit__isnull=True) | Q(heating_costs__lte=F("heating_limit"))),
                    then=Value(POINTS_WITHIN_LIMIT),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
            p_district=(
                Case(
                    When(district__in=districts, then=Value(POINTS_DISTRICT)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
                if districts
                else Value(0, output_field=IntegerField())
            ),
            p_time=Case(
                When(available_from__lte=wanted, then=Value(POINTS_AVAILABLE_IN_TIME)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            p_space=Case(
                When(Q(space_limit__isnull=True) | Q(living_space__lte=F("space_limit")), then=Value(POINTS_SPACE)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .annotate(score=F("p_limit") + F("p_district") + F("p_time") + F("p_space"))
        .order_by("-score", F("gross_cold").asc(), "available_from", "pk")
    )
    return queryset


def _euros(value: Decimal | None) -> str:
    return f"{value:.2f} €" if value is not None else "–"


def match_reasons(listing: Any, profile: MatchProfile) -> list[Reason]:
    """Why a matched listing ranks where it does, from the values ``match_listings`` annotated (no queries)."""
    size = profile.household_size
    reasons = [
        Reason(
            "rooms",
            True,
            _("%(rooms)s rooms for %(size)d persons") % {"rooms": f"{listing.rooms:g}", "size": size},
        )
    ]
    if profile.accessibility_need:
        reasons.append(
            Reason(
                "accessibility",
                True,
                _("Accessible: %(level)s") % {"level": Accessibility(listing.accessibility).label},
            )
        )
    if listing.limit is None:
        reasons.append(
            Reason("rent_limit", False, _("No rent limit recorded for %(area)s") % {"area": listing.comparison_area})
        )
    elif listing.p_limit:
        reasons.append(
            Reason(
                "rent_limit",
                True,
                _("Gross cold rent %(rent)s within the limit of %(limit)s")
                % {"rent": _euros(listing.gross_cold), "limit": _euros(listing.limit)},
            )
        )
    else:
        reasons.append(
            Reason(
                "rent_limit",
                False,
                _("Above the rent limit (%(rent)s, limit %(limit)s): needs the jobcenter's approval")
                % {"rent": _euros(listing.gross_cold), "limit": _euros(listing.limit)},
            )
        )
    if profile.districts:
        if listing.p_district:
            reasons.append(Reason("district", True, _("In a wished district: %(d)s") % {"d": listing.district}))
        else:
            reasons.append(Reason("district", False, _("Not in a wished district (%(d)s)") % {"d": listing.district}))
    wanted = profile.wanted_from or timezone.localdate()
    if listing.p_time:
        reasons.append(
            Reason("available_from", True, _("Free from %(date)s") % {"date": listing.available_from.isoformat()})
        )
    else:
        reasons.append(
            Reason(
                "available_from",
                False,
                _("Free only from %(date)s (wanted: %(wanted)s)")
                % {"date": listing.available_from.isoformat(), "wanted": wanted.isoformat()},
            )
        )
    if listing.space_limit is not None:
        reasons.append(
            Reason(
                "living_space",
                bool(listing.p_space),
                _("%(space)s m², reasonable up to %(limit)s m²")
                % {"space": f"{listing.living_space:g}", "limit": f"{listing.space_limit:g}"},
            )
        )
    return reasons


def matches_for_page(listings: Iterable[Any], profile: MatchProfile) -> list[Match]:
    return [
        Match(listing=listing, score=listing.score, reasons=match_reasons(listing, profile)) for listing in listings
    ]


# Requests, reservations, tenancies, approvals ------------------------------------------------


def housing_request_list(actor: Actor) -> QuerySet[HousingRequest]:
    return access.visible(actor, HousingRequest).select_related(
        "household", "listing", "to_agency", "requesting_agency", "requested_by"
    )


def reservation_list(actor: Actor) -> QuerySet[Reservation]:
    return access.visible(actor, Reservation).select_related("listing", "household", "agency", "reserved_by")


def tenancy_list(actor: Actor) -> QuerySet[Tenancy]:
    handovers = LeaseHandover.objects.select_related("recorded_by", "agency").order_by("effective_on", "pk")
    return (
        access.visible(actor, Tenancy)
        .select_related("listing", "household", "allocated_by")
        .prefetch_related(Prefetch("handovers", queryset=handovers))
    )


def approval_list(actor: Actor) -> QuerySet[OverLimitApproval]:
    return access.visible(actor, OverLimitApproval).select_related("listing", "household", "agency", "approved_by")


def open_requests_to(actor: Actor) -> QuerySet[HousingRequest]:
    """Requests waiting for an answer from the actor's housing offices, oldest first."""
    return (
        housing_request_list(actor)
        .filter(to_agency_id__in=access.agency_ids(actor, *access.HOUSING_ROLES), status=RequestStatus.OPEN)
        .order_by("created_at", "pk")
    )
