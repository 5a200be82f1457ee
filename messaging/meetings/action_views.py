"""Pages of the round table's work: the live minutes editor, decisions, action items, and what the
user's agencies owe the round tables.

Reads come from ``messaging.meetings.selectors`` (scoped by ``hub.access``): a meeting the actor's
agencies are not invited to answers 404, also for a member agency of the round table. Cases appear
by reference, by name only where the actor may see the person anyway. Every write goes through
``messaging.meetings.services``, which check permission again; a refusal becomes a form error or a
message, never a server error.

The minutes are saved as they are written (htmx, after a pause in typing) with the version they are
based on. When someone else saved the item meanwhile, nothing is lost: the answer (409) shows the
writer's own text, still editable, next to the current one, and carries the current version, so that
saving again deliberately replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from agencies.models import Agency, User
from hub import access
from hub.views import HubRequest
from hub.web import done, form_page, list_response, messages_of, paginate, post_data, tune_filters
from messaging.meetings import selectors, services
from messaging.meetings.action_forms import (
    ActionItemEditForm,
    ActionItemFieldsForm,
    ActionItemForm,
    ActionItemStatusForm,
    DecisionForm,
    DecisionReferralForm,
    MinutesForm,
)
from messaging.meetings.filters import ActionItemFilterSet
from messaging.models import MINUTES_MAX_LENGTH, ActionItem, ActionItemStatus, AgendaItem, Meeting, MeetingStatus
from referrals import selectors as referral_selectors
from referrals.models import Person
from referrals.views.persons import agency_select

# The editor follows decisions and action items live; never the agenda items themselves, whose
# refresh would replace the text being written (another writer's save shows as a notice instead).
EDITOR_LIVE_PARTS = "decision actionitem"
# What the overview follows live.
OVERVIEW_LIVE_TOPICS = "actionitem"


# Helpers ------------------------------------------------------------------------------------


def _editor_url(meeting: Meeting | int, item: AgendaItem | None = None) -> str:
    url = reverse("meeting-minutes", args=[meeting if isinstance(meeting, int) else meeting.pk])
    return f"{url}#minutes-item-{item.pk}" if item is not None else url


def _meeting_url(meeting: Meeting | int) -> str:
    return reverse("meeting-detail", args=[meeting if isinstance(meeting, int) else meeting.pk])


def _item_url(item: ActionItem) -> str:
    return reverse("action-item-detail", args=[item.pk])


def read_only_reason(meeting: Meeting) -> str:
    """Why the minutes, decisions and action items of ``meeting`` can no longer be changed; empty while they can."""
    if meeting.is_locked:
        return _(
            "The minutes have been approved and are locked. A correction is recorded as a new version "
            "on the meeting's page."
        )
    if meeting.status == MeetingStatus.CANCELLED:
        return _("This meeting was cancelled: it has no minutes.")
    if meeting.status not in services.WRITABLE:
        return _("This meeting is closed: its minutes are final.")
    return ""


def _meeting_agencies(actor: Any, meeting: Meeting) -> QuerySet[Agency]:
    """The agencies at the meeting that the actor can see: those that can owe it something."""
    return access.visible(actor, Agency).filter(pk__in=access.meeting_agencies(meeting)).order_by("name")


def _owners(actor: Any, meeting: Meeting) -> QuerySet[User]:
    return selectors.staff_of_meeting(actor, meeting)


# The live minutes editor --------------------------------------------------------------------


@dataclass
class MinutesRow:
    """One agenda item in the editor: the text in the writer's box and the version it is based on.

    Normally both are the item's own. After a conflict ``text`` is what the writer posted and
    ``version`` the current one, while ``item`` holds the current text and who saved it.
    """

    item: AgendaItem
    text: str
    version: int
    conflict: bool = False
    error: str = ""
    saved: bool = False

    @classmethod
    def of(cls, item: AgendaItem) -> MinutesRow:
        return cls(item=item, text=item.minutes, version=item.version)


def _editor_context(meeting: Meeting, rows: list[MinutesRow], *, full_page: bool = True) -> dict[str, Any]:
    reason = read_only_reason(meeting)
    return {
        "meeting": meeting,
        "rows": rows,
        "writable": not reason,
        "read_only_reason": reason,
        "live_parts": EDITOR_LIVE_PARTS,
        "full_page": full_page,
        "max_length": MINUTES_MAX_LENGTH,
    }


def _agenda_item(actor: Any, pk: int) -> AgendaItem:
    """One item as the editor shows it: with its decisions, action items and case label."""
    item = selectors.agenda_item_detail(actor, pk)
    found = next(found for found in selectors.agenda(actor, item.meeting) if found.pk == item.pk)
    found.meeting = item.meeting
    return found


def _editor_rows(actor: Any, meeting: Meeting, replace: MinutesRow | None = None) -> list[MinutesRow]:
    rows = [MinutesRow.of(item) for item in selectors.agenda(actor, meeting)]
    if replace is not None:
        rows = [replace if row.item.pk == replace.item.pk else row for row in rows]
    return rows


@login_required
@require_GET
def minutes_editor(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "write_minutes", meeting)
    context = _editor_context(meeting, _editor_rows(actor, meeting))
    return render(request, "messaging/meetings/minutes_editor.html", context)


def _minutes_answer(request: HubRequest, meeting: Meeting, row: MinutesRow, status: int) -> HttpResponse:
    """A refused save: with htmx the item alone, in place of the writer's form; else the whole editor."""
    if request.htmx:
        context = {**_editor_context(meeting, [row], full_page=False), "row": row}
        response = render(request, "messaging/meetings/partials/minutes_editor_item.html", context, status=status)
        retarget(response, f"#minutes-item-{row.item.pk}")
        reswap(response, "outerHTML")
    else:
        context = _editor_context(meeting, _editor_rows(request.user, meeting, row))
        response = render(request, "messaging/meetings/minutes_editor.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def agenda_item_minutes(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.agenda_item_detail(actor, pk)
    access.require(actor, "write_minutes", item)
    meeting = item.meeting
    form = MinutesForm(request.POST)
    text = request.POST.get("minutes", "")
    if not form.is_valid():
        item = _agenda_item(actor, pk)
        if "version" in form.errors:
            # Without the version it was based on, the text might overwrite anything: show both.
            return _minutes_answer(request, meeting, MinutesRow(item, text, item.version, conflict=True), 409)
        error = " ".join(str(message) for message in form.errors["minutes"])
        return _minutes_answer(request, meeting, MinutesRow(item, text, form.cleaned_data["version"], error=error), 422)
    version = form.cleaned_data["version"]
    try:
        saved = services.agenda_item_update_minutes(
            actor=actor, item=item, minutes=form.cleaned_data["minutes"], expected_version=version
        )
    except services.MinutesConflict:
        current = _agenda_item(actor, pk)
        return _minutes_answer(request, current.meeting, MinutesRow(current, text, current.version, conflict=True), 409)
    except ValidationError as exc:
        current = _agenda_item(actor, pk)
        row = MinutesRow(current, text, version, error=messages_of(exc))
        return _minutes_answer(request, current.meeting, row, 422)
    if not request.htmx:
        messages.success(request, _("The minutes of item %(position)s are saved.") % {"position": saved.position})
        return redirect(_editor_url(meeting, saved))
    if request.htmx.target == f"minutes-item-{pk}":
        # Saved from the conflict panel: the item becomes an ordinary editor again.
        fresh = _agenda_item(actor, pk)
        row = MinutesRow(fresh, fresh.minutes, fresh.version, saved=True)
        template = "messaging/meetings/partials/minutes_editor_item.html"
    else:
        # Saved while writing: only the status and the version change; the text box stays untouched.
        row = MinutesRow(saved, saved.minutes, saved.version, saved=True)
        template = "messaging/meetings/partials/minutes_editor_saved.html"
    response = render(request, template, {**_editor_context(meeting, [row], full_page=False), "row": row})
    patch_vary_headers(response, ("HX-Request",))
    return response


# Decisions ----------------------------------------------------------------------------------


def _ticked(request: HubRequest, name: str) -> bool:
    return request.method == "POST" and bool(
        forms.CheckboxInput().value_from_datadict(request.POST, request.FILES, name)
    )


def _filled(request: HubRequest, prefix: str, names: Iterable[str]) -> bool:
    return request.method == "POST" and any(request.POST.get(f"{prefix}-{name}", "").strip() for name in names)


def apply_nested_errors(exc: ValidationError, form: forms.BaseForm, parts: dict[str, forms.BaseForm | None]) -> None:
    """Show a decision's refusal on the right form: ``referral.<field>`` and ``action_item.<field>``
    (as ``decision_record`` prefixes the errors of its nested steps) on the part's field, the rest on the decision."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.error_dict.items():
        prefix, _dot, field = key.partition(".")
        part = parts.get(prefix)
        if part is not None and part.is_bound:
            part.add_error(field if field in part.fields else None, errors)
        elif key in form.fields and key != NON_FIELD_ERRORS:
            form.add_error(key, errors)
        else:
            form.add_error(None, errors)


def _referable_person(actor: Any, item: AgendaItem) -> Person | None:
    """The item's person, when the actor may refer them; loaded only then, so that no name the actor
    may not see is ever in memory."""
    if item.person_id is None:
        return None
    person = access.visible(actor, Person).filter(pk=item.person_id).first()
    if person is None or not access.can(actor, "refer", person):
        return None
    return person


@login_required
def decision_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.agenda_item_detail(actor, pk)
    access.require(actor, "decide", item)
    meeting = item.meeting
    person = _referable_person(actor, item)
    want_referral = person is not None and _ticked(request, "with_referral")
    want_action = _ticked(request, "with_action_item")
    form = DecisionForm(post_data(request))
    referral_form = None
    if person is not None:
        referral_form = DecisionReferralForm(
            post_data(request) if want_referral else None,
            prefix="referral",
            agencies=referral_selectors.partner_agencies(actor),
            consents=referral_selectors.valid_consents(actor, person),
            initial={"categories": ["identity"]},
        )
    action_form = ActionItemFieldsForm(
        post_data(request) if want_action else None,
        prefix="action_item",
        agencies=_meeting_agencies(actor, meeting),
        owners=_owners(actor, meeting),
    )
    if request.method == "POST":
        valid = form.is_valid()
        # Each part is checked when it is wanted, so that one answer names every mistake.
        if want_referral and referral_form is not None:
            valid = referral_form.is_valid() and valid
        if want_action:
            valid = action_form.is_valid() and valid
        if valid:
            # Filled in but not ticked: ask rather than silently leave out a referral or a task.
            if not want_referral and person is not None and _filled(request, "referral", ("to_agency", "reason")):
                form.add_error("with_referral", _("You filled in a referral: tick this box to create it."))
                valid = False
            if not want_action and _filled(request, "action_item", ("title", "owner_agency")):
                form.add_error("with_action_item", _("You filled in an action item: tick this box to create it."))
                valid = False
        if valid:
            try:
                services.decision_record(
                    actor=actor,
                    item=item,
                    text=form.cleaned_data["text"],
                    referral=referral_form.values() if want_referral and referral_form is not None else None,
                    action_item=action_form.values() if want_action else None,
                )
            except ValidationError as exc:
                apply_nested_errors(exc, form, {"referral": referral_form, "action_item": action_form})
            else:
                messages.success(request, _("The decision has been recorded."))
                if access.can(actor, "write_minutes", item):
                    return redirect(_editor_url(meeting, item))
                return redirect(_meeting_url(meeting))
    bound = [part for part in (form, referral_form, action_form) if part is not None and part.is_bound]
    context = {
        "meeting": meeting,
        "item": item,
        "form": form,
        "referral_form": referral_form,
        "action_form": action_form,
        "forms": bound,
        "has_errors": any(part.errors for part in bound),
        "has_person": item.person_id is not None,
        "read_only_reason": read_only_reason(meeting),
        "decisions": list(selectors.decisions_of(actor, item)),
    }
    return render(request, "messaging/meetings/decision_form.html", context)


# Action items -------------------------------------------------------------------------------


# The create and edit pages of an action item share one template.
_action_form_page = partial(form_page, template="messaging/meetings/action_item_form.html")


@login_required
def action_item_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "add_action_item", meeting)
    agenda_items = selectors.agenda_items(actor).filter(meeting=meeting).order_by("position", "pk")
    initial: dict[str, Any] = {}
    wanted = request.GET.get("agenda_item", "")
    if wanted.isdigit() and agenda_items.filter(pk=int(wanted)).exists():
        initial["agenda_item"] = int(wanted)
    form = ActionItemForm(
        post_data(request),
        initial=initial,
        agenda_items=agenda_items,
        agencies=_meeting_agencies(actor, meeting),
        owners=_owners(actor, meeting),
    )
    cancel = _editor_url(meeting) if access.can(actor, "write_minutes", meeting) else _meeting_url(meeting)
    return _action_form_page(
        request,
        form,
        lambda data: services.action_item_create(actor=actor, meeting=meeting, **form.values()),
        success=_("The action item has been created."),
        next_url=_item_url,
        context={
            "meeting": meeting,
            "title": _("New action item"),
            "submit_label": _("Create the action item"),
            "cancel_url": cancel,
            "read_only_reason": read_only_reason(meeting),
        },
    )


def _status_choices(actor: Any, item: ActionItem) -> list[tuple[str, str]]:
    """The statuses the actor may set now: done, or open again, for the owner agency; cancelled too for
    the coordinator."""
    if item.status == ActionItemStatus.CARRIED_OVER or not access.can(actor, "report", item):
        return []
    allowed = (
        services.SETTABLE_STATUSES if access.coordinates(actor, item.meeting.workspace) else services.REPORTED_STATUSES
    )
    return [
        (value, str(label)) for value, label in ActionItemStatus.choices if value in allowed and value != item.status
    ]


@login_required
@require_GET
def action_item_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.action_item_detail(actor, pk)
    visible = selectors.action_item_list(actor)
    earlier = visible.filter(pk=item.carried_over_from_id).first() if item.carried_over_from_id else None
    later = visible.filter(carried_over_from=item).first()
    choices = _status_choices(actor, item)
    context = {
        "item": item,
        "meeting": item.meeting,
        "agenda_item": (
            selectors.agenda_items(actor).filter(pk=item.agenda_item_id).first() if item.agenda_item_id else None
        ),
        "earlier": earlier,
        "later": later,
        "may_change": item.status == ActionItemStatus.OPEN and access.can(actor, "change", item),
        "status_form": ActionItemStatusForm(choices=choices) if choices else None,
        "live_topics": OVERVIEW_LIVE_TOPICS,
    }
    return render(request, "messaging/meetings/action_item_detail.html", context)


@login_required
def action_item_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.action_item_detail(actor, pk)
    access.require(actor, "change", item)
    meeting = item.meeting
    form = ActionItemEditForm(
        post_data(request),
        initial={
            "title": item.title,
            "owner_agency": item.owner_agency_id,
            "owner": item.owner_id,
            "due_on": item.due_on,
            "note": item.note,
        },
        agencies=_meeting_agencies(actor, meeting),
        owners=_owners(actor, meeting),
    )
    return _action_form_page(
        request,
        form,
        lambda data: services.action_item_update(actor=actor, item=item, **form.values()),
        success=_("The action item has been saved."),
        next_url=_item_url,
        context={
            "meeting": meeting,
            "item": item,
            "title": _("Edit the action item"),
            "submit_label": _("Save"),
            "cancel_url": _item_url(item),
            "read_only_reason": (
                _("Only open action items can be changed.") if item.status != ActionItemStatus.OPEN else ""
            ),
        },
    )


STATUS_DONE = {
    ActionItemStatus.DONE: gettext_lazy("The action item is done."),
    ActionItemStatus.OPEN: gettext_lazy("The action item is open again."),
    ActionItemStatus.CANCELLED: gettext_lazy("The action item has been cancelled."),
}


@login_required
@require_POST
def action_item_status(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.action_item_detail(actor, pk)
    access.require(actor, "report", item)
    choices = [(value, str(label)) for value, label in ActionItemStatus.choices if value in services.SETTABLE_STATUSES]
    form = ActionItemStatusForm(request.POST, choices=choices)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return done(request, _item_url(item))
    status = form.cleaned_data["status"]
    try:
        services.action_item_set_status(actor=actor, item=item, status=status, note=form.cleaned_data["note"] or None)
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
    else:
        messages.success(request, str(STATUS_DONE[ActionItemStatus(status)]))
    return done(request, _item_url(item))


@login_required
@require_POST
def action_items_carry_over(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    meeting = selectors.meeting_detail(actor, pk)
    access.require(actor, "add_action_item", meeting)
    try:
        moved = services.action_items_carry_over(actor=actor, meeting=meeting)
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
    else:
        if moved:
            message = ngettext(
                "%(count)d open action item of earlier meetings moved to this one.",
                "%(count)d open action items of earlier meetings moved to this one.",
                len(moved),
            ) % {"count": len(moved)}
            messages.success(request, message)
        elif meeting.status != MeetingStatus.PLANNED:
            messages.info(request, _("Open action items move only into a planned meeting."))
        else:
            messages.info(request, _("No open action items of earlier meetings are waiting."))
    return done(request, _meeting_url(meeting))


# What the agencies owe ----------------------------------------------------------------------


class OverviewFilterSet(ActionItemFilterSet):
    """The overview's filters: by the user's agency, by status and overdue."""

    OFFERED = ("status", "owner_agency", "overdue")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.filters):
            if name not in self.OFFERED:
                del self.filters[name]


def _owed(actor: Any, status: str) -> QuerySet[ActionItem]:
    """Open items as the overview selector orders them (overdue first); others by the same order."""
    if status == ActionItemStatus.OPEN:
        return selectors.action_item_overview(actor)
    return (
        selectors.action_item_list(actor)
        .filter(owner_agency_id__in=access.agency_ids(actor))
        .order_by(F("is_overdue").desc(), "due_on", "pk")
    )


@login_required
@require_GET
def action_item_overview(request: HubRequest) -> HttpResponse:
    actor = request.user
    data = request.GET.copy()
    # Open items unless the user asks otherwise ("All" sends an empty status).
    data.setdefault("status", ActionItemStatus.OPEN)
    filterset = tune_filters(
        OverviewFilterSet(data, queryset=_owed(actor, data.get("status", "")), request=request),
        yes_no={"overdue": (_("Overdue only"), _("Not overdue"))},
    )
    own = Agency.objects.filter(pk__in=access.agency_ids(actor)).order_by("name")
    agency_select(filterset, "owner_agency", own)
    page = paginate(request, filterset.qs)
    rows = selectors.with_case_labels(actor, page.object_list)
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": rows,
        "agencies": list(own),
        "live_topics": OVERVIEW_LIVE_TOPICS,
        "section": "action_items",
    }
    return list_response(request, "messaging/meetings/action_item_overview.html", context)
