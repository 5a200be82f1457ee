"""Comment threads in the pages of other apps: ``{% comment_section referral %}`` renders the section
with its own data, so that a page only needs the one line."""

from __future__ import annotations

from django import template
from django.db.models import Model
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from messaging.models import MENTION, SENTENCE_END, Comment
from referrals.models import Category

register = template.Library()


@register.simple_tag(takes_context=True)
def comment_section(context: template.Context, target: Model) -> SafeString:
    from messaging.views import section_context  # the views import this library's app, not the reverse

    request = context["request"]
    return render_to_string(
        "messaging/partials/comment_section.html", section_context(request, target), request=request
    )


@register.simple_tag
def comment_body(comment: Comment) -> SafeString:
    """The comment's text, escaped, with line breaks kept and each mention shown with the person's name.

    Only the users the comment really mentions (``comment.mentions``) are shown by name; any other
    ``@word`` stays as it was written.
    """
    body = comment.body
    named = {user.username: user for user in comment.mentions.all()}
    pieces: list[str] = []
    done = 0
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(SENTENCE_END)
        user = named.get(name)
        if user is None:
            continue
        end = match.start(1) + len(name)
        pieces.append(escape(body[done : match.start()]))
        pieces.append(format_html('<span class="mention">@{}</span>', user.get_full_name() or name))
        done = end
    pieces.append(escape(body[done:]))
    # Every piece is escaped (or built by format_html) above; only the line breaks are added here.
    return mark_safe("".join(pieces).replace("\n", "<br>"))  # noqa: S308


@register.filter
def category_label(code: str) -> str:
    return str(Category(code).label) if code in Category.values else code
