"""Reads of notifications and comments.

A notification belongs to its recipient alone, so its scope is the recipient foreign key. Comments are
scoped by ``hub.access.visible`` like every shared object: who reads them follows their target (and on a
person their data category), which only the policy knows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404

from agencies.models import Staff, User
from hub import access
from messaging.models import Comment, Notification, NotificationPreference, target_field
from privacy import reads
from referrals.models import CaseFile, Category, Person, Referral, Share


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's own notifications, unread ones first, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-read_at", "-created_at", "-pk")


def notification_or_404(user: User, pk: int) -> Notification:
    """One of the user's notifications; another user's id answers 404 like a missing one."""
    try:
        return Notification.objects.get(recipient=user, pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at=None).count()


def preference_for(user: User) -> NotificationPreference:
    """The user's preferences; an unsaved default row when the user never changed them."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)


# Comments -------------------------------------------------------------------------------------


def comment_thread(actor: User, target: Model) -> QuerySet[Comment]:
    """The comments on ``target`` the actor may read, oldest first, with author, agency and mentions:
    one query for the thread and one for the mentions, however long it is."""
    mentions = Prefetch("mentions", queryset=User.objects.only("id", "username", "first_name", "last_name"))
    return (
        access.visible(actor, Comment)
        .filter(**{target_field(target): target})
        .select_related("author", "agency")
        .prefetch_related(mentions)
        .order_by("created_at", "pk")
    )


def note_thread_read(target: Model, comments: Iterable[Comment]) -> None:
    """A thread shows its comments: on a person, the data categories they belong to; on a referral,
    remarks about the referral (the read-access log, ``privacy.reads``)."""
    shown = [comment for comment in comments if not comment.is_deleted]
    if isinstance(target, Person):
        reads.note(target.pk, {comment.category for comment in shown})
    elif isinstance(target, Referral) and shown:
        reads.note(target.person_id, {reads.REFERRALS})


def comment_detail(actor: User, pk: int | str) -> Comment:
    """One comment the actor may read, with its target; 404 otherwise."""
    queryset = access.visible(actor, Comment).select_related("author", "agency", "referral", "person", "listing")
    try:
        comment = queryset.prefetch_related("mentions").get(pk=pk)
    except (Comment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    target = comment.referral or comment.person
    if target is not None:
        note_thread_read(target, [comment])
    return comment


def mentionable_staff(actor: User, target: Model, category: str = "") -> QuerySet[User]:
    """Who may be mentioned in a comment on ``target`` (in ``category``): active users of the agencies that
    would read it, among the staff the actor can see at all."""
    readers = access.comment_readers(target, category or None)
    staff = access.visible(actor, Staff).filter(is_active=True, agency_id__in=readers)
    return User.objects.filter(is_active=True, pk__in=staff.values("user_id")).order_by(
        "last_name", "first_name", "username"
    )


def commentable_categories(actor: User, person: Person) -> list[str]:
    """The data categories of ``person`` in which the actor may comment: all of them where one of their
    agencies (as caseworker or coordinator) holds the file, else those of the shares these agencies received."""
    own = access.agency_ids(actor, *access.CASE_ROLES)
    if not own or person.merged_into_id is not None:
        return []
    if access.visible(actor, CaseFile).filter(person=person, agency_id__in=own, closed_at=None).exists():
        return list(Category.values)
    shared: set[str] = set()
    shares = access.visible(actor, Share).filter(person=person, to_agency_id__in=own, ended_at=None)
    for categories in shares.values_list("categories", flat=True):
        shared.update(categories)
    return [category for category in Category.values if category in shared]
