"""Expires referrals nobody answered by their due date; run daily (cron, systemd timer or a task).

Each expiry is a transition of its own through ``referrals.services``: it writes the
status history, the audit row and the event that alerts both sides and the coordinators.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from referrals import services


class Command(BaseCommand):
    help = "Expire referrals whose answer is overdue and print how many expired."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.expire_overdue()
        self.stdout.write(
            ngettext("%(count)d referral expired.", "%(count)d referrals expired.", count) % {"count": count}
        )
