"""HTML pages of round-table meetings: the list, planning and changing a meeting, its page with the
invitations, attendance and agenda, the order of the agenda, the approval of the minutes with its
frozen versions, and the printable minutes.

Reads come from ``messaging.meetings.selectors`` (scoped by ``hub.access``): a meeting the actor's
agencies are not invited to answers 404, also for a member agency of the round table. Cases appear
as the selectors label them: by case reference, by name only where the actor may see the person.
Every write goes through ``messaging.meetings.services``, which check permission again; a refusal
becomes a form error or a message, never a server error. The live minutes, decisions and action
items have pages of their own, linked from here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from agencies.models import Agency, Staff, User, Workspace
from hub import access
from hub.views import HubRequest
from hub.web import apply_errors, form_page, list_response, paginate, post_data, post_step, tune_filters
from messaging.meetings import forms as meeting_forms
from messaging.meetings import selectors, services
from messaging.meetings.filters import MeetingFilterSet
from messaging.models import (
    ActionItemStatus,
    Attendance,
    Meeting,
    MeetingStatus,
    MinutesStatus,
    MinutesVersion,
)
from referrals.models import Person, Referral

# What a meeting's page follows live: the last segment of the events' target types.
LIVE_TOPICS = "meeting agendaitem decision actionitem attendance meetinginvitation minutesversion"

MEETING_STEPS: dict[str, tuple[Callable[..., Meeting], Any]] = {
    "hold": (services.meeting_hold, gettext_lazy("The meeting is recorded as held. Its minutes can now be completed.")),
    "close": (services.meeting_close, gettext_lazy("The meeting is closed.")),
}
MINUTES_STEPS: dict[str, tuple[Callable[..., MinutesVersion], Any]] = {
    "circulate": (
        services.minutes_circulate,
        gettext_lazy("The draft minutes have been circulated; the invited agencies can read and comment on them."),
    ),
    "approve": (services.minutes_approve, gettext_lazy("The minutes are approved and locked.")),
}


# Helpers ------------------------------------------------------------------------------------


def _meeting_url(meeting: Meeting | int, anchor: str = "") -> str:
    url = reverse("meeting-detail", args=[meeting if isinstance(meeting, int) else meeting.pk])
    return f"{url}#{anchor}" if anchor else url


# Every single-form page of this app looks the same; a view may still pass its own template.
_form_page = partial(form_page, template="messaging/meetings/form_page.html")


def _plannable(actor: Any) -> list[Workspace]:
    """The round tables where the actor may plan a meeting (archived ones take no new meetings)."""
    candidates = access.visible(actor, Workspace).filter(is_archived=False).select_related("coordinator_agency")
    return [
        workspace for workspace in candidates.order_by("name", "pk") if access.can(actor, "plan_meeting", workspace)
    ]


def _workspace_agencies(actor: Any, workspace_ids: list[int]) -> QuerySet[Agency]:
    return (
        access.visible(actor, Agency)
        .filter(workspace_memberships__workspace_id__in=workspace_ids)
        .distinct()
        .order_by("name")
    )


def _may(actor: Any, obj: Any, *actions: str) -> dict[str, bool]:
    return {action: access.can(actor, action, obj) for action in actions}


# The list -----------------------------------------------------------------------------------


@login_required
def meeting_list(request: HubRequest) -> HttpResponse:
    """Upcoming meetings first, soonest on top; then the past ones, newest on top."""
    actor = request.user
    today = timezone.localdate()
    upcoming = Case(
        When(status=MeetingStatus.PLANNED, starts_at__date__gte=today, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    ordered = (
        selectors.meeting_list(actor)
        .annotate(is_past=upcoming)
        .order_by(
            "is_past",
            Case(When(is_past=0, then=F("starts_at"))).asc(nulls_last=True),
            F("starts_at").desc(),
            "-pk",
        )
    )
    filterset = tune_filters(
        MeetingFilterSet(request.GET, queryset=ordered, request=request),
        yes_no={"upcoming": (_("Upcoming"), _("Past or cancelled"))},
    )
    workspace = filterset.form.fields.get("workspace")
    if workspace is not None:
        choices = [("", _("All"))] + [
            (found.pk, found.name) for found in access.visible(actor, Workspace).order_by("name", "pk")
        ]
        workspace.widget = forms.Select(choices=choices)
    for name in ("starts_from", "starts_until"):
        found_field = filterset.form.fields.get(name)
        if found_field is not None:
            found_field.widget.input_type = "date"
    page = paginate(request, filterset.qs)
    plannable = _plannable(actor)
    context = {
        "filter": filterset,
        "page_obj": page,
        "meetings": list(page.object_list),
        "today": today,
        "may_plan": bool(plannable),
        "plan_workspace": plannable[0] if len(plannable) == 1 else None,
        "live_topics": "meeting meetinginvitation agendaitem actionitem",
    }
    return list_response(request, "messaging/meetings/meeting_list.html", context)


# Planning and changing a meeting ------------------------------------------------------------


@login_required
def meeting_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    plannable = _plannable(actor)
    if not plannable:
        raise PermissionDenied
    ids = [workspace.pk for workspace in plannable]
    wanted = request.GET.get("workspace", "")
    chosen = int(wanted) if wanted.isdigit() and int(wanted) in ids else None
    initial: dict[str, Any] = {"workspace": chosen} if chosen else {}
    form = meeting_forms.MeetingForm(
        post_data(request),
        initial=initial,
        workspaces=Workspace.objects.filter(pk__in=[chosen] if chosen else ids).order_by("name", "pk"),
        agencies=_workspace_agencies(actor, [chosen] if chosen else ids),
    )

    def perform(data: dict[str, Any]) -> Meeting:
        invited = list(data["invited_agencies"])
        return services.meeting_create(
            actor=actor, workspace=data["workspace"], invited_agencies=invited or None, **form.values()
        )

    return _form_page(
        request,
        form,
        perform,
        success=_("The meeting is planned. The invited agencies see it now."),
        next_url=_meeting_url,
        context={
            "title": _("Plan a meeting"),
            "submit_label": _("Plan the meeting"),
            "cancel_url": reverse("meeting-list"),
        },
    )


@login_required
def meeting_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "change", meeting)
    initial = {name: getattr(meeting, name) for name in meeting_forms.MeetingForm.FIELDS}
    form = meeting_forms.MeetingForm(post_data(request), initial=initial)
    return _form_page(
        request,
        form,
        lambda data: services.meeting_update(actor=actor, meeting=meeting, **form.values()),
        success=_("The meeting has been saved."),
        next_url=_meeting_url,
        context={
            "title": _("Change the meeting"),
            "meeting": meeting,
            "submit_label": _("Save"),
            "cancel_url": _meeting_url(meeting),
        },
    )


@login_required
def meeting_cancel(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "cancel", meeting)
    form = meeting_forms.CancelForm(post_data(request))
    return _form_page(
        request,
        form,
        lambda data: services.meeting_cancel(actor=actor, meeting=meeting, reason=data["reason"]),
        success=_("The meeting has been cancelled. Its open action items move on to the next meeting."),
        next_url=_meeting_url,
        context={
            "title": _("Cancel the meeting"),
            "meeting": meeting,
            "intro": _("The invited agencies see that the meeting is called off, and why."),
            "submit_label": _("Cancel the meeting"),
            "cancel_label": _("Keep the meeting"),
            "danger": True,
            "cancel_url": _meeting_url(meeting),
        },
    )


@login_required
@require_POST
def meeting_step(request: HubRequest, pk: str, action: str) -> HttpResponse:
    """Record a meeting as held, or close it: one POST each."""
    if action not in MEETING_STEPS:
        raise Http404
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, action, meeting)
    step, success = MEETING_STEPS[action]
    return post_step(
        request, lambda: step(actor=actor, meeting=meeting), success=str(success), url=_meeting_url(meeting)
    )


# The meeting's page -------------------------------------------------------------------------


def _invitable(actor: Any, meeting: Meeting) -> QuerySet[Agency]:
    """Agencies of the round table that are not invited yet."""
    invited = [agency.pk for agency in meeting.invited_agencies.all()]
    return _workspace_agencies(actor, [meeting.workspace_id]).exclude(pk__in=invited)


@login_required
@require_GET
def meeting_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    open_ = meeting.status in services.WRITABLE
    unlocked = open_ and not meeting.is_locked
    # State first, then the policy: a button is offered only when both allow the step.
    while_open = (
        "change",
        "invite",
        "attendance",
        "order_agenda",
        "propose",
        "write_minutes",
        "decide",
        "add_action_item",
    )
    may = _may(actor, meeting, *while_open) if open_ else {}
    invited = list(meeting.invited_agencies.all())
    coordinator_id = meeting.workspace.coordinator_agency_id
    agenda = selectors.agenda(actor, meeting)
    loose_actions = selectors.with_case_labels(
        actor, selectors.action_item_list(actor).filter(meeting=meeting, agenda_item=None)
    )
    context = {
        "meeting": meeting,
        "invited": invited,
        "coordinator_id": coordinator_id,
        "agenda": agenda,
        "loose_actions": loose_actions,
        "attendance": list(selectors.attendance_list(actor, meeting)),
        "versions": list(selectors.minutes_versions(actor, meeting)),
        "may_change": may.get("change", False),
        "may_cancel": meeting.status == MeetingStatus.PLANNED and access.can(actor, "cancel", meeting),
        "may_hold": meeting.status == MeetingStatus.PLANNED
        and timezone.localdate(meeting.starts_at) <= timezone.localdate()
        and access.can(actor, "hold", meeting),
        "may_close": meeting.status == MeetingStatus.HELD
        and meeting.minutes_status == MinutesStatus.APPROVED
        and access.can(actor, "close", meeting),
        "may_invite": may.get("invite", False),
        "may_attendance": unlocked and may.get("attendance", False),
        "may_order": unlocked and may.get("order_agenda", False),
        "may_propose": unlocked
        and may.get("propose", False)
        and (meeting.status == MeetingStatus.PLANNED or access.coordinates(actor, meeting.workspace)),
        "may_write_minutes": unlocked and may.get("write_minutes", False),
        "may_decide": unlocked and may.get("decide", False),
        "may_add_action_item": may.get("add_action_item", False),
        "may_circulate": meeting.status in {MeetingStatus.HELD, MeetingStatus.CLOSED}
        and meeting.minutes_status == MinutesStatus.DRAFT
        and access.can(actor, "circulate", meeting),
        "may_approve": meeting.status in {MeetingStatus.HELD, MeetingStatus.CLOSED}
        and meeting.minutes_status == MinutesStatus.CIRCULATED
        and access.can(actor, "approve", meeting),
        "may_correct": meeting.is_locked and access.can(actor, "correct", meeting),
        "live_topics": LIVE_TOPICS,
    }
    if context["may_invite"]:
        context["invite_form"] = meeting_forms.InviteForm(agencies=_invitable(actor, meeting))
        context["uninvitable"] = [agency for agency in invited if agency.pk != coordinator_id]
    return render(request, "messaging/meetings/meeting_detail.html", context)


# Invitations and attendance -----------------------------------------------------------------


@login_required
@require_POST
def meeting_invite(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "invite", meeting)
    form = meeting_forms.InviteForm(request.POST, agencies=_invitable(actor, meeting))

    def invite() -> None:
        if not form.is_valid():
            raise ValidationError(_("Choose an agency of the round table to invite."))
        services.meeting_invite(actor=actor, meeting=meeting, agency=form.cleaned_data["agency"])

    return post_step(
        request,
        invite,
        success=_("The agency is invited; its staff see the meeting now."),
        url=_meeting_url(meeting, "invited"),
    )


@login_required
@require_POST
def meeting_uninvite(request: HubRequest, pk: int, agency_pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "invite", meeting)
    agency = next((found for found in meeting.invited_agencies.all() if found.pk == agency_pk), None)
    if agency is None:
        raise Http404
    return post_step(
        request,
        lambda: services.meeting_uninvite(actor=actor, meeting=meeting, agency=agency),
        success=_("The invitation has been withdrawn; the agency no longer sees the meeting."),
        url=_meeting_url(meeting, "invited"),
    )


def _attendance_people(actor: Any, meeting: Meeting) -> list[tuple[User, str]]:
    """Staff of the invited agencies, each with the names of their agencies at the meeting."""
    users = list(selectors.staff_of_meeting(actor, meeting))
    rows = (
        access.visible(actor, Staff)
        .filter(is_active=True, user__in=[user.pk for user in users], agency_id__in=access.meeting_agencies(meeting))
        .select_related("agency")
        .order_by("agency__name")
    )
    agencies: dict[int, list[str]] = {}
    for staff in rows:
        agencies.setdefault(staff.user_id, []).append(staff.agency.display_name)
    return [(user, ", ".join(agencies.get(user.pk, []))) for user in users]


def _attendance_error(form: forms.Form, user: User | None, exc: ValidationError) -> None:
    """A refusal for one person lands on that person's row; anything else above the form."""
    if user is None or not hasattr(exc, "error_dict"):
        apply_errors(form, exc)
        return
    fields = {"user": f"presence_{user.pk}", "note": f"note_{user.pk}"}
    for key, errors in exc.error_dict.items():
        form.add_error(fields.get(key), errors)


@login_required
def meeting_attendance(request: HubRequest, pk: int) -> HttpResponse:
    """Who took part: present or absent for every staff member of the invited agencies."""
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "attendance", meeting)
    recorded: dict[int, Attendance] = {row.user_id: row for row in selectors.attendance_list(actor, meeting)}
    form = meeting_forms.AttendanceForm(
        post_data(request), people=_attendance_people(actor, meeting), recorded=recorded
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changes(recorded)
        current: User | None = None
        try:
            # All rows or none: a refusal for one person leaves the record as it was.
            with transaction.atomic():
                for user, present, note in changes:
                    current = user
                    services.attendance_record(actor=actor, meeting=meeting, user=user, present=present, note=note)
        except ValidationError as exc:
            _attendance_error(form, current, exc)
        else:
            if changes:
                messages.success(request, _("The attendance has been recorded."))
            else:
                messages.info(request, _("Nothing has changed."))
            return redirect(_meeting_url(meeting, "attendance"))
    return render(
        request,
        "messaging/meetings/attendance_form.html",
        {"form": form, "meeting": meeting, "title": _("Attendance")},
    )


# The agenda ---------------------------------------------------------------------------------


@login_required
def agenda_item_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "propose", meeting)
    form = meeting_forms.AgendaItemForm(
        post_data(request),
        persons=access.visible(actor, Person),
        referrals=access.visible(actor, Referral),
    )
    return _form_page(
        request,
        form,
        lambda data: services.agenda_item_propose(
            actor=actor,
            meeting=meeting,
            title=data["title"],
            description=data["description"],
            person=data["case_reference"],
            referral=data["referral_reference"],
        ),
        success=_("The topic is on the agenda."),
        next_url=lambda item: _meeting_url(meeting, f"item-{item.pk}"),
        context={
            "title": _("Propose a topic"),
            "meeting": meeting,
            "intro": _(
                "Topics are proposed before the meeting. A case appears on the agenda by its case reference; "
                "only agencies that may see the person anyway see the name."
            ),
            "submit_label": _("Propose"),
            "cancel_url": _meeting_url(meeting, "agenda"),
        },
    )


@login_required
def agenda_item_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.agenda_item_detail(actor, pk)
    access.require(actor, "order_agenda", item)
    meeting = selectors.meeting_detail(actor, item.meeting_id)
    form = meeting_forms.AgendaItemForm(
        post_data(request), initial={"title": item.title, "description": item.description}
    )
    return _form_page(
        request,
        form,
        lambda data: services.agenda_item_update(
            actor=actor, item=item, title=data["title"], description=data["description"]
        ),
        success=_("The agenda item has been saved."),
        next_url=lambda saved: _meeting_url(meeting, f"item-{item.pk}"),
        context={
            "title": _("Change the agenda item"),
            "meeting": meeting,
            "item": item,
            "submit_label": _("Save"),
            "cancel_url": _meeting_url(meeting, f"item-{item.pk}"),
        },
    )


@login_required
@require_POST
def agenda_item_move(request: HubRequest, pk: int) -> HttpResponse:
    """Move an item one place up or down: the whole order goes to the service, which checks it."""
    actor = request.user
    item = selectors.agenda_item_detail(actor, pk)
    access.require(actor, "order_agenda", item)
    meeting = item.meeting
    form = meeting_forms.MoveForm(request.POST)

    def move() -> None:
        if not form.is_valid():
            raise ValidationError(_("Choose whether to move the item up or down."))
        order = list(
            selectors.agenda_items(actor)
            .filter(meeting=meeting)
            .order_by("position", "pk")
            .values_list("pk", flat=True)
        )
        index = order.index(item.pk)
        other = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
        if not 0 <= other < len(order):
            raise ValidationError(_("The item is already at that end of the agenda."))
        order[index], order[other] = order[other], order[index]
        services.agenda_item_reorder(actor=actor, meeting=meeting, order=order)

    return post_step(
        request, move, success=_("The agenda has been reordered."), url=_meeting_url(meeting, f"item-{item.pk}")
    )


# Minutes: circulate, approve, correct, versions, print --------------------------------------


@login_required
@require_POST
def minutes_step(request: HubRequest, pk: str, action: str) -> HttpResponse:
    if action not in MINUTES_STEPS:
        raise Http404
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, action, meeting)
    step, success = MINUTES_STEPS[action]
    return post_step(
        request, lambda: step(actor=actor, meeting=meeting), success=str(success), url=_meeting_url(meeting, "minutes")
    )


@login_required
def minutes_correct(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "correct", meeting)
    items = list(selectors.agenda_items(actor).filter(meeting=meeting).order_by("position", "pk"))
    form = meeting_forms.CorrectionForm(post_data(request), items=items)
    return _form_page(
        request,
        form,
        lambda data: services.minutes_correct(
            actor=actor, meeting=meeting, corrections=form.corrections(), reason=data["reason"]
        ),
        success=_("The correction is saved as a new approved version of the minutes."),
        next_url=lambda version: _meeting_url(meeting, "minutes"),
        template="messaging/meetings/minutes_correct.html",
        context={
            "title": _("Correct the approved minutes"),
            "meeting": meeting,
            "approved": meeting.is_locked,
            "submit_label": _("Save the correction"),
            "cancel_url": _meeting_url(meeting, "minutes"),
        },
    )


def _version_names(actor: Any, content: dict[str, Any]) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the agencies and staff a frozen version refers to by id, as far as the actor sees them."""
    agency_ids = {*content.get("invited_agencies", [])}
    user_ids: set[int] = set()
    for row in content.get("attendance", []):
        agency_ids.add(row.get("agency"))
    for action in content.get("action_items", []):
        agency_ids.add(action.get("owner_agency"))
        user_ids.add(action.get("owner"))
    agencies = dict(
        access.visible(actor, Agency).filter(pk__in=[pk for pk in agency_ids if pk]).values_list("pk", "name")
    )
    staff = access.visible(actor, Staff).values("user_id")
    users = {
        user.pk: user.get_full_name() or user.get_username()
        for user in User.objects.filter(pk__in=[pk for pk in user_ids if pk]).filter(pk__in=staff)
    }
    return agencies, users


def _parsed(value: Any, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _frozen_task(action: dict[str, Any], agencies: dict[int, str], users: dict[int, str]) -> dict[str, Any]:
    status = action.get("status", "")
    return {
        "title": action.get("title", ""),
        "owner_agency": agencies.get(action.get("owner_agency") or 0, "–"),
        "owner": users.get(action.get("owner") or 0, ""),
        "due_on": _parsed(action.get("due_on"), datetime.date.fromisoformat),
        "status": status,
        "status_label": ActionItemStatus(status).label if status in ActionItemStatus.values else status,
    }


@login_required
@require_GET
def minutes_version(request: HubRequest, pk: int, number: int) -> HttpResponse:
    """A frozen version of the minutes as it was circulated, approved or corrected; it shows the ids it
    holds with the names the actor may see now."""
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    versions = list(selectors.minutes_versions(actor, meeting))
    version = next((found for found in versions if found.number == number), None)
    if version is None:
        raise Http404
    content = version.content if isinstance(version.content, dict) else {}
    agencies, users = _version_names(actor, content)
    snapshot = dict(content.get("meeting", {}))
    for key in ("starts_at", "ends_at"):
        snapshot[key] = _parsed(snapshot.get(key), datetime.datetime.fromisoformat)
    actions = content.get("action_items", [])
    items = [
        {
            **item,
            "action_items": [
                _frozen_task(action, agencies, users)
                for action in actions
                if action.get("agenda_item") == item.get("id")
            ],
        }
        for item in content.get("items", [])
    ]
    item_ids = {item.get("id") for item in items}
    context = {
        "meeting": meeting,
        "version": version,
        "versions": versions,
        "snapshot": snapshot,
        "invited": [agencies.get(pk, "–") for pk in content.get("invited_agencies", [])],
        "attendance": [
            {**row, "agency_name": agencies.get(row.get("agency") or 0, "–")} for row in content.get("attendance", [])
        ],
        "items": items,
        "loose_actions": [
            _frozen_task(action, agencies, users) for action in actions if action.get("agenda_item") not in item_ids
        ],
        "title": _("Minutes, version %(number)s") % {"number": version.number},
    }
    return render(request, "messaging/meetings/minutes_version.html", context)


@login_required
@require_GET
def meeting_print(request: HubRequest, pk: int) -> HttpResponse:
    """The minutes to print and sign, in German: they are the round table's official record."""
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    versions = list(selectors.minutes_versions(actor, meeting))
    context = {
        "meeting": meeting,
        "invited": list(meeting.invited_agencies.all()),
        "agenda": selectors.agenda(actor, meeting),
        "loose_actions": selectors.with_case_labels(
            actor, selectors.action_item_list(actor).filter(meeting=meeting, agenda_item=None)
        ),
        "attendance": list(selectors.attendance_list(actor, meeting)),
        "latest": versions[-1] if versions else None,
    }
    with translation.override("de"):
        response = render(request, "messaging/meetings/meeting_print.html", context)
    response["Content-Language"] = "de"
    return response
