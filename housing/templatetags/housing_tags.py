"""Template helpers of the housing pages: amounts in euros as the reader's locale writes them,
and the colour of a status badge."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext_lazy as _

register = template.Library()

BADGES = {
    "draft": "badge-muted",
    "available": "badge-success",
    "reserved": "badge-warning",
    "allocated": "",
    "ended": "badge-muted",
    "withdrawn": "badge-muted",
    # requests, reservations and tenancies
    "open": "badge-warning",
    "accepted": "badge-success",
    "declined": "badge-danger",
    "active": "badge-success",
    "released": "badge-muted",
    "expired": "badge-danger",
}


@register.filter
def euro(value: Decimal | int | float | None) -> str:
    """``1234.5`` → "1.234,50 €" in German, "1,234.50 €" in English; "–" for no value."""
    if value is None or value == "":
        return "–"
    return f"{floatformat(value, '2g')} €"


@register.filter
def housing_badge(status: str) -> str:
    return BADGES.get(status, "")


@register.filter
def number(value: Decimal | None) -> str:
    """Rooms and square metres without trailing zeros, with the locale's decimal separator."""
    if value is None:
        return "–"
    return str(floatformat(value, "-2g"))


HISTORY_LABELS = {
    "listing.create": _("Entered"),
    "listing.update": _("Changed"),
    "listing.publish": _("Published"),
    "listing.withdraw": _("Withdrawn"),
    "listing.end": _("Ended"),
    "listing.reopen": _("Reopened"),
    "listing.share": _("Shared"),
    "listing.unshare": _("No longer shared"),
    "listing.photo_add": _("Photo added"),
    "listing.photo_delete": _("Photo deleted"),
    "listing.approve_over_limit": _("Costs above the rent limit approved"),
    "housing_request.create": _("Requested for a household"),
    "housing_request.accept": _("Request accepted"),
    "housing_request.decline": _("Request declined"),
    "housing_request.withdraw": _("Request withdrawn"),
    "reservation.create": _("Reserved"),
    "reservation.release": _("Reservation released"),
    "reservation.expire": _("Reservation lapsed"),
    "tenancy.allocate": _("Allocated"),
    "tenancy.move_in": _("Moved in"),
    "tenancy.move_out": _("Moved out"),
    "tenancy.handover": _("Lease handed over"),
}


@register.filter
def history_label(action: str) -> str:
    return str(HISTORY_LABELS.get(action, action))
