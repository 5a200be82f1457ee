"""Deletes outbox events older than the catch-up window (HUB_EVENT_RETENTION_HOURS, 24 by default)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from hub.models import Event


class Command(BaseCommand):
    help = "Delete outbox events older than the catch-up window; clients that missed them reload."

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(hours=settings.HUB_EVENT_RETENTION_HOURS)
        deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} events older than {cutoff:%Y-%m-%d %H:%M}.")
