"""Reads of round-table meetings, scoped by ``hub.access``.

Cases are pseudonymised: an agenda item or action item names its person by case reference, and
by name only for an actor whose agencies may see that person anyway. ``with_case_labels`` decides
that for a whole page in one query, and the person rows themselves are never loaded for it, so a
name the actor may not see is not even in memory. Lists stay at a constant number of queries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import BooleanField, Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from agencies.models import Agency, Staff, User
from hub import access
from messaging.models import (
    ActionItem,
    ActionItemStatus,
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesVersion,
)
from privacy import reads
from referrals.models import Category, Person

if TYPE_CHECKING:
    from hub.access import Actor


def _get_or_404[M: Any](queryset: QuerySet[M], pk: Any) -> M:
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# Meetings -----------------------------------------------------------------------------------


def meeting_list(actor: Actor) -> QuerySet[Meeting]:
    """The meetings the actor's agencies are invited to or coordinate, newest first, with counts."""
    return (
        access.visible(actor, Meeting)
        .select_related("workspace", "workspace__coordinator_agency")
        .annotate(
            agenda_count=Count("agenda_items", distinct=True),
            open_action_count=Count(
                "action_items", filter=Q(action_items__status=ActionItemStatus.OPEN), distinct=True
            ),
        )
        .order_by("-starts_at", "-pk")
    )


def upcoming_meetings(actor: Actor, workspace: Any = None) -> QuerySet[Meeting]:
    """Planned meetings from today on, soonest first."""
    today = timezone.localdate()
    found = meeting_list(actor).filter(status=MeetingStatus.PLANNED, starts_at__date__gte=today)
    if workspace is not None:
        found = found.filter(workspace=workspace)
    return found.order_by("starts_at", "pk")


def meeting_detail(actor: Actor, pk: Any) -> Meeting:
    """One meeting the actor may see, with its invited agencies; 404 otherwise (also for a member
    agency of the round table that was not invited)."""
    queryset = meeting_list(actor).prefetch_related(
        Prefetch("invited_agencies", queryset=Agency.objects.order_by("name"))
    )
    return _get_or_404(queryset, pk)


def attendance_list(actor: Actor, meeting: Meeting) -> QuerySet[Attendance]:
    return (
        access.visible(actor, Attendance)
        .filter(meeting=meeting)
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name", "pk")
    )


def minutes_versions(actor: Actor, meeting: Meeting) -> QuerySet[MinutesVersion]:
    return access.visible(actor, MinutesVersion).filter(meeting=meeting).select_related("created_by").order_by("number")


# Cases, pseudonymised -----------------------------------------------------------------------


def with_case_labels[L: (AgendaItem, ActionItem)](actor: Actor, rows: Iterable[L]) -> list[L]:
    """Set ``case_reference``, ``case_name`` (empty unless the actor may see the person) and
    ``case_label`` on agenda or action items annotated with ``person_reference``; one query for all."""
    found = list(rows)
    wanted = {row.person_id for row in found if row.person_id is not None}
    names: dict[int, str] = {}
    if wanted:
        visible = access.visible(actor, Person).filter(pk__in=wanted).values_list("pk", "first_name", "last_name")
        names = {pk: f"{first} {last}".strip() for pk, first, last in visible}
        # A label with a name reveals who the case is (the read-access log); a bare reference does not.
        reads.note(names, {Category.IDENTITY})
    for row in found:
        reference = getattr(row, "person_reference", None) or ""
        name = names.get(row.person_id, "") if row.person_id is not None else ""
        row.case_reference = reference
        row.case_name = name
        row.case_label = f"{name} ({reference})" if name else reference
    return found


def _pseudonymised[M: Any](queryset: QuerySet[M]) -> QuerySet[M]:
    """References instead of the related rows: the person's name never leaves the database here."""
    return queryset.annotate(person_reference=F("person__reference"), referral_reference=F("referral__reference"))


# Agenda -------------------------------------------------------------------------------------


def agenda_items(actor: Actor) -> QuerySet[AgendaItem]:
    return _pseudonymised(
        access.visible(actor, AgendaItem).select_related("proposer_agency", "proposed_by", "minutes_updated_by")
    )


def agenda(actor: Actor, meeting: Meeting) -> list[AgendaItem]:
    """The meeting's agenda in order, with decisions and action items, and each case by reference
    (by name where the actor may see the person): four queries, however long the agenda is."""
    decisions = Prefetch(
        "decisions",
        queryset=Decision.objects.select_related("recorded_by").annotate(referral_reference=F("referral__reference")),
    )
    actions = Prefetch(
        "action_items",
        queryset=_pseudonymised(ActionItem.objects.select_related("owner_agency", "owner")).order_by("due_on", "pk"),
    )
    items = agenda_items(actor).filter(meeting=meeting).prefetch_related(decisions, actions).order_by("position", "pk")
    found = with_case_labels(actor, items)
    with_case_labels(actor, [action for item in found for action in item.action_items.all()])
    return found


def agenda_item_detail(actor: Actor, pk: Any) -> AgendaItem:
    item = _get_or_404(agenda_items(actor).select_related("meeting__workspace"), pk)
    with_case_labels(actor, [item])
    return item


def decisions_of(actor: Actor, item: AgendaItem) -> QuerySet[Decision]:
    return (
        access.visible(actor, Decision)
        .filter(agenda_item=item)
        .select_related("recorded_by")
        .annotate(referral_reference=F("referral__reference"))
        .order_by("created_at", "pk")
    )


# Action items -------------------------------------------------------------------------------


def _overdue(today: datetime.date) -> Case:
    return Case(
        When(status=ActionItemStatus.OPEN, due_on__lt=today, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def action_item_list(actor: Actor, today: datetime.date | None = None) -> QuerySet[ActionItem]:
    """Action items of the meetings the actor sees, with ``is_overdue`` and case references."""
    today = today or timezone.localdate()
    return _pseudonymised(
        access.visible(actor, ActionItem)
        .select_related("owner_agency", "owner", "meeting", "meeting__workspace")
        # Spelled as a mapping: the model declares the attribute for the type checker.
        .annotate(**{"is_overdue": _overdue(today)})
    ).order_by("due_on", "pk")


def action_item_detail(actor: Actor, pk: Any) -> ActionItem:
    item = _get_or_404(action_item_list(actor), pk)
    with_case_labels(actor, [item])
    return item


def action_item_overview(
    actor: Actor, agency_ids: Iterable[int] | None = None, today: datetime.date | None = None
) -> QuerySet[ActionItem]:
    """What the actor's agencies owe the round tables: their open items, overdue ones first, then by due date."""
    own = access.agency_ids(actor)
    wanted = own if agency_ids is None else own & set(agency_ids)
    return (
        action_item_list(actor, today)
        .filter(status=ActionItemStatus.OPEN, owner_agency_id__in=wanted)
        .order_by(F("is_overdue").desc(), "due_on", "pk")
    )


def open_action_items(actor: Actor, workspace: Any) -> QuerySet[ActionItem]:
    """The open items of a round table's meetings that the actor sees."""
    return action_item_list(actor).filter(meeting__workspace=workspace, status=ActionItemStatus.OPEN)


def staff_of_meeting(actor: Actor, meeting: Meeting) -> QuerySet[User]:
    """Active staff of the agencies at the meeting that the actor may see: owners and attendees."""
    staff = access.visible(actor, Staff).filter(is_active=True, agency_id__in=access.meeting_agencies(meeting))
    return User.objects.filter(is_active=True, pk__in=staff.values("user_id")).order_by("last_name", "first_name")
