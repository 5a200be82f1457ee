"""Template helpers for the referral inbox and referral pages: the navigation badge and status badges."""

from __future__ import annotations

from django import template

from referrals import selectors
from referrals.models import ReferralStatus
from referrals.selectors import InboxCounts

register = template.Library()

# How each status looks: waiting for someone is a warning, a good end a success, a bad end a danger.
STATUS_BADGES = {
    ReferralStatus.DRAFT: "badge-muted",
    ReferralStatus.SENT: "badge-warning",
    ReferralStatus.RECEIVED: "badge-warning",
    ReferralStatus.ACCEPTED: "",
    ReferralStatus.WAITLISTED: "",
    ReferralStatus.IN_PROGRESS: "",
    ReferralStatus.COMPLETED: "badge-success",
    ReferralStatus.DECLINED: "badge-danger",
    ReferralStatus.EXPIRED: "badge-danger",
    ReferralStatus.FAILED: "badge-danger",
    ReferralStatus.WITHDRAWN: "badge-muted",
    ReferralStatus.REDIRECTED: "badge-muted",
}


@register.simple_tag(takes_context=True)
def inbox_counts(context: template.Context) -> InboxCounts:
    """``{% inbox_counts as counts %}``: what the current user's agencies must answer and what is overdue."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return InboxCounts(0, 0)
    cached = getattr(request, "_inbox_counts", None)
    if cached is None:
        cached = selectors.inbox_counts(user)
        request._inbox_counts = cached  # type: ignore[union-attr]  # the nav and the dashboard ask once
    return cached


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "")  # type: ignore[call-overload]
