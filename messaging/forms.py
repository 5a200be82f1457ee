from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from messaging.models import COMMENT_MAX_LENGTH, NotificationPreference
from referrals.models import Category


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = [
            "in_app",
            "email_referral_received",
            "email_answer_overdue",
            "email_mentioned",
            "email_action_item_due",
        ]


class CommentForm(forms.Form):
    """A comment's text and, on a person, its data category (among those the author may comment in)."""

    required_css_class = "required"

    body = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Mention colleagues with @username; they are notified. "
            "Only people who may read the comment can be mentioned."
        ),
    )
    category = forms.ChoiceField(
        label=_("Data category"),
        help_text=_("Only agencies that see this category of the person read the comment."),
    )

    def __init__(self, *args: Any, categories: list[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "comment-%s")
        super().__init__(*args, **kwargs)
        if categories is None:
            del self.fields["category"]
        else:
            cast(forms.ChoiceField, self.fields["category"]).choices = [
                (code, Category(code).label) for code in categories
            ]
