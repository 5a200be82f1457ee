"""HTML views of agencies, staff, invitations, workspaces and the user's own profile.

Views read through ``agencies.selectors`` and ``hub.access`` and write only through
``agencies.services``; a service's ValidationError becomes a form error, its
Http404/PermissionDenied the 404/403 page.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agencies import selectors, services
from agencies.filters import AgencyFilterSet, StaffFilterSet, WorkspaceFilterSet
from agencies.forms import (
    AgencyForm,
    InvitationAcceptForm,
    InvitationForm,
    ProfileForm,
    StaffForm,
    WorkspaceAddAgencyForm,
    WorkspaceCreateForm,
    WorkspaceForm,
)
from agencies.models import Invitation, Staff, Workspace, WorkspaceMembership
from agencies.services import AGENCY_FIELDS
from agencies.signin import backends as signin_backends
from agencies.signin import selectors as signin_selectors
from hub import access
from hub.views import HubRequest
from hub.web import apply_errors, done, list_response, paginate, post_data, post_step, tune_filters

AUDIT_PAGE_SIZE = 50
# The one-time API token waits in the (server-side) session between the POST and the page that shows it.
NEW_TOKEN_SESSION_KEY = "hub_new_api_token"  # noqa: S105 (a session key, not a secret)


# The user's own account -------------------------------------------------------------------


@login_required
def profile(request: HubRequest) -> HttpResponse:
    actor = request.user
    form = ProfileForm(
        post_data(request),
        initial={"first_name": actor.first_name, "last_name": actor.last_name, "email": actor.email},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            return redirect("profile")
    context = {
        "form": form,
        "memberships": selectors.my_memberships(actor),
        "token_created": selectors.api_token_created(actor),
        "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
        "two_factor": signin_selectors.two_factor_summary(actor),
    }
    return render(request, "agencies/profile.html", context)


class PasswordChange(PasswordChangeView):
    template_name = "agencies/password_change.html"
    success_url = reverse_lazy("profile")
    success_message = gettext_lazy("Your password has been changed.")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        user = services.user_change_password(actor=form.user, new_password=form.cleaned_data["new_password1"])
        # Keeps this session logged in; Django's own view does the same after form.save().
        update_session_auth_hash(self.request, user)
        messages.success(self.request, self.success_message)
        return redirect(self.success_url)


@login_required
@require_POST
def api_token(request: HubRequest) -> HttpResponse:
    key = services.api_token_create(actor=request.user)
    request.session[NEW_TOKEN_SESSION_KEY] = key
    messages.success(request, _("Your new API token has been created. Copy it now: it is shown only once."))
    return redirect(f"{reverse('profile')}#api-token")


@login_required
@require_POST
def api_token_delete(request: HubRequest) -> HttpResponse:
    services.api_token_delete(actor=request.user)
    request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    messages.success(request, _("Your API token has been deleted. Programs using it no longer get access."))
    return redirect(f"{reverse('profile')}#api-token")


# Agencies ---------------------------------------------------------------------------------


@login_required
def agency_list(request: HubRequest) -> HttpResponse:
    filterset = tune_filters(AgencyFilterSet(request.GET, queryset=selectors.agency_list(request.user)))
    context = {"filter": filterset, "page_obj": paginate(request, filterset.qs)}
    return list_response(request, "agencies/agency_list.html", context)


@login_required
def agency_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    agency = selectors.agency_detail(actor, pk)
    context = {
        "agency": agency,
        "workspaces": selectors.agency_workspaces(actor, agency),
        "staff": selectors.agency_staff(actor, agency).filter(is_active=True),
        "may_see_figures": access.sees_figures_of(actor, agency),
    }
    return render(request, "agencies/agency_detail.html", context)


@login_required
def agency_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    agency = selectors.agency_detail(actor, pk)
    access.require(actor, "change", agency)
    # The form works on a copy: the page header keeps the saved name while the form shows errors.
    form = AgencyForm(post_data(request), instance=copy.copy(agency))
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_update(
                actor=actor, agency=agency, **{field: form.cleaned_data[field] for field in AGENCY_FIELDS}
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The agency's details have been saved."))
            return redirect("agency-detail", pk=agency.pk)
    return render(request, "agencies/agency_form.html", {"agency": agency, "form": form})


# Staff ------------------------------------------------------------------------------------


@login_required
def staff_list(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    agency = selectors.agency_detail(actor, pk)
    access.require(actor, "manage_staff", agency)
    filterset = tune_filters(
        StaffFilterSet(request.GET, queryset=selectors.agency_staff(actor, agency)),
        {"is_active": (_("Active"), _("Deactivated"))},
    )
    # The page is about one agency already; the API's agency filter has no place here.
    filterset.form.fields.pop("agency", None)
    context = {
        "agency": agency,
        "filter": filterset,
        "page_obj": paginate(request, filterset.qs),
        "invitations": selectors.open_invitations(actor, agency),
    }
    return list_response(request, "agencies/staff_list.html", context)


def _staff_home(actor: Any, staff: Staff) -> str:
    """Where to go after changing ``staff``: its agency's staff list, if the actor still manages it."""
    if access.can(actor, "manage_staff", staff.agency):
        return reverse("staff-list", args=[staff.agency_id])
    return reverse("dashboard")


@login_required
def staff_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    staff = access.get_visible_or_404(actor, Staff, pk=pk)
    access.require(actor, "change", staff)
    form = StaffForm(
        post_data(request), initial={"roles": staff.roles, "job_title": staff.job_title, "phone": staff.phone}
    )
    if request.method == "POST" and form.is_valid():
        try:
            staff = services.staff_update(actor=actor, staff=staff, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The changes for %(name)s have been saved.") % {"name": staff.user})
            return redirect(_staff_home(actor, staff))
    context = {"staff": staff, "form": form, "has_second_factor": signin_selectors.has_second_factor(staff.user)}
    return render(request, "agencies/staff_form.html", context)


@login_required
@require_POST
def staff_deactivate(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    staff = access.get_visible_or_404(actor, Staff, pk=pk)
    return post_step(
        request,
        lambda: services.staff_deactivate(actor=actor, staff=staff),
        success=_("%(name)s has been deactivated and has no access to %(agency)s any more.")
        % {"name": staff.user, "agency": staff.agency.display_name},
        url=_staff_home(actor, staff),
    )


@login_required
@require_POST
def staff_reactivate(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    staff = access.get_visible_or_404(actor, Staff, pk=pk)
    return post_step(
        request,
        lambda: services.staff_reactivate(actor=actor, staff=staff),
        success=_("%(name)s has been reactivated.") % {"name": staff.user},
        url=_staff_home(actor, staff),
    )


# Invitations ------------------------------------------------------------------------------


@login_required
def invitation_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    agency = selectors.agency_detail(actor, pk)
    access.require(actor, "invite", agency)
    form = InvitationForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = services.staff_invite(actor=actor, agency=agency, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # The link is shown here once and e-mailed; only its hash is stored.
            context = {"agency": agency, "invitation": invitation, "url": services.invitation_url(token)}
            return render(request, "agencies/invitation_created.html", context)
    return render(request, "agencies/invitation_form.html", {"agency": agency, "form": form})


@login_required
@require_POST
def invitation_revoke(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    invitation = access.get_visible_or_404(actor, Invitation, pk=pk)
    invitation = services.invitation_revoke(actor=actor, invitation=invitation)
    messages.success(request, _("The invitation for %(email)s has been revoked.") % {"email": invitation.email})
    return done(request, reverse("staff-list", args=[invitation.agency_id]))


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the invited person chooses a username and password, and is logged in."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "agencies/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(post_data(request), invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            staff = services.invitation_accept(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            login(request, staff.user, backend=signin_backends.PATH)
            messages.success(
                request, _("Welcome! You are now a member of %(agency)s.") % {"agency": invitation.agency.name}
            )
            return redirect("dashboard")
    return render(request, "agencies/invitation_accept.html", {"invitation": invitation, "form": form})


# Audit log --------------------------------------------------------------------------------


@login_required
def audit_list(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    agency = selectors.agency_detail(actor, pk)
    # The log belongs to the agency's administrators, the people who manage its staff.
    access.require(actor, "manage_staff", agency)
    page = paginate(request, selectors.audit_entries(actor, agency), AUDIT_PAGE_SIZE)
    # Workspace entries record agencies by id; one query names them all.
    agency_ids = {
        value
        for entry in page.object_list
        if isinstance(entry.changes, dict) and isinstance(entry.changes.get("agency"), list)
        for value in entry.changes["agency"]
        if isinstance(value, int)
    }
    context = {"agency": agency, "page_obj": page, "agency_names": selectors.agency_names(agency_ids)}
    return list_response(request, "agencies/audit_list.html", context)


# Workspaces -------------------------------------------------------------------------------


@login_required
def workspace_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    filterset = tune_filters(
        WorkspaceFilterSet(request.GET, queryset=selectors.workspace_list(actor)),
        {"is_archived": (_("Archived"), _("Current"))},
    )
    context = {
        "filter": filterset,
        "page_obj": paginate(request, filterset.qs),
        "may_create": access.can(actor, "create", Workspace),
    }
    return list_response(request, "agencies/workspace_list.html", context)


@login_required
def workspace_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    access.require(actor, "create", Workspace)
    form = WorkspaceCreateForm(post_data(request), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The workspace %(name)s has been opened.") % {"name": workspace.name})
            return redirect("workspace-detail", pk=workspace.pk)
    return render(request, "agencies/workspace_create.html", {"form": form})


@dataclass(frozen=True)
class MemberRow:
    membership: WorkspaceMembership
    may_remove: bool


@login_required
def workspace_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    workspace = selectors.workspace_detail(actor, pk)
    memberships = list(selectors.workspace_memberships(workspace))
    rows = []
    for membership in memberships:
        membership.workspace = workspace  # the policy reads it; spare a query per row
        rows.append(MemberRow(membership, may_remove=access.can(actor, "remove", membership)))
    rows.sort(key=lambda row: row.membership.agency_id != workspace.coordinator_agency_id)  # coordinator first
    may_add = access.can(actor, "add_agency", workspace)
    context = {
        "workspace": workspace,
        "rows": rows,
        "may_change": access.can(actor, "change", workspace),
        "add_form": WorkspaceAddAgencyForm(addable=selectors.agencies_addable_to(workspace)) if may_add else None,
    }
    return render(request, "agencies/workspace_detail.html", context)


@login_required
def workspace_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    workspace = selectors.workspace_detail(actor, pk)
    access.require(actor, "change", workspace)
    form = WorkspaceForm(post_data(request), instance=copy.copy(workspace))
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update(actor=actor, workspace=workspace, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The workspace has been saved."))
            return redirect("workspace-detail", pk=workspace.pk)
    return render(request, "agencies/workspace_form.html", {"workspace": workspace, "form": form})


@login_required
def workspace_add_agency(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    workspace = selectors.workspace_detail(actor, pk)
    access.require(actor, "add_agency", workspace)
    form = WorkspaceAddAgencyForm(post_data(request), addable=selectors.agencies_addable_to(workspace))
    if request.method == "POST" and form.is_valid():
        agency = form.cleaned_data["agency"]
        try:
            services.workspace_add_agency(actor=actor, workspace=workspace, agency=agency)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("%(agency)s now sits at %(workspace)s.") % {"agency": agency, "workspace": workspace}
            )
            return redirect("workspace-detail", pk=workspace.pk)
    return render(request, "agencies/workspace_add_agency.html", {"workspace": workspace, "form": form})


@login_required
@require_POST
def workspace_remove_agency(request: HubRequest, pk: int, membership_pk: int) -> HttpResponse:
    actor = request.user
    workspace = selectors.workspace_detail(actor, pk)
    membership = access.get_visible_or_404(actor, WorkspaceMembership, pk=membership_pk, workspace=workspace)
    agency = membership.agency
    services.workspace_remove_agency(actor=actor, membership=membership)
    messages.success(request, _("%(agency)s has left %(workspace)s.") % {"agency": agency, "workspace": workspace})
    access.forget(actor)
    if access.is_visible(actor, workspace):
        return done(request, reverse("workspace-detail", args=[workspace.pk]))
    return done(request, reverse("workspace-list"))
