"""Writes of notifications and preferences, and the e-mail that important notifications send.

Services follow the hub's rule (ARCHITECTURE.md §2): only they write, audit and publish. Notifications
carry a kind code and a relative link, never personal data of a client; the e-mail says only that
something happened and links to the hub, where the normal access checks apply.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agencies.models import Staff, User
from hub import access, audit, events
from hub.audit import target_type
from hub.models import Event
from messaging.models import (
    COMMENT_MAX_LENGTH,
    Comment,
    Notification,
    NotificationKind,
    NotificationPreference,
    mentioned_usernames,
    target_field,
)
from referrals.models import Category, Person, Referral

logger = logging.getLogger(__name__)

# Which preference switches the e-mail of a kind on; kinds without an entry are never e-mailed.
EMAIL_PREFERENCE = {
    NotificationKind.REFERRAL_RECEIVED: "email_referral_received",
    NotificationKind.ANSWER_OVERDUE: "email_answer_overdue",
    NotificationKind.MENTIONED: "email_mentioned",
    NotificationKind.ACTION_ITEM_DUE: "email_action_item_due",
}
PREFERENCE_FIELDS = (
    "email_referral_received",
    "email_answer_overdue",
    "email_mentioned",
    "email_action_item_due",
    "in_app",
)


# How long a failed delivery waits before the next attempt; after the last one the task is
# recorded as failed (visible in the admin's task results) and the in-app notification remains.
EMAIL_RETRY_DELAYS = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=10),
    datetime.timedelta(hours=1),
    datetime.timedelta(hours=6),
)


@task
def send_notification_email(*, recipient_id: int, kind: str, url: str, attempt: int = 1) -> None:
    """Tell the recipient by e-mail that something awaits them, in the hub's language, without client data.

    A mail server that is away is retried later rather than losing the message; the recipient is
    looked up again at each attempt, so someone deactivated meanwhile gets nothing.
    """
    user = User.objects.filter(pk=recipient_id, is_active=True).exclude(email="").first()
    if user is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = str(NotificationKind(kind).label)
        link = settings.HUB_BASE_URL.rstrip("/") + url
        body = _("%(subject)s.\n\nOpen the hub to see it: %(link)s\n") % {"subject": subject, "link": link}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except (OSError, smtplib.SMTPException):
        if attempt > len(EMAIL_RETRY_DELAYS):
            raise
        logger.warning("Notification e-mail attempt %s failed; retrying later", attempt, exc_info=True)
        send_notification_email.using(run_after=timezone.now() + EMAIL_RETRY_DELAYS[attempt - 1]).enqueue(
            recipient_id=recipient_id, kind=kind, url=url, attempt=attempt + 1
        )


def _enqueue_email(recipient_id: int, kind: str, url: str) -> None:
    # The database backend writes the task row in the caller's transaction: the mail is queued if and
    # only if the notification commits, and no worker can see it before the commit.
    send_notification_email.enqueue(recipient_id=recipient_id, kind=kind, url=url)


def notify(*, recipients: Iterable[User], kind: str, target: models.Model, url: str) -> list[Notification]:
    """Notify each recipient once: an in-app notification (unless switched off) and, after commit, an e-mail
    when the recipient's preference for this kind allows it."""
    if kind not in NotificationKind.values:
        raise ValidationError({"kind": _("Unknown kind of notification.")})
    users = {user.pk: user for user in recipients if user.is_active}
    if not users:
        return []
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=users)}

    def allows(user_id: int, field: str) -> bool:
        preference = preferences.get(user_id)
        return preference is None or bool(getattr(preference, field))

    created = Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            kind=kind,
            verb=f"notification.{kind}",
            target_type=target_type(target),
            target_id=str(target.pk),
            url=url,
        )
        for user_id in users
        if allows(user_id, "in_app")
    )
    if created:
        unread = dict(
            Notification.objects.filter(recipient_id__in=[n.recipient_id for n in created], read_at=None)
            .values("recipient_id")
            .annotate(n=Count("pk"))
            .values_list("recipient_id", "n")
        )
        for notification in created:
            events.publish(
                "notification.created",
                notification,
                audience=[f"user.{notification.recipient_id}"],
                payload={"count": unread.get(notification.recipient_id, 0)},
            )
    email_field = EMAIL_PREFERENCE.get(NotificationKind(kind))
    if email_field is not None:
        for user_id, user in users.items():
            if user.email and allows(user_id, email_field):
                _enqueue_email(user_id, kind, url)
    return created


def _lock_own(actor: User, notification: Notification) -> Notification:
    locked = Notification.objects.select_for_update().filter(pk=notification.pk, recipient=actor).first()
    if locked is None:
        raise Http404
    return locked


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read; another user's answers 404."""
    notification = _lock_own(actor, notification)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        audit.record(actor=actor, action="notification.read", target=notification)
        events.publish(
            "notification.read",
            notification,
            audience=[f"user.{actor.pk}"],
            payload={"count": Notification.objects.filter(recipient=actor, read_at=None).count()},
        )
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: User) -> int:
    """Mark all of the actor's unread notifications read; answers how many changed."""
    changed = Notification.objects.filter(recipient=actor, read_at=None).update(read_at=timezone.now())
    if changed:
        audit.record(actor=actor, action="notification.read_all", target=actor, changes={"count": [changed, 0]})
        events.publish("notification.read", actor, audience=[f"user.{actor.pk}"], payload={"count": 0})
    return changed


@transaction.atomic
def preference_update(*, actor: User, **fields: Any) -> NotificationPreference:
    """Change the actor's own notification preferences (booleans only)."""
    unknown = set(fields) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This setting does not exist.") for name in sorted(unknown)})
    wrong = [name for name, value in fields.items() if not isinstance(value, bool)]
    if wrong:
        raise ValidationError({name: _("Choose yes or no.") for name in wrong})
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
    changes = audit.diff(preference, fields)
    if changes:
        for name, value in fields.items():
            setattr(preference, name, value)
        preference.save(update_fields=list(changes))
        audit.record(actor=actor, action="notification_preference.update", target=preference, changes=changes)
    return preference


# Referrals ------------------------------------------------------------------------------------
#
# ``referrals.services.referral_transition`` calls this hook lazily: the one place where a domain app
# reaches into ``messaging`` (ARCHITECTURE.md §1 lets only urls and routing import it), kept to one call.

ANSWERED = frozenset({"accepted", "declined", "completed", "failed"})


def _case_staff_of(agency_id: int) -> list[User]:
    """The active caseworkers and coordinators of an agency: they act on referrals."""
    return list(
        User.objects.filter(
            is_active=True,
            pk__in=Staff.objects.filter(agency_id=agency_id, is_active=True)
            .filter(Q(is_caseworker=True) | Q(is_coordinator=True))
            .values("user_id"),
        )
    )


def notify_referral_change(referral: Any, *, actor: User | None) -> list[Notification]:
    """Notify the people a referral's new status concerns; the actor who caused it is not told."""
    url = reverse("referral-detail", args=[referral.pk])
    status = referral.status
    if status == "sent":
        kind, recipients = NotificationKind.REFERRAL_RECEIVED, _case_staff_of(referral.to_agency_id)
    elif status == "expired":
        kind, recipients = NotificationKind.ANSWER_OVERDUE, _case_staff_of(referral.from_agency_id)
    elif status in ANSWERED:
        kind, recipients = NotificationKind.REFERRAL_ANSWERED, [referral.created_by]
    else:
        return []
    recipients = [user for user in recipients if actor is None or user.pk != actor.pk]
    return notify(recipients=recipients, kind=kind, target=referral, url=url)


def on_event(event: Event, target: models.Model, actor: User | None) -> None:
    """Turns the hub's events into notifications; registered in MessagingConfig.ready."""
    if event.verb.startswith("referral.") and isinstance(target, Referral):
        notify_referral_change(target, actor=actor)
    elif event.verb == "person.merged" and isinstance(target, Person):
        comments_follow_merge(event, target)


# Comments -------------------------------------------------------------------------------------
#
# A comment's readers are decided in ``hub.access`` (``comment_readers``): on a referral both
# agencies, on a person the agencies that see the comment's data category. The body is social
# data: it never goes into the audit log, the events or the notifications, only its length does.

MAX_MENTIONS = 20
# The page that shows the thread of each kind of target.
COMMENT_PAGES = {
    "referral": "referral-detail",
    "person": "person-detail",
    "listing": "housing-listing-detail",
    "agenda_item": "comment-thread-agenda_item",
}


def comment_url(comment: Comment) -> str:
    """The link to a comment in its thread, on its target's page (an agenda item's thread is a page of
    its own); for a kind of target without a page, the comment itself in the API."""
    target_id = getattr(comment, f"{comment.target_kind}_id")
    page = COMMENT_PAGES.get(comment.target_kind)
    if page is None:
        return reverse("api:comment-detail", args=[comment.pk])
    return reverse(page, args=[target_id]) + f"#comment-{comment.pk}"


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": _("Write a comment.")})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _("A comment has at most %(max)s characters; this one has %(length)s.")
                % {"max": COMMENT_MAX_LENGTH, "length": len(body)}
            }
        )
    return body


def _mentioned_users(actor: User, target: models.Model | None, category: str, body: str) -> list[User]:
    """The users ``body`` mentions, each of whom must be able to read the comment, or nothing is saved.

    Only people the author may see at all count as existing: someone else answers like an unknown
    name, so that mentions cannot probe which other agencies know a person.
    """
    names = mentioned_usernames(body)
    if len(names) > MAX_MENTIONS:
        raise ValidationError({"body": _("Mention at most %(max)s people in one comment.") % {"max": MAX_MENTIONS}})
    if not names:
        return []
    readers = access.comment_readers(target, category or None)
    found = {
        user.username: user
        for user in User.objects.filter(
            username__in=names, is_active=True, pk__in=access.visible(actor, Staff).values("user_id")
        )
    }
    refused = [name for name in names if name not in found or not access.agency_ids(found[name]) & readers]
    if refused:
        message = _("These people cannot be mentioned here, because they do not exist or may not read this: %(names)s")
        raise ValidationError({"body": message % {"names": ", ".join(f"@{name}" for name in refused)}})
    return [found[name] for name in names]


def _notify_mentioned(actor: User, comment: Comment, users: Iterable[User]) -> None:
    recipients = [user for user in users if user.pk != actor.pk]
    if recipients:
        notify(recipients=recipients, kind=NotificationKind.MENTIONED, target=comment, url=comment_url(comment))


def _comment_payload(comment: Comment) -> dict[str, Any]:
    kind = comment.target_kind
    return {"on": kind, "on_id": getattr(comment, f"{kind}_id")}


@transaction.atomic
def comment_create(*, actor: User, target: models.Model, body: str, category: str = "") -> Comment:
    """Comment on a referral or a person (on a person within one data category), notifying the people
    it mentions. Caseworkers and coordinators of an agency that reads such comments may write them."""
    field = target_field(target)
    access.require(actor, "comment", target)
    target = type(target)._default_manager.select_for_update().get(pk=target.pk)
    if field == "person":
        if category not in Category.values:
            raise ValidationError({"category": _("Choose a data category.")})
    elif category:
        raise ValidationError({"category": _("Only comments on a person have a data category.")})
    agencies = access.comment_agencies(actor, target, category or None)
    if not agencies:
        raise ValidationError({"category": _("Your agency does not see this data category of the person.")})
    body = _clean_body(body)
    mentioned = _mentioned_users(actor, target, category, body)
    comment = Comment(**{field: target}, category=category, author=actor, body=body)
    comment.agency_id = access.acting_agency_id(actor, among=agencies)  # type: ignore[assignment]  # agencies is not empty
    comment.full_clean()
    comment.save()
    comment.mentions.set(mentioned)
    changes: dict[str, Any] = {"length": [0, len(body)], "mentions": [[], [user.pk for user in mentioned]]}
    if category:
        changes["category"] = ["", category]
    audit.record(actor=actor, action="comment.create", target=comment, agency_id=comment.agency_id, changes=changes)
    events.publish("comment.created", comment, payload=_comment_payload(comment), actor=actor)
    _notify_mentioned(actor, comment, mentioned)
    return comment


@transaction.atomic
def comment_update(*, actor: User, comment: Comment, body: str) -> Comment:
    """Change the text of one's own comment; only people mentioned for the first time are notified."""
    access.require(actor, "change", comment)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.is_deleted:
        raise ValidationError({"body": _("This comment has been deleted.")})
    body = _clean_body(body)
    mentioned = _mentioned_users(actor, comment.target, comment.category, body)
    before = set(comment.mentions.values_list("pk", flat=True))
    if body == comment.body and before == {user.pk for user in mentioned}:
        return comment
    old_length = len(comment.body)
    comment.body = body
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    comment.mentions.set(mentioned)
    audit.record(
        actor=actor,
        action="comment.update",
        target=comment,
        agency_id=comment.agency_id,
        changes={
            "length": [old_length, len(body)],
            "mentions": [sorted(before), [user.pk for user in mentioned]],
        },
    )
    events.publish("comment.updated", comment, payload=_comment_payload(comment), actor=actor)
    _notify_mentioned(actor, comment, [user for user in mentioned if user.pk not in before])
    return comment


@transaction.atomic
def comment_delete(*, actor: User, comment: Comment) -> Comment:
    """Delete one's own comment: the row stays so that the thread shows a removed comment, the text goes."""
    access.require(actor, "delete", comment)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.is_deleted:
        return comment
    old_length = len(comment.body)
    comment.body = ""
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["body", "deleted_at"])
    comment.mentions.clear()
    audit.record(
        actor=actor,
        action="comment.delete",
        target=comment,
        agency_id=comment.agency_id,
        changes={"length": [old_length, 0]},
    )
    events.publish("comment.deleted", comment, payload=_comment_payload(comment), actor=actor)
    return comment


def comments_follow_merge(event: Event, keep: Person) -> None:
    """A merged duplicate's comments move to the record that is kept, as its files and shares do."""
    merged = event.payload.get("merged")
    if merged:
        Comment.objects.filter(person_id=merged).update(person=keep)
