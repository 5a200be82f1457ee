"""The housing tool: flats the county rents for refugees, the jobcenter's rent limits (KdU),
reservations, allocations and tenancies, and the handover of the lease to the tenant.

A listing belongs to its owner agency (the county's housing office) and is seen by the
agencies and workspaces it is shared with. Reservations and tenancies name a household,
so they are seen by the listing's owner and by those who may see the household.
Who sees and does what is decided in ``hub.access``; writes go through ``housing.services``.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Workspace

ZERO = Decimal("0.00")
MONEY = {"max_digits": 8, "decimal_places": 2, "validators": [MinValueValidator(ZERO)]}
MAX_HOUSEHOLD_SIZE = 15


def new_reference(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"{prefix}-" + "".join(secrets.choice(alphabet) for _ in range(8))


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    AVAILABLE = "available", _("available")
    RESERVED = "reserved", _("reserved")
    ALLOCATED = "allocated", _("allocated")
    ENDED = "ended", _("ended")
    WITHDRAWN = "withdrawn", _("withdrawn")


class LeaseHolder(models.TextChoices):
    COUNTY = "county", _("the county")
    PRIVATE_LANDLORD = "private_landlord", _("a private landlord")
    TENANT = "tenant", _("the tenant")


# A flat's own lease is the county's or a landlord's; the tenant holds it only after a handover.
LISTING_LEASE_HOLDERS = [
    (LeaseHolder.COUNTY.value, LeaseHolder.COUNTY.label),
    (LeaseHolder.PRIVATE_LANDLORD.value, LeaseHolder.PRIVATE_LANDLORD.label),
]


class Accessibility(models.IntegerChoices):
    """Ordered: a flat fits every need up to its own level."""

    NONE = 0, _("not barrier-free")
    STEP_FREE = 1, _("step-free access")
    WHEELCHAIR = 2, _("wheelchair accessible")


class Listing(models.Model):
    """A flat the county rents (or a private landlord offers) for refugee households."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    owner_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="listings", verbose_name=_("managing agency")
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    district = models.CharField(
        _("district"), max_length=100, help_text=_("Town or part of town, as households state their wishes.")
    )
    comparison_area = models.CharField(
        _("comparison area"), max_length=100, help_text=_("The area of the rent limits (KdU) this flat belongs to.")
    )
    rooms = models.DecimalField(
        _("rooms"),
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("20"))],
    )
    living_space = models.DecimalField(
        _("living space (m²)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("5")), MaxValueValidator(Decimal("1000"))],
    )
    floor = models.SmallIntegerField(
        _("floor"), default=0, validators=[MinValueValidator(-2), MaxValueValidator(40)], help_text=_("0: ground floor")
    )
    has_lift = models.BooleanField(_("lift"), default=False)
    accessibility = models.PositiveSmallIntegerField(
        _("accessibility"), choices=Accessibility.choices, default=Accessibility.NONE
    )
    base_rent = models.DecimalField(_("base rent (€)"), **MONEY)  # type: ignore[arg-type]
    running_costs = models.DecimalField(_("running costs (€)"), **MONEY)  # type: ignore[arg-type]
    heating_costs = models.DecimalField(_("heating costs (€)"), **MONEY)  # type: ignore[arg-type]
    available_from = models.DateField(_("available from"))
    lease_holder = models.CharField(
        _("lease held by"),
        max_length=20,
        choices=LISTING_LEASE_HOLDERS,
        default=LeaseHolder.COUNTY,
    )
    landlord_name = models.CharField(_("landlord"), max_length=200, blank=True)
    landlord_phone = models.CharField(_("landlord's phone"), max_length=40, blank=True)
    landlord_email = models.EmailField(_("landlord's e-mail"), blank=True)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    status = models.CharField(
        _("status"), max_length=20, choices=ListingStatus.choices, default=ListingStatus.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["district", "street", "pk"]
        verbose_name = _("flat")
        verbose_name_plural = _("flats")
        indexes = [
            models.Index(fields=["owner_agency", "status"]),
            models.Index(fields=["status", "district"]),
            models.Index(fields=["comparison_area"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_rent__gte=0) & Q(running_costs__gte=0) & Q(heating_costs__gte=0),
                name="listing_costs_not_negative",
            ),
            models.CheckConstraint(condition=Q(rooms__gte=1) & Q(living_space__gt=0), name="listing_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.street}, {self.city} ({self.reference})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("W")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def gross_cold_rent(self) -> Decimal:
        """Bruttokaltmiete: base rent plus running costs, what the rent limits measure."""
        return (self.base_rent or ZERO) + (self.running_costs or ZERO)

    @property
    def total_rent(self) -> Decimal:
        return self.gross_cold_rent + (self.heating_costs or ZERO)


class ListingShare(models.Model):
    """A listing shown to one agency, or to every member agency of one workspace."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="shares")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("shared"), default=timezone.now)

    class Meta:
        ordering = ["listing", "pk"]
        verbose_name = _("listing share")
        verbose_name_plural = _("listing shares")
        constraints = [
            models.CheckConstraint(
                condition=(Q(agency__isnull=False) & Q(workspace__isnull=True))
                | (Q(agency__isnull=True) & Q(workspace__isnull=False)),
                name="listing_share_one_target",
            ),
            models.UniqueConstraint(
                fields=["listing", "agency"], condition=Q(agency__isnull=False), name="listing_share_unique_agency"
            ),
            models.UniqueConstraint(
                fields=["listing", "workspace"],
                condition=Q(workspace__isnull=False),
                name="listing_share_unique_workspace",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing.reference} → {self.agency or self.workspace}"


def photo_upload_to(instance: ListingPhoto, filename: str) -> str:
    # Random names: a guessed path finds nothing, and the files are served only through a checked view.
    return f"housing/{instance.listing_id}/{secrets.token_hex(16)}.jpg"


class ListingPhoto(models.Model):
    """A photo of a flat, re-encoded as JPEG without metadata, with a thumbnail."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to=photo_upload_to, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), upload_to=photo_upload_to, max_length=200)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size_bytes = models.PositiveIntegerField(_("size in bytes"))
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["listing", "position", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.caption or f"{self.listing.reference} #{self.pk}"


class ListingChange(models.Model):
    """The listing's history: every change, status step, share, photo, reservation and tenancy event."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(max_length=20, choices=ListingStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ListingStatus.choices, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="+")
    note = models.TextField(blank=True, max_length=2000)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["listing", "at", "pk"]
        verbose_name = _("listing change")
        verbose_name_plural = _("listing changes")

    def __str__(self) -> str:
        return f"{self.listing.reference}: {self.action}"


class RentLimit(models.Model):
    """One row of the jobcenter's table of reasonable housing costs (KdU-Angemessenheit).

    Valid from ``valid_from`` until a newer row for the same area and household size.
    """

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="rent_limits", verbose_name=_("maintained by")
    )
    comparison_area = models.CharField(_("comparison area"), max_length=100)
    household_size = models.PositiveSmallIntegerField(
        _("household size"), validators=[MinValueValidator(1), MaxValueValidator(MAX_HOUSEHOLD_SIZE)]
    )
    max_gross_cold_rent = models.DecimalField(_("maximum gross cold rent (€)"), **MONEY)  # type: ignore[arg-type]
    max_heating_costs = models.DecimalField(
        _("maximum heating costs (€)"),
        null=True,
        blank=True,
        **MONEY,  # type: ignore[arg-type]
    )
    max_living_space = models.DecimalField(
        _("reasonable living space (m²)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1"))],
    )
    valid_from = models.DateField(_("valid from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["comparison_area", "household_size", "-valid_from"]
        verbose_name = _("rent limit")
        verbose_name_plural = _("rent limits")
        constraints = [
            models.UniqueConstraint(
                fields=["comparison_area", "household_size", "valid_from"], name="rent_limit_unique_row"
            ),
            models.CheckConstraint(condition=Q(max_gross_cold_rent__gte=0), name="rent_limit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.comparison_area}, {self.household_size}: {self.max_gross_cold_rent} €"


class RequestStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    WITHDRAWN = "withdrawn", _("withdrawn")


class HousingRequest(models.Model):
    """A caseworker asks the housing office for a flat for a household: a named flat, or any that fits."""

    household = models.ForeignKey("referrals.Household", on_delete=models.PROTECT, related_name="housing_requests")
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, null=True, blank=True, related_name="requests", verbose_name=_("flat")
    )
    to_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="housing_requests_received", verbose_name=_("housing office")
    )
    requesting_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="housing_requests_sent")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    household_size = models.PositiveSmallIntegerField(
        _("household size"), validators=[MinValueValidator(1), MaxValueValidator(MAX_HOUSEHOLD_SIZE)]
    )
    accessibility_need = models.PositiveSmallIntegerField(
        _("accessibility needed"), choices=Accessibility.choices, default=Accessibility.NONE
    )
    districts = models.JSONField(_("wished districts"), default=list, blank=True)
    wanted_from = models.DateField(_("wanted from"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("answer"), blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("housing request")
        verbose_name_plural = _("housing requests")
        indexes = [models.Index(fields=["to_agency", "status"]), models.Index(fields=["requesting_agency", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "household"],
                condition=Q(status="open", listing__isnull=False),
                name="housing_request_one_open_per_flat",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household.reference} → {self.to_agency}"


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    RELEASED = "released", _("released")
    EXPIRED = "expired", _("expired")
    ALLOCATED = "allocated", _("allocated")


class Reservation(models.Model):
    """A flat held for one household until ``expires_at``; at most one active per flat."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="reservations")
    household = models.ForeignKey("referrals.Household", on_delete=models.PROTECT, related_name="reservations")
    household_size = models.PositiveSmallIntegerField(
        _("household size"), validators=[MinValueValidator(1), MaxValueValidator(MAX_HOUSEHOLD_SIZE)]
    )
    request = models.ForeignKey(
        HousingRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="reservations"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE
    )
    expires_at = models.DateTimeField(_("expires"))
    note = models.TextField(_("note"), blank=True, max_length=2000)
    reserved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reserved_at = models.DateTimeField(_("reserved"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["-reserved_at", "-pk"]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["listing"], condition=Q(status="active"), name="reservation_one_active_per_listing"
            )
        ]

    def __str__(self) -> str:
        return f"{self.listing.reference} ↔ {self.household.reference}"


class TenancyStatus(models.TextChoices):
    ALLOCATED = "allocated", _("allocated")
    ACTIVE = "active", _("moved in")
    ENDED = "ended", _("moved out")


class Tenancy(models.Model):
    """A household living in (or allocated to) a flat; at most one current tenancy per flat."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="tenancies")
    household = models.ForeignKey("referrals.Household", on_delete=models.PROTECT, related_name="tenancies")
    household_size = models.PositiveSmallIntegerField(_("household size"))
    reservation = models.OneToOneField(
        Reservation, on_delete=models.PROTECT, null=True, blank=True, related_name="tenancy"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=TenancyStatus.choices, default=TenancyStatus.ALLOCATED
    )
    lease_holder = models.CharField(_("lease held by"), max_length=20, choices=LeaseHolder.choices)
    move_in = models.DateField(_("move-in"), null=True, blank=True)
    move_out = models.DateField(_("move-out"), null=True, blank=True)
    gross_cold_rent = models.DecimalField(_("gross cold rent at allocation (€)"), **MONEY)  # type: ignore[arg-type]
    heating_costs = models.DecimalField(_("heating costs at allocation (€)"), **MONEY)  # type: ignore[arg-type]
    rent_limit = models.DecimalField(
        _("rent limit at allocation (€)"),
        null=True,
        blank=True,
        **MONEY,  # type: ignore[arg-type]
    )
    approval = models.ForeignKey(
        "OverLimitApproval", on_delete=models.PROTECT, null=True, blank=True, related_name="tenancies"
    )
    allocated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    allocated_at = models.DateTimeField(_("allocated"), default=timezone.now)

    class Meta:
        ordering = ["-allocated_at", "-pk"]
        verbose_name = _("tenancy")
        verbose_name_plural = _("tenancies")
        constraints = [
            models.UniqueConstraint(
                fields=["listing"],
                condition=Q(status__in=["allocated", "active"]),
                name="tenancy_one_current_per_listing",
            ),
            models.CheckConstraint(
                condition=Q(move_out__isnull=True) | Q(move_in__isnull=True) | Q(move_out__gte=F("move_in")),
                name="tenancy_move_out_after_move_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing.reference} ↔ {self.household.reference}"


class LeaseHandover(models.Model):
    """A change of who holds the lease of a running tenancy, e.g. from the county to the tenant."""

    tenancy = models.ForeignKey(Tenancy, on_delete=models.CASCADE, related_name="handovers")
    from_holder = models.CharField(_("from"), max_length=20, choices=LeaseHolder.choices)
    to_holder = models.CharField(_("to"), max_length=20, choices=LeaseHolder.choices)
    effective_on = models.DateField(_("effective on"))
    note = models.TextField(_("note"), blank=True, max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        ordering = ["tenancy", "effective_on", "pk"]
        verbose_name = _("lease handover")
        verbose_name_plural = _("lease handovers")

    def __str__(self) -> str:
        return f"{self.tenancy}: {self.from_holder} → {self.to_holder}"


class OverLimitApproval(models.Model):
    """The jobcenter's approval (Zusicherung, § 22 (4) SGB II) of a flat above the rent limit for a household."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="approvals")
    household = models.ForeignKey("referrals.Household", on_delete=models.PROTECT, related_name="rent_approvals")
    household_size = models.PositiveSmallIntegerField(_("household size"))
    gross_cold_rent = models.DecimalField(_("gross cold rent approved (€)"), **MONEY)  # type: ignore[arg-type]
    rent_limit = models.DecimalField(_("rent limit (€)"), null=True, blank=True, **MONEY)  # type: ignore[arg-type]
    reason = models.TextField(_("reason"), max_length=2000)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved"), default=timezone.now)

    class Meta:
        ordering = ["-approved_at", "-pk"]
        verbose_name = _("approval above the rent limit")
        verbose_name_plural = _("approvals above the rent limit")

    def __str__(self) -> str:
        return f"{self.listing.reference} ↔ {self.household.reference}: {self.gross_cold_rent} €"
