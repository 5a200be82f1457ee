"""Writes and audited reads of data protection: legal holds, requests of access, evaluations of the
read-access log.

Each checks permission through ``hub.access`` and records an audit row. Answering a request of
access and evaluating the read-access log change nothing, but they disclose a whole file or a
colleague's activity, so they are audited like a change (and the staff council can see that the
log is evaluated only for a reason).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, User
from hub import access, audit, events
from privacy import reads, subject_access
from privacy.models import LegalHold
from referrals.models import Person


@transaction.atomic
def subject_access_answer(*, actor: User, person: Person, output: str) -> subject_access.SubjectAccess:
    """Everything about ``person`` that the actor's agency may see, for the person (art. 15 GDPR).

    Caseworkers and coordinators holding the file, and the data-protection officers of an agency
    that sees the person, may ask; ``output`` ("page", "json" or "api") goes into the audit row.
    """
    access.require(actor, "subject_access", person)
    answer = subject_access.build(actor, person)
    reads.note(answer.person_ids, answer.shown, purpose=reads.SUBJECT_ACCESS)
    audit.record(
        actor=actor,
        action="person.subject_access",
        target=person,
        agency_id=access.acting_agency_id(actor),
        changes={"output": [None, output]},
    )
    return answer


def read_log_evaluated(*, actor: User, search: dict[str, Any], output: str) -> None:
    """Record that a data-protection officer searched the read-access log (for whom, how)."""
    officer_of = access.dpo_agencies(actor)
    agency = Agency.objects.filter(pk__in=officer_of).order_by("name").first()
    if agency is None or not access.can(actor, "read_log", agency):
        raise PermissionDenied
    user = search.get("user")
    changes: dict[str, list[Any]] = {"output": [None, output]}
    if search.get("reference"):
        changes["reference"] = [None, str(search["reference"]).strip()]
    if user is not None:
        changes["staff_member"] = [None, user.pk]
    for name in ("since", "until"):
        if search.get(name):
            changes[name] = [None, search[name].isoformat()]
    audit.record(actor=actor, action="privacy.read_log", target=agency, agency_id=agency.pk, changes=changes)


@transaction.atomic
def legal_hold_place(*, actor: User, person: Person, reason: str) -> LegalHold:
    """Stop retention for a person until the hold is lifted."""
    access.require(actor, "legal_hold", person)
    agency_id = access.acting_agency_id(actor, access.dpo_agencies(actor))
    hold = LegalHold(person=person, agency_id=agency_id, reason=reason.strip(), placed_by=actor)
    hold.full_clean()
    hold.save()
    audit.record(actor=actor, action="legal_hold.place", target=hold, agency_id=agency_id)
    events.publish("legal_hold.placed", hold, audience={f"agency.{agency_id}"})
    return hold


@transaction.atomic
def legal_hold_lift(*, actor: User, hold: LegalHold) -> LegalHold:
    access.require(actor, "lift_hold", hold)
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        raise ValidationError(_("This hold has been lifted already."))
    hold.lifted_at = timezone.now()
    hold.lifted_by = actor
    hold.save(update_fields=["lifted_at", "lifted_by"])
    audit.record(
        actor=actor,
        action="legal_hold.lift",
        target=hold,
        agency_id=hold.agency_id,
        changes={"lifted_at": [None, hold.lifted_at.isoformat()]},
    )
    events.publish("legal_hold.lifted", hold, audience={f"agency.{hold.agency_id}"})
    return hold
