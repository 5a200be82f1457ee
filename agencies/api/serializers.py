"""Serializers of the agencies API: explicit field allowlists, server-owned fields read-only.

Input serializers only validate (``hub.api.StrictInputMixin``): views pass
``validated_data`` to ``agencies.services``. Unknown keys answer 400; read-only
keys are ignored, so a client may send back what it read without changing ids,
agencies, users or activity flags.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies import selectors
from agencies.models import Agency, Invitation, InvitationStatus, Role, Staff, User, Workspace, WorkspaceMembership
from agencies.services import invitation_url
from hub.api import StrictInputMixin

# Upper bound of agency ids in one request: a county has a few dozen agencies.
MAX_AGENCIES_PER_REQUEST = 100


class RolesField(serializers.ListField):
    """The roles as a list of Role values; an empty list means read-only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.ChoiceField(choices=Role.choices))
        kwargs.setdefault("allow_empty", True)
        kwargs.setdefault("max_length", len(Role.choices))
        kwargs.setdefault(
            "help_text",
            _("Roles in the agency: caseworker, coordinator, housing_officer, agency_admin. Empty: read-only."),
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        # The schema promises at most one entry per role; the check comes before the items are read.
        if isinstance(data, list | tuple) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        values = super().to_internal_value(data)
        # Order and duplicates carry no meaning; the services store booleans.
        return [role for role in Role.values if role in set(values)]


class UserBriefSerializer(serializers.ModelSerializer[User]):
    full_name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "full_name"]
        read_only_fields = fields


class AgencyBriefSerializer(serializers.ModelSerializer[Agency]):
    class Meta:
        model = Agency
        fields = ["id", "name", "kind"]
        read_only_fields = fields


# Agencies ---------------------------------------------------------------------------------


class AgencySerializer(StrictInputMixin, serializers.ModelSerializer[Agency]):
    """An agency's contact data; its administrators may change it."""

    active_staff_count = serializers.IntegerField(read_only=True, help_text=_("Active staff members."))

    class Meta:
        model = Agency
        fields = [
            "id",
            "name",
            "short_name",
            "kind",
            "street",
            "postcode",
            "city",
            "email",
            "phone",
            "website",
            "created_at",
            "active_staff_count",
        ]
        read_only_fields = ["id", "created_at", "active_staff_count"]


# Staff ------------------------------------------------------------------------------------


class StaffSerializer(StrictInputMixin, serializers.ModelSerializer[Staff]):
    """A membership of a user in an agency; its administrators may change roles, job title and phone."""

    user = UserBriefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True)
    roles = RolesField()

    class Meta:
        model = Staff
        fields = [
            "id",
            "user",
            "agency",
            "roles",
            "job_title",
            "phone",
            "is_active",
            "joined_at",
            "deactivated_at",
        ]
        read_only_fields = ["id", "user", "agency", "is_active", "joined_at", "deactivated_at"]


class MembershipSerializer(serializers.ModelSerializer[Staff]):
    """One of the current user's memberships, as /me/ shows it."""

    agency = AgencyBriefSerializer(read_only=True)
    roles = RolesField(read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "agency", "roles", "job_title", "is_active"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer[User]):
    full_name = serializers.CharField(source="get_full_name", read_only=True)
    memberships = serializers.SerializerMethodField(help_text=_("Active memberships first, ended ones after."))

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "full_name", "email", "memberships"]
        read_only_fields = fields

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: User) -> Any:
        return MembershipSerializer(selectors.my_memberships(user), many=True).data


# Invitations ------------------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    """An invitation as admins list it: status, never the token or its hash."""

    agency = AgencyBriefSerializer(read_only=True)
    roles = RolesField(read_only=True)
    invited_by = UserBriefSerializer(read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "agency",
            "email",
            "first_name",
            "last_name",
            "job_title",
            "roles",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=InvitationStatus.choices))
    def get_status(self, invitation: Invitation) -> str:
        return invitation.status


class InvitationCreatedSerializer(InvitationSerializer):
    """The answer to a new invitation: the only time the acceptance link is shown."""

    accept_url = serializers.SerializerMethodField(
        help_text=_("The one-time link for the invited person. Shown only in this response.")
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "accept_url"]
        read_only_fields = fields

    def get_accept_url(self, invitation: Invitation) -> str:
        return invitation_url(self.context["token"])


@extend_schema_field(OpenApiTypes.INT)
class VisibleAgencyField(serializers.PrimaryKeyRelatedField[Agency]):
    """An agency id among ``context["agencies"]``; any other id reads as nonexistent."""

    def get_queryset(self) -> Any:
        agencies = self.context.get("agencies")
        return agencies if agencies is not None else Agency.objects.none()

    def to_internal_value(self, data: Any) -> Agency:
        # Only whole numbers: the database would read 1.5 or True as agency 1.
        value: Any = int(data) if isinstance(data, str) and data.isascii() and data.isdecimal() else data
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("incorrect_type", data_type=type(value).__name__)
        # The stubs type the input as the model; for a primary-key field it is the key.
        return super().to_internal_value(cast(Any, value))


class VisibleAgencyListField(serializers.ListField):
    """Agency ids among ``context["agencies"]``, resolved in one query; duplicates collapse."""

    default_error_messages = {
        "does_not_exist": _('Invalid pk "{pk_value}" - object does not exist.'),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Agency]:
        # The length is checked before the items, so a huge list costs nothing.
        if isinstance(data, list | tuple) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        ids: list[int] = list(dict.fromkeys(super().to_internal_value(data)))
        scope = self.context.get("agencies")
        found = {agency.pk: agency for agency in (scope.filter(pk__in=ids) if scope is not None else [])}
        for pk in ids:
            if pk not in found:
                self.fail("does_not_exist", pk_value=pk)
        return [found[pk] for pk in ids]


class InvitationCreateSerializer(StrictInputMixin, serializers.ModelSerializer[Invitation]):
    """A new invitation to an agency you administer."""

    agency = VisibleAgencyField(help_text=_("The agency the colleague is invited to."))
    roles = RolesField(required=False, default=list)

    class Meta:
        model = Invitation
        fields = ["agency", "email", "first_name", "last_name", "job_title", "roles"]


# Workspaces -------------------------------------------------------------------------------


class WorkspaceSerializer(StrictInputMixin, serializers.ModelSerializer[Workspace]):
    """A round table; its coordinating agency may rename, describe and archive it."""

    coordinator_agency = AgencyBriefSerializer(read_only=True)
    agency_count = serializers.IntegerField(read_only=True, help_text=_("Member agencies."))

    class Meta:
        model = Workspace
        fields = ["id", "name", "purpose", "coordinator_agency", "is_archived", "created_at", "agency_count"]
        read_only_fields = ["id", "coordinator_agency", "created_at", "agency_count"]


class WorkspaceCreateSerializer(StrictInputMixin, serializers.ModelSerializer[Workspace]):
    """A new round table, coordinated by one of your agencies."""

    coordinator_agency = VisibleAgencyField(
        help_text=_("One of your agencies, where you coordinate or administer; it manages the workspace.")
    )
    agencies = VisibleAgencyListField(
        required=False,
        max_length=MAX_AGENCIES_PER_REQUEST,
        help_text=_("Ids of further member agencies, among those you can see."),
    )

    class Meta:
        model = Workspace
        fields = ["name", "purpose", "coordinator_agency", "agencies"]


class WorkspaceMembershipSerializer(serializers.ModelSerializer[WorkspaceMembership]):
    agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = WorkspaceMembership
        fields = ["id", "agency", "joined_at"]
        read_only_fields = fields


class WorkspaceMemberAddSerializer(StrictInputMixin, serializers.Serializer[WorkspaceMembership]):
    """An agency to seat at the round table."""

    agency = VisibleAgencyField(help_text=_("The agency to add: any agency of the county not yet at the table."))
