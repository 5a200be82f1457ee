"""Anonymises and deletes what has been kept long enough; run daily (cron, systemd timer).

``--dry-run`` lists, per rule, how many records would go and their ids, and changes nothing. A real
run writes the deletion log. Running it twice in a row changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy import retention


class Command(BaseCommand):
    help = "Apply the retention rules (anonymise, delete documents and old log entries); --dry-run only lists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would go; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        result = retention.apply(dry_run=dry_run)
        heading = "Dry run: nothing changed." if dry_run else f"Run {result.run_id}"
        self.stdout.write(heading)
        for preview in result.previews:
            rule = preview.rule
            if dry_run:
                ids = ", ".join(str(pk) for pk in preview.ids) or "-"
                more = f" (+{preview.more} more)" if preview.more else ""
                self.stdout.write(f"{rule.name}: {preview.count} ({rule.days} days) ids: {ids}{more}")
            else:
                self.stdout.write(f"{rule.name}: {result.applied.get(rule.name, 0)}")
