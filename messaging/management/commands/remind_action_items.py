"""Reminds the owners of round-table action items that are due soon or overdue; run daily (cron or a
systemd timer).

Each reminder goes through ``messaging.meetings.services.action_items_remind``: an in-app notification,
an e-mail queued as the recipient's preferences allow, and an audit row. Running it twice on one day
reminds nobody twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from messaging.meetings import services


class Command(BaseCommand):
    help = "Remind the owners of action items that are due soon or overdue, and print how many."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.action_items_remind()
        self.stdout.write(
            ngettext("%(count)d action item reminded.", "%(count)d action items reminded.", count) % {"count": count}
        )
