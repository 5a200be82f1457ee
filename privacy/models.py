"""The records of data protection: who read which person's data, what retention removed, and the
legal holds that stop it.

The read-access log and the deletion log are append-only like the audit log (``hub.models``): a
PostgreSQL trigger refuses to change their rows. Both name persons, staff and agencies by id only,
never by name, so that anonymising a person leaves them as they are.
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

# Rows of the read-access log younger than this cannot be deleted, whatever the retention settings
# say: the database itself refuses (see ``ReadAccess``). Lowering it means changing the trigger in
# a migration, on purpose and visible in review.
READ_LOG_MIN_DAYS = 365


class ReadAccess(models.Model):
    """One request that showed a person's data to a staff member: who, for which agency, which data
    categories, for what purpose, when. One row per request and person, never one per field.

    Written by ``privacy.reads`` after a successful (2xx) response. PostgreSQL refuses every update,
    and every delete of a row younger than ``READ_LOG_MIN_DAYS``: the only deleter is the retention
    job (``manage.py apply_retention``), and only of rows older than the configured period, which is
    never shorter than that floor. A narrow exception, so that the log itself is not kept forever
    (GDPR art. 5 (1)(e)), without letting anyone erase recent reads.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    person = models.ForeignKey(
        "referrals.Person",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("person"),
    )
    categories = models.JSONField(_("data categories"), default=list)
    purpose = models.CharField(_("purpose"), max_length=120)
    method = models.CharField(_("method"), max_length=8, blank=True)
    request_id = models.CharField(_("request id"), max_length=36, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("read access")
        verbose_name_plural = _("read accesses")
        indexes = [
            models.Index(fields=["agency", "person", "-at"], name="privacy_read_agency_person"),
            models.Index(fields=["agency", "user", "-at"], name="privacy_read_agency_user"),
        ]
        triggers = [
            pgtrigger.Protect(name="read_access_no_update", operation=pgtrigger.Update),
            pgtrigger.Protect(
                name="read_access_no_early_delete",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition(f"OLD.at > now() - interval '{READ_LOG_MIN_DAYS} days'"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} user {self.user_id} person {self.person_id} ({self.purpose})"


class DeletionAction(models.TextChoices):
    ANONYMISED = "anonymised", _("anonymised")
    DOCUMENT_DELETED = "document_deleted", _("document deleted")
    TEXT_CLEARED = "text_cleared", _("text cleared")
    DELETED = "deleted", _("deleted")


class DeletionLogEntry(models.Model):
    """What one run of the retention job removed: the rule, the kind and id of the record, when,
    and how many rows it changed. No personal data: ids and counts only. Append-only (a trigger)."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    run_id = models.UUIDField(_("run"), default=uuid.uuid4)
    rule = models.CharField(_("rule"), max_length=40)
    record_type = models.CharField(_("record type"), max_length=80)
    record_id = models.CharField(_("record id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=DeletionAction.choices)
    count = models.PositiveIntegerField(_("records"), default=1)
    details = models.JSONField(_("rows changed"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("deletion log entry")
        verbose_name_plural = _("deletion log entries")
        indexes = [models.Index(fields=["record_type", "record_id"], name="privacy_deletion_record")]
        triggers = [
            pgtrigger.Protect(name="deletion_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.rule} {self.record_type}:{self.record_id or '*'} ×{self.count}"


class LegalHold(models.Model):
    """While a hold is on, retention leaves the person's data alone: a pending court case, an
    objection, a request of the public prosecutor. Placed and lifted by a data-protection officer.

    The reason is a reference (a file number), not a story: it stays when the person is anonymised.
    """

    person = models.ForeignKey(
        "referrals.Person", on_delete=models.PROTECT, related_name="legal_holds", verbose_name=_("person")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    reason = models.CharField(
        _("reason"), max_length=200, help_text=_("A file number or short reason, without personal data.")
    )
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [models.Index(fields=["person", "lifted_at"], name="privacy_hold_person")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.reason}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
