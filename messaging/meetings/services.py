"""Writes of round-table meetings: planning and invitations, attendance, the agenda, minutes written
live with optimistic versioning, decisions (which may create a referral or an action item in the same
step), action items with carry-over to the next meeting, the approval of the minutes, and reminders.

Every service follows the hub's rule (ARCHITECTURE.md §2): ``hub.access`` decides, the rows are
locked and re-read, validated, saved, audited and published in one transaction. Audit rows and
events never carry the texts of the agenda or the minutes (they record lengths and versions), and
cases appear in them by id only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Staff, User, Workspace, WorkspaceMembership
from hub import access, audit, events
from messaging.models import (
    AGENDA_TEXT_MAX_LENGTH,
    MINUTES_MAX_LENGTH,
    ActionItem,
    ActionItemStatus,
    AgendaItem,
    Attendance,
    Decision,
    Meeting,
    MeetingInvitation,
    MeetingStatus,
    MinutesStatus,
    MinutesVersion,
    NotificationKind,
)
from messaging.services import notify
from referrals import services as referral_services
from referrals.models import Person, Referral

MEETING_FIELDS = ("title", "starts_at", "ends_at", "place", "video_url")
# The years a meeting may fall in: the hub records current work, not history or distant plans.
MEETING_YEARS = (2000, 2099)
AGENDA_ITEM_FIELDS = ("title", "description")
ACTION_ITEM_FIELDS = ("title", "owner_agency", "owner", "due_on", "note")
# The minutes can be written while the meeting is planned (it may already be under way) or held.
WRITABLE = frozenset({MeetingStatus.PLANNED, MeetingStatus.HELD})
# Who may set an action item to which status: the owner agency reports, the coordinator also cancels.
REPORTED_STATUSES = frozenset({ActionItemStatus.OPEN, ActionItemStatus.DONE})
SETTABLE_STATUSES = frozenset({ActionItemStatus.OPEN, ActionItemStatus.DONE, ActionItemStatus.CANCELLED})
# Reminders: once a few days before the due date, then when overdue and weekly while it stays so.
REMIND_DAYS_BEFORE = 2
REMIND_OVERDUE_EVERY_DAYS = 7


class MinutesConflict(ValidationError):
    """The minutes changed since the writer loaded them: nothing was saved.

    Carries the text and version that are current now, so that a form or the API can show them
    next to the writer's own text instead of losing either.
    """

    def __init__(self, item: AgendaItem) -> None:
        self.current_version = item.version
        self.current_minutes = item.minutes
        super().__init__(
            {
                "minutes": _(
                    "Someone else changed these minutes in the meantime (now version %(version)s). "
                    "Your text has not been saved: copy it, load the current text and add your changes."
                )
                % {"version": item.version}
            }
        )


# Helpers ------------------------------------------------------------------------------------


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("workspace").get(pk=meeting.pk)


def _coordinator_agency(meeting: Meeting) -> int:
    return meeting.workspace.coordinator_agency_id


def _record(
    actor: User | None,
    action: str,
    target: Any,
    meeting: Meeting,
    *,
    agency_id: int | None = None,
    changes: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    audience: Iterable[str] | None = None,
) -> None:
    """The audit row and the event of a write: ids, statuses and versions only, never the texts."""
    audit.record(
        actor=actor,
        action=action,
        target=target,
        agency_id=agency_id if agency_id is not None else _coordinator_agency(meeting),
        changes=changes,
    )
    events.publish(action, target, audience=audience, payload={"meeting": meeting.pk, **(payload or {})}, actor=actor)


def _check_open(meeting: Meeting, statuses: Iterable[str] = WRITABLE) -> None:
    if meeting.status not in statuses:
        raise ValidationError(
            {"meeting": _("This meeting is %(status)s.") % {"status": MeetingStatus(meeting.status).label}}
        )


def _check_unlocked(meeting: Meeting) -> None:
    if meeting.is_locked:
        raise ValidationError(
            {"minutes": _("The minutes have been approved and are locked; change them through a correction.")}
        )


def _clean_text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Use at most %(limit)d characters.") % {"limit": limit}})
    return value


def _set_fields(instance: Any, allowed: Iterable[str], fields: Mapping[str, Any]) -> dict[str, list[Any]]:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({key: _("This field cannot be changed here.") for key in unknown})
    changes = audit.diff(instance, dict(fields))
    for key, value in fields.items():
        setattr(instance, key, value)
    return changes


def _names_only(changes: dict[str, list[Any]], texts: Iterable[str]) -> dict[str, list[Any]]:
    """Free texts are named in the audit log, not copied into it."""
    hidden = set(texts)
    return {field: (["…", "…"] if field in hidden else pair) for field, pair in changes.items()}


def _validate_meeting(meeting: Meeting) -> None:
    errors: dict[str, str] = {}
    if not meeting.place.strip() and not meeting.video_url.strip():
        errors["place"] = _("Give a place or a video link.")
    if meeting.starts_at and timezone.is_naive(meeting.starts_at):
        errors["starts_at"] = _("Give the time with its time zone.")
    if meeting.ends_at and meeting.starts_at and meeting.ends_at <= meeting.starts_at:
        errors["ends_at"] = _("The meeting must end after it starts.")
    # A typo such as year 0248 is no meeting, and such a time has no ISO offset in Europe/Berlin
    # (local mean time, +00:53:28), so the API could not even answer it.
    for name in ("starts_at", "ends_at"):
        moment = getattr(meeting, name)
        if moment and not MEETING_YEARS[0] <= moment.year <= MEETING_YEARS[1]:
            errors[name] = _("Give a date between the years %(first)s and %(last)s.") % {
                "first": MEETING_YEARS[0],
                "last": MEETING_YEARS[1],
            }
    if errors:
        raise ValidationError(errors)
    meeting.full_clean(exclude=["workspace", "created_by"])


def _workspace_agencies(workspace: Workspace) -> set[int]:
    return set(WorkspaceMembership.objects.filter(workspace=workspace).values_list("agency_id", flat=True))


def _invite(actor: User | None, meeting: Meeting, agency_id: int) -> MeetingInvitation:
    invitation = MeetingInvitation.objects.create(meeting=meeting, agency_id=agency_id, invited_by=actor)
    _record(
        actor,
        "meeting.agency_invited",
        meeting,
        meeting,
        changes={"agency": [None, agency_id]},
        payload={"agency": agency_id},
    )
    return invitation


def _visible_or_error(actor: User, model: type[Any], obj: Any, field: str, message: str) -> None:
    if obj is not None and not access.visible(actor, model).filter(pk=obj.pk).exists():
        raise ValidationError({field: message})


def _agencies_of_meeting(meeting: Meeting) -> set[int]:
    return access.meeting_agencies(meeting)


# Meetings -----------------------------------------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    actor: User,
    workspace: Workspace,
    title: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None = None,
    place: str = "",
    video_url: str = "",
    invited_agencies: Iterable[Agency] | None = None,
) -> Meeting:
    """Plan a meeting of a round table (its coordinators). Without a list, every member agency is
    invited; the coordinating agency always is. Open action items of earlier meetings move to it."""
    access.require(actor, "plan_meeting", workspace)
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if workspace.is_archived:
        raise ValidationError({"workspace": _("This round table is archived.")})
    members = _workspace_agencies(workspace)
    wanted = members if invited_agencies is None else {agency.pk for agency in invited_agencies}
    strangers = wanted - members
    if strangers:
        raise ValidationError({"invited_agencies": _("Only agencies of this round table can be invited.")})
    meeting = Meeting(
        workspace=workspace,
        title=_clean_text(title, "title", 200, required=True),
        starts_at=starts_at,
        ends_at=ends_at,
        place=(place or "").strip(),
        video_url=(video_url or "").strip(),
        created_by=actor,
    )
    _validate_meeting(meeting)
    meeting.save()
    MeetingInvitation.objects.create(meeting=meeting, agency_id=workspace.coordinator_agency_id, invited_by=actor)
    MeetingInvitation.objects.bulk_create(
        MeetingInvitation(meeting=meeting, agency_id=pk, invited_by=actor)
        for pk in sorted(wanted - {workspace.coordinator_agency_id})
    )
    invited = sorted(wanted | {workspace.coordinator_agency_id})
    _record(
        actor,
        "meeting.created",
        meeting,
        meeting,
        changes={"invited_agencies": [[], invited], "starts_at": [None, meeting.starts_at.isoformat()]},
    )
    _carry_over(actor, meeting)
    return meeting


@transaction.atomic
def meeting_update(*, actor: User, meeting: Meeting, **fields: Any) -> Meeting:
    """Change the date, place, video link or title of a meeting that has not been closed or cancelled."""
    access.require(actor, "change", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    if "title" in fields:
        fields["title"] = _clean_text(fields["title"], "title", 200, required=True)
    for key in ("place", "video_url"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    changes = _set_fields(meeting, MEETING_FIELDS, fields)
    _validate_meeting(meeting)
    if changes:
        meeting.save(update_fields=[*changes, "updated_at"])
        _record(actor, "meeting.updated", meeting, meeting, changes=_names_only(changes, ["title"]))
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: User, meeting: Meeting, reason: str = "") -> Meeting:
    """Call off a planned meeting; action items that moved into it go on to the next one."""
    access.require(actor, "cancel", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting, {MeetingStatus.PLANNED})
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancel_reason = _clean_text(reason, "reason", 500)
    meeting.save(update_fields=["status", "cancel_reason", "updated_at"])
    _record(
        actor,
        "meeting.cancelled",
        meeting,
        meeting,
        changes={"status": [MeetingStatus.PLANNED, MeetingStatus.CANCELLED]},
        payload={"status": meeting.status},
    )
    _carry_on(actor, meeting)
    return meeting


@transaction.atomic
def meeting_hold(*, actor: User, meeting: Meeting) -> Meeting:
    """Record that the meeting took place; its open action items move to the next planned meeting."""
    access.require(actor, "hold", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting, {MeetingStatus.PLANNED})
    if timezone.localdate(meeting.starts_at) > timezone.localdate():
        raise ValidationError({"meeting": _("A meeting can be recorded as held from its day on.")})
    meeting.status = MeetingStatus.HELD
    meeting.save(update_fields=["status", "updated_at"])
    _record(
        actor,
        "meeting.held",
        meeting,
        meeting,
        changes={"status": [MeetingStatus.PLANNED, MeetingStatus.HELD]},
        payload={"status": meeting.status},
    )
    _carry_on(actor, meeting)
    return meeting


@transaction.atomic
def meeting_close(*, actor: User, meeting: Meeting) -> Meeting:
    """Close a held meeting whose minutes are approved."""
    access.require(actor, "close", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting, {MeetingStatus.HELD})
    if meeting.minutes_status != MinutesStatus.APPROVED:
        raise ValidationError({"meeting": _("Approve the minutes before closing the meeting.")})
    meeting.status = MeetingStatus.CLOSED
    meeting.save(update_fields=["status", "updated_at"])
    _record(
        actor,
        "meeting.closed",
        meeting,
        meeting,
        changes={"status": [MeetingStatus.HELD, MeetingStatus.CLOSED]},
        payload={"status": meeting.status},
    )
    return meeting


@transaction.atomic
def meeting_invite(*, actor: User, meeting: Meeting, agency: Agency) -> MeetingInvitation:
    """Invite one more agency of the round table; its staff see the meeting from now on."""
    access.require(actor, "invite", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    if agency.pk not in _workspace_agencies(meeting.workspace):
        raise ValidationError({"agency": _("Only agencies of this round table can be invited.")})
    if MeetingInvitation.objects.filter(meeting=meeting, agency=agency).exists():
        raise ValidationError({"agency": _("This agency is invited already.")})
    return _invite(actor, meeting, agency.pk)


@transaction.atomic
def meeting_uninvite(*, actor: User, meeting: Meeting, agency: Agency) -> None:
    """Withdraw an agency's invitation; it no longer sees the meeting (its next request answers 404)."""
    access.require(actor, "invite", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    if agency.pk == _coordinator_agency(meeting):
        raise ValidationError({"agency": _("The coordinating agency takes part in every meeting.")})
    invitation = MeetingInvitation.objects.filter(meeting=meeting, agency=agency).first()
    if invitation is None:
        raise ValidationError({"agency": _("This agency is not invited.")})
    if ActionItem.objects.filter(meeting=meeting, owner_agency=agency, status=ActionItemStatus.OPEN).exists():
        raise ValidationError({"agency": _("This agency owns open action items of the meeting.")})
    # Tell the agency before it loses the meeting, so that an open page reloads into its 404.
    audience = {f"agency.{pk}" for pk in _agencies_of_meeting(meeting)}
    invitation.delete()
    _record(
        actor,
        "meeting.agency_uninvited",
        meeting,
        meeting,
        changes={"agency": [agency.pk, None]},
        payload={"agency": agency.pk},
        audience=audience,
    )


@transaction.atomic
def attendance_record(*, actor: User, meeting: Meeting, user: User, present: bool, note: str = "") -> Attendance:
    """Record whether a staff member of an invited agency took part (the coordinator)."""
    access.require(actor, "attendance", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    agencies = _agencies_of_meeting(meeting)
    agency_id = (
        Staff.objects.filter(user=user, is_active=True, agency_id__in=agencies)
        .order_by("agency_id")
        .values_list("agency_id", flat=True)
        .first()
    )
    if agency_id is None or not user.is_active:
        raise ValidationError({"user": _("Only staff of an invited agency can attend.")})
    attendance, created = Attendance.objects.update_or_create(
        meeting=meeting,
        user=user,
        defaults={
            "agency_id": agency_id,
            "present": present,
            "note": _clean_text(note, "note", 200),
            "recorded_by": actor,
        },
    )
    _record(
        actor,
        "meeting.attendance",
        attendance,
        meeting,
        changes={"user": [None, user.pk], "present": [None, present]},
        payload={"user": user.pk, "present": present},
    )
    return attendance


# Agenda -------------------------------------------------------------------------------------


@transaction.atomic
def agenda_item_propose(
    *,
    actor: User,
    meeting: Meeting,
    title: str,
    description: str = "",
    person: Person | None = None,
    referral: Referral | None = None,
) -> AgendaItem:
    """Put a topic on the agenda (caseworkers and coordinators of an invited agency, before the meeting;
    the coordinator also during it). A case is named by a person or referral the proposer can see."""
    access.require(actor, "propose", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    coordinator = access.coordinates(actor, meeting.workspace)
    if meeting.status != MeetingStatus.PLANNED and not coordinator:
        raise ValidationError({"meeting": _("Topics are proposed before the meeting.")})
    unknown = _("Unknown or not visible to you.")
    _visible_or_error(actor, Person, person, "person", unknown)
    _visible_or_error(actor, Referral, referral, "referral", unknown)
    if referral is not None:
        if person is not None and person.pk != referral.person_id:
            raise ValidationError({"referral": _("The referral concerns another person.")})
        person = referral.person
    proposing = access.agency_ids(actor, *access.CASE_ROLES) & _agencies_of_meeting(meeting)
    agency_id = access.acting_agency_id(actor, among=proposing)
    if agency_id is None:  # access.require answered already; a membership may have ended since
        raise PermissionDenied
    position = (AgendaItem.objects.filter(meeting=meeting).aggregate(last=Max("position"))["last"] or 0) + 1
    item = AgendaItem(
        meeting=meeting,
        position=position,
        title=_clean_text(title, "title", 200, required=True),
        description=_clean_text(description, "description", AGENDA_TEXT_MAX_LENGTH),
        proposed_by=actor,
        proposer_agency_id=agency_id,
        person=person,
        referral=referral,
    )
    item.full_clean()
    item.save()
    _record(
        actor,
        "agenda_item.proposed",
        item,
        meeting,
        agency_id=agency_id,
        changes={
            "position": [None, position],
            "person": [None, person.pk if person else None],
            "referral": [None, referral.pk if referral else None],
        },
        payload={"item": item.pk, "position": position},
    )
    return item


@transaction.atomic
def agenda_item_update(*, actor: User, item: AgendaItem, **fields: Any) -> AgendaItem:
    """Change an item's title or description (the coordinator), until the minutes are approved."""
    access.require(actor, "order_agenda", item)
    meeting = _lock_meeting(item.meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if "title" in fields:
        fields["title"] = _clean_text(fields["title"], "title", 200, required=True)
    if "description" in fields:
        fields["description"] = _clean_text(fields["description"], "description", AGENDA_TEXT_MAX_LENGTH)
    changes = _set_fields(item, AGENDA_ITEM_FIELDS, fields)
    if changes:
        item.save(update_fields=list(changes))
        _record(
            actor,
            "agenda_item.updated",
            item,
            meeting,
            changes=_names_only(changes, AGENDA_ITEM_FIELDS),
            payload={"item": item.pk},
        )
    return item


@transaction.atomic
def agenda_item_reorder(*, actor: User, meeting: Meeting, order: list[int]) -> list[AgendaItem]:
    """Put the agenda in the given order of item ids (the coordinator); every item must be named once."""
    access.require(actor, "order_agenda", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    items = {item.pk: item for item in AgendaItem.objects.select_for_update().filter(meeting=meeting)}
    if len(order) != len(set(order)) or set(order) != set(items):
        raise ValidationError({"order": _("Name every item of this agenda exactly once.")})
    before = [pk for pk, _item in sorted(items.items(), key=lambda pair: pair[1].position)]
    # Positions are unique per meeting: move them out of the way first, then into the new order.
    AgendaItem.objects.filter(meeting=meeting).update(
        position=F("position") + max((item.position for item in items.values()), default=0)
    )
    for position, pk in enumerate(order, start=1):
        items[pk].position = position
    AgendaItem.objects.bulk_update(items.values(), ["position"])
    if before != order:
        _record(
            actor, "agenda.reordered", meeting, meeting, changes={"order": [before, order]}, payload={"order": order}
        )
    return [items[pk] for pk in order]


@transaction.atomic
def agenda_item_update_minutes(*, actor: User, item: AgendaItem, minutes: str, expected_version: int) -> AgendaItem:
    """Save the minutes of one item as they are being written, if nobody changed them since
    ``expected_version``; otherwise raise ``MinutesConflict`` with the current text, saving nothing."""
    access.require(actor, "write_minutes", item)
    # The meeting first, then the item: the same order as approval, so a write either makes it into the
    # approved version or is refused as locked, and two writers of one item queue on the row lock.
    meeting = _lock_meeting(item.meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if item.version != expected_version:
        raise MinutesConflict(item)
    text = _clean_text(minutes, "minutes", MINUTES_MAX_LENGTH)
    if text == item.minutes:
        return item
    old_length, old_version = len(item.minutes), item.version
    item.minutes = text
    item.version += 1
    item.minutes_updated_by = actor
    item.minutes_updated_at = timezone.now()
    item.save(update_fields=["minutes", "version", "minutes_updated_by", "minutes_updated_at"])
    _record(
        actor,
        "agenda_item.minutes_updated",
        item,
        meeting,
        changes={"length": [old_length, len(text)], "version": [old_version, item.version]},
        payload={"item": item.pk, "version": item.version},
    )
    return item


# Decisions ----------------------------------------------------------------------------------


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                f"{prefix}.{field}" if field != "__all__" else prefix: messages
                for field, messages in error.message_dict.items()
            }
        )
    return ValidationError({prefix: error.messages})


@transaction.atomic
def decision_record(
    *,
    actor: User,
    item: AgendaItem,
    text: str,
    referral: Mapping[str, Any] | None = None,
    action_item: Mapping[str, Any] | None = None,
) -> Decision:
    """Record a decision under an agenda item (the coordinator). With ``referral`` it refers the item's
    person in the same step (through ``referrals.services.referral_create``, whose checks of the legal
    basis apply unchanged); with ``action_item`` it creates the task. Either all of it is saved or nothing."""
    access.require(actor, "decide", item)
    meeting = _lock_meeting(item.meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    item = AgendaItem.objects.select_related("person").get(pk=item.pk)
    decision = Decision(
        agenda_item=item,
        text=_clean_text(text, "text", AGENDA_TEXT_MAX_LENGTH, required=True),
        recorded_by=actor,
    )
    decision.save()
    created_referral: Referral | None = None
    if referral is not None:
        if item.person is None:
            raise ValidationError({"referral": _("This agenda item concerns no person to refer.")})
        try:
            created_referral = referral_services.referral_create(actor=actor, person=item.person, **dict(referral))
        except (Http404, PermissionDenied) as exc:
            raise ValidationError(
                {"referral": _("Only an agency that holds the person's file can refer; it can do so itself.")}
            ) from exc
        except ValidationError as exc:
            raise _prefixed(exc, "referral") from exc
        decision.referral = created_referral
        decision.save(update_fields=["referral"])
    _record(
        actor,
        "decision.recorded",
        decision,
        meeting,
        changes={
            "length": [0, len(decision.text)],
            "referral": [None, created_referral.pk if created_referral else None],
        },
        payload={"item": item.pk, "decision": decision.pk},
    )
    if action_item is not None:
        fields = dict(action_item)
        if created_referral is not None:
            fields.setdefault("referral", created_referral)
        elif item.person is not None and access.visible(actor, Person).filter(pk=item.person.pk).exists():
            # Linked only for a coordinator who may see the person; the agenda item names the case anyway.
            fields.setdefault("person", item.person)
        try:
            _action_item_create(actor, meeting, agenda_item=item, decision=decision, **fields)
        except ValidationError as exc:
            raise _prefixed(exc, "action_item") from exc
    return decision


# Action items -------------------------------------------------------------------------------


def _check_owner(meeting: Meeting, owner_agency: Agency | None, owner: User | None) -> None:
    if owner_agency is None or owner_agency.pk not in _agencies_of_meeting(meeting):
        raise ValidationError({"owner_agency": _("An action item belongs to an agency taking part in the meeting.")})
    if owner is not None and not Staff.objects.filter(user=owner, agency=owner_agency, is_active=True).exists():
        raise ValidationError({"owner": _("The responsible person must work for the responsible agency.")})


def _check_due(meeting: Meeting, due_on: datetime.date | None) -> None:
    if due_on is None:
        raise ValidationError({"due_on": _("This field is required.")})
    # Tasks may fall due before a planned meeting (its preparation), and items of a past meeting may be
    # recorded afterwards with the dates agreed then; only a date before both is a mistake.
    if due_on < min(timezone.localdate(), timezone.localdate(meeting.starts_at)):
        raise ValidationError({"due_on": _("The due date cannot be in the past or before the meeting.")})


def _action_item_create(
    actor: User,
    meeting: Meeting,
    *,
    title: str,
    owner_agency: Agency,
    due_on: datetime.date,
    owner: User | None = None,
    agenda_item: AgendaItem | None = None,
    decision: Decision | None = None,
    referral: Referral | None = None,
    person: Person | None = None,
    note: str = "",
) -> ActionItem:
    _check_owner(meeting, owner_agency, owner)
    _check_due(meeting, due_on)
    unknown = _("Unknown or not visible to you.")
    _visible_or_error(actor, Referral, referral, "referral", unknown)
    _visible_or_error(actor, Person, person, "person", unknown)
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise ValidationError({"agenda_item": _("The agenda item belongs to another meeting.")})
    if referral is not None and person is None:
        person = referral.person
    action = ActionItem(
        meeting=meeting,
        agenda_item=agenda_item,
        decision=decision,
        title=_clean_text(title, "title", 300, required=True),
        owner_agency=owner_agency,
        owner=owner,
        due_on=due_on,
        referral=referral,
        person=person,
        note=_clean_text(note, "note", 500),
        created_by=actor,
    )
    action.full_clean()
    action.save()
    _record(
        actor,
        "action_item.created",
        action,
        meeting,
        changes={
            "owner_agency": [None, owner_agency.pk],
            "owner": [None, owner.pk if owner else None],
            "due_on": [None, due_on.isoformat()],
        },
        payload={"item": action.pk, "status": action.status},
    )
    return action


@transaction.atomic
def action_item_create(*, actor: User, meeting: Meeting, **fields: Any) -> ActionItem:
    """Give an agency of the meeting (and optionally one of its staff) a task with a due date (the coordinator)."""
    access.require(actor, "add_action_item", meeting)
    meeting = _lock_meeting(meeting)
    _check_open(meeting)
    _check_unlocked(meeting)
    return _action_item_create(actor, meeting, **fields)


def _lock_action_item(item: ActionItem) -> ActionItem:
    return ActionItem.objects.select_for_update().select_related("meeting__workspace").get(pk=item.pk)


@transaction.atomic
def action_item_update(*, actor: User, item: ActionItem, **fields: Any) -> ActionItem:
    """Change an open item's task, owner or due date (the coordinator)."""
    access.require(actor, "change", item)
    item = _lock_action_item(item)
    if item.status != ActionItemStatus.OPEN:
        raise ValidationError({"status": _("Only open action items can be changed.")})
    if "title" in fields:
        fields["title"] = _clean_text(fields["title"], "title", 300, required=True)
    if "note" in fields:
        fields["note"] = _clean_text(fields["note"], "note", 500)
    changes = _set_fields(item, ACTION_ITEM_FIELDS, fields)
    _check_owner(item.meeting, item.owner_agency, item.owner)
    _check_due(item.meeting, item.due_on)
    if "due_on" in changes:
        # A new due date earns a new reminder.
        item.reminded_on = None
        changes.setdefault("reminded_on", [None, None])
    if changes:
        item.save(update_fields=[*changes, "updated_at"])
        _record(
            actor,
            "action_item.updated",
            item,
            item.meeting,
            changes=_names_only(changes, ["title", "note"]),
            payload={"item": item.pk, "status": item.status},
        )
    return item


@transaction.atomic
def action_item_set_status(*, actor: User, item: ActionItem, status: str, note: str | None = None) -> ActionItem:
    """Report progress: the owner agency's caseworkers and coordinators mark the item done (or open
    again); the coordinator may also cancel it. A carried-over item continues in the next meeting."""
    access.require(actor, "report", item)
    item = _lock_action_item(item)
    if status not in SETTABLE_STATUSES:
        raise ValidationError({"status": _("Choose open, done or cancelled.")})
    if item.status == ActionItemStatus.CARRIED_OVER:
        raise ValidationError({"status": _("This item continues in a later meeting; change it there.")})
    coordinator = access.coordinates(actor, item.meeting.workspace)
    if status not in REPORTED_STATUSES and not coordinator:
        raise ValidationError({"status": _("Only the coordinator cancels an action item.")})
    if item.status == status and note is None:
        return item
    previous = item.status
    item.status = status
    item.completed_at = timezone.now() if status == ActionItemStatus.DONE else None
    update = ["status", "completed_at", "updated_at"]
    if note is not None:
        item.note = _clean_text(note, "note", 500)
        update.append("note")
    item.save(update_fields=update)
    own = access.agency_ids(actor, *access.CASE_ROLES)
    agency_id = item.owner_agency_id if item.owner_agency_id in own else _coordinator_agency(item.meeting)
    _record(
        actor,
        "action_item.status_changed",
        item,
        item.meeting,
        agency_id=agency_id,
        changes={"status": [previous, status]},
        payload={"item": item.pk, "status": status},
    )
    return item


def action_item_complete(*, actor: User, item: ActionItem, note: str | None = None) -> ActionItem:
    """Mark an action item done (its owner agency or the coordinator)."""
    return action_item_set_status(actor=actor, item=item, status=ActionItemStatus.DONE, note=note)


# Carry-over ---------------------------------------------------------------------------------
#
# Open items move to the next meeting of the round table: when a meeting is planned, from the
# meetings before it that took place or were cancelled; when a meeting is held or cancelled, into
# the next planned one. Each move copies the item (``carried_over_from``, unique) and closes the
# old one, under row locks, so running it twice, or twice at once, moves nothing twice.


def _carry_over(actor: User | None, meeting: Meeting) -> list[ActionItem]:
    if meeting.status != MeetingStatus.PLANNED:
        return []
    sources = (
        ActionItem.objects.select_for_update(of=("self",))
        .filter(
            meeting__workspace_id=meeting.workspace_id,
            meeting__starts_at__lt=meeting.starts_at,
            status=ActionItemStatus.OPEN,
        )
        .exclude(meeting__status=MeetingStatus.PLANNED)
        .exclude(meeting=meeting)
        .order_by("due_on", "pk")
    )
    invited = set(MeetingInvitation.objects.filter(meeting=meeting).values_list("agency_id", flat=True))
    members = _workspace_agencies(meeting.workspace)
    moved: list[ActionItem] = []
    for old in sources:
        if old.owner_agency_id not in members:
            continue  # the agency has left the round table: the item stays where it is
        if old.owner_agency_id not in invited:
            # Whoever owes the round table something takes part in its next meeting.
            _invite(actor, meeting, old.owner_agency_id)
            invited.add(old.owner_agency_id)
        new = ActionItem.objects.create(
            meeting=meeting,
            title=old.title,
            owner_agency_id=old.owner_agency_id,
            owner_id=old.owner_id,
            due_on=old.due_on,
            note=old.note,
            referral_id=old.referral_id,
            person_id=old.person_id,
            carried_over_from=old,
            reminded_on=old.reminded_on,
            created_by=actor or old.created_by,
        )
        old.status = ActionItemStatus.CARRIED_OVER
        old.save(update_fields=["status", "updated_at"])
        _record(
            actor,
            "action_item.carried_over",
            new,
            meeting,
            changes={"carried_over_from": [None, old.pk], "meeting": [old.meeting_id, meeting.pk]},
            payload={"item": new.pk, "from": old.pk},
        )
        moved.append(new)
    return moved


def _next_planned(meeting: Meeting) -> Meeting | None:
    return (
        Meeting.objects.select_for_update()
        .select_related("workspace")
        .filter(workspace_id=meeting.workspace_id, status=MeetingStatus.PLANNED, starts_at__gt=meeting.starts_at)
        .order_by("starts_at", "pk")
        .first()
    )


def _carry_on(actor: User | None, meeting: Meeting) -> list[ActionItem]:
    """After a meeting took place or was cancelled: its open items move into the next planned one."""
    following = _next_planned(meeting)
    return _carry_over(actor, following) if following is not None else []


@transaction.atomic
def action_items_carry_over(*, actor: User, meeting: Meeting) -> list[ActionItem]:
    """Move open items of earlier meetings into this planned meeting now (the coordinator). It also
    happens by itself; running it again moves nothing twice."""
    access.require(actor, "add_action_item", meeting)
    return _carry_over(actor, _lock_meeting(meeting))


# Minutes approval ---------------------------------------------------------------------------


def minutes_snapshot(meeting: Meeting) -> dict[str, Any]:
    """The minutes as they stand, for a frozen version: cases by reference, never by name."""
    items = (
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("proposer_agency")
        .prefetch_related("decisions")
        .order_by("position", "pk")
    )
    references = dict(Person.objects.filter(agenda_items__meeting=meeting).values_list("pk", "reference"))
    referrals = dict(Referral.objects.filter(agenda_items__meeting=meeting).values_list("pk", "reference"))
    actions = (
        ActionItem.objects.filter(meeting=meeting).select_related("owner_agency", "owner").order_by("due_on", "pk")
    )
    attendance = Attendance.objects.filter(meeting=meeting).select_related("user", "agency").order_by("agency__name")
    return {
        "meeting": {
            "title": meeting.title,
            "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat() if meeting.ends_at else None,
            "place": meeting.place,
            "video_url": meeting.video_url,
        },
        "invited_agencies": sorted(access.meeting_agencies(meeting)),
        "attendance": [
            {"user": row.user_id, "name": row.user.get_full_name(), "agency": row.agency_id, "present": row.present}
            for row in attendance
        ],
        "items": [
            {
                "id": item.pk,
                "position": item.position,
                "title": item.title,
                "description": item.description,
                "proposer_agency": item.proposer_agency_id,
                "case": references.get(item.person_id, "") if item.person_id else "",
                "referral": referrals.get(item.referral_id, "") if item.referral_id else "",
                "minutes": item.minutes,
                "version": item.version,
                "decisions": [
                    {"id": decision.pk, "text": decision.text, "referral": decision.referral_id}
                    for decision in item.decisions.all()
                ],
            }
            for item in items
        ],
        "action_items": [
            {
                "id": action.pk,
                "title": action.title,
                "owner_agency": action.owner_agency_id,
                "owner": action.owner_id,
                "due_on": action.due_on.isoformat(),
                "status": action.status,
                "agenda_item": action.agenda_item_id,
            }
            for action in actions
        ],
    }


def _freeze(actor: User, meeting: Meeting, status: str, reason: str = "") -> MinutesVersion:
    number = (MinutesVersion.objects.filter(meeting=meeting).aggregate(last=Max("number"))["last"] or 0) + 1
    return MinutesVersion.objects.create(
        meeting=meeting,
        number=number,
        status=status,
        content=minutes_snapshot(meeting),
        reason=reason,
        created_by=actor,
    )


def _minutes_step(actor: User, meeting: Meeting, action: str, source: str, target: str) -> MinutesVersion:
    access.require(actor, action, meeting)
    meeting = _lock_meeting(meeting)
    if meeting.status not in {MeetingStatus.HELD, MeetingStatus.CLOSED}:
        raise ValidationError({"meeting": _("Minutes are circulated and approved after the meeting.")})
    if meeting.minutes_status != source:
        raise ValidationError(
            {
                "minutes": _("The minutes are %(status)s; they cannot become %(target)s now.")
                % {"status": MinutesStatus(meeting.minutes_status).label, "target": MinutesStatus(target).label}
            }
        )
    # Every item is locked too, so that no minutes are written between the copy and the new state.
    list(AgendaItem.objects.select_for_update().filter(meeting=meeting).values_list("pk", flat=True))
    meeting.minutes_status = target
    meeting.save(update_fields=["minutes_status", "updated_at"])
    version = _freeze(actor, meeting, target)
    _record(
        actor,
        f"minutes.{action}d",
        meeting,
        meeting,
        changes={"minutes_status": [source, target], "minutes_version": [None, version.number]},
        payload={"minutes_status": target, "minutes_version": version.number},
    )
    return version


@transaction.atomic
def minutes_circulate(*, actor: User, meeting: Meeting) -> MinutesVersion:
    """Send the draft minutes round for comments (the coordinator); a frozen copy records what was sent.
    They can still be amended until they are approved."""
    return _minutes_step(actor, meeting, "circulate", MinutesStatus.DRAFT, MinutesStatus.CIRCULATED)


@transaction.atomic
def minutes_approve(*, actor: User, meeting: Meeting) -> MinutesVersion:
    """Approve the circulated minutes (the coordinator): they are locked from now on."""
    return _minutes_step(actor, meeting, "approve", MinutesStatus.CIRCULATED, MinutesStatus.APPROVED)


@transaction.atomic
def minutes_correct(*, actor: User, meeting: Meeting, corrections: Mapping[int, str], reason: str) -> MinutesVersion:
    """Correct approved minutes (the coordinator): the new texts of the named items and the reason make
    a new approved version; the earlier versions stay as they were."""
    access.require(actor, "correct", meeting)
    meeting = _lock_meeting(meeting)
    if meeting.minutes_status != MinutesStatus.APPROVED:
        raise ValidationError({"minutes": _("Only approved minutes are corrected; until then, edit them.")})
    reason = _clean_text(reason, "reason", 500, required=True)
    if not corrections:
        raise ValidationError({"corrections": _("Name at least one agenda item and its corrected minutes.")})
    items = {
        item.pk: item
        for item in AgendaItem.objects.select_for_update().filter(meeting=meeting, pk__in=list(corrections))
    }
    if set(items) != set(corrections):
        raise ValidationError({"corrections": _("Correct only items of this meeting's agenda.")})
    changed: dict[str, list[int]] = {}
    now = timezone.now()
    for pk, text in corrections.items():
        item = items[pk]
        cleaned = _clean_text(text, "corrections", MINUTES_MAX_LENGTH)
        if cleaned == item.minutes:
            continue
        changed[str(pk)] = [item.version, item.version + 1]
        item.minutes, item.version = cleaned, item.version + 1
        item.minutes_updated_by, item.minutes_updated_at = actor, now
        item.save(update_fields=["minutes", "version", "minutes_updated_by", "minutes_updated_at"])
    if not changed:
        raise ValidationError({"corrections": _("The corrected texts are the same as the approved ones.")})
    version = _freeze(actor, meeting, MinutesStatus.APPROVED, reason)
    _record(
        actor,
        "minutes.corrected",
        meeting,
        meeting,
        changes={"versions": changed, "minutes_version": [version.number - 1, version.number]},
        payload={"minutes_status": meeting.minutes_status, "minutes_version": version.number},
    )
    return version


# Reminders ----------------------------------------------------------------------------------


def action_item_url(item: ActionItem) -> str:
    """Where a reminder leads: the action item, answered only to those who may see it."""
    return reverse("action-item-detail", args=[item.pk])


def _reminder_recipients(item: ActionItem) -> list[User]:
    """The responsible person while they still work for the agency; otherwise its caseworkers and coordinators."""
    staff = Staff.objects.filter(agency_id=item.owner_agency_id, is_active=True)
    owner_id = item.owner_id
    if owner_id is not None and staff.filter(user_id=owner_id).exists():
        return list(User.objects.filter(pk=owner_id, is_active=True))
    case_staff = staff.filter(Q(is_caseworker=True) | Q(is_coordinator=True)).values("user_id")
    return list(User.objects.filter(is_active=True, pk__in=case_staff))


def due_for_reminder(today: datetime.date) -> Q:
    """Open items due within a few days that were not reminded yet, and overdue ones not reminded
    since they fell due or for a week."""
    soon = Q(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=REMIND_DAYS_BEFORE), reminded_on=None)
    overdue = Q(due_on__lt=today) & (
        Q(reminded_on=None)
        | Q(reminded_on__lte=F("due_on"))
        | Q(reminded_on__lte=today - datetime.timedelta(days=REMIND_OVERDUE_EVERY_DAYS))
    )
    return Q(status=ActionItemStatus.OPEN) & (soon | overdue)


@transaction.atomic
def action_items_remind(*, today: datetime.date | None = None) -> int:
    """Remind the owners of action items that are due soon or overdue: an in-app notification and, as
    their preference allows, an e-mail queued in the same transaction. Returns how many items were due.

    Rows another run is reminding right now are skipped, so two runs at once notify nobody twice.
    """
    today = today or timezone.localdate()
    items = list(
        ActionItem.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(due_for_reminder(today))
        .select_related("meeting__workspace")
        .order_by("due_on", "pk")
    )
    for item in items:
        recipients = _reminder_recipients(item)
        notify(recipients=recipients, kind=NotificationKind.ACTION_ITEM_DUE, target=item, url=action_item_url(item))
        previous = item.reminded_on
        item.reminded_on = today
        item.save(update_fields=["reminded_on"])
        audit.record(
            actor=None,
            action="action_item.reminded",
            target=item,
            agency_id=item.owner_agency_id,
            changes={
                "reminded_on": [previous.isoformat() if previous else None, today.isoformat()],
                "recipients": [[], sorted(user.pk for user in recipients)],
            },
        )
    return len(items)
