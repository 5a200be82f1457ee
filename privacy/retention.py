"""Retention: which records are anonymised or deleted when, and the job that does it.

Each rule names a kind of record, the period after which it goes (``settings.PRIVACY_RETENTION_DAYS``,
defaults below) and what happens to it. ``manage.py apply_retention`` runs every rule daily;
``--dry-run`` (and the data-protection officer's preview) lists what would go without changing
anything. Every change is written to the deletion log (``DeletionLogEntry``): rule, record type and
id, time and counts, no personal data. The job is idempotent: what it anonymised no longer matches.

Nothing still needed is touched: a person with an open case file, an open referral (a draft
included), an open plan, an active enrolment, a proposed transfer, an active share, an open action
item of a round table, a household with a current tenancy, an active reservation or an open
housing request, or an active legal hold keeps everything.

The audit log (``hub.models.AuditEntry``) is left alone: it is the proof of who changed what
(§ 22 (2) BDSG) and has its own retention; the read-access log names persons by id only.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import models, transaction
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest, TruncYear
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from housing.models import HousingRequest, LeaseHandover, OverLimitApproval, Reservation, Tenancy
from privacy.models import READ_LOG_MIN_DAYS, DeletionAction, DeletionLogEntry, LegalHold, ReadAccess
from referrals.models import (
    CaseFile,
    Consent,
    Enrollment,
    Household,
    Person,
    Plan,
    PlanStatus,
    PlanStep,
    Profile,
    RecognitionProcedure,
    Referral,
    ReferralStatusChange,
    ResponsibilityTransfer,
    Share,
    TransferStatus,
)
from referrals.services import ACTIVE_ENROLLMENT, TERMINAL

# What an anonymised name reads: neutral, and never a real name.
ANONYMISED = "[anonymisiert]"
# How many ids a preview lists per rule; the counts are always complete.
PREVIEW_IDS = 100

DEFAULT_DAYS = {
    "person_inactive": 5 * 365,
    "consent_ended": 3 * 365,
    "referral_comments": 365,
    "read_log": 2 * 365,
}


def days(rule: str) -> int:
    configured: dict[str, int] = getattr(settings, "PRIVACY_RETENTION_DAYS", {})
    return int(configured.get(rule, DEFAULT_DAYS[rule]))


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The configured periods are whole positive days, and the read log is kept at least its floor."""
    errors: list[checks.CheckMessage] = []
    for rule in DEFAULT_DAYS:
        if days(rule) < 1:
            errors.append(checks.Error(f"PRIVACY_RETENTION_DAYS[{rule!r}] must be at least 1.", id="privacy.E001"))
    if days("read_log") < READ_LOG_MIN_DAYS:
        errors.append(
            checks.Error(
                f"PRIVACY_RETENTION_DAYS['read_log'] must be at least {READ_LOG_MIN_DAYS}: the database "
                "refuses to delete younger rows of the read-access log.",
                id="privacy.E002",
            )
        )
    return errors


def _comment_model() -> type[models.Model]:
    # messaging sits above privacy's dependencies: known by label, as hub.access does.
    return apps.get_model("messaging", "Comment")


def _action_item_model() -> type[models.Model]:
    return apps.get_model("messaging", "ActionItem")


# What is still needed --------------------------------------------------------------------------


def _held_person_ids() -> QuerySet[Any]:
    return LegalHold.objects.filter(lifted_at=None).values("person_id")


def _needed_persons() -> Q:
    """Persons whose data is still in use (see the module's docstring)."""
    housing = (
        Q(pk__in=Tenancy.objects.filter(status__in=["allocated", "active"]).values("household_id"))
        | Q(pk__in=Reservation.objects.filter(status="active").values("household_id"))
        | Q(pk__in=HousingRequest.objects.filter(status="open").values("household_id"))
    )
    return (
        Q(pk__in=CaseFile.objects.filter(closed_at=None).values("person_id"))
        | Q(pk__in=Referral.objects.exclude(status__in=TERMINAL).values("person_id"))
        | Q(pk__in=Plan.objects.exclude(status=PlanStatus.CLOSED).values("person_id"))
        | Q(pk__in=Enrollment.objects.filter(status__in=ACTIVE_ENROLLMENT).values("person_id"))
        | Q(pk__in=ResponsibilityTransfer.objects.filter(status=TransferStatus.PROPOSED).values("person_id"))
        | Q(pk__in=Share.objects.filter(ended_at=None).values("person_id"))
        | Q(pk__in=_action_item_model()._default_manager.filter(status="open").values("person_id"))
        | Q(pk__in=_held_person_ids())
        | Q(household__in=Household.objects.filter(housing))
    )


def _latest(model: type[models.Model], column: str, path: str = "person") -> Coalesce:
    newest = (
        model._default_manager.filter(**{path: OuterRef("pk")})
        .order_by()
        .values(path)
        .annotate(newest=Max(column))
        .values("newest")[:1]
    )
    return Coalesce(Subquery(newest), F("created_at"))


def _last_activity() -> Greatest:
    """The newest trace of work on the person: files, referrals, consents, shares, profiles, plans,
    enrolments, transfers, recognitions and comments (reads do not count: reading needs no data)."""
    return Greatest(
        F("created_at"),
        _latest(CaseFile, "opened_at"),
        _latest(CaseFile, "closed_at"),
        _latest(Referral, "created_at"),
        _latest(Referral, "closed_at"),
        _latest(ReferralStatusChange, "at", "referral__person"),
        _latest(Consent, "recorded_at"),
        _latest(Consent, "revoked_at"),
        _latest(Share, "created_at"),
        _latest(Share, "ended_at"),
        _latest(Profile, "created_at"),
        _latest(Plan, "updated_at"),
        _latest(Enrollment, "updated_at"),
        _latest(ResponsibilityTransfer, "proposed_at"),
        _latest(ResponsibilityTransfer, "decided_at"),
        _latest(RecognitionProcedure, "created_at"),
        _latest(_comment_model(), "created_at"),
    )


# The rules ---------------------------------------------------------------------------------------


def _inactive_persons(cutoff: datetime.datetime) -> QuerySet[Any]:
    return (
        Person.objects.filter(merged_into=None)
        .exclude(last_name=ANONYMISED)
        .exclude(_needed_persons())
        .annotate(last_activity=_last_activity())
        .filter(last_activity__lt=cutoff)
    )


def _ended_consents(cutoff: datetime.datetime) -> QuerySet[Any]:
    resting = Share.objects.filter(ended_at=None, consent__isnull=False).values("consent_id")
    referred = Referral.objects.exclude(status__in=TERMINAL).filter(consent__isnull=False).values("consent_id")
    return (
        Consent.objects.exclude(document="")
        .filter(Q(revoked_at__lt=cutoff) | Q(valid_until__lt=cutoff.date()))
        .exclude(pk__in=resting)
        .exclude(pk__in=referred)
        .exclude(person_id__in=_held_person_ids())
    )


def _closed_referral_comments(cutoff: datetime.datetime) -> QuerySet[Any]:
    return (
        _comment_model()
        ._default_manager.filter(referral__closed_at__lt=cutoff)
        .exclude(body="")
        .exclude(referral__person_id__in=_held_person_ids())
    )


def _old_reads(cutoff: datetime.datetime) -> QuerySet[Any]:
    return ReadAccess.objects.filter(at__lt=cutoff)


@dataclass(frozen=True)
class Rule:
    name: str
    record_type: str
    label: str | Promise
    action: str
    candidates: Callable[[datetime.datetime], QuerySet[Any]]

    @property
    def days(self) -> int:
        return days(self.name)

    def cutoff(self, now: datetime.datetime) -> datetime.datetime:
        return now - datetime.timedelta(days=self.days)


RULES: tuple[Rule, ...] = (
    Rule(
        "person_inactive",
        "referrals.person",
        _("Persons whose files are all closed and who had no activity since: anonymised"),
        DeletionAction.ANONYMISED,
        _inactive_persons,
    ),
    Rule(
        "consent_ended",
        "referrals.consent",
        _("Signed documents of revoked or expired consents: deleted (the record of the consent stays)"),
        DeletionAction.DOCUMENT_DELETED,
        _ended_consents,
    ),
    Rule(
        "referral_comments",
        "messaging.comment",
        _("Comments on closed referrals: text cleared"),
        DeletionAction.TEXT_CLEARED,
        _closed_referral_comments,
    ),
    Rule(
        "read_log",
        "privacy.readaccess",
        _("Entries of the read-access log: deleted"),
        DeletionAction.DELETED,
        _old_reads,
    ),
)


@dataclass(frozen=True)
class RulePreview:
    rule: Rule
    count: int
    ids: list[int]

    @property
    def more(self) -> int:
        return self.count - len(self.ids)


@dataclass
class RunResult:
    run_id: uuid.UUID
    dry_run: bool
    previews: list[RulePreview]
    applied: dict[str, int] = field(default_factory=dict)


def preview(now: datetime.datetime | None = None) -> list[RulePreview]:
    """What each rule would remove now: complete counts, the first ids. Changes nothing."""
    now = now or timezone.now()
    found = []
    for rule in RULES:
        candidates = rule.candidates(rule.cutoff(now))
        ids = list(candidates.order_by("pk").values_list("pk", flat=True)[:PREVIEW_IDS])
        count = len(ids) if len(ids) < PREVIEW_IDS else candidates.count()
        found.append(RulePreview(rule=rule, count=count, ids=ids))
    return found


def apply(now: datetime.datetime | None = None, *, dry_run: bool = False) -> RunResult:
    """Run every rule (or, with ``dry_run``, only say what each would do)."""
    now = now or timezone.now()
    result = RunResult(run_id=uuid.uuid4(), dry_run=dry_run, previews=preview(now))
    if dry_run:
        return result
    for rule in RULES:
        result.applied[rule.name] = APPLY[rule.name](rule, now, result.run_id)
    return result


# What each rule does -----------------------------------------------------------------------------


def _log(rule: Rule, run_id: uuid.UUID, record_id: object, count: int, details: dict[str, int]) -> DeletionLogEntry:
    return DeletionLogEntry(
        run_id=run_id,
        rule=rule.name,
        record_type=rule.record_type,
        record_id=str(record_id) if record_id is not None else "",
        action=rule.action,
        count=count,
        details={key: value for key, value in details.items() if value},
    )


def _delete_documents(consents: QuerySet[Consent]) -> int:
    """Delete the signed PDFs from storage first, then forget them: if the transaction rolls back,
    the record points to a file that is gone (the download answers 404), never the other way round."""
    deleted = 0
    for consent in consents.exclude(document=""):
        if consent.document.name:
            consent.document.storage.delete(consent.document.name)
        deleted += 1
    consents.exclude(document="").update(document="")
    return deleted


def _anonymise_persons(rule: Rule, now: datetime.datetime, run_id: uuid.UUID) -> int:
    done = 0
    for pk in list(rule.candidates(rule.cutoff(now)).order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            Person.objects.select_for_update().filter(pk=pk).first()
            # Checked again under the lock: a referral may have been opened since the list was read.
            if not rule.candidates(rule.cutoff(now)).filter(pk=pk).exists():
                continue
            details = anonymise_person(pk)
            _log(rule, run_id, pk, details.pop("persons"), details).save()
            done += 1
    return done


def anonymise_person(pk: int) -> dict[str, int]:
    """Anonymise a person and the records about them, with the duplicates merged into them.

    Names become the neutral marker, dates of birth (and of arrival, benefits) the first day of
    their year, contact data and every free text goes, signed documents are deleted. What remains
    (categories, statuses, dates of steps, nationality, gender, the benefit scheme) serves the
    round table's aggregated reports and holds nobody's identity.
    """
    ids = [pk, *Person.objects.filter(merged_into_id=pk).values_list("pk", flat=True)]
    persons = Person.objects.filter(pk__in=ids)
    household_ids = {hid for hid in persons.values_list("household_id", flat=True) if hid is not None}
    consents = Consent.objects.filter(person_id__in=ids)
    details = {
        "persons": persons.update(
            first_name=ANONYMISED,
            last_name=ANONYMISED,
            birth_date=TruncYear("birth_date"),
            arrival_date=TruncYear("arrival_date"),
            benefits_since=TruncYear("benefits_since"),
            street="",
            postcode="",
            city="",
            phone="",
            email="",
            residence_status="",
            residence_permit_until=None,
            residence_obligation="",
            health_notes="",
        ),
        "documents": _delete_documents(consents),
        "consents": consents.update(purpose=""),
        "shares": Share.objects.filter(person_id__in=ids).exclude(basis_reason="").update(basis_reason=""),
        "profiles": Profile.objects.filter(person_id__in=ids).update(wishes="", childcare_needs="", assessment=""),
        "plans": Plan.objects.filter(person_id__in=ids).update(goals="", plain_summary=""),
        "plan_steps": PlanStep.objects.filter(plan__person_id__in=ids).exclude(notes="").update(notes=""),
        "referrals": Referral.objects.filter(person_id__in=ids).update(reason="", basis_reason="", status_note=""),
        "referral_history": ReferralStatusChange.objects.filter(referral__person_id__in=ids)
        .exclude(note="")
        .update(note=""),
        "transfers": ResponsibilityTransfer.objects.filter(person_id__in=ids).exclude(note="").update(note=""),
        "recognitions": RecognitionProcedure.objects.filter(person_id__in=ids).exclude(gaps="").update(gaps=""),
        "comments": _comment_model()
        ._default_manager.filter(Q(person_id__in=ids) | Q(referral__person_id__in=ids))
        .exclude(body="")
        .update(body=""),
    }
    for household_id in household_ids:
        details["households"] = details.get("households", 0) + _anonymise_household(household_id)
    return details


def _anonymise_household(household_id: int) -> int:
    """A household whose members are all anonymised loses its name and the notes about it."""
    members = Person.objects.filter(household_id=household_id, merged_into=None)
    if members.exclude(last_name=ANONYMISED).exists():
        return 0
    Household.objects.filter(pk=household_id).update(name=ANONYMISED)
    HousingRequest.objects.filter(household_id=household_id).update(note="", decision_note="")
    Reservation.objects.filter(household_id=household_id).update(note="")
    OverLimitApproval.objects.filter(household_id=household_id).update(reason="")
    LeaseHandover.objects.filter(tenancy__household_id=household_id).update(note="")
    return 1


def _delete_consent_documents(rule: Rule, now: datetime.datetime, run_id: uuid.UUID) -> int:
    done = 0
    for pk in list(rule.candidates(rule.cutoff(now)).order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            consents = rule.candidates(rule.cutoff(now)).filter(pk=pk).select_for_update(of=("self",))
            if _delete_documents(consents):
                _log(rule, run_id, pk, 1, {"documents": 1}).save()
                done += 1
    return done


def _clear_comments(rule: Rule, now: datetime.datetime, run_id: uuid.UUID) -> int:
    with transaction.atomic():
        comments = rule.candidates(rule.cutoff(now))
        ids = list(comments.order_by("pk").values_list("pk", flat=True))
        _comment_model()._default_manager.filter(pk__in=ids).update(body="")
        DeletionLogEntry.objects.bulk_create(_log(rule, run_id, pk, 1, {"comments": 1}) for pk in ids)
    return len(ids)


def _delete_reads(rule: Rule, now: datetime.datetime, run_id: uuid.UUID) -> int:
    with transaction.atomic():
        count, _per_model = rule.candidates(rule.cutoff(now)).delete()
        if count:
            _log(rule, run_id, None, count, {"reads": count}).save()
    return count


APPLY: dict[str, Callable[[Rule, datetime.datetime, uuid.UUID], int]] = {
    "person_inactive": _anonymise_persons,
    "consent_ended": _delete_consent_documents,
    "referral_comments": _clear_comments,
    "read_log": _delete_reads,
}


def rule_named(name: str) -> Rule:
    for rule in RULES:
        if rule.name == name:
            return rule
    raise LookupError(name)


def labelled(previews: Iterable[RulePreview]) -> list[tuple[str, str, int, list[int]]]:
    """Plain rows (name, label, count, ids) for the command's and the API's output."""
    return [(p.rule.name, str(p.rule.label), p.count, p.ids) for p in previews]
