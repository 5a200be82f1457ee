from __future__ import annotations

from django import template

from messaging import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """``{% unread_notifications as count %}``: the current user's unread notifications, counted once a request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    cached: int | None = getattr(request, "_unread_notifications", None)
    if cached is None:
        cached = selectors.unread_count(user)
        request._unread_notifications = cached  # type: ignore[union-attr]  # the nav and the list ask once
    return cached
