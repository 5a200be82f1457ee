"""Writes of the housing tool: listings and their status, shares, photos, rent limits,
requests, reservations, allocations, tenancies and the handover of the lease.

Every service checks permission through ``hub.access``, locks and re-reads what it changes,
validates, saves, adds an entry to the listing's history, records an audit row and publishes
an event, in one transaction. A flat is never allocated twice: reservations and tenancies
take the listing's row lock first, and partial unique constraints back that up in the database.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, User, Workspace
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
    ListingStatus,
    OverLimitApproval,
    RentLimit,
    RequestStatus,
    Reservation,
    ReservationStatus,
    Tenancy,
    TenancyStatus,
)
from housing.photos import process_photo
from hub import access, audit, events
from referrals.models import Household, Person

LISTING_FIELDS = (
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
    "available_from",
    "lease_holder",
    "landlord_name",
    "landlord_phone",
    "landlord_email",
    "description",
)
MONEY_FIELDS = ("base_rent", "running_costs", "heating_costs")
# The landlord's contact is personal data: the history and the audit log name the change, not the values.
PERSONAL_FIELDS = frozenset({"landlord_name", "landlord_phone", "landlord_email"})
RENT_LIMIT_FIELDS = (
    "comparison_area",
    "household_size",
    "max_gross_cold_rent",
    "max_heating_costs",
    "max_living_space",
    "valid_from",
)
DEFAULT_RESERVATION_DAYS = 7
MAX_RESERVATION_DAYS = 60
MAX_PHOTOS_PER_LISTING = 20
MAX_DISTRICTS = 20

LS = ListingStatus
# The steps a housing officer takes by hand: action -> (statuses it starts from, status it leads to).
# "reserved" and "allocated" follow reservations and tenancies and are set by their services only.
LISTING_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({LS.DRAFT}), LS.AVAILABLE),
    "withdraw": (frozenset({LS.DRAFT, LS.AVAILABLE}), LS.WITHDRAWN),
    "end": (frozenset({LS.DRAFT, LS.AVAILABLE, LS.WITHDRAWN}), LS.ENDED),
    "reopen": (frozenset({LS.WITHDRAWN, LS.ENDED}), LS.DRAFT),
}
CURRENT_TENANCY = frozenset({TenancyStatus.ALLOCATED, TenancyStatus.ACTIVE})


# Helpers ------------------------------------------------------------------------------------


def _check_text_lengths(instance: Any) -> None:
    """``full_clean`` leaves a text field's max_length to forms; API input must keep it as well."""
    errors: dict[str, str] = {}
    for field in instance._meta.concrete_fields:
        if field.get_internal_type() == "TextField" and field.max_length:
            value = getattr(instance, field.attname) or ""
            if len(value) > field.max_length:
                errors[field.name] = _("Use at most %(limit)d characters.") % {"limit": field.max_length}
    if errors:
        raise ValidationError(errors)


def _set_fields(instance: Any, allowed: Iterable[str], fields: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply the allowed keys of ``fields``; refuse unknown ones. Returns the [old, new] of what changes."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({key: _("This field cannot be changed here.") for key in unknown})
    changes = audit.diff(instance, fields)
    for key, value in fields.items():
        setattr(instance, key, value)
    return changes


def _redacted(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {field: (["…", "…"] if field in PERSONAL_FIELDS else pair) for field, pair in changes.items()}


def _validate_listing(listing: Listing) -> None:
    errors: dict[str, str] = {}
    for field in MONEY_FIELDS:
        value = getattr(listing, field)
        try:
            negative = value is not None and Decimal(str(value)) < 0
        except ArithmeticError:
            negative = False
        if negative:
            errors[field] = _("An amount cannot be negative.")
    if listing.lease_holder not in {LeaseHolder.COUNTY, LeaseHolder.PRIVATE_LANDLORD}:
        errors["lease_holder"] = _("A flat's lease is held by the county or by a private landlord.")
    if errors:
        raise ValidationError(errors)
    _check_text_lengths(listing)
    listing.full_clean()


def _history(
    listing: Listing,
    action: str,
    *,
    actor: User | None,
    agency_id: int | None,
    from_status: str = "",
    to_status: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> ListingChange:
    return ListingChange.objects.create(
        listing=listing,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=changes or {},
        actor=actor,
        agency_id=agency_id,
        note=note,
    )


def _record(
    listing: Listing,
    action: str,
    *,
    actor: User | None,
    target: Any = None,
    from_status: str = "",
    to_status: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
    agency_id: int | None = None,
    audience: set[str] | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """The three records of every write: the listing's history, the audit row and the event."""
    agency_id = agency_id or listing.owner_agency_id
    _history(
        listing,
        action,
        actor=actor,
        agency_id=agency_id,
        from_status=from_status,
        to_status=to_status,
        changes=changes,
        note=note,
    )
    target = target if target is not None else listing
    status_change = {"status": [from_status, to_status]} if to_status and from_status != to_status else {}
    audit.record(
        actor=actor, action=action, target=target, agency_id=agency_id, changes={**(changes or {}), **status_change}
    )
    events.publish(
        action,
        target,
        audience=audience,
        payload={"listing": listing.pk, **({"status": to_status} if to_status else {}), **(payload or {})},
        actor=actor,
    )


def _lock_listing(listing: Listing) -> Listing:
    return Listing.objects.select_for_update().get(pk=listing.pk)


def _household_size(household: Household) -> int:
    return max(1, Person.objects.filter(household=household, merged_into=None).count())


def rent_limit_on(comparison_area: str, household_size: int, day: datetime.date | None = None) -> RentLimit | None:
    """The row of the rent-limit table in force on ``day`` for this area and household size."""
    return (
        RentLimit.objects.filter(
            comparison_area=comparison_area, household_size=household_size, valid_from__lte=day or timezone.localdate()
        )
        .order_by("-valid_from")
        .first()
    )


def within_limit(listing: Listing, limit: RentLimit | None) -> bool:
    """Whether the flat's costs are reasonable under ``limit``; without a known limit they are not proven so."""
    if limit is None:
        return False
    if listing.gross_cold_rent > limit.max_gross_cold_rent:
        return False
    return limit.max_heating_costs is None or listing.heating_costs <= limit.max_heating_costs


# Listings -----------------------------------------------------------------------------------


@transaction.atomic
def listing_create(*, actor: User, owner_agency: Agency, **fields: Any) -> Listing:
    """Enter a flat as a draft of one of the actor's housing offices."""
    access.require(actor, "create", Listing)
    if owner_agency.pk not in access.agency_ids(actor, *access.HOUSING_ROLES):
        raise ValidationError(
            {"owner_agency": _("You can only enter flats for an agency where you are a housing officer.")}
        )
    listing = Listing(owner_agency=owner_agency, created_by=actor)
    _set_fields(listing, LISTING_FIELDS, fields)
    _validate_listing(listing)
    listing.save()
    _record(listing, "listing.create", actor=actor, to_status=listing.status)
    return listing


@transaction.atomic
def listing_update(*, actor: User, listing: Listing, **fields: Any) -> Listing:
    access.require(actor, "change", listing)
    listing = _lock_listing(listing)
    changes = _set_fields(listing, LISTING_FIELDS, fields)
    _validate_listing(listing)
    if changes:
        listing.save(update_fields=[*changes, "updated_at"])
    _record(listing, "listing.update", actor=actor, changes=_redacted(changes))
    return listing


def allowed_listing_actions(actor: User, listing: Listing) -> list[str]:
    """The status steps the actor may take now, for the buttons on the page."""
    return [
        action
        for action, (sources, _target) in LISTING_TRANSITIONS.items()
        if listing.status in sources and access.can(actor, action, listing)
    ]


@transaction.atomic
def listing_transition(*, actor: User, listing: Listing, action: str, note: str = "") -> Listing:
    """Publish, withdraw, end or reopen a listing (the state machine in LISTING_TRANSITIONS)."""
    if action not in LISTING_TRANSITIONS:
        raise ValidationError({"action": _("Unknown step: %(action)s") % {"action": action}})
    access.require(actor, action, listing)
    listing = _lock_listing(listing)
    sources, target = LISTING_TRANSITIONS[action]
    if listing.status not in sources:
        raise ValidationError(
            {
                "action": _("A flat that is %(status)s cannot be set to %(target)s.")
                % {"status": ListingStatus(listing.status).label, "target": ListingStatus(target).label}
            }
        )
    previous = listing.status
    listing.status = target
    listing.save(update_fields=["status", "updated_at"])
    _record(listing, f"listing.{action}", actor=actor, from_status=previous, to_status=target, note=note.strip())
    return listing


@transaction.atomic
def listing_share(
    *, actor: User, listing: Listing, agency: Agency | None = None, workspace: Workspace | None = None
) -> ListingShare:
    """Show the listing to one more agency, or to every member of a workspace."""
    access.require(actor, "share", listing)
    if (agency is None) == (workspace is None):
        raise ValidationError(_("Share with either an agency or a workspace."))
    listing = _lock_listing(listing)
    if agency is not None:
        if not access.visible(actor, Agency).filter(pk=agency.pk).exists():
            raise ValidationError({"agency": _("Unknown agency.")})
        if agency.pk == listing.owner_agency_id:
            raise ValidationError({"agency": _("Your agency manages this flat already.")})
        if ListingShare.objects.filter(listing=listing, agency=agency).exists():
            raise ValidationError({"agency": _("The flat is shared with this agency already.")})
    if workspace is not None:
        if not access.visible(actor, Workspace).filter(pk=workspace.pk).exists():
            raise ValidationError({"workspace": _("Unknown workspace.")})
        if ListingShare.objects.filter(listing=listing, workspace=workspace).exists():
            raise ValidationError({"workspace": _("The flat is shared with this workspace already.")})
    share = ListingShare.objects.create(listing=listing, agency=agency, workspace=workspace, created_by=actor)
    target = {"agency": agency.pk} if agency is not None else {"workspace": workspace.pk if workspace else None}
    _record(listing, "listing.share", actor=actor, target=share, changes={"shared_with": [None, target]})
    return share


@transaction.atomic
def listing_unshare(*, actor: User, share: ListingShare) -> Listing:
    """Stop showing the listing to an agency or workspace; they lose sight of it, photos included, at once."""
    access.require(actor, "delete", share)
    listing = _lock_listing(share.listing)
    before = access.audience(listing)
    removed = {"agency": share.agency_id} if share.agency_id else {"workspace": share.workspace_id}
    share.delete()
    _record(
        listing,
        "listing.unshare",
        actor=actor,
        changes={"shared_with": [removed, None]},
        audience=before,
    )
    return listing


# Photos -------------------------------------------------------------------------------------


@transaction.atomic
def photo_add(*, actor: User, listing: Listing, photo: UploadedFile, caption: str = "") -> ListingPhoto:
    """Add a photo, checked by content and re-encoded without metadata (see ``housing.photos``)."""
    access.require(actor, "add_photo", listing)
    listing = _lock_listing(listing)
    caption = caption.strip()
    if len(caption) > 200:
        raise ValidationError({"caption": _("Use at most %(limit)d characters.") % {"limit": 200}})
    count = ListingPhoto.objects.filter(listing=listing).count()
    if count >= MAX_PHOTOS_PER_LISTING:
        raise ValidationError({"photo": _("A flat has at most %(limit)d photos.") % {"limit": MAX_PHOTOS_PER_LISTING}})
    processed = process_photo(photo)
    row = ListingPhoto(
        listing=listing,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.image),
        caption=caption,
        position=count,
        uploaded_by=actor,
    )
    row.image.save("photo.jpg", ContentFile(processed.image), save=False)
    row.thumbnail.save("thumbnail.jpg", ContentFile(processed.thumbnail), save=False)
    # The files exist before the row: if saving fails, they must not stay behind unowned.
    try:
        row.save()
        _record(listing, "listing.photo_add", actor=actor, target=row, changes={"photo": [None, row.pk]})
    except BaseException:
        _delete_files(row.image.name, row.thumbnail.name)
        raise
    return row


def _delete_files(*names: str | None) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


@transaction.atomic
def photo_delete(*, actor: User, photo: ListingPhoto) -> Listing:
    access.require(actor, "delete", photo)
    listing = _lock_listing(photo.listing)
    names = (photo.image.name, photo.thumbnail.name)
    removed = photo.pk
    photo.delete()
    _record(listing, "listing.photo_delete", actor=actor, changes={"photo": [removed, None]})
    # Files go only once the deletion is committed: a rollback keeps row and files together.
    transaction.on_commit(lambda: _delete_files(*names))
    return listing


# Rent limits (KdU) --------------------------------------------------------------------------


def _kdu_agency(actor: User, agency: Agency | None) -> Agency:
    mine = access.kdu_agencies(actor)
    if agency is None:
        if len(mine) != 1:
            raise ValidationError({"agency": _("Choose the jobcenter that maintains this table.")})
        return Agency.objects.get(pk=next(iter(mine)))
    if agency.pk not in mine:
        raise ValidationError({"agency": _("You maintain the rent limits of another jobcenter only.")})
    return agency


def _validate_rent_limit(limit: RentLimit) -> None:
    errors: dict[str, str] = {}
    for field in ("max_gross_cold_rent", "max_heating_costs", "max_living_space"):
        value = getattr(limit, field)
        try:
            if value is not None and Decimal(str(value)) < 0:
                errors[field] = _("An amount cannot be negative.")
        except ArithmeticError:
            continue
    if errors:
        raise ValidationError(errors)
    limit.full_clean(validate_unique=False, validate_constraints=False)
    duplicate = RentLimit.objects.filter(
        comparison_area=limit.comparison_area, household_size=limit.household_size, valid_from=limit.valid_from
    ).exclude(pk=limit.pk)
    if duplicate.exists():
        raise ValidationError(
            {"valid_from": _("A limit for this area and household size from this date exists already.")}
        )


@transaction.atomic
def rent_limit_create(*, actor: User, agency: Agency | None = None, **fields: Any) -> RentLimit:
    """Add a row to the rent-limit table; it applies from ``valid_from`` until a newer row."""
    access.require(actor, "create", RentLimit)
    limit = RentLimit(agency=_kdu_agency(actor, agency), created_by=actor)
    _set_fields(limit, RENT_LIMIT_FIELDS, fields)
    limit.comparison_area = (limit.comparison_area or "").strip()
    _validate_rent_limit(limit)
    limit.save()
    audit.record(
        actor=actor,
        action="rent_limit.create",
        target=limit,
        agency_id=limit.agency_id,
        changes=audit.diff(RentLimit(), {k: getattr(limit, k) for k in RENT_LIMIT_FIELDS}),
    )
    events.publish("rent_limit.created", limit, payload={"rent_limit": limit.pk}, actor=actor)
    return limit


@transaction.atomic
def rent_limit_update(*, actor: User, rent_limit: RentLimit, **fields: Any) -> RentLimit:
    access.require(actor, "change", rent_limit)
    limit = RentLimit.objects.select_for_update().get(pk=rent_limit.pk)
    changes = _set_fields(limit, RENT_LIMIT_FIELDS, fields)
    _validate_rent_limit(limit)
    if changes:
        limit.save(update_fields=list(changes))
    audit.record(actor=actor, action="rent_limit.update", target=limit, agency_id=limit.agency_id, changes=changes)
    events.publish("rent_limit.updated", limit, payload={"rent_limit": limit.pk}, actor=actor)
    return limit


@transaction.atomic
def rent_limit_delete(*, actor: User, rent_limit: RentLimit) -> None:
    access.require(actor, "delete", rent_limit)
    limit = RentLimit.objects.select_for_update().get(pk=rent_limit.pk)
    audience = access.audience(limit)
    audit.record(
        actor=actor,
        action="rent_limit.delete",
        target=limit,
        agency_id=limit.agency_id,
        changes={"max_gross_cold_rent": [str(limit.max_gross_cold_rent), None]},
    )
    events.publish("rent_limit.deleted", limit, audience=audience, payload={"rent_limit": limit.pk}, actor=actor)
    limit.delete()


@transaction.atomic
def over_limit_approve(
    *,
    actor: User,
    listing: Listing,
    household: Household,
    reason: str,
    household_size: int | None = None,
    agency: Agency | None = None,
) -> OverLimitApproval:
    """The jobcenter approves a flat above the rent limit for a household (§ 22 (4) SGB II)."""
    access.require(actor, "create", OverLimitApproval)
    approving = _kdu_agency(actor, agency)
    if not access.is_visible(actor, listing):
        raise ValidationError({"listing": _("Unknown flat.")})
    if not access.visible(actor, Household).filter(pk=household.pk).exists():
        raise ValidationError({"household": _("Unknown household.")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the approval.")})
    size = household_size or _household_size(household)
    if not 1 <= size <= MAX_HOUSEHOLD_SIZE:
        raise ValidationError(
            {"household_size": _("Give a household size from 1 to %(max)d.") % {"max": MAX_HOUSEHOLD_SIZE}}
        )
    listing = _lock_listing(listing)
    limit = rent_limit_on(listing.comparison_area, size)
    if within_limit(listing, limit):
        raise ValidationError({"listing": _("The flat is within the rent limit; no approval is needed.")})
    approval = OverLimitApproval(
        listing=listing,
        household=household,
        household_size=size,
        gross_cold_rent=listing.gross_cold_rent,
        rent_limit=limit.max_gross_cold_rent if limit is not None else None,
        reason=reason,
        agency=approving,
        approved_by=actor,
    )
    _check_text_lengths(approval)
    approval.full_clean()
    approval.save()
    _record(
        listing,
        "listing.approve_over_limit",
        actor=actor,
        target=approval,
        agency_id=approving.pk,
        changes={"household": [None, household.reference], "gross_cold_rent": [None, str(approval.gross_cold_rent)]},
    )
    return approval


# Housing requests ---------------------------------------------------------------------------


def _clean_districts(districts: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(str(d).strip() for d in districts if str(d).strip()))
    if len(cleaned) > MAX_DISTRICTS or any(len(d) > 100 for d in cleaned):
        raise ValidationError(
            {"districts": _("At most %(limit)d districts of 100 characters each.") % {"limit": MAX_DISTRICTS}}
        )
    return cleaned


@transaction.atomic
def housing_request_create(
    *,
    actor: User,
    household: Household,
    listing: Listing | None = None,
    to_agency: Agency | None = None,
    household_size: int | None = None,
    accessibility_need: int = Accessibility.NONE,
    districts: Iterable[str] = (),
    wanted_from: datetime.date | None = None,
    note: str = "",
) -> HousingRequest:
    """A caseworker asks for a flat for a household they may see: a named shared flat, or any that fits."""
    access.require(actor, "create", HousingRequest)
    if not access.visible(actor, Household).filter(pk=household.pk).exists():
        raise ValidationError({"household": _("Unknown household.")})
    mine = access.agency_ids(actor, *access.CASE_ROLES)
    holders = Person.objects.filter(household=household, merged_into=None, case_files__closed_at=None).values_list(
        "case_files__agency_id", flat=True
    )
    requesting = access.acting_agency_id(actor, set(holders) & mine) or access.acting_agency_id(actor, mine)
    if requesting is None:
        raise ValidationError(_("You do case work for none of your agencies."))
    if listing is not None:
        access.require(actor, "request", listing)
        listing = _lock_listing(listing)
        if listing.status != ListingStatus.AVAILABLE:
            raise ValidationError({"listing": _("This flat is not available.")})
        to_agency = listing.owner_agency
        if HousingRequest.objects.filter(listing=listing, household=household, status=RequestStatus.OPEN).exists():
            raise ValidationError({"listing": _("This household has asked for this flat already.")})
    if to_agency is None:
        raise ValidationError({"to_agency": _("Name the housing office or the flat.")})
    if not access.visible(actor, Agency).filter(pk=to_agency.pk).exists():
        raise ValidationError({"to_agency": _("Unknown agency.")})
    request = HousingRequest(
        household=household,
        listing=listing,
        to_agency=to_agency,
        requesting_agency_id=requesting,
        requested_by=actor,
        household_size=household_size or _household_size(household),
        accessibility_need=accessibility_need,
        districts=_clean_districts(districts),
        wanted_from=wanted_from,
        note=note.strip(),
    )
    _check_text_lengths(request)
    request.full_clean()
    request.save()
    audit.record(
        actor=actor,
        action="housing_request.create",
        target=request,
        agency_id=requesting,
        changes={"listing": [None, listing.pk if listing else None], "to_agency": [None, to_agency.pk]},
    )
    if listing is not None:
        _history(
            listing,
            "housing_request.create",
            actor=actor,
            agency_id=requesting,
            changes={"household": [None, household.reference]},
        )
    events.publish("housing_request.created", request, payload={"request": request.pk}, actor=actor)
    return request


def _close_request(*, actor: User, request: HousingRequest, action: str, status: str, note: str) -> HousingRequest:
    access.require(actor, action, request)
    request = HousingRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RequestStatus.OPEN:
        raise ValidationError(_("This request is answered already."))
    previous = request.status
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    _check_text_lengths(request)
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    agency_id = request.requesting_agency_id if action == "withdraw" else request.to_agency_id
    audit.record(
        actor=actor,
        action=f"housing_request.{action}",
        target=request,
        agency_id=agency_id,
        changes={"status": [previous, status]},
    )
    if request.listing_id is not None:
        _history(
            request.listing,  # type: ignore[arg-type]
            f"housing_request.{action}",
            actor=actor,
            agency_id=agency_id,
            changes={"household": [request.household.reference, None]},
            note=request.decision_note,
        )
    events.publish(f"housing_request.{status}", request, payload={"request": request.pk, "status": status}, actor=actor)
    return request


@transaction.atomic
def housing_request_withdraw(*, actor: User, request: HousingRequest, note: str = "") -> HousingRequest:
    return _close_request(actor=actor, request=request, action="withdraw", status=RequestStatus.WITHDRAWN, note=note)


@transaction.atomic
def housing_request_decline(*, actor: User, request: HousingRequest, note: str) -> HousingRequest:
    if not note.strip():
        access.require(actor, "decline", request)
        raise ValidationError({"note": _("Give the reason.")})
    return _close_request(actor=actor, request=request, action="decline", status=RequestStatus.DECLINED, note=note)


@transaction.atomic
def housing_request_accept(
    *,
    actor: User,
    request: HousingRequest,
    listing: Listing | None = None,
    expires_at: datetime.datetime | None = None,
    note: str = "",
) -> Reservation:
    """The housing office answers a request by reserving a flat (the requested one, or one it chooses)."""
    access.require(actor, "accept", request)
    listing = listing or request.listing
    if listing is None:
        raise ValidationError({"listing": _("Choose the flat to reserve.")})
    if request.listing_id is not None and listing.pk != request.listing_id:
        raise ValidationError({"listing": _("The request names another flat.")})
    reservation = reservation_create(
        actor=actor,
        listing=listing,
        household=request.household,
        household_size=request.household_size,
        expires_at=expires_at,
        request=request,
        note=note,
    )
    _close_request(actor=actor, request=request, action="accept", status=RequestStatus.ACCEPTED, note=note)
    return reservation


# Reservations -------------------------------------------------------------------------------

TAKEN = _("This flat has just been reserved or allocated for another household; it is no longer available.")


@transaction.atomic
def reservation_create(
    *,
    actor: User,
    listing: Listing,
    household: Household,
    household_size: int | None = None,
    expires_at: datetime.datetime | None = None,
    request: HousingRequest | None = None,
    note: str = "",
) -> Reservation:
    """Hold a flat for a household until ``expires_at`` (default: a week). Of two officers at once, one wins."""
    access.require(actor, "reserve", listing)
    requested = (
        request is not None
        and request.household_id == household.pk
        and request.status == RequestStatus.OPEN
        and request.to_agency_id in access.agency_ids(actor)
    )
    if not requested and not access.visible(actor, Household).filter(pk=household.pk).exists():
        raise ValidationError({"household": _("Unknown household.")})
    now = timezone.now()
    expires_at = expires_at or now + datetime.timedelta(days=DEFAULT_RESERVATION_DAYS)
    if expires_at <= now:
        raise ValidationError({"expires_at": _("A reservation must run into the future.")})
    if expires_at > now + datetime.timedelta(days=MAX_RESERVATION_DAYS):
        raise ValidationError(
            {"expires_at": _("A reservation runs at most %(days)d days.") % {"days": MAX_RESERVATION_DAYS}}
        )
    size = household_size or (request.household_size if request is not None else _household_size(household))
    if not 1 <= size <= MAX_HOUSEHOLD_SIZE:
        raise ValidationError(
            {"household_size": _("Give a household size from 1 to %(max)d.") % {"max": MAX_HOUSEHOLD_SIZE}}
        )
    # The listing's row lock serialises two officers reserving at once: the second waits, then reads "reserved".
    listing = _lock_listing(listing)
    if listing.status in {ListingStatus.RESERVED, ListingStatus.ALLOCATED}:
        raise ValidationError({"listing": TAKEN})
    if listing.status != ListingStatus.AVAILABLE:
        raise ValidationError({"listing": _("Only an available flat can be reserved.")})
    reservation = Reservation(
        listing=listing,
        household=household,
        household_size=size,
        request=request,
        expires_at=expires_at,
        note=note.strip(),
        reserved_by=actor,
        agency=listing.owner_agency,
    )
    _check_text_lengths(reservation)
    try:
        # The partial unique constraint is the last line if a caller ever skipped the lock.
        with transaction.atomic():
            reservation.save()
    except IntegrityError as exc:
        raise ValidationError({"listing": TAKEN}) from exc
    previous = listing.status
    listing.status = ListingStatus.RESERVED
    listing.save(update_fields=["status", "updated_at"])
    _record(
        listing,
        "reservation.create",
        actor=actor,
        target=reservation,
        from_status=previous,
        to_status=listing.status,
        changes={"household": [None, household.reference], "expires_at": [None, expires_at.isoformat()]},
        audience=access.audience(reservation) | access.audience(listing),
        payload={"reservation": reservation.pk},
    )
    return reservation


def _end_reservation(*, actor: User | None, reservation: Reservation, status: str, note: str = "") -> Reservation:
    listing = _lock_listing(reservation.listing)
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != ReservationStatus.ACTIVE:
        raise ValidationError(_("This reservation has ended already."))
    reservation.status = status
    reservation.ended_at = timezone.now()
    reservation.ended_by = actor
    reservation.save(update_fields=["status", "ended_at", "ended_by"])
    previous = listing.status
    if listing.status == ListingStatus.RESERVED:
        listing.status = ListingStatus.AVAILABLE
        listing.save(update_fields=["status", "updated_at"])
    verb = "reservation.release" if status == ReservationStatus.RELEASED else "reservation.expire"
    _record(
        listing,
        verb,
        actor=actor,
        target=reservation,
        from_status=previous,
        to_status=listing.status,
        changes={"household": [reservation.household.reference, None]},
        note=note.strip(),
        audience=access.audience(reservation) | access.audience(listing),
        payload={"reservation": reservation.pk},
    )
    return reservation


@transaction.atomic
def reservation_release(*, actor: User, reservation: Reservation, note: str = "") -> Reservation:
    """Give the flat free again before the reservation lapses."""
    access.require(actor, "release", reservation)
    return _end_reservation(actor=actor, reservation=reservation, status=ReservationStatus.RELEASED, note=note)


def expire_reservations(*, now: datetime.datetime | None = None) -> int:
    """Release every reservation that has lapsed; each in its own transaction, so one failure stops no other."""
    now = now or timezone.now()
    lapsed = list(
        Reservation.objects.filter(status=ReservationStatus.ACTIVE, expires_at__lte=now).values_list("pk", flat=True)
    )
    count = 0
    for pk in lapsed:
        with transaction.atomic():
            reservation = Reservation.objects.select_related("listing").get(pk=pk)
            try:
                _end_reservation(
                    actor=None,
                    reservation=reservation,
                    status=ReservationStatus.EXPIRED,
                    note=_("The reservation lapsed."),
                )
            except ValidationError:
                # Released or allocated in the meantime: nothing left to expire.
                continue
        count += 1
    return count


# Allocation and tenancies -------------------------------------------------------------------


@transaction.atomic
def tenancy_allocate(
    *,
    actor: User,
    reservation: Reservation,
    move_in: datetime.date | None = None,
    lease_holder: str | None = None,
    note: str = "",
) -> Tenancy:
    """Allocate the reserved flat to the household. Above the rent limit only with the jobcenter's approval."""
    access.require(actor, "allocate", reservation)
    listing = _lock_listing(reservation.listing)
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != ReservationStatus.ACTIVE:
        raise ValidationError(_("Only an active reservation can be turned into an allocation."))
    if reservation.expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The reservation has lapsed; reserve the flat again.")})
    lease_holder = lease_holder or listing.lease_holder
    if lease_holder not in LeaseHolder.values:
        raise ValidationError({"lease_holder": _("Choose who holds the lease.")})
    limit = rent_limit_on(listing.comparison_area, reservation.household_size)
    approval = None
    if not within_limit(listing, limit):
        approval = (
            OverLimitApproval.objects.filter(
                listing=listing, household_id=reservation.household_id, gross_cold_rent__gte=listing.gross_cold_rent
            )
            .order_by("-approved_at")
            .first()
        )
        if approval is None:
            if limit is None:
                message = _(
                    "No rent limit is recorded for this area and household size: "
                    "the jobcenter's approval must be recorded first."
                )
            else:
                message = _(
                    "The gross cold rent of %(rent)s € is above the limit of %(limit)s € for %(size)d persons: "
                    "the jobcenter's approval must be recorded first."
                ) % {
                    "rent": listing.gross_cold_rent,
                    "limit": limit.max_gross_cold_rent,
                    "size": reservation.household_size,
                }
            raise ValidationError({"approval": message})
    tenancy = Tenancy(
        listing=listing,
        household_id=reservation.household_id,
        household_size=reservation.household_size,
        reservation=reservation,
        lease_holder=lease_holder,
        move_in=move_in,
        gross_cold_rent=listing.gross_cold_rent,
        heating_costs=listing.heating_costs,
        rent_limit=limit.max_gross_cold_rent if limit is not None else None,
        approval=approval,
        allocated_by=actor,
    )
    tenancy.full_clean(exclude=["household", "listing", "reservation", "approval", "allocated_by"])
    try:
        with transaction.atomic():
            tenancy.save()
    except IntegrityError as exc:
        raise ValidationError({"listing": TAKEN}) from exc
    reservation.status = ReservationStatus.ALLOCATED
    reservation.ended_at = timezone.now()
    reservation.ended_by = actor
    reservation.save(update_fields=["status", "ended_at", "ended_by"])
    previous = listing.status
    listing.status = ListingStatus.ALLOCATED
    listing.save(update_fields=["status", "updated_at"])
    _record(
        listing,
        "tenancy.allocate",
        actor=actor,
        target=tenancy,
        from_status=previous,
        to_status=listing.status,
        changes={"household": [None, reservation.household.reference], "lease_holder": [None, lease_holder]},
        note=note.strip(),
        audience=access.audience(tenancy) | access.audience(listing),
        payload={"tenancy": tenancy.pk},
    )
    return tenancy


def _lock_tenancy(tenancy: Tenancy) -> tuple[Listing, Tenancy]:
    listing = _lock_listing(tenancy.listing)
    return listing, Tenancy.objects.select_for_update().select_related("household").get(pk=tenancy.pk)


@transaction.atomic
def tenancy_move_in(*, actor: User, tenancy: Tenancy, move_in: datetime.date) -> Tenancy:
    access.require(actor, "move_in", tenancy)
    listing, tenancy = _lock_tenancy(tenancy)
    if tenancy.status != TenancyStatus.ALLOCATED:
        raise ValidationError(_("The household has moved in already, or out."))
    previous = tenancy.move_in
    tenancy.move_in = move_in
    tenancy.status = TenancyStatus.ACTIVE
    tenancy.save(update_fields=["move_in", "status"])
    _record(
        listing,
        "tenancy.move_in",
        actor=actor,
        target=tenancy,
        changes={"move_in": [audit._jsonable(previous), move_in.isoformat()]},
        audience=access.audience(tenancy),
        payload={"tenancy": tenancy.pk},
    )
    return tenancy


@transaction.atomic
def tenancy_move_out(
    *, actor: User, tenancy: Tenancy, move_out: datetime.date, note: str = "", relist: bool | None = None
) -> Tenancy:
    """The household moves out. A flat the county holds is offered again; any other listing ends."""
    access.require(actor, "move_out", tenancy)
    listing, tenancy = _lock_tenancy(tenancy)
    if tenancy.status == TenancyStatus.ENDED:
        raise ValidationError(_("The household has moved out already."))
    if tenancy.move_in is None:
        raise ValidationError({"move_in": _("Record the move-in first.")})
    if move_out < tenancy.move_in:
        raise ValidationError(
            {"move_out": _("The move-out lies before the move-in (%(date)s).") % {"date": tenancy.move_in.isoformat()}}
        )
    tenancy.move_out = move_out
    tenancy.status = TenancyStatus.ENDED
    tenancy.save(update_fields=["move_out", "status"])
    if relist is None:
        # A lease the tenant took over leaves with them; the county's or a landlord's flat is offered again.
        relist = tenancy.lease_holder != LeaseHolder.TENANT
    previous = listing.status
    listing.status = ListingStatus.AVAILABLE if relist else ListingStatus.ENDED
    listing.save(update_fields=["status", "updated_at"])
    _record(
        listing,
        "tenancy.move_out",
        actor=actor,
        target=tenancy,
        from_status=previous,
        to_status=listing.status,
        changes={"move_out": [None, move_out.isoformat()], "household": [tenancy.household.reference, None]},
        note=note.strip(),
        audience=access.audience(tenancy) | access.audience(listing),
        payload={"tenancy": tenancy.pk},
    )
    return tenancy


@transaction.atomic
def tenancy_handover(
    *,
    actor: User,
    tenancy: Tenancy,
    to_holder: str = LeaseHolder.TENANT,
    effective_on: datetime.date | None = None,
    note: str = "",
) -> LeaseHandover:
    """The lease changes hands (the county's lease becomes the tenant's own); the tenancy continues."""
    access.require(actor, "handover", tenancy)
    listing, tenancy = _lock_tenancy(tenancy)
    if tenancy.status not in CURRENT_TENANCY:
        raise ValidationError(_("Only a current tenancy can be handed over."))
    if to_holder not in LeaseHolder.values:
        raise ValidationError({"to_holder": _("Choose who holds the lease from then on.")})
    if to_holder == tenancy.lease_holder:
        raise ValidationError({"to_holder": _("The lease is held so already.")})
    effective_on = effective_on or timezone.localdate()
    if tenancy.move_in is not None and effective_on < tenancy.move_in:
        raise ValidationError({"effective_on": _("The handover cannot lie before the move-in.")})
    agency_id = (
        access.acting_agency_id(actor, access.agency_ids(actor, *access.HOUSING_ROLES)) or listing.owner_agency_id
    )
    handover = LeaseHandover(
        tenancy=tenancy,
        from_holder=tenancy.lease_holder,
        to_holder=to_holder,
        effective_on=effective_on,
        note=note.strip(),
        recorded_by=actor,
        agency_id=agency_id,
    )
    _check_text_lengths(handover)
    handover.save()
    tenancy.lease_holder = to_holder
    tenancy.save(update_fields=["lease_holder"])
    _record(
        listing,
        "tenancy.handover",
        actor=actor,
        target=handover,
        agency_id=agency_id,
        changes={"lease_holder": [handover.from_holder, to_holder], "effective_on": [None, effective_on.isoformat()]},
        note=handover.note,
        audience=access.audience(tenancy),
        payload={"tenancy": tenancy.pk},
    )
    return handover
