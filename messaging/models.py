"""Notifications: what a user should look at, kept per recipient, with the user's delivery preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", _("A new referral has arrived")
    ANSWER_OVERDUE = "answer_overdue", _("A referral was not answered in time")
    REFERRAL_ANSWERED = "referral_answered", _("A referral you sent has been answered")


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
    in_app = models.BooleanField(_("show notifications in the hub"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(_("Notification preferences of %(user)s") % {"user": self.user_id})
