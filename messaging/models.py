"""Notifications (what a user should look at, kept per recipient, with the user's delivery preferences)
and comment threads with @mentions on the objects agencies work on together."""

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

COMMENT_TARGETS = ("referral", "person", "listing")
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
    """A remark of a staff member on a referral, a person or a flat, with the colleagues it mentions.

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
        ]

    def __str__(self) -> str:
        # Never the text: this label goes into the audit log.
        return f"{self.target_kind} comment #{self.pk}"

    @property
    def target_kind(self) -> str:
        """The name of the target's foreign key: "referral", "person" or "listing"."""
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
