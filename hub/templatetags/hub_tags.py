"""Template helpers of the layout. Permission questions go to ``hub.access``, never answered here."""

from __future__ import annotations

from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_lazy

from hub import access
from hub.models import AuditEntry

register = template.Library()

_SECTIONS = {
    "dashboard": "dashboard",
    "workspace-": "workspaces",
    "agency-": "agencies",
    "staff-": "staff",
    "invitation-create": "staff",
    "audit-list": "staff",
    "profile": "profile",
    "password-change": "profile",
    "referral-": "inbox",
    "person-": "persons",
    "consent-": "persons",
    "share-": "persons",
    "profile-": "persons",
    "recognition-": "persons",
    "plan-": "plans",
    "transfer-": "plans",
    "measure-": "measures",
    "enrollment-": "measures",
    # Before "action-item-": the overview is a section of its own, the items belong to their meeting.
    "action-item-overview": "action_items",
    "meeting-": "meetings",
    "agenda-item-": "meetings",
    "minutes-": "meetings",
    "decision-": "meetings",
    "action-item-": "meetings",
    "privacy-": "privacy",
    "reporting-": "figures",
}


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.simple_tag(takes_context=True)
def can(context: template.Context, action: str, obj: models.Model | type[models.Model] | None) -> bool:
    """``{% can "change" agency as may_change %}``: asks the access policy for the current user."""
    user = _user(context)
    if user is None or obj is None or obj == "":
        return False
    return access.can(user, action, obj)


@register.simple_tag(takes_context=True)
def nav_section(context: template.Context) -> str:
    """Which main navigation entry the current page belongs to, for aria-current."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "url_name", None) or ""
    for prefix, section in _SECTIONS.items():
        if name == prefix or (prefix.endswith("-") and name.startswith(prefix)):
            return section
    return ""


@register.simple_tag(takes_context=True)
def nav_admin_agencies(context: template.Context) -> QuerySet[Any] | list[Any]:
    """The agencies whose staff the current user manages, for the navigation."""
    from agencies import selectors

    user = _user(context)
    if user is None or not user.is_authenticated:
        return []
    return list(selectors.admin_agencies(user))


@register.filter
def change_rows(entry: AuditEntry, agency_names: dict[int, str] | None = None) -> list[tuple[str, str, str | None]]:
    """An audit entry's ``changes`` as (field label, old, new) rows; ``new`` is None for a plain value.

    ``agency_names`` turns the agency ids that workspace entries record into names.
    """
    changes = entry.changes
    if not isinstance(changes, dict):
        return []
    rows: list[tuple[str, str, str | None]] = []
    for field, value in changes.items():
        field = str(field)
        if field == "roles":
            rows.append((gettext("Roles"), _roles_text(value), None))
            continue
        label = _field_label(entry.target_type, field)
        if isinstance(value, list) and len(value) == 2:
            old, new = value
            if field == "agency" and agency_names:
                old, new = agency_names.get(old, old), agency_names.get(new, new)
            rows.append((label, _text(old), _text(new)))
        else:
            rows.append((label, _text(value), None))
    return rows


# Keys of audit changes that are not fields of the target's model.
_CHANGE_LABELS = {
    "blocked": gettext_lazy("Blocked for (account, address)"),
    "recovery_codes_left": gettext_lazy("Recovery codes left"),
}


def _field_label(target_type: str, field: str) -> str:
    if field == "agency":
        return gettext("Agency")
    if field in _CHANGE_LABELS:
        return str(_CHANGE_LABELS[field])
    try:
        return str(apps.get_model(target_type)._meta.get_field(field).verbose_name)
    except (LookupError, ValueError, FieldDoesNotExist, AttributeError):
        return field


def _roles_text(value: Any) -> str:
    from agencies.models import Role

    if not isinstance(value, list):
        return _text(value)
    labels = {role.value: str(role.label) for role in Role}
    return ", ".join(labels.get(str(role), str(role)) for role in value) or gettext("Read-only")


def _text(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or "–"
    return str(value)


_ACTIONS = {
    "agency.create": gettext_lazy("Agency created"),
    "agency.update": gettext_lazy("Agency details changed"),
    "staff.create": gettext_lazy("Staff member added"),
    "staff.update": gettext_lazy("Roles or details changed"),
    "staff.deactivate": gettext_lazy("Staff member deactivated"),
    "staff.reactivate": gettext_lazy("Staff member reactivated"),
    "invitation.create": gettext_lazy("Invitation sent"),
    "invitation.accept": gettext_lazy("Invitation accepted"),
    "invitation.revoke": gettext_lazy("Invitation revoked"),
    "workspace.create": gettext_lazy("Workspace opened"),
    "workspace.update": gettext_lazy("Workspace changed"),
    "workspace.add_agency": gettext_lazy("Agency added to the workspace"),
    "workspace.remove_agency": gettext_lazy("Agency removed from the workspace"),
    "user.update": gettext_lazy("Own profile changed"),
    "api_token.create": gettext_lazy("API token created"),
    "api_token.regenerate": gettext_lazy("API token regenerated"),
    "api_token.delete": gettext_lazy("API token deleted"),
    "user.sign_in": gettext_lazy("Signed in"),
    "user.sign_in_two_factor": gettext_lazy("Signed in with two factors"),
    "user.sign_in_recovery_code": gettext_lazy("Signed in with a recovery code"),
    "user.sign_in_blocked": gettext_lazy("Sign-in refused after too many failed attempts"),
    "user.two_factor_enable": gettext_lazy("Two-factor sign-in turned on"),
    "user.two_factor_replace": gettext_lazy("Authenticator app replaced"),
    "user.two_factor_disable": gettext_lazy("Two-factor sign-in turned off"),
    "user.recovery_codes_regenerate": gettext_lazy("New recovery codes made"),
    "user.two_factor_reset": gettext_lazy("Two-factor sign-in reset by an administrator"),
}


@register.filter
def audit_action(action: str) -> str:
    """A readable label for an audit action; unknown actions (of other apps) show as recorded."""
    label = _ACTIONS.get(action)
    return str(label) if label is not None else action
