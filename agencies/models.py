"""The actors of the round table: agencies, their staff and the workspaces they share.

Writes go through ``agencies.services``; who may see or do what is decided only in
``hub.access``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class User(AbstractUser):
    """A person who logs in. What they may see follows from their Staff memberships."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class AgencyKind(models.TextChoices):
    JOBCENTER = "jobcenter", _("Jobcenter")
    SOCIAL_OFFICE = "social_office", _("Social office")
    YOUTH_OFFICE = "youth_office", _("Youth office")
    IMMIGRATION_AUTHORITY = "immigration_authority", _("Immigration authority")
    EMPLOYMENT_AGENCY = "employment_agency", _("Federal employment agency")
    VOCATIONAL_SCHOOL = "vocational_school", _("Vocational school")
    COURSE_PROVIDER = "course_provider", _("Course provider")
    OTHER = "other", _("Other")


class Agency(models.Model):
    """An office or provider at the round table. Each has its own Django group for grants."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=AgencyKind.choices)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    require_two_factor = models.BooleanField(
        _("require two-factor sign-in"),
        default=False,
        help_text=_(
            "Staff of the agency must confirm each sign-in with a code from an authenticator app. "
            "Whoever has not set one up yet is asked to do so at their next sign-in."
        ),
    )
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency", editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Role(models.TextChoices):
    """The roles a staff member can hold in their agency; none at all means read-only."""

    CASEWORKER = "caseworker", _("Caseworker")
    COORDINATOR = "coordinator", _("Round-table coordinator")
    HOUSING_OFFICER = "housing_officer", _("Housing officer")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    # Reads the agency's read-access log and answers requests of access (privacy app).
    DATA_PROTECTION_OFFICER = "data_protection_officer", _("Data protection officer")


class RoleFields(models.Model):
    """Roles as booleans: portable between PostgreSQL and SQLite and cheap to filter on."""

    is_caseworker = models.BooleanField(_("caseworker"), default=False)
    is_coordinator = models.BooleanField(_("round-table coordinator"), default=False)
    is_housing_officer = models.BooleanField(_("housing officer"), default=False)
    is_agency_admin = models.BooleanField(_("agency administrator"), default=False)
    is_data_protection_officer = models.BooleanField(_("data protection officer"), default=False)

    class Meta:
        abstract = True

    @property
    def roles(self) -> list[str]:
        return [role.value for role in Role if getattr(self, f"is_{role.value}")]

    @property
    def role_labels(self) -> list[str]:
        labels = [str(role.label) for role in Role if getattr(self, f"is_{role.value}")]
        return labels or [str(_("Read-only"))]

    def set_roles(self, roles: list[str] | set[str]) -> None:
        for role in Role:
            setattr(self, f"is_{role.value}", role.value in roles)

    @property
    def is_read_only(self) -> bool:
        return not self.roles


class Staff(RoleFields):
    """A user's membership in an agency, with roles. Deactivating it ends access at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="staff")
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["agency__name", "user__last_name", "user__first_name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [models.UniqueConstraint(fields=["user", "agency"], name="staff_unique_user_agency")]
        indexes = [models.Index(fields=["user", "is_active"]), models.Index(fields=["agency", "is_active"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.agency.display_name})"


def invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=7)


class InvitationStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACCEPTED = "accepted", _("accepted")
    REVOKED = "revoked", _("revoked")
    EXPIRED = "expired", _("expired")


class Invitation(RoleFields):
    """An agency admin's invitation of a new colleague; only a hash of the token is stored."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=invitation_expiry)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.agency.display_name}"

    @property
    def is_open(self) -> bool:
        return self.status == InvitationStatus.OPEN

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.OPEN


class Workspace(models.Model):
    """A round table: agencies that work together on the same people.

    Membership is recorded in WorkspaceMembership and mirrored, by the services, as
    guardian grants to the member agencies' groups; ``hub.access`` reads the grants.
    """

    # Not unique: a uniqueness error would confirm that a workspace the actor cannot see exists.
    name = models.CharField(_("name"), max_length=200)
    purpose = models.TextField(_("purpose"), blank=True, max_length=4000)
    coordinator_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="coordinated_workspaces", verbose_name=_("coordinating agency")
    )
    agencies = models.ManyToManyField(Agency, through="WorkspaceMembership", related_name="workspaces")
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        permissions = [("manage_workspace", "Can manage the workspace and its member agencies")]

    def __str__(self) -> str:
        return self.name


class WorkspaceMembership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="workspace_memberships")
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["agency__name"]
        verbose_name = _("workspace membership")
        verbose_name_plural = _("workspace memberships")
        constraints = [models.UniqueConstraint(fields=["workspace", "agency"], name="workspace_membership_unique")]

    def __str__(self) -> str:
        return f"{self.agency} @ {self.workspace}"


# Direct foreign-key permission tables: an order of magnitude faster to filter on
# than guardian's generic ones.
class WorkspaceUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="user_grants")


class WorkspaceGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="group_grants")


class SignInStage(models.TextChoices):
    PASSWORD = "password", _("password")
    CODE = "code", _("second factor")
    REFUSED = "refused", _("refused while blocked")


class SignInFailure(models.Model):
    """One failed or refused sign-in attempt, counted to block password and code guessing.

    The account is kept as a keyed hash of the name that was typed, the same for existing and
    unknown accounts: nothing here reveals which accounts exist, and a password typed into the
    name field by mistake is not stored. Rows older than a day are pruned as new ones arrive.
    """

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    account = models.CharField(_("account key"), max_length=64)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=SignInStage.choices)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [models.Index(fields=["account", "at"]), models.Index(fields=["ip_address", "at"])]

    def __str__(self) -> str:
        return str(_("Sign-in attempt from %(address)s") % {"address": self.ip_address or "?"})
