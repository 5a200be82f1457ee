"""Read-only admin of the data-protection records, for the operators' inspection."""

from __future__ import annotations

from django.contrib import admin

from hub.admin import ReadOnlyAdmin
from privacy.models import DeletionLogEntry, LegalHold, ReadAccess


@admin.register(ReadAccess)
class ReadAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user_id", "agency_id", "person_id", "purpose", "method"]
    list_filter = ["method"]
    search_fields = ["purpose", "request_id"]
    date_hierarchy = "at"


@admin.register(DeletionLogEntry)
class DeletionLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "rule", "record_type", "record_id", "action", "count"]
    list_filter = ["rule", "action"]
    search_fields = ["record_id", "run_id"]
    date_hierarchy = "at"


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["placed_at", "person_id", "agency_id", "lifted_at"]
