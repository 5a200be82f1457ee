"""Read-only admin of agencies, staff, invitations and workspaces, for the operators' inspection."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Agency, Invitation, SignInFailure, Staff, User, Workspace, WorkspaceMembership
from hub.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "first_name", "last_name", "email"]
    # Never show the password hash, not even read-only.
    fields = ["username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser", "last_login"]


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ["name", "short_name", "kind", "city", "email"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "city"]


@admin.register(Staff)
class StaffAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "agency",
        "job_title",
        "is_caseworker",
        "is_coordinator",
        "is_housing_officer",
        "is_agency_admin",
        "is_active",
    ]
    list_filter = ["is_active", "agency", "is_agency_admin", "is_coordinator"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "job_title"]
    list_select_related = ["user", "agency"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "agency", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["agency"]
    search_fields = ["email", "first_name", "last_name"]
    list_select_related = ["agency"]
    # The token hash stays out of sight as well.
    exclude = ["token_hash"]


class WorkspaceMembershipInline(admin.TabularInline):
    model = WorkspaceMembership
    fields = ["agency", "joined_at", "added_by"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "coordinator_agency", "is_archived", "created_at"]
    list_filter = ["is_archived"]
    search_fields = ["name"]
    list_select_related = ["coordinator_agency"]
    inlines = [WorkspaceMembershipInline]


@admin.register(WorkspaceMembership)
class WorkspaceMembershipAdmin(ReadOnlyAdmin):
    list_display = ["workspace", "agency", "joined_at"]
    list_select_related = ["workspace", "agency"]
    list_filter = ["workspace"]


# django-otp's own admin pages edit devices and show their secrets; here they are read-only and keyless.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]


@admin.register(StaticDevice)
class StaticDeviceAdmin(ReadOnlyAdmin):
    """Recovery codes: how many are left, never the codes (the database holds only their hashes)."""

    list_display = ["user", "name", "confirmed", "codes_left", "created_at", "last_used_at"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "codes_left", "created_at", "last_used_at"]
    readonly_fields = ["codes_left"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaticDevice]:
        return super().get_queryset(request).annotate(codes_left_count=Count("token_set"))

    @admin.display(description=_("Recovery codes left"), ordering="codes_left_count")
    def codes_left(self, device: StaticDevice) -> int:
        return int(getattr(device, "codes_left_count", 0))


@admin.register(SignInFailure)
class SignInFailureAdmin(ReadOnlyAdmin):
    list_display = ["at", "stage", "ip_address"]
    list_filter = ["stage"]
    search_fields = ["ip_address"]
    date_hierarchy = "at"
