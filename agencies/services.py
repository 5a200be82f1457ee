"""Writes on agencies, staff, invitations and workspaces.

Every service checks permission through ``hub.access``, locks what it changes,
validates, saves, records an audit row and publishes an event, in one
transaction. Views, API views and management commands call these; none writes
the models itself.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from agencies.models import Agency, Invitation, Role, Staff, User, Workspace, WorkspaceMembership
from hub import access, audit, events

logger = logging.getLogger(__name__)

AGENCY_FIELDS = (
    "name",
    "short_name",
    "kind",
    "street",
    "postcode",
    "city",
    "email",
    "phone",
    "website",
    "require_two_factor",
)
WORKSPACE_FIELDS = ("name", "purpose", "is_archived")


def _save_changes(instance: models.Model, fields: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, list[Any]]:
    """Set the allowed fields, validate the whole object, save what changed; returns the changes to audit.

    Fields outside ``allowed`` are ignored, so that no caller can write server-owned fields.
    """
    new_values = {key: value for key, value in fields.items() if key in allowed}
    changes = audit.diff(instance, new_values)
    for key, value in new_values.items():
        setattr(instance, key, value)
    instance.full_clean()
    if changes:
        instance.save(update_fields=list(changes))
    return changes


def _roles_changes(obj: Staff | Invitation, roles: Iterable[str]) -> dict[str, list[Any]]:
    return audit.diff(obj, {f"is_{role.value}": role.value in set(roles) for role in Role})


def _validate_roles(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValidationError({"roles": _("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))}})
    return wanted


# Agencies ---------------------------------------------------------------------------------


@transaction.atomic
def agency_create(*, actor: User | None, **fields: Any) -> Agency:
    """Onboard an agency. Done by the operators (management command), not through the UI."""
    agency = Agency(**{key: value for key, value in fields.items() if key in AGENCY_FIELDS})
    agency.group = Group.objects.create(name=f"agency:{secrets.token_hex(8)}")
    agency.full_clean()
    agency.save()
    Group.objects.filter(pk=agency.group_id).update(name=f"agency:{agency.pk}")
    audit.record(actor=actor, action="agency.create", target=agency, agency_id=agency.pk)
    events.publish("agency.created", agency)
    return agency


@transaction.atomic
def agency_update(*, actor: User, agency: Agency, **fields: Any) -> Agency:
    access.require(actor, "change", agency)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    changes = _save_changes(agency, fields, AGENCY_FIELDS)
    audit.record(actor=actor, action="agency.update", target=agency, agency_id=agency.pk, changes=changes)
    events.publish("agency.updated", agency)
    return agency


# Staff ------------------------------------------------------------------------------------


@transaction.atomic
def staff_create(
    *,
    actor: User | None,
    agency: Agency,
    user: User,
    roles: Iterable[str] = (),
    job_title: str = "",
    phone: str = "",
) -> Staff:
    """Make ``user`` a member of ``agency``. Called by invitation acceptance and by operators."""
    if actor is not None:
        access.require(actor, "manage_staff", agency)
    staff = Staff(agency=agency, user=user, job_title=job_title, phone=phone)
    staff.set_roles(_validate_roles(roles))
    staff.full_clean()
    staff.save()
    user.groups.add(agency.group)
    audit.record(
        actor=actor or user, action="staff.create", target=staff, agency_id=agency.pk, changes={"roles": staff.roles}
    )
    events.publish("staff.created", staff)
    return staff


def _ensure_an_admin_remains(staff: Staff) -> None:
    others = Staff.objects.filter(agency_id=staff.agency_id, is_active=True, is_agency_admin=True).exclude(pk=staff.pk)
    if not others.exists():
        raise ValidationError({"roles": _("An agency needs at least one active administrator.")})


@transaction.atomic
def staff_update(
    *, actor: User, staff: Staff, roles: Iterable[str], job_title: str | None = None, phone: str | None = None
) -> Staff:
    access.require(actor, "change", staff)
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    wanted = _validate_roles(roles)
    if staff.is_agency_admin and Role.AGENCY_ADMIN not in wanted:
        _ensure_an_admin_remains(staff)
    new_values: dict[str, Any] = {}
    if job_title is not None:
        new_values["job_title"] = job_title
    if phone is not None:
        new_values["phone"] = phone
    changes = {**audit.diff(staff, new_values), **_roles_changes(staff, wanted)}
    for key, value in new_values.items():
        setattr(staff, key, value)
    staff.set_roles(wanted)
    staff.full_clean()
    staff.save()
    access.forget(actor)
    audit.record(actor=actor, action="staff.update", target=staff, agency_id=staff.agency_id, changes=changes)
    events.publish("staff.updated", staff)
    return staff


@transaction.atomic
def staff_deactivate(*, actor: User, staff: Staff) -> Staff:
    """End a membership. Access ends with the next request; the history stays."""
    access.require(actor, "deactivate", staff)
    staff = Staff.objects.select_for_update().select_related("agency").get(pk=staff.pk)
    if not staff.is_active:
        raise ValidationError(_("This staff member is already deactivated."))
    if staff.is_agency_admin:
        _ensure_an_admin_remains(staff)
    staff.is_active = False
    staff.deactivated_at = timezone.now()
    staff.deactivated_by = actor
    staff.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    staff.user.groups.remove(staff.agency.group)
    audit.record(actor=actor, action="staff.deactivate", target=staff, agency_id=staff.agency_id)
    events.publish("access.revoked", staff, payload={"staff": staff.pk})
    return staff


@transaction.atomic
def staff_reactivate(*, actor: User, staff: Staff) -> Staff:
    access.require(actor, "reactivate", staff)
    staff = Staff.objects.select_for_update().select_related("agency").get(pk=staff.pk)
    staff.is_active = True
    staff.deactivated_at = None
    staff.deactivated_by = None
    staff.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    staff.user.groups.add(staff.agency.group)
    audit.record(actor=actor, action="staff.reactivate", target=staff, agency_id=staff.agency_id)
    events.publish("staff.updated", staff)
    return staff


# Invitations ------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.HUB_BASE_URL.rstrip("/") + reverse("invitation-accept", args=[token])


@transaction.atomic
def staff_invite(
    *,
    actor: User,
    agency: Agency,
    email: str,
    first_name: str,
    last_name: str,
    roles: Iterable[str] = (),
    job_title: str = "",
) -> tuple[Invitation, str]:
    """Invite a colleague by e-mail. Returns the invitation and its one-time token."""
    access.require(actor, "invite", agency)
    email = email.strip().lower()
    if Staff.objects.filter(agency=agency, user__email__iexact=email).exists():
        raise ValidationError({"email": _("Someone with this e-mail address is already a member of the agency.")})
    if Invitation.objects.filter(
        agency=agency, email__iexact=email, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).exists():
        raise ValidationError({"email": _("An open invitation for this e-mail address exists already.")})
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        agency=agency,
        email=email,
        first_name=first_name,
        last_name=last_name,
        job_title=job_title,
        invited_by=actor,
        token_hash=_token_hash(token),
    )
    invitation.set_roles(_validate_roles(roles))
    invitation.full_clean()
    invitation.save()
    audit.record(
        actor=actor,
        action="invitation.create",
        target=invitation,
        agency_id=agency.pk,
        changes={"roles": invitation.roles},
    )
    events.publish("invitation.created", invitation)
    subject = _("Invitation to the round-table hub of %(agency)s") % {"agency": agency.name}
    body = _(
        "Hello %(name)s,\n\n%(inviter)s invites you to join %(agency)s in the round-table hub.\n"
        "Set your username and password here within 7 days:\n%(url)s\n"
    ) % {"name": invitation.first_name, "inviter": actor, "agency": agency.name, "url": invitation_url(token)}
    transaction.on_commit(lambda: _send_quietly(subject, body, email))
    return invitation, token


def _send_quietly(subject: str, body: str, recipient: str) -> None:
    """Mail after commit; a mail server that is down must not undo the invitation, which the admin sees."""
    try:
        send_mail(subject, body, None, [recipient])
    except Exception:
        logger.warning("Invitation mail to an agency colleague could not be sent", exc_info=True)


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation behind ``token``, or None (unknown, used, revoked and expired look alike)."""
    invitation = Invitation.objects.select_related("agency").filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_open:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> Staff:
    """Create the invited person's account and membership. The token works once."""
    found = invitation_for_token(token)
    if found is None:
        raise ValidationError(_("This invitation is not valid any more. Ask your agency administrator for a new one."))
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if not invitation.is_open:
        raise ValidationError(_("This invitation is not valid any more. Ask your agency administrator for a new one."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = User(
        username=username, email=invitation.email, first_name=invitation.first_name, last_name=invitation.last_name
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    staff = staff_create(
        actor=None,
        agency=invitation.agency,
        user=user,
        roles=invitation.roles,
        job_title=invitation.job_title,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    audit.record(actor=user, action="invitation.accept", target=invitation, agency_id=invitation.agency_id)
    events.publish("invitation.accepted", invitation)
    return staff


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    access.require(actor, "revoke", invitation)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="invitation.revoke", target=invitation, agency_id=invitation.agency_id)
    events.publish("invitation.revoked", invitation)
    return invitation


# Workspaces -------------------------------------------------------------------------------


def _grant(workspace: Workspace, agency: Agency, *, manage: bool) -> None:
    assign_perm(access.VIEW_WORKSPACE, agency.group, workspace)
    if manage:
        assign_perm(access.MANAGE_WORKSPACE, agency.group, workspace)


def _revoke(workspace: Workspace, agency: Agency) -> None:
    remove_perm(access.VIEW_WORKSPACE, agency.group, workspace)
    remove_perm(access.MANAGE_WORKSPACE, agency.group, workspace)


@transaction.atomic
def workspace_create(
    *, actor: User | None, name: str, coordinator_agency: Agency, purpose: str = "", agencies: Iterable[Agency] = ()
) -> Workspace:
    """Open a round table coordinated by one of the actor's agencies (where they coordinate or administer)."""
    if actor is not None:
        access.require(actor, "create", Workspace)
        if coordinator_agency.pk not in access.agency_ids(actor, Role.COORDINATOR, Role.AGENCY_ADMIN):
            raise ValidationError(
                {"coordinator_agency": _("You can only open a workspace for an agency you coordinate or administer.")}
            )
    workspace = Workspace(name=name, purpose=purpose, coordinator_agency=coordinator_agency)
    workspace.full_clean()
    workspace.save()
    WorkspaceMembership.objects.create(workspace=workspace, agency=coordinator_agency, added_by=actor)
    _grant(workspace, coordinator_agency, manage=True)
    audit.record(actor=actor, action="workspace.create", target=workspace, agency_id=coordinator_agency.pk)
    events.publish("workspace.created", workspace, audience={f"agency.{coordinator_agency.pk}"})
    for agency in agencies:
        if agency.pk != coordinator_agency.pk:
            _add_agency(actor=actor, workspace=workspace, agency=agency)
    return workspace


@transaction.atomic
def workspace_update(*, actor: User, workspace: Workspace, **fields: Any) -> Workspace:
    access.require(actor, "change", workspace)
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changes = _save_changes(workspace, fields, WORKSPACE_FIELDS)
    audit.record(
        actor=actor,
        action="workspace.update",
        target=workspace,
        agency_id=workspace.coordinator_agency_id,
        changes=changes,
    )
    events.publish("workspace.updated", workspace)
    return workspace


def _add_agency(*, actor: User | None, workspace: Workspace, agency: Agency) -> WorkspaceMembership:
    if WorkspaceMembership.objects.filter(workspace=workspace, agency=agency).exists():
        raise ValidationError({"agency": _("This agency is already a member of the workspace.")})
    membership = WorkspaceMembership.objects.create(workspace=workspace, agency=agency, added_by=actor)
    _grant(workspace, agency, manage=False)
    audit.record(
        actor=actor,
        action="workspace.add_agency",
        target=workspace,
        agency_id=workspace.coordinator_agency_id,
        changes={"agency": [None, agency.pk]},
    )
    events.publish("workspace.agency_added", membership, payload={"workspace": workspace.pk, "agency": agency.pk})
    return membership


@transaction.atomic
def workspace_add_agency(*, actor: User, workspace: Workspace, agency: Agency) -> WorkspaceMembership:
    access.require(actor, "add_agency", workspace)
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    return _add_agency(actor=actor, workspace=workspace, agency=agency)


@transaction.atomic
def workspace_remove_agency(*, actor: User, membership: WorkspaceMembership) -> None:
    """Take an agency off a round table; its staff lose the workspace with the next request."""
    access.require(actor, "remove", membership)
    workspace = Workspace.objects.select_for_update().get(pk=membership.workspace_id)
    agency = membership.agency
    # The event goes out before the row goes, so that it still names the membership.
    events.publish(
        "access.revoked",
        membership,
        payload={"workspace": workspace.pk, "agency": agency.pk},
    )
    membership.delete()
    _revoke(workspace, agency)
    audit.record(
        actor=actor,
        action="workspace.remove_agency",
        target=workspace,
        agency_id=workspace.coordinator_agency_id,
        changes={"agency": [agency.pk, None]},
    )


# The user's own account -------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "email")


@transaction.atomic
def user_update_profile(*, actor: User, first_name: str, last_name: str, email: str) -> User:
    """Change the actor's own name and e-mail address; nobody edits another person's profile.

    The audit row goes to the actor's first agency, whose administrators send the
    invitations and so need to see where a colleague's address went.
    """
    user = User.objects.select_for_update().get(pk=actor.pk)
    new_values = {"first_name": first_name.strip(), "last_name": last_name.strip(), "email": email.strip()}
    changes = audit.diff(user, new_values)
    for key, value in new_values.items():
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(PROFILE_FIELDS))
    for key, value in new_values.items():
        setattr(actor, key, value)
    audit.record(
        actor=actor, action="user.update", target=user, agency_id=access.acting_agency_id(actor), changes=changes
    )
    events.publish("user.updated", user, audience={f"user.{user.pk}"})
    return user


@transaction.atomic
def user_change_password(*, actor: User, new_password: str) -> User:
    """Set the actor's own password (already validated by the form). The audit row never holds it."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit.record(actor=actor, action="user.change_password", target=user, agency_id=access.acting_agency_id(actor))
    return user


@transaction.atomic
def api_token_create(*, actor: User) -> str:
    """Make a new API token for the actor, replacing any old one. The key is returned once, never shown again.

    The audit row names the user, not the token: a token's primary key is its secret.
    """
    from rest_framework.authtoken.models import Token

    replaced = Token.objects.filter(user=actor).delete()[0] > 0
    token = Token.objects.create(user=actor)
    audit.record(
        actor=actor,
        action="api_token.regenerate" if replaced else "api_token.create",
        target=actor,
        agency_id=access.acting_agency_id(actor),
    )
    return token.key


@transaction.atomic
def api_token_delete(*, actor: User) -> None:
    """Withdraw the actor's API token; clients using it are refused from the next request on."""
    from rest_framework.authtoken.models import Token

    if Token.objects.filter(user=actor).delete()[0]:
        audit.record(actor=actor, action="api_token.delete", target=actor, agency_id=access.acting_agency_id(actor))
