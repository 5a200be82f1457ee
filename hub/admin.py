"""Read-only admin for the operators' inspection. The UI's only gate stays ``hub.access``."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from hub.models import AuditEntry, Event


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows, never changes them: every write goes through the services."""

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "agency_id", "action", "target_type", "target_id", "ip_address"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "target_label", "target_id", "request_id"]
    date_hierarchy = "at"


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "verb", "target_type", "target_id"]
    list_filter = ["verb", "target_type"]
    search_fields = ["target_id"]


# DRF registers its token admin by itself; a token's key is its secret and tokens
# are made and revoked by their owners in the profile, so operators get no view of them.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
