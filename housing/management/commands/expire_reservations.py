"""Releases reservations of flats that have lapsed; run every few minutes (cron or a systemd timer).

Each expiry goes through ``housing.services``: the flat is available again, and the listing's
history, the audit log and an event record it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from housing import services


class Command(BaseCommand):
    help = "Release lapsed reservations of flats and print how many were released."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.expire_reservations()
        self.stdout.write(
            ngettext("%(count)d reservation lapsed.", "%(count)d reservations lapsed.", count) % {"count": count}
        )
