"""Notifications (what a user should look at, kept per recipient, with the user's delivery preferences),
comment threads with @mentions on the objects agencies work on together, and the round table's
meetings with agenda, minutes, decisions and action items."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", _("A new referral has arrived")
    ANSWER_OVERDUE = "answer_overdue", _("A referral was not answered in time")
    REFERRAL_ANSWERED = "referral_answered", _("A referral you sent has been answered")
    MENTIONED = "mentioned", _("You were mentioned in a comment")
    ACTION_ITEM_DUE = "action_item_due", _("An action item of a round table is due")


class Notification(models.Model):
    """One notice for one user. It stores a kind code and a link, never personal data of a client,
    so the text is rendered in the reader's language at display time."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    verb = models.CharField(_("verb"), max_length=80)
    target_type = models.CharField(_("object type"), max_length=100)
    target_id = models.CharField(_("object id"), max_length=64)
    url = models.CharField(_("link"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index("recipient", "read_at", models.F("created_at").desc(), name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.target_type} {self.target_id})"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a user wants to be told. Missing rows mean the defaults: everything on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email_referral_received = models.BooleanField(_("e-mail when a referral arrives"), default=True)
    email_answer_overdue = models.BooleanField(_("e-mail when an answer is overdue"), default=True)
    email_mentioned = models.BooleanField(_("e-mail when someone mentions me in a comment"), default=True)
    email_action_item_due = models.BooleanField(
        _("e-mail when an action item of a round table is due or overdue"), default=True
    )
    in_app = models.BooleanField(_("show notifications in the hub"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(_("Notification preferences of %(user)s") % {"user": self.user_id})


# Comments -----------------------------------------------------------------------------------
#
# A comment hangs on exactly one target, through one nullable foreign key per kind of target.
# A new kind of target (a listing, an agenda item) is one more foreign key here, named in
# COMMENT_TARGETS, and one more rule in ``hub.access`` (who reads comments on it).

COMMENT_TARGETS = ("referral", "person", "listing", "agenda_item")
COMMENT_MAX_LENGTH = 5000


# A mention is "@" and a username (letters, digits and @ . + - _, as Django allows) that does not
# follow a username character, so an e-mail address is no mention. Sentence punctuation right after
# a name ends the sentence, not the name ("ask @jobcenter.caseworker.").
MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]+)")
SENTENCE_END = ".,;:!?"


def mentioned_usernames(body: str) -> list[str]:
    """The ``@username`` mentions in ``body``, in order, each once."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(SENTENCE_END)
        if name and name not in names:
            names.append(name)
    return names


def target_field(target: models.Model) -> str:
    """Which of a comment's foreign keys points to ``target``."""
    for name in COMMENT_TARGETS:
        if isinstance(target, Comment._meta.get_field(name).related_model):  # type: ignore[arg-type]
            return name
    raise TypeError(f"Comments cannot be made on {type(target).__name__}.")


def _exactly_one_target() -> Q:
    condition = Q()
    for name in COMMENT_TARGETS:
        others = {f"{other}__isnull": True for other in COMMENT_TARGETS if other != name}
        condition |= Q(**{f"{name}__isnull": False}, **others)
    return condition


class Comment(models.Model):
    """A remark of a staff member on a referral, a person, a flat or an agenda item, with the colleagues it mentions.

    A comment on a person belongs to one data category and is read only by the agencies that
    may see that category: free text must not disclose more than the shares do. A deleted
    comment keeps its row (the thread shows that something was removed) but loses its text.
    """

    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("referral"),
        db_index=False,  # the thread index below starts with it
    )
    person = models.ForeignKey(
        "referrals.Person",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("person"),
        db_index=False,
    )
    listing = models.ForeignKey(
        "housing.Listing",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("flat"),
        db_index=False,
    )
    agenda_item = models.ForeignKey(
        "messaging.AgendaItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("agenda item"),
        db_index=False,
    )
    category = models.CharField(
        _("data category"),
        max_length=20,
        blank=True,
        help_text=_("Comments on a person belong to one data category; only agencies that see it read them."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments", verbose_name=_("author")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="comments", verbose_name=_("agency")
    )
    body = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in", verbose_name=_("mentioned")
    )
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_target(), name="comment_exactly_one_target"),
            models.CheckConstraint(
                condition=Q(person__isnull=True, category="") | (Q(person__isnull=False) & ~Q(category="")),
                name="comment_category_only_on_persons",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), COMMENT_MAX_LENGTH), name="comment_body_max_length"
            ),
        ]
        indexes = [
            models.Index(
                fields=["referral", "created_at"], condition=Q(referral__isnull=False), name="comment_referral_thread"
            ),
            models.Index(
                fields=["person", "created_at"], condition=Q(person__isnull=False), name="comment_person_thread"
            ),
            models.Index(
                fields=["listing", "created_at"], condition=Q(listing__isnull=False), name="comment_listing_thread"
            ),
            models.Index(
                fields=["agenda_item", "created_at"],
                condition=Q(agenda_item__isnull=False),
                name="comment_agenda_item_thread",
            ),
        ]

    def __str__(self) -> str:
        # Never the text: this label goes into the audit log.
        return f"{self.target_kind} comment #{self.pk}"

    @property
    def target_kind(self) -> str:
        """The name of the target's foreign key: "referral", "person", "listing" or "agenda_item"."""
        for name in COMMENT_TARGETS:
            if getattr(self, f"{name}_id") is not None:
                return name
        return ""

    @property
    def target(self) -> models.Model | None:
        kind = self.target_kind
        return getattr(self, kind) if kind else None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# Meetings -----------------------------------------------------------------------------------
#
# A meeting of a workspace (a round table) is seen by the agencies invited to it and by the
# workspace's coordinating agency; a member agency that is not invited does not see it at all.
# Cases appear on the agenda by their case reference: the name is shown only to agencies that
# see the person anyway (``messaging.meetings.selectors``). Who does what is in ``hub.access``.

MINUTES_MAX_LENGTH = 20000
AGENDA_TEXT_MAX_LENGTH = 4000


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    HELD = "held", _("held")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


class MinutesStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    CIRCULATED = "circulated", _("circulated")
    APPROVED = "approved", _("approved")


class Meeting(models.Model):
    """One meeting of a round table: when and where, who is invited, and the state of its minutes."""

    workspace = models.ForeignKey(
        "agencies.Workspace", on_delete=models.PROTECT, related_name="meetings", verbose_name=_("round table")
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED, db_index=True
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    minutes_status = models.CharField(
        _("minutes"), max_length=20, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT
    )
    invited_agencies = models.ManyToManyField(
        "agencies.Agency",
        through="MeetingInvitation",
        related_name="meetings_invited_to",
        verbose_name=_("invited agencies"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["workspace", "starts_at"], name="meeting_workspace_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="meeting_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(place__gt="") | Q(video_url__gt=""), name="meeting_has_place_or_video_link"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    @property
    def is_locked(self) -> bool:
        """Approved minutes change only through a correction, which is a new version."""
        return self.minutes_status == MinutesStatus.APPROVED


class MeetingInvitation(models.Model):
    """An agency invited to a meeting; the coordinating agency is always invited."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invited_at = models.DateTimeField(_("invited"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation to a meeting")
        verbose_name_plural = _("invitations to meetings")
        ordering = ["meeting", "agency__name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "agency"], name="meeting_invitation_unique")]
        indexes = [models.Index(fields=["agency", "meeting"], name="meeting_invitation_agency")]

    def __str__(self) -> str:
        return f"{self.agency_id} @ meeting {self.meeting_id}"


class Attendance(models.Model):
    """Whether a staff member of an invited agency took part."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "agency__name", "user__last_name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendance_unique_user")]

    def __str__(self) -> str:
        return f"user {self.user_id} @ meeting {self.meeting_id}"


class AgendaItem(models.Model):
    """A topic of a meeting, proposed by an invited agency and ordered by the coordinator.

    It may concern a person (shown by case reference) or a referral. Its minutes are written live;
    ``version`` grows with every change, so that an edit based on an older text is refused
    instead of overwriting what someone else wrote meanwhile.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=AGENDA_TEXT_MAX_LENGTH, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposer_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    person = models.ForeignKey(
        "referrals.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("case"),
    )
    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("referral"),
    )
    minutes = models.TextField(_("minutes"), max_length=MINUTES_MAX_LENGTH, blank=True)
    version = models.PositiveIntegerField(_("version of the minutes"), default=0)
    minutes_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    minutes_updated_at = models.DateTimeField(_("minutes updated"), null=True, blank=True)
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)

    # Set by ``messaging.meetings.selectors.with_case_labels`` for the actor reading the agenda.
    case_reference: str
    case_name: str
    case_label: str

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_item_unique_position"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("minutes"), MINUTES_MAX_LENGTH), name="agenda_item_minutes_max_length"
            ),
        ]

    def __str__(self) -> str:
        # Neither the title nor a name: this label goes into the audit log.
        return f"agenda item #{self.pk} (TOP {self.position})"


class Decision(models.Model):
    """What the round table decided under an agenda item; it may have created a referral at once."""

    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("decision"), max_length=AGENDA_TEXT_MAX_LENGTH)
    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_decisions",
        verbose_name=_("referral created"),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["agenda_item", "created_at", "pk"]

    def __str__(self) -> str:
        return f"decision #{self.pk} (agenda item {self.agenda_item_id})"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")
    # Closed here because a copy continues in the next meeting (``carried_over_from``).
    CARRIED_OVER = "carried_over", _("carried over")


class ActionItem(models.Model):
    """Something an agency owes the round table, by a date; open items move on to the next meeting.

    Carrying over copies the item into the next meeting (``carried_over_from``, unique) and closes
    the old one as carried over, so each meeting's minutes keep what stood open then.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    decision = models.ForeignKey(
        Decision, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    title = models.CharField(_("task"), max_length=300)
    owner_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible agency")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=20, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey("referrals.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    carried_over_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="carried_over_to"
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    reminded_on = models.DateField(_("last reminder"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Set by ``messaging.meetings.selectors`` (the case labels for the reader, and the overdue flag).
    case_reference: str
    case_name: str
    case_label: str
    is_overdue: bool

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["owner_agency", "status", "due_on"], name="action_item_owner_due"),
            models.Index(fields=["status", "due_on"], name="action_item_status_due"),
        ]

    def __str__(self) -> str:
        return f"action item #{self.pk}"


class MinutesVersion(models.Model):
    """A frozen copy of a meeting's minutes: when they were circulated, approved, or corrected.

    ``content`` holds the agenda with minutes, decisions and action items as they stood, with
    cases by reference only, so the record never carries a name the structure did not hold.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="minutes_versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=20, choices=MinutesStatus.choices)
    content = models.JSONField(_("content"), default=dict)
    reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("version of the minutes")
        verbose_name_plural = _("versions of the minutes")
        ordering = ["meeting", "number"]
        constraints = [models.UniqueConstraint(fields=["meeting", "number"], name="minutes_version_unique_number")]

    def __str__(self) -> str:
        return f"minutes of meeting {self.meeting_id} v{self.number} ({self.status})"
