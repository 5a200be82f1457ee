"""Reads of notifications. A notification belongs to its recipient alone, so the scope is the recipient
foreign key; ``hub.access`` does not know this app because nothing below ``messaging`` may import it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from agencies.models import User
from messaging.models import Notification, NotificationPreference


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notifications, unread ones first, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-read_at", "-created_at", "-pk")


def notification_or_404(user: User, pk: int) -> Notification:
    """One of the user's notifications; another user's id answers 404 like a missing one."""
    try:
        return Notification.objects.get(recipient=user, pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).count()


def preference_for(user: User) -> NotificationPreference:
    """The user's preferences; an unsaved default row when the user never changed them."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)
