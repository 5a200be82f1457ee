"""Pages of the user's own notifications and notification preferences, and the comment threads
that the pages of referrals, persons and flats show (``{% comment_section %}``), and the thread of
an agenda item on a page of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from housing.models import Listing
from hub import access
from hub.views import HubRequest
from hub.web import apply_errors, done, list_response, paginate, post_data
from messaging import selectors, services
from messaging.forms import CommentForm, PreferenceForm
from messaging.models import AgendaItem, Comment, target_field
from referrals.models import Category, Person, Referral


@login_required
def notification_list(request: HubRequest) -> HttpResponse:
    page = paginate(request, selectors.notifications_for(request.user))
    return list_response(request, "messaging/notification_list.html", {"page_obj": page, "section": "notifications"})


@login_required
@require_POST
def notification_read(request: HubRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_or_404(request.user, pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    # "Open" marks read and follows the link; the stored link is relative, and checked anyway.
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return done(request, target)
    return done(request, reverse("notification-list"))


@login_required
@require_POST
def notification_read_all(request: HubRequest) -> HttpResponse:
    changed = services.notification_mark_all_read(actor=request.user)
    if changed:
        messages.success(request, _("All notifications are marked as read."))
    return done(request, reverse("notification-list"))


@login_required
def notification_preferences(request: HubRequest) -> HttpResponse:
    form = PreferenceForm(post_data(request), instance=selectors.preference_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return done(request, reverse("notification-preferences"))
    return render(request, "messaging/notification_preferences.html", {"form": form, "section": "notifications"})


# Comments -------------------------------------------------------------------------------------
#
# The thread is a section of its target's page. With htmx a new comment swaps the section (the
# thread and a fresh form); without JavaScript the form posts normally and the page reloads at the
# comment. Editing and deleting are pages of their own, so they work without any script.

DEFAULT_CATEGORY = Category.PLAN


@dataclass(frozen=True)
class CommentRow:
    comment: Comment
    may_change: bool


def _target(actor: Any, kind: str, pk: int) -> Model:
    model = {"referral": Referral, "person": Person, "listing": Listing, "agenda_item": AgendaItem}[kind]
    return access.get_visible_or_404(actor, model, pk=pk)


def _category_of(form: CommentForm | None, categories: list[str] | None, wanted: str = "") -> str:
    """The category the mention list is for: the one chosen in the form, else the default."""
    if not categories:
        return ""
    chosen = wanted or (form.data.get("category", "") if form is not None and form.is_bound else "")
    if chosen in categories:
        return chosen
    return DEFAULT_CATEGORY if DEFAULT_CATEGORY in categories else categories[0]


def section_context(
    request: HubRequest, target: Model, form: CommentForm | None = None, *, category: str = "", saved: bool = False
) -> dict[str, Any]:
    """What the comment section of ``target``'s page shows to the current user."""
    actor = request.user
    kind = target_field(target)
    categories = selectors.commentable_categories(actor, target) if isinstance(target, Person) else None
    may_comment = access.can(actor, "comment", target) and categories != []
    chosen = _category_of(form, categories, category)
    if form is None and may_comment:
        form = CommentForm(categories=categories, initial={"category": chosen} if chosen else None)
    thread_url = reverse(f"comment-thread-{kind}", args=[target.pk])
    mentionable_id = f"mentionable-{kind}-{target.pk}"
    if form is not None and "category" in form.fields:
        # With htmx, choosing a category refreshes the list of who can be mentioned in it.
        form.fields["category"].widget.attrs.update(
            {
                "hx-get": thread_url,
                "hx-trigger": "change",
                "hx-target": f"#{mentionable_id}",
                "hx-select": f"#{mentionable_id}",
                "hx-swap": "outerHTML",
            }
        )
    thread = list(selectors.comment_thread(actor, target))
    selectors.note_thread_read(target, thread)
    return {
        "target": target,
        "kind": kind,
        # The thread holds only comments the actor reads, so authorship decides the rest (hub.access).
        "rows": [CommentRow(c, c.author_id == actor.pk and not c.is_deleted) for c in thread],
        "form": form if may_comment else None,
        "mentionable": list(selectors.mentionable_staff(actor, target, chosen)) if may_comment else [],
        "mention_category": Category(chosen).label if chosen else "",
        "create_url": reverse(f"comment-create-{kind}", args=[target.pk]),
        "thread_url": thread_url,
        "mentionable_id": mentionable_id,
        "target_url": reverse(services.COMMENT_PAGES[kind], args=[target.pk]),
        "section_id": f"comments-{kind}-{target.pk}",
        "thread_id": f"comment-thread-{kind}-{target.pk}",
        "saved": saved,
    }


# An agenda item has no page of its own besides its thread: the thread page names the meeting.
THREAD_PAGES = {"agenda_item": "messaging/meetings/action_agenda_item_comments.html"}


def _thread_page(kind: str) -> str:
    return THREAD_PAGES.get(kind, "messaging/comment_thread.html")


def _section(request: HubRequest, target: Model, **kwargs: Any) -> HttpResponse:
    """The section alone for htmx, else a page of its own around it."""
    context = section_context(request, target, **kwargs)
    template = "messaging/partials/comment_section.html" if request.htmx else _thread_page(context["kind"])
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def comment_thread(request: HubRequest, kind: str, pk: int) -> HttpResponse:
    """The thread of a referral, person, flat or agenda item; ``kind`` comes from the URL pattern."""
    target = _target(request.user, kind, pk)
    return _section(request, target, category=request.GET.get("category", ""))


@login_required
@require_POST
def comment_create(request: HubRequest, kind: str, pk: int) -> HttpResponse:
    actor = request.user
    target = _target(actor, kind, pk)
    access.require(actor, "comment", target)
    categories = selectors.commentable_categories(actor, target) if isinstance(target, Person) else None
    form = CommentForm(request.POST, categories=categories)
    if form.is_valid():
        try:
            comment = services.comment_create(
                actor=actor,
                target=target,
                body=form.cleaned_data["body"],
                category=form.cleaned_data.get("category", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if request.htmx:
                return _section(request, target, category=comment.category, saved=True)
            messages.success(request, _("Your comment has been added."))
            return redirect(services.comment_url(comment))
    if request.htmx:
        return _section(request, target, form=form)
    return render(request, _thread_page(target_field(target)), section_context(request, target, form=form))


@login_required
def comment_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    comment = selectors.comment_detail(actor, pk)
    access.require(actor, "change", comment)
    form = CommentForm(post_data(request), initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.comment_update(actor=actor, comment=comment, body=form.cleaned_data["body"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your comment has been changed."))
            return done(request, services.comment_url(comment))
    context = {"comment": comment, "form": form, "target_url": services.comment_url(comment)}
    return render(request, "messaging/comment_edit.html", context)


@login_required
def comment_delete(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    comment = selectors.comment_detail(actor, pk)
    access.require(actor, "delete", comment)
    if request.method == "POST":
        services.comment_delete(actor=actor, comment=comment)
        messages.success(request, _("Your comment has been deleted."))
        return done(request, services.comment_url(comment))
    return render(
        request, "messaging/comment_delete.html", {"comment": comment, "target_url": services.comment_url(comment)}
    )
