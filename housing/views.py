"""HTML views of the housing tool: flats with their photos, shares, status steps, requests,
reservations, allocations and tenancies; the rent-limit table; occupancy per district; and
the flats that fit a household.

Reads come from ``housing.selectors`` (scoped by ``hub.access``): a flat the actor may not see
answers 404 like a missing one. Every write goes through ``housing.services``, which check
permission again; a refusal becomes a form error or a message, never a server error.

Photos live under MEDIA_ROOT, which no web server serves: the photo views check visibility
through ``hub.access`` for every request, so a photo URL passed on to another agency answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from agencies.models import Agency, Workspace
from housing import forms as housing_forms
from housing import selectors, services
from housing.filters import HousingRequestFilterSet, ListingFilterSet, RentLimitFilterSet
from housing.models import (
    HousingRequest,
    Listing,
    ListingShare,
    ListingStatus,
    OverLimitApproval,
    RentLimit,
    RequestStatus,
    Reservation,
    ReservationStatus,
    Tenancy,
    TenancyStatus,
)
from hub import access
from hub.views import HubRequest
from hub.web import form_page, list_response, paginate, post_data, post_step, tune_filters
from privacy import reads
from referrals.models import Category, Household, Person
from referrals.views.persons import agency_select

# What the pages of a flat follow live: the flat itself and everything that hangs on it.
LIVE_TOPICS = "listing listingshare listingphoto reservation tenancy leasehandover housingrequest overlimitapproval"

STEP_LABELS = {
    "publish": gettext_lazy("Publish"),
    "withdraw": gettext_lazy("Withdraw"),
    "end": gettext_lazy("End the listing"),
    "reopen": gettext_lazy("Reopen as a draft"),
}
STEP_DONE = {
    "publish": gettext_lazy("The flat is published: the agencies it is shared with see it now."),
    "withdraw": gettext_lazy("The flat has been withdrawn."),
    "end": gettext_lazy("The listing has ended."),
    "reopen": gettext_lazy("The flat is a draft again."),
}
STEP_CONFIRM = {
    "withdraw": gettext_lazy("Withdraw this flat? Nobody can request it any more."),
    "end": gettext_lazy("End this listing? It is no longer offered."),
}


# Helpers ------------------------------------------------------------------------------------


# Every single-form page of this app looks the same; a view may still pass its own template.
_form_page = partial(form_page, template="housing/form_page.html")


def _listing_url(listing: Listing | int) -> str:
    return reverse("housing-listing-detail", args=[listing if isinstance(listing, int) else listing.pk])


def _housing_agencies(actor: Any) -> QuerySet[Agency]:
    return Agency.objects.filter(pk__in=access.agency_ids(actor, *access.HOUSING_ROLES)).order_by("name")


def _households(actor: Any) -> QuerySet[Household]:
    return access.visible(actor, Household).order_by("name", "pk")


def _initial_household(request: HubRequest, households: QuerySet[Household]) -> dict[str, Any]:
    """``?household=`` preselects a household, when it is one the actor may choose."""
    wanted = request.GET.get("household", "")
    if wanted.isdigit() and households.filter(pk=int(wanted)).exists():
        return {"household": int(wanted)}
    return {}


def _date_widgets(filterset: Any, *names: str) -> None:
    for name in names:
        found = filterset.form.fields.get(name)
        if found is not None:
            found.widget.input_type = "date"


# Listings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingRow:
    listing: Listing
    sizes: list[int]


@login_required
def listing_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    visible = selectors.listing_list(actor)
    filterset = tune_filters(
        ListingFilterSet(request.GET, queryset=visible.order_by("district", "street", "pk"), request=request)
    )
    agency_select(
        filterset,
        "owner_agency",
        Agency.objects.filter(pk__in=visible.values("owner_agency_id")).order_by("name"),
    )
    district = filterset.form.fields.get("district")
    if district is not None:
        choices = [("", _("All")), *((name, name) for name in selectors.district_choices(actor))]
        district.widget = forms.Select(choices=choices)
    _date_widgets(filterset, "free_from")
    page = paginate(request, filterset.qs)
    listings = list(page.object_list)
    sizes = selectors.sizes_within_limits(listings)
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": [ListingRow(listing, sizes.get(listing.pk, [])) for listing in listings],
        "may_create": access.can(actor, "create", Listing),
        "may_request": access.can(actor, "create", HousingRequest),
        "live_topics": LIVE_TOPICS,
    }
    return list_response(request, "housing/listing_list.html", context)


@dataclass(frozen=True)
class RequestRow:
    request: HousingRequest
    may_accept: bool
    may_decline: bool
    may_withdraw: bool


def request_rows(actor: Any, requests: list[HousingRequest]) -> list[RequestRow]:
    return [
        RequestRow(
            request=found,
            may_accept=access.can(actor, "accept", found),
            may_decline=access.can(actor, "decline", found),
            may_withdraw=access.can(actor, "withdraw", found),
        )
        for found in requests
    ]


@dataclass
class ReservationInfo:
    """The active reservation, and what allocating it needs with regard to the rent limit."""

    reservation: Reservation
    may_release: bool
    may_allocate: bool
    limit: RentLimit | None
    within_limit: bool
    approved: bool


@dataclass
class TenancyRow:
    tenancy: Tenancy
    may_move_in: bool
    may_move_out: bool
    may_handover: bool
    handovers: list[Any] = field(default_factory=list)


def reservation_info(actor: Any, listing: Listing, reservation: Reservation) -> ReservationInfo:
    limit = services.rent_limit_on(listing.comparison_area, reservation.household_size)
    within = services.within_limit(listing, limit)
    approved = (
        not within
        and selectors.approval_list(actor)
        .filter(listing=listing, household_id=reservation.household_id, gross_cold_rent__gte=listing.gross_cold_rent)
        .exists()
    )
    return ReservationInfo(
        reservation=reservation,
        may_release=access.can(actor, "release", reservation),
        may_allocate=access.can(actor, "allocate", reservation),
        limit=limit,
        within_limit=within,
        approved=approved,
    )


@login_required
def listing_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    is_owner = listing.owner_agency_id in access.agency_ids(actor)
    reservations = list(selectors.reservation_list(actor).filter(listing=listing).order_by("-reserved_at", "-pk"))
    active = next((r for r in reservations if r.status == ReservationStatus.ACTIVE), None)
    tenancies = list(selectors.tenancy_list(actor).filter(listing=listing).order_by("-allocated_at", "-pk"))
    requests = list(selectors.housing_request_list(actor).filter(listing=listing).order_by("-created_at", "-pk"))
    available = listing.status == ListingStatus.AVAILABLE
    context = {
        "listing": listing,
        "is_owner": is_owner,
        "may_change": access.can(actor, "change", listing),
        "may_share": access.can(actor, "share", listing),
        "may_add_photo": access.can(actor, "add_photo", listing),
        "may_reserve": available and access.can(actor, "reserve", listing),
        "may_request": available and access.can(actor, "request", listing),
        "may_approve": access.can(actor, "create", OverLimitApproval),
        "steps": [
            (action, STEP_LABELS[action], STEP_CONFIRM.get(action, ""))
            for action in services.allowed_listing_actions(actor, listing)
        ],
        "sizes": selectors.sizes_within_limits([listing])[listing.pk],
        "photos": list(selectors.listing_photos(actor, listing)),
        # Who the flat is shared with, and its history (which names households), are the owner's record.
        "shares": list(selectors.listing_shares(actor, listing)) if is_owner else [],
        "history": list(selectors.listing_history(actor, listing)) if is_owner else [],
        "active": reservation_info(actor, listing, active) if active is not None else None,
        "past_reservations": [r for r in reservations if r is not active],
        "tenancies": [
            TenancyRow(
                tenancy=tenancy,
                may_move_in=tenancy.status == TenancyStatus.ALLOCATED and access.can(actor, "move_in", tenancy),
                may_move_out=tenancy.status == TenancyStatus.ACTIVE and access.can(actor, "move_out", tenancy),
                may_handover=tenancy.status != TenancyStatus.ENDED and access.can(actor, "handover", tenancy),
                handovers=list(tenancy.handovers.all()),
            )
            for tenancy in tenancies
        ],
        "request_rows": request_rows(actor, requests),
        "approvals": list(selectors.approval_list(actor).filter(listing=listing).order_by("-approved_at", "-pk")),
        "live_topics": LIVE_TOPICS,
    }
    return render(request, "housing/listing_detail.html", context)


@login_required
def listing_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    access.require(actor, "create", Listing)
    form = housing_forms.ListingForm(post_data(request), agencies=_housing_agencies(actor))
    return _form_page(
        request,
        form,
        lambda data: services.listing_create(actor=actor, owner_agency=data["owner_agency"], **form.values()),
        success=_("The flat has been saved as a draft. Publish it when it may be offered."),
        next_url=_listing_url,
        context={
            "title": _("Enter a flat"),
            "submit_label": _("Save as draft"),
            "cancel_url": reverse("housing-listing-list"),
        },
    )


@login_required
def listing_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    access.require(actor, "change", listing)
    form = housing_forms.ListingForm(post_data(request), initial=housing_forms.listing_initial(listing))
    return _form_page(
        request,
        form,
        lambda data: services.listing_update(actor=actor, listing=listing, **form.values()),
        success=_("The flat has been saved."),
        next_url=_listing_url,
        context={
            "title": _("Edit the flat"),
            "listing": listing,
            "submit_label": _("Save"),
            "cancel_url": _listing_url(listing),
        },
    )


@login_required
@require_POST
def listing_step(request: HubRequest, pk: int, action: str) -> HttpResponse:
    """Publish, withdraw, end or reopen: one POST each."""
    if action not in services.LISTING_TRANSITIONS:
        raise Http404
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    access.require(actor, action, listing)
    return post_step(
        request,
        lambda: services.listing_transition(actor=actor, listing=listing, action=action),
        success=str(STEP_DONE[action]),
        url=_listing_url(listing),
    )


# Photos and shares --------------------------------------------------------------------------


def _serve(request: HubRequest, pk: int, *, thumbnail: bool) -> FileResponse:
    photo = selectors.visible_photo(request.user, pk)
    stored = photo.thumbnail if thumbnail else photo.image
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    # Never in a shared cache: access may end with the next unshare.
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def listing_photo(request: HubRequest, pk: int) -> FileResponse:
    return _serve(request, pk, thumbnail=False)


@login_required
@require_GET
def listing_photo_thumbnail(request: HubRequest, pk: int) -> FileResponse:
    return _serve(request, pk, thumbnail=True)


@login_required
def photo_add(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    access.require(actor, "add_photo", listing)
    form = housing_forms.PhotoForm(post_data(request), request.FILES if request.method == "POST" else None)
    return _form_page(
        request,
        form,
        lambda data: services.photo_add(actor=actor, listing=listing, photo=data["photo"], caption=data["caption"]),
        success=_("The photo has been added."),
        next_url=lambda photo: _listing_url(listing) + "#photos",
        context={
            "title": _("Add a photo"),
            "listing": listing,
            "submit_label": _("Upload the photo"),
            "cancel_url": _listing_url(listing),
            "multipart": True,
        },
    )


@login_required
@require_POST
def photo_delete(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    photo = selectors.visible_photo(actor, pk)
    return post_step(
        request,
        lambda: services.photo_delete(actor=actor, photo=photo),
        success=_("The photo has been deleted."),
        url=_listing_url(photo.listing_id) + "#photos",
    )


@login_required
def share_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    access.require(actor, "share", listing)
    shares = ListingShare.objects.filter(listing=listing)
    agencies = (
        access.visible(actor, Agency)
        .exclude(pk=listing.owner_agency_id)
        .exclude(pk__in=shares.exclude(agency=None).values("agency_id"))
        .order_by("name")
    )
    workspaces = (
        access.visible(actor, Workspace)
        .filter(is_archived=False)
        .exclude(pk__in=shares.exclude(workspace=None).values("workspace_id"))
        .order_by("name")
    )
    form = housing_forms.ShareForm(post_data(request), agencies=agencies, workspaces=workspaces)
    return _form_page(
        request,
        form,
        lambda data: services.listing_share(
            actor=actor, listing=listing, agency=data["agency"], workspace=data["workspace"]
        ),
        success=_("The flat is shared."),
        next_url=lambda share: _listing_url(listing) + "#shares",
        context={
            "title": _("Share the flat"),
            "listing": listing,
            "intro": _("Draft flats are seen only by your agency; they are shown to the others once published."),
            "submit_label": _("Share"),
            "cancel_url": _listing_url(listing),
        },
    )


@login_required
@require_POST
def share_delete(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    share = access.get_visible_or_404(actor, ListingShare, pk=pk)
    return post_step(
        request,
        lambda: services.listing_unshare(actor=actor, share=share),
        success=_("The flat is no longer shared there."),
        url=_listing_url(share.listing_id) + "#shares",
    )


# Occupancy and rent limits ------------------------------------------------------------------


@dataclass(frozen=True)
class OccupancyRow:
    district: str
    total: int
    available: int
    reserved: int
    allocated: int
    withdrawn_or_ended: int

    @property
    def occupied(self) -> int:
        return self.reserved + self.allocated

    @property
    def offered(self) -> int:
        """Flats in use or on offer: the base of the occupancy rate."""
        return self.available + self.reserved + self.allocated

    @property
    def percent(self) -> int:
        return round(100 * self.occupied / self.offered) if self.offered else 0


@login_required
def occupancy(request: HubRequest) -> HttpResponse:
    rows = [OccupancyRow(**vars(row)) for row in selectors.occupancy_by_district(request.user)]
    totals = OccupancyRow(
        district=_("All districts"),
        total=sum(row.total for row in rows),
        available=sum(row.available for row in rows),
        reserved=sum(row.reserved for row in rows),
        allocated=sum(row.allocated for row in rows),
        withdrawn_or_ended=sum(row.withdrawn_or_ended for row in rows),
    )
    return render(
        request,
        "housing/occupancy.html",
        {"rows": rows, "totals": totals, "live_topics": "listing reservation tenancy"},
    )


@dataclass(frozen=True)
class LimitCell:
    size: int
    limit: RentLimit | None


@login_required
def rent_limit_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    queryset = selectors.rent_limit_list(actor)
    areas = list(queryset.order_by("comparison_area").values_list("comparison_area", flat=True).distinct())
    current = selectors.current_limits(areas)
    sizes = sorted({size for _area, size in current})
    table = [(area, [LimitCell(size, current.get((area, size))) for size in sizes]) for area in areas]
    filterset = tune_filters(RentLimitFilterSet(request.GET, queryset=queryset, request=request))
    page = paginate(request, filterset.qs)
    kdu = access.kdu_agencies(actor)
    context = {
        "filter": filterset,
        "page_obj": page,
        "sizes": sizes,
        "table": table,
        "current_ids": {limit.pk for limit in current.values()},
        "kdu_agencies": kdu,
        "may_create": access.can(actor, "create", RentLimit),
        "live_topics": "rentlimit",
    }
    return list_response(request, "housing/rent_limit_list.html", context)


@login_required
def rent_limit_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    access.require(actor, "create", RentLimit)
    agencies = Agency.objects.filter(pk__in=access.kdu_agencies(actor)).order_by("name")
    form = housing_forms.RentLimitForm(post_data(request), agencies=agencies)
    return _form_page(
        request,
        form,
        lambda data: services.rent_limit_create(actor=actor, agency=data["agency"], **form.values()),
        success=_("The rent limit has been added."),
        next_url=lambda limit: reverse("housing-rent-limit-list"),
        context={
            "title": _("Add a rent limit"),
            "crumbs": [(reverse("housing-rent-limit-list"), _("Rent limits"))],
            "submit_label": _("Save"),
            "cancel_url": reverse("housing-rent-limit-list"),
        },
    )


@login_required
def rent_limit_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    limit = access.get_visible_or_404(actor, RentLimit, pk=pk)
    access.require(actor, "change", limit)
    form = housing_forms.RentLimitForm(post_data(request), initial=housing_forms.rent_limit_initial(limit))
    return _form_page(
        request,
        form,
        lambda data: services.rent_limit_update(actor=actor, rent_limit=limit, **form.values()),
        success=_("The rent limit has been saved."),
        next_url=lambda found: reverse("housing-rent-limit-list"),
        context={
            "title": _("Correct a rent limit"),
            "crumbs": [(reverse("housing-rent-limit-list"), _("Rent limits"))],
            "submit_label": _("Save"),
            "cancel_url": reverse("housing-rent-limit-list"),
        },
    )


@login_required
def rent_limit_delete(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    limit = access.get_visible_or_404(actor, RentLimit, pk=pk)
    access.require(actor, "delete", limit)
    if request.method == "POST":
        return post_step(
            request,
            lambda: services.rent_limit_delete(actor=actor, rent_limit=limit),
            success=_("The rent limit has been deleted."),
            url=reverse("housing-rent-limit-list"),
        )
    return render(request, "housing/rent_limit_delete.html", {"limit": limit})


# Matching and requests ----------------------------------------------------------------------


@login_required
def household_match(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    household = access.get_visible_or_404(actor, Household, pk=pk)
    # The page is headed by the household's (family) name: a read of its members' identity.
    members = access.visible(actor, Person).filter(household=household).values_list("pk", flat=True)
    reads.note(list(members), {Category.IDENTITY})
    form = housing_forms.MatchForm(request.GET or None, districts=selectors.district_choices(actor))
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    profile = selectors.match_profile(
        actor,
        household,
        household_size=data.get("household_size"),
        accessibility_need=data.get("accessibility_need"),
        districts=data.get("districts") or None,
        wanted_from=data.get("wanted_from"),
    )
    page = paginate(request, selectors.match_listings(actor, profile))
    context = {
        "household": household,
        "filter": {"form": form},
        "profile": profile,
        "page_obj": page,
        "matches": selectors.matches_for_page(page.object_list, profile),
        "may_request": access.can(actor, "create", HousingRequest),
        "open_requests": list(
            selectors.housing_request_list(actor)
            .filter(household=household, status=RequestStatus.OPEN)
            .order_by("-created_at")
        ),
        "live_topics": "listing",
    }
    return list_response(request, "housing/household_match.html", context)


@login_required
def request_create(request: HubRequest) -> HttpResponse:
    """Ask for a flat for a household: the flat named by ``?listing=``, or any that fits at a housing office."""
    actor = request.user
    wanted = request.GET.get("listing", "")
    listing = selectors.listing_detail(actor, wanted) if wanted else None
    if listing is not None:
        access.require(actor, "request", listing)
    else:
        access.require(actor, "create", HousingRequest)
    households = _households(actor)
    agencies = None
    if listing is None:
        agencies = (
            access.visible(actor, Agency)
            .filter(staff__is_housing_officer=True, staff__is_active=True)
            .distinct()
            .order_by("name")
        )
    initial = _initial_household(request, households)
    form = housing_forms.HousingRequestForm(
        post_data(request), households=households, agencies=agencies, initial=initial
    )

    def perform(data: dict[str, Any]) -> HousingRequest:
        values = form.values()
        return services.housing_request_create(
            actor=actor,
            household=values["household"],
            listing=listing,
            to_agency=values.get("to_agency"),
            household_size=values["household_size"],
            accessibility_need=values["accessibility_need"],
            districts=values["districts"],
            wanted_from=values["wanted_from"],
            note=values["note"],
        )

    return _form_page(
        request,
        form,
        perform,
        success=_("The request has been sent to the housing office."),
        next_url=lambda found: _listing_url(listing) if listing is not None else reverse("housing-request-list"),
        context={
            "title": _("Request this flat") if listing is not None else _("Request a flat"),
            "listing": listing,
            "intro": _("The housing office answers by reserving a flat for the household, or declines with a reason."),
            "submit_label": _("Send the request"),
            "cancel_url": _listing_url(listing) if listing is not None else reverse("housing-request-list"),
        },
    )


@login_required
def request_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    queryset = selectors.housing_request_list(actor).order_by("-created_at", "-pk")
    filterset = tune_filters(HousingRequestFilterSet(request.GET, queryset=queryset, request=request))
    for name in ("household", "listing"):
        # Ids in the address are kept (links from a flat or a household), not offered as fields.
        filterset.form.fields[name].widget = forms.HiddenInput()
    page = paginate(request, filterset.qs)
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": request_rows(actor, list(page.object_list)),
        "incoming": selectors.open_requests_to(actor).count(),
        "may_request": access.can(actor, "create", HousingRequest),
        "live_topics": "housingrequest reservation",
    }
    return list_response(request, "housing/request_list.html", context)


def _housing_request(actor: Any, pk: int) -> HousingRequest:
    try:
        return selectors.housing_request_list(actor).get(pk=pk)
    except HousingRequest.DoesNotExist as exc:
        raise Http404 from exc


def _request_back(found: HousingRequest) -> str:
    return _listing_url(found.listing_id) if found.listing_id else reverse("housing-request-list")


@login_required
def request_accept(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    found = _housing_request(actor, pk)
    access.require(actor, "accept", found)
    listings = None
    if found.listing_id is None:
        listings = (
            selectors.listing_list(actor)
            .filter(owner_agency_id=found.to_agency_id, status=ListingStatus.AVAILABLE)
            .order_by("district", "street", "pk")
        )
    form = housing_forms.AcceptForm(post_data(request), listings=listings)
    return _form_page(
        request,
        form,
        lambda data: services.housing_request_accept(
            actor=actor,
            request=found,
            listing=data.get("listing"),
            expires_at=housing_forms.end_of_day(data["expires_at"]),
            note=data["note"],
        ),
        success=_("The request is accepted: the flat is reserved for the household."),
        next_url=lambda reservation: _listing_url(reservation.listing_id),
        context={
            "title": _("Accept the request"),
            "listing": found.listing,
            "housing_request": found,
            "submit_label": _("Reserve the flat"),
            "cancel_url": _request_back(found),
        },
    )


@login_required
def request_decline(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    found = _housing_request(actor, pk)
    access.require(actor, "decline", found)
    form = housing_forms.ReasonForm(post_data(request))
    return _form_page(
        request,
        form,
        lambda data: services.housing_request_decline(actor=actor, request=found, note=data["note"]),
        success=_("The request has been declined. The requesting agency learns the reason."),
        next_url=lambda declined: _request_back(found),
        context={
            "title": _("Decline the request"),
            "listing": found.listing,
            "housing_request": found,
            "submit_label": _("Decline"),
            "danger": True,
            "cancel_url": _request_back(found),
        },
    )


@login_required
@require_POST
def request_withdraw(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    found = _housing_request(actor, pk)
    return post_step(
        request,
        lambda: services.housing_request_withdraw(actor=actor, request=found),
        success=_("The request has been withdrawn."),
        url=_request_back(found),
    )


# Reservations, approvals and tenancies ------------------------------------------------------


@login_required
def listing_reserve(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    access.require(actor, "reserve", listing)
    households = _households(actor)
    form = housing_forms.ReserveForm(
        post_data(request), households=households, initial=_initial_household(request, households)
    )
    return _form_page(
        request,
        form,
        lambda data: services.reservation_create(
            actor=actor,
            listing=listing,
            household=data["household"],
            household_size=data["household_size"],
            expires_at=housing_forms.end_of_day(data["expires_at"]),
            note=data["note"],
        ),
        success=_("The flat is reserved for the household."),
        next_url=lambda reservation: _listing_url(listing),
        context={
            "title": _("Reserve the flat"),
            "listing": listing,
            "submit_label": _("Reserve"),
            "cancel_url": _listing_url(listing),
        },
    )


def _reservation(actor: Any, pk: int) -> Reservation:
    try:
        return selectors.reservation_list(actor).get(pk=pk)
    except Reservation.DoesNotExist as exc:
        raise Http404 from exc


@login_required
@require_POST
def reservation_release(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    reservation = _reservation(actor, pk)
    return post_step(
        request,
        lambda: services.reservation_release(actor=actor, reservation=reservation),
        success=_("The reservation has been released; the flat is available again."),
        url=_listing_url(reservation.listing_id),
    )


@login_required
def reservation_allocate(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    reservation = _reservation(actor, pk)
    access.require(actor, "allocate", reservation)
    listing = reservation.listing
    info = reservation_info(actor, listing, reservation)
    form = housing_forms.AllocateForm(post_data(request), initial={"lease_holder": listing.lease_holder})
    return _form_page(
        request,
        form,
        lambda data: services.tenancy_allocate(
            actor=actor,
            reservation=reservation,
            move_in=data["move_in"],
            lease_holder=data["lease_holder"],
            note=data["note"],
        ),
        success=_("The flat is allocated to the household."),
        next_url=lambda tenancy: _listing_url(listing),
        context={
            "title": _("Allocate the flat"),
            "listing": listing,
            "allocation": info,
            "may_approve": access.can(actor, "create", OverLimitApproval),
            "submit_label": _("Allocate"),
            "cancel_url": _listing_url(listing),
        },
    )


@login_required
def approval_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    listing = selectors.listing_detail(actor, pk)
    access.require(actor, "create", OverLimitApproval)
    households = _households(actor)
    form = housing_forms.ApprovalForm(
        post_data(request),
        households=households,
        agencies=Agency.objects.filter(pk__in=access.kdu_agencies(actor)).order_by("name"),
        initial=_initial_household(request, households),
    )
    return _form_page(
        request,
        form,
        lambda data: services.over_limit_approve(
            actor=actor,
            listing=listing,
            household=data["household"],
            reason=data["reason"],
            household_size=data["household_size"],
            agency=data["agency"],
        ),
        success=_("The approval above the rent limit has been recorded."),
        next_url=lambda approval: _listing_url(listing),
        context={
            "title": _("Approve costs above the rent limit"),
            "listing": listing,
            "intro": _(
                "The jobcenter's approval (§ 22 (4) SGB II) lets the housing office allocate this flat "
                "to the household although its gross cold rent is above the limit."
            ),
            "submit_label": _("Record the approval"),
            "cancel_url": _listing_url(listing),
        },
    )


def _tenancy(actor: Any, pk: int, action: str) -> Tenancy:
    try:
        tenancy = selectors.tenancy_list(actor).get(pk=pk)
    except Tenancy.DoesNotExist as exc:
        raise Http404 from exc
    access.require(actor, action, tenancy)
    return tenancy


@login_required
def tenancy_move_in(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    tenancy = _tenancy(actor, pk, "move_in")
    form = housing_forms.MoveInForm(post_data(request), initial={"move_in": tenancy.move_in})
    return _form_page(
        request,
        form,
        lambda data: services.tenancy_move_in(actor=actor, tenancy=tenancy, move_in=data["move_in"]),
        success=_("The move-in has been recorded."),
        next_url=lambda found: _listing_url(tenancy.listing_id),
        context={
            "title": _("Record the move-in"),
            "listing": tenancy.listing,
            "tenancy": tenancy,
            "submit_label": _("Save"),
            "cancel_url": _listing_url(tenancy.listing_id),
        },
    )


@login_required
def tenancy_move_out(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    tenancy = _tenancy(actor, pk, "move_out")
    form = housing_forms.MoveOutForm(post_data(request))
    return _form_page(
        request,
        form,
        lambda data: services.tenancy_move_out(
            actor=actor, tenancy=tenancy, move_out=data["move_out"], note=data["note"], relist=form.relist_value()
        ),
        success=_("The move-out has been recorded."),
        next_url=lambda found: _listing_url(tenancy.listing_id),
        context={
            "title": _("Record the move-out"),
            "listing": tenancy.listing,
            "tenancy": tenancy,
            "submit_label": _("Save"),
            "cancel_url": _listing_url(tenancy.listing_id),
        },
    )


@login_required
def tenancy_handover(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    tenancy = _tenancy(actor, pk, "handover")
    form = housing_forms.HandoverForm(post_data(request))
    return _form_page(
        request,
        form,
        lambda data: services.tenancy_handover(
            actor=actor,
            tenancy=tenancy,
            to_holder=data["to_holder"],
            effective_on=data["effective_on"],
            note=data["note"],
        ),
        success=_("The handover of the lease has been recorded."),
        next_url=lambda handover: _listing_url(tenancy.listing_id),
        context={
            "title": _("Hand over the lease"),
            "listing": tenancy.listing,
            "tenancy": tenancy,
            "intro": _("The tenancy continues; only who holds the lease changes."),
            "submit_label": _("Record the handover"),
            "cancel_url": _listing_url(tenancy.listing_id),
        },
    )
