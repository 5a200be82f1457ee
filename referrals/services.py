"""Writes on persons, consents, shares and referrals.

Every service checks permission through ``hub.access``, locks and re-reads what it
changes, validates, saves, records an audit row and publishes an event, in one
transaction. The rules of lawful sharing live in ``check_legal_basis``, the referral
state machine in ``TRANSITIONS``: one place each.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, AgencyKind, User, Workspace
from hub import access, audit, events
from referrals.models import (
    CATEGORY_FIELDS,
    CaseFile,
    Category,
    CEFRLevel,
    Consent,
    Enrollment,
    EnrollmentStatus,
    Household,
    LegalBasis,
    Measure,
    Outcome,
    Person,
    Plan,
    PlanStatus,
    PlanStep,
    Profile,
    QualificationKind,
    RecognitionDecision,
    RecognitionProcedure,
    RecognitionStatus,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ResponsibilityTransfer,
    Share,
    StepStatus,
    TransferStatus,
)

PERSON_FIELDS = tuple(field for fields in CATEGORY_FIELDS.values() for field in fields) + ("responsible_since",)

# Specially protected data (§ 76 SGB X) and the youth office's data (§ 65 SGB VIII) leave
# only with consent; some statutory bases allow transfers to one kind of agency only.
CONSENT_ONLY_CATEGORIES = frozenset({Category.HEALTH})
BASIS_RECIPIENT_KINDS = {
    LegalBasis.SGB_X_71: {AgencyKind.IMMIGRATION_AUTHORITY},
    LegalBasis.AUFENTHG_87: {AgencyKind.IMMIGRATION_AUTHORITY},
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def _acting_agency(actor: User, among: Iterable[int]) -> Agency:
    agency_id = access.acting_agency_id(actor, among)
    if agency_id is None:
        raise ValidationError(_("You act for none of the agencies concerned."))
    return Agency.objects.get(pk=agency_id)


def _clean_categories(categories: Iterable[str]) -> list[str]:
    """Known categories in their canonical order; identity always travels with a share."""
    wanted = set(categories)
    unknown = wanted - set(Category.values)
    if unknown:
        raise ValidationError({"categories": _("Unknown data category: %(c)s") % {"c": ", ".join(sorted(unknown))}})
    wanted.add(Category.IDENTITY)
    return [category for category in Category.values if category in wanted]


# Persons ----------------------------------------------------------------------------------


@transaction.atomic
def person_create(*, actor: User, agency: Agency, household: Household | None = None, **fields: Any) -> Person:
    """Register a person and open the agency's case file; the agency becomes responsible."""
    access.require(actor, "create", Person)
    if agency.pk not in access.agency_ids(actor, *access.CASE_ROLES):
        raise ValidationError({"agency": _("You can only register a person for an agency you do case work for.")})
    if household is not None and not access.visible(actor, Household).filter(pk=household.pk).exists():
        raise ValidationError({"household": _("Unknown household.")})
    person = Person(responsible_agency=agency, household=household)
    for key, value in fields.items():
        if key in PERSON_FIELDS:
            setattr(person, key, value)
    person.full_clean()
    person.save()
    CaseFile.objects.create(person=person, agency=agency, opened_by=actor, case_manager=actor)
    audit.record(actor=actor, action="person.create", target=person, agency_id=agency.pk)
    events.publish("person.created", person)
    return person


def possible_duplicates(
    actor: User, *, first_name: str, last_name: str, birth_date: Any, nationality: str
) -> list[Person]:
    """Persons the actor can see with the same name, date of birth and nationality."""
    return list(
        access.visible(actor, Person).filter(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            birth_date=birth_date,
            nationality__iexact=nationality.strip(),
        )
    )


@transaction.atomic
def person_update(*, actor: User, person: Person, **fields: Any) -> Person:
    access.require(actor, "change", person)
    person = Person.objects.select_for_update().get(pk=person.pk)
    new_values = {key: value for key, value in fields.items() if key in PERSON_FIELDS}
    changes = audit.diff(person, new_values)
    for key, value in new_values.items():
        setattr(person, key, value)
    person.full_clean()
    if changes:
        person.save(update_fields=list(changes))
    audit.record(
        actor=actor,
        action="person.update",
        target=person,
        agency_id=access.acting_agency_id(actor),
        # Which fields changed, not their values: the audit log must not become a copy of social data.
        changes={field: ["…", "…"] for field in changes},
    )
    events.publish("person.updated", person)
    return person


@transaction.atomic
def person_merge(*, actor: User, keep: Person, duplicate: Person) -> Person:
    """Merge a duplicate record into ``keep``: its files, consents, shares and referrals move over."""
    access.require(actor, "merge", keep)
    access.require(actor, "merge", duplicate)
    if keep.pk == duplicate.pk:
        raise ValidationError(_("A person cannot be merged with themselves."))
    keep, duplicate = (Person.objects.select_for_update().get(pk=p.pk) for p in (keep, duplicate))
    held = set(CaseFile.objects.filter(person=keep, closed_at=None).values_list("agency_id", flat=True))
    CaseFile.objects.filter(person=duplicate, closed_at=None, agency_id__in=held).update(closed_at=timezone.now())
    for model in (CaseFile, Consent, Share, Referral):
        model.objects.filter(person=duplicate).update(person=keep)
    for related in ("profiles", "plans", "enrollments", "transfers", "recognitions"):
        getattr(duplicate, related).update(person=keep)
    duplicate.merged_into = keep
    duplicate.save(update_fields=["merged_into"])
    audit.record(
        actor=actor,
        action="person.merge",
        target=keep,
        agency_id=access.acting_agency_id(actor),
        changes={"merged": [duplicate.reference, keep.reference]},
    )
    events.publish("person.merged", keep, payload={"merged": duplicate.pk})
    return keep


@transaction.atomic
def household_create(*, actor: User, name: str) -> Household:
    access.require(actor, "create", Person)
    household = Household(name=name)
    household.full_clean()
    household.save()
    agency_id = access.acting_agency_id(actor, access.agency_ids(actor, *access.CASE_ROLES))
    audit.record(actor=actor, action="household.create", target=household, agency_id=agency_id)
    # A household has no audience of its own until a member joins: the creating agency hears of it.
    events.publish("household.created", household, audience={f"agency.{agency_id}"})
    return household


# Consent ----------------------------------------------------------------------------------


def _check_document(document: UploadedFile | None) -> None:
    """Signed consents are PDFs of at most 10 MB, recognised by content, not by name."""
    if document is None:
        return
    if document.size is None or document.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({"document": _("The document is larger than 10 MB.")})
    head = document.read(5)
    document.seek(0)
    if head != b"%PDF-":
        raise ValidationError({"document": _("The signed consent must be a PDF file.")})


@transaction.atomic
def consent_record(
    *,
    actor: User,
    person: Person,
    categories: Iterable[str],
    recipients: Iterable[Agency],
    purpose: str,
    text_version: str,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    document: UploadedFile | None = None,
) -> Consent:
    """Record what the person agreed to: which categories, to whom, for what, for how long."""
    access.require(actor, "record_consent", person)
    recipients = list(recipients)
    if not recipients:
        raise ValidationError({"recipients": _("Name at least one receiving agency.")})
    _check_document(document)
    agency = _acting_agency(
        actor, CaseFile.objects.filter(person=person, closed_at=None).values_list("agency_id", flat=True)
    )
    consent = Consent(
        person=person,
        categories=_clean_categories(categories),
        purpose=purpose,
        text_version=text_version,
        valid_from=valid_from or timezone.localdate(),
        valid_until=valid_until,
        recorded_by=actor,
        recorded_by_agency=agency,
    )
    if consent.valid_until is not None and consent.valid_until < consent.valid_from:
        raise ValidationError({"valid_until": _("The end of validity lies before its start.")})
    consent.full_clean(exclude=["document"])
    if document is not None:
        consent.document.save("consent.pdf", document, save=False)
    consent.save()
    consent.recipients.set(recipients)
    audit.record(
        actor=actor,
        action="consent.record",
        target=consent,
        agency_id=agency.pk,
        changes={"categories": consent.categories, "recipients": sorted(a.pk for a in recipients)},
    )
    events.publish("consent.recorded", consent, payload={"person": person.pk})
    return consent


@transaction.atomic
def consent_revoke(*, actor: User, consent: Consent) -> Consent:
    """The person withdraws consent: every share resting on it ends now, and its recipients are told."""
    access.require(actor, "revoke", consent)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    now = timezone.now()
    consent.revoked_at = now
    consent.revoked_by = actor
    consent.save(update_fields=["revoked_at", "revoked_by"])
    ended = list(Share.objects.select_for_update().filter(consent=consent, ended_at=None))
    Share.objects.filter(pk__in=[share.pk for share in ended]).update(ended_at=now)
    audit.record(
        actor=actor,
        action="consent.revoke",
        target=consent,
        agency_id=consent.recorded_by_agency_id,
        changes={"shares_ended": [share.pk for share in ended]},
    )
    recipients = {f"agency.{share.to_agency_id}" for share in ended}
    events.publish(
        "access.revoked", consent, audience=recipients | access.audience(consent), payload={"person": consent.person_id}
    )
    return consent


# Legal basis and shares --------------------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    legal_basis: str
    consent: Consent | None
    reason: str


def check_legal_basis(
    *,
    person: Person,
    from_agency: Agency,
    to_agency: Agency,
    categories: list[str],
    legal_basis: str,
    consent: Consent | None = None,
    reason: str = "",
) -> Basis:
    """No basis, no share: the rules of §§ 67 ff. SGB X and § 65 SGB VIII in one place."""
    if legal_basis not in LegalBasis.values:
        raise ValidationError({"legal_basis": _("Choose a legal basis.")})
    if legal_basis == LegalBasis.CONSENT:
        if consent is None or consent.person_id != person.pk:
            raise ValidationError({"consent": _("Choose the person's consent this rests on.")})
        if not consent.is_valid_on(timezone.localdate()):
            raise ValidationError({"consent": _("This consent is revoked or not valid today.")})
        if not consent.recipients.filter(pk=to_agency.pk).exists():
            raise ValidationError({"consent": _("The consent does not name %(agency)s.") % {"agency": to_agency}})
        missing = set(categories) - set(consent.categories)
        if missing:
            labels = ", ".join(str(Category(c).label) for c in sorted(missing))
            raise ValidationError({"categories": _("The consent does not cover: %(labels)s.") % {"labels": labels}})
        return Basis(legal_basis, consent, reason.strip())
    if from_agency.kind == AgencyKind.YOUTH_OFFICE:
        raise ValidationError(
            {"legal_basis": _("Data of the youth office leaves it only with consent (§ 65 SGB VIII).")}
        )
    protected = CONSENT_ONLY_CATEGORIES & set(categories)
    if protected:
        raise ValidationError({"categories": _("Health data is shared only with the person's consent (§ 76 SGB X).")})
    allowed_kinds = BASIS_RECIPIENT_KINDS.get(LegalBasis(legal_basis))
    if allowed_kinds is not None and to_agency.kind not in allowed_kinds:
        raise ValidationError(
            {"legal_basis": _("This legal basis allows transfers to the immigration authority only.")}
        )
    if not reason.strip():
        raise ValidationError({"basis_reason": _("Give the reason why this legal basis applies.")})
    return Basis(legal_basis, None, reason.strip())


def check_referral_basis(referral: Referral) -> Basis:
    """The referral's own basis, checked by the same rules as when it was drafted."""
    return check_legal_basis(
        person=referral.person,
        from_agency=referral.from_agency,
        to_agency=referral.to_agency,
        categories=list(referral.categories),
        legal_basis=referral.legal_basis,
        consent=referral.consent,
        reason=referral.basis_reason,
    )


def _open_share(
    *, actor: User, person: Person, from_agency: Agency, to_agency: Agency, categories: list[str], basis: Basis
) -> Share:
    share = Share.objects.create(
        person=person,
        from_agency=from_agency,
        to_agency=to_agency,
        categories=categories,
        legal_basis=basis.legal_basis,
        consent=basis.consent,
        basis_reason=basis.reason,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="share.create",
        target=share,
        agency_id=from_agency.pk,
        changes={"categories": categories, "legal_basis": basis.legal_basis, "to_agency": to_agency.pk},
    )
    events.publish("share.created", share, audience={f"agency.{from_agency.pk}", f"agency.{to_agency.pk}"})
    return share


@transaction.atomic
def share_create(
    *,
    actor: User,
    person: Person,
    to_agency: Agency,
    categories: Iterable[str],
    legal_basis: str,
    consent: Consent | None = None,
    basis_reason: str = "",
) -> Share:
    """Let another agency see named categories of a person, on a checked legal basis."""
    access.require(actor, "share", person)
    held = CaseFile.objects.filter(person=person, closed_at=None).values_list("agency_id", flat=True)
    from_agency = _acting_agency(actor, held)
    if to_agency.pk == from_agency.pk:
        raise ValidationError({"to_agency": _("Your own agency holds the file already.")})
    cleaned = _clean_categories(categories)
    basis = check_legal_basis(
        person=person,
        from_agency=from_agency,
        to_agency=to_agency,
        categories=cleaned,
        legal_basis=legal_basis,
        consent=consent,
        reason=basis_reason,
    )
    return _open_share(
        actor=actor, person=person, from_agency=from_agency, to_agency=to_agency, categories=cleaned, basis=basis
    )


def _end_share(share: Share | None) -> None:
    if share is not None and share.ended_at is None:
        Share.objects.filter(pk=share.pk).update(ended_at=timezone.now())


@transaction.atomic
def share_end(*, actor: User, share: Share) -> Share:
    access.require(actor, "end", share)
    share = Share.objects.select_for_update().get(pk=share.pk)
    share.ended_at = timezone.now()
    share.save(update_fields=["ended_at"])
    audit.record(actor=actor, action="share.end", target=share, agency_id=share.from_agency_id)
    events.publish("access.revoked", share, audience={f"agency.{share.from_agency_id}", f"agency.{share.to_agency_id}"})
    return share


# Referrals --------------------------------------------------------------------------------

S = ReferralStatus
OPEN_FOR_ANSWER = frozenset({S.SENT, S.RECEIVED})
RUNNING = frozenset({S.ACCEPTED, S.WAITLISTED, S.IN_PROGRESS})
TERMINAL = frozenset({S.DECLINED, S.EXPIRED, S.COMPLETED, S.FAILED, S.WITHDRAWN, S.REDIRECTED})
# A referral that ends without the receiver's work ends the receiver's view of the person.
ENDS_SHARE = frozenset({S.DECLINED, S.EXPIRED, S.WITHDRAWN, S.REDIRECTED})

# action: (statuses it starts from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "send": (frozenset({S.DRAFT}), S.SENT),
    "receive": (frozenset({S.SENT}), S.RECEIVED),
    "accept": (OPEN_FOR_ANSWER, S.ACCEPTED),
    "decline": (OPEN_FOR_ANSWER, S.DECLINED),
    "expire": (OPEN_FOR_ANSWER, S.EXPIRED),
    "waitlist": (frozenset({S.ACCEPTED}), S.WAITLISTED),
    "start": (frozenset({S.ACCEPTED, S.WAITLISTED}), S.IN_PROGRESS),
    "complete": (RUNNING, S.COMPLETED),
    "fail": (RUNNING, S.FAILED),
    "withdraw": (frozenset({S.DRAFT}) | OPEN_FOR_ANSWER | RUNNING, S.WITHDRAWN),
    "redirect": (OPEN_FOR_ANSWER, S.REDIRECTED),
}


def allowed_actions(actor: User, referral: Referral) -> list[str]:
    """The transitions the actor may take now, for the buttons on the page."""
    return [
        action
        for action, (sources, _target) in TRANSITIONS.items()
        if referral.status in sources and access.can(actor, action, referral)
    ]


@transaction.atomic
def referral_create(
    *,
    actor: User,
    person: Person,
    to_agency: Agency,
    reason: str,
    categories: Iterable[str],
    legal_basis: str,
    answer_due_on: datetime.date,
    urgency: str = "normal",
    consent: Consent | None = None,
    basis_reason: str = "",
    measure: Any = None,
    send: bool = True,
) -> Referral:
    """Refer a person to another agency (or to a provider's measure); sent at once unless ``send`` is False."""
    access.require(actor, "refer", person)
    held = CaseFile.objects.filter(person=person, closed_at=None).values_list("agency_id", flat=True)
    from_agency = _acting_agency(actor, held)
    if measure is not None and measure.provider_id != to_agency.pk:
        raise ValidationError({"measure": _("The measure belongs to another provider.")})
    if to_agency.pk == from_agency.pk:
        raise ValidationError({"to_agency": _("A referral goes to another agency.")})
    if answer_due_on < timezone.localdate():
        raise ValidationError({"answer_due_on": _("The answer cannot be due in the past.")})
    cleaned = _clean_categories(categories)
    basis = check_legal_basis(
        person=person,
        from_agency=from_agency,
        to_agency=to_agency,
        categories=cleaned,
        legal_basis=legal_basis,
        consent=consent,
        reason=basis_reason,
    )
    referral = Referral(
        person=person,
        from_agency=from_agency,
        to_agency=to_agency,
        measure=measure,
        reason=reason,
        urgency=urgency,
        categories=cleaned,
        legal_basis=basis.legal_basis,
        consent=basis.consent,
        basis_reason=basis.reason,
        answer_due_on=answer_due_on,
        created_by=actor,
    )
    referral.full_clean()
    referral.save()
    ReferralStatusChange.objects.create(referral=referral, to_status=S.DRAFT, actor=actor, agency=from_agency)
    audit.record(actor=actor, action="referral.create", target=referral, agency_id=from_agency.pk)
    events.publish("referral.created", referral, audience={f"agency.{from_agency.pk}"})
    if send:
        referral = referral_transition(actor=actor, referral=referral, action="send")
    return referral


@transaction.atomic
def referral_transition(
    *,
    actor: User | None,
    referral: Referral,
    action: str,
    note: str = "",
    outcome: str = "",
    outcome_reason: str = "",
) -> Referral:
    """Take one step of the referral's life. ``actor`` None is the system (expiry)."""
    if action not in TRANSITIONS:
        raise ValidationError(_("Unknown step: %(action)s") % {"action": action})
    if actor is not None:
        access.require(actor, action, referral)
    elif action != "expire":
        raise ValidationError(_("Only expiry happens without a person."))
    referral = Referral.objects.select_for_update(of=("self",)).select_related("share").get(pk=referral.pk)
    sources, target = TRANSITIONS[action]
    if referral.status not in sources:
        raise ValidationError(
            _("A referral that is %(status)s cannot be %(step)s.")
            % {"status": ReferralStatus(referral.status).label, "step": ReferralStatus(target).label}
        )
    note = note.strip()
    if action in {"decline", "fail"} and not note:
        raise ValidationError({"note": _("Give the reason.")})
    if action == "complete":
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": _("Choose the outcome.")})
        if outcome == Outcome.NOT_SUCCESSFUL and not outcome_reason:
            raise ValidationError({"outcome_reason": _("Say why it was not successful.")})
        referral.outcome = outcome
        referral.outcome_reason = outcome_reason if outcome == Outcome.NOT_SUCCESSFUL else ""
    now = timezone.now()
    previous = referral.status
    referral.status = target
    referral.status_note = note
    if action == "send":
        referral.sent_at = now
        basis = check_referral_basis(referral)
        referral.share = _open_share(
            actor=actor,  # type: ignore[arg-type]  # sending always has an actor
            person=referral.person,
            from_agency=referral.from_agency,
            to_agency=referral.to_agency,
            categories=list(referral.categories),
            basis=basis,
        )
    if action in {"accept", "decline"}:
        referral.answered_at = now
    if target in TERMINAL:
        referral.closed_at = now
    if target in ENDS_SHARE:
        _end_share(referral.share)
    referral.full_clean()
    referral.save()
    side = referral.from_agency_id if access.REFERRAL_ACTIONS.get(action) == "sender" else referral.to_agency_id
    ReferralStatusChange.objects.create(
        referral=referral, from_status=previous, to_status=target, actor=actor, agency_id=side, note=note
    )
    audit.record(
        actor=actor,
        action=f"referral.{action}",
        target=referral,
        agency_id=side,
        changes={"status": [previous, target]},
    )
    audience = access.audience(referral)
    if target == S.EXPIRED:
        audience |= _coordinators_of_shared_workspaces(referral.from_agency_id, referral.to_agency_id)
    events.publish(
        f"referral.{target}",
        referral,
        audience=audience,
        payload={"status": target, "referral": referral.pk},
        actor=actor,
    )
    return referral


def _coordinators_of_shared_workspaces(*agency_ids: int) -> set[str]:
    """The coordinating agencies of the round tables where all of ``agency_ids`` sit: they chase overdue answers."""
    workspaces = Workspace.objects.all()
    for agency_id in agency_ids:
        workspaces = workspaces.filter(memberships__agency_id=agency_id)
    return {f"agency.{pk}" for pk in workspaces.values_list("coordinator_agency_id", flat=True)}


@transaction.atomic
def referral_redirect(*, actor: User, referral: Referral, to_agency: Agency, note: str = "") -> Referral:
    """The sender refers the person elsewhere: this referral closes, a new one goes out on a fresh basis check."""
    access.require(actor, "redirect", referral)
    new = referral_create(
        actor=actor,
        person=referral.person,
        to_agency=to_agency,
        reason=referral.reason,
        categories=referral.categories,
        legal_basis=referral.legal_basis,
        answer_due_on=max(referral.answer_due_on, timezone.localdate()),
        urgency=referral.urgency,
        consent=referral.consent,
        basis_reason=referral.basis_reason,
    )
    old = referral_transition(actor=actor, referral=referral, action="redirect", note=note)
    Referral.objects.filter(pk=old.pk).update(redirected_to=new)
    return new


def expire_overdue(*, today: datetime.date | None = None) -> int:
    """Expire referrals whose answer is overdue; the sending and receiving agencies and coordinators are told."""
    today = today or timezone.localdate()
    overdue = Referral.objects.filter(status__in=OPEN_FOR_ANSWER, answer_due_on__lt=today)
    count = 0
    for referral in overdue.iterator():
        referral_transition(actor=None, referral=referral, action="expire", note=_("No answer by the due date."))
        count += 1
    return count


def inbox_filter(agencies: set[int]) -> Q:
    """Referrals awaiting an answer from, or about, the given agencies."""
    return Q(status__in=OPEN_FOR_ANSWER) & (Q(to_agency_id__in=agencies) | Q(from_agency_id__in=agencies))


# Profiling, plans, measures, transfers and recognition -----------------------------------

OPEN_STEP_STATUSES = frozenset({StepStatus.PLANNED, StepStatus.IN_PROGRESS})
ACTIVE_ENROLLMENT = frozenset({EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED})
PLAN_FIELDS = ("goals", "plain_summary", "review_on")
STEP_FIELDS = ("kind", "title", "owner_agency", "starts_on", "due_on", "status", "notes")
# What an agency owning a step, without the person's file, reports: progress, not the plan.
STEP_PROGRESS_FIELDS = frozenset({"status", "notes"})
MEASURE_FIELDS = ("title", "kind", "description", "languages", "location", "starts_on", "ends_on", "seats", "is_open")
RECOGNITION_FIELDS = (
    "qualification",
    "country",
    "reference_profession",
    "competent_body",
    "applied_on",
    "decision",
    "decided_on",
    "gaps",
    "bridging",
)
TRANSFER_CHECKLIST = ("effective_date_confirmed", "open_measures_reviewed", "plan_handed_over", "housing_checked")
MAX_PROFILE_ITEMS = 30
MAX_YEARS = 60


def _holding_agency(actor: User, person: Person) -> Agency:
    """The agency the actor works the person's case for: the responsible one, if the actor works there."""
    mine = access.agency_ids(actor, *access.CASE_ROLES)
    held = set(
        CaseFile.objects.filter(person=person, closed_at=None, agency_id__in=mine).values_list("agency_id", flat=True)
    )
    if not held:
        raise ValidationError(_("None of your agencies holds this person's file."))
    agency_id = person.responsible_agency_id if person.responsible_agency_id in held else min(held)
    return Agency.objects.get(pk=agency_id)


def _check_text_lengths(instance: Any) -> None:
    """``full_clean`` leaves a text field's max_length to forms; API input must keep it as well."""
    errors: dict[str, str] = {}
    for field in instance._meta.concrete_fields:
        if field.get_internal_type() == "TextField" and field.max_length:
            value = getattr(instance, field.attname) or ""
            if len(value) > field.max_length:
                errors[field.name] = _("Use at most %(limit)d characters.") % {"limit": field.max_length}
    if errors:
        raise ValidationError(errors)


def _validate(instance: Any) -> None:
    _check_text_lengths(instance)
    instance.full_clean()


def _set_fields(instance: Any, allowed: Iterable[str], fields: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply the allowed keys of ``fields``; refuse unknown ones. Returns the audit diff of what changes."""
    allowed = tuple(allowed)
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError({key: _("This field cannot be changed here.") for key in unknown})
    changes = audit.diff(instance, fields)
    for key, value in fields.items():
        setattr(instance, key, value)
    return changes


def _names_only(changes: dict[str, list[Any]]) -> dict[str, list[str]]:
    # Which fields changed, not their values: the audit log must not become a copy of social data.
    return {field: ["…", "…"] for field in changes}


def _update_fields(changes: dict[str, list[Any]], *extra: str) -> list[str]:
    return [*changes, *extra]


# First profiling (Erstprofiling)

# field: (kind of value, limit, required)
_PROFILE_ITEM_SPECS: dict[str, dict[str, tuple[str, Any, bool]]] = {
    "languages": {
        "language": ("text", 100, True),
        "level": ("choice", CEFRLevel, True),
    },
    "qualifications": {
        "kind": ("choice", QualificationKind, True),
        "title": ("text", 200, True),
        "country": ("text", 100, False),
        "recognition": ("choice", RecognitionStatus, True),
    },
    "work_experience": {
        "occupation": ("text", 200, True),
        "country": ("text", 100, False),
        "years": ("years", MAX_YEARS, True),
    },
}


def _clean_profile_items(name: str, items: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """One of the profile's lists, checked item by item: known keys only, each value of its kind."""
    if not isinstance(items, list | tuple):
        return [], [_("Give a list of entries.")]
    if len(items) > MAX_PROFILE_ITEMS:
        return [], [_("At most %(limit)d entries.") % {"limit": MAX_PROFILE_ITEMS}]
    spec = _PROFILE_ITEM_SPECS[name]
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(
                _("Entry %(number)d: give an object with %(keys)s.") % {"number": number, "keys": ", ".join(spec)}
            )
            continue
        unknown = sorted(str(key) for key in item if key not in spec)
        if unknown:
            errors.append(
                _("Entry %(number)d: unknown field %(keys)s.") % {"number": number, "keys": ", ".join(unknown)}
            )
        row: dict[str, Any] = {}
        for key, (kind, limit, required) in spec.items():
            value = item.get(key)
            problem = None
            if kind == "text":
                text = value.strip() if isinstance(value, str) else None
                if value is not None and text is None:
                    problem = _("%(field)s must be text.")
                elif required and not text:
                    problem = _("%(field)s is required.")
                elif text and len(text) > limit:
                    problem = _("%(field)s is too long (at most %(limit)d characters).")
                row[key] = text or ""
            elif kind == "choice":
                if value not in limit.values:
                    problem = _("%(field)s must be one of %(choices)s.")
                row[key] = value
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
                problem = _("%(field)s must be a whole number from 0 to %(limit)d.")
            else:
                row[key] = value
            if problem is not None:
                choices = ", ".join(limit.values) if kind == "choice" else ""
                detail = problem % {"field": key, "limit": limit if isinstance(limit, int) else 0, "choices": choices}
                errors.append(_("Entry %(number)d: %(detail)s") % {"number": number, "detail": detail})
        cleaned.append(row)
    return cleaned, errors


@transaction.atomic
def profile_create(
    *,
    actor: User,
    person: Person,
    languages: Any = (),
    qualifications: Any = (),
    work_experience: Any = (),
    wishes: str = "",
    childcare_needs: str = "",
    assessment: str = "",
) -> Profile:
    """Record a new version of the first profiling; earlier versions stay as they were."""
    access.require(actor, "profile", person)
    # The person's row serialises concurrent versions: the next number is read under its lock.
    person = Person.objects.select_for_update().get(pk=person.pk)
    agency = _holding_agency(actor, person)
    lists: dict[str, list[dict[str, Any]]] = {}
    errors: dict[str, list[str]] = {}
    for name, items in (
        ("languages", languages),
        ("qualifications", qualifications),
        ("work_experience", work_experience),
    ):
        lists[name], problems = _clean_profile_items(name, items)
        if problems:
            errors[name] = problems
    if errors:
        raise ValidationError(errors)
    last = Profile.objects.filter(person=person).order_by("-version").values_list("version", flat=True).first()
    profile = Profile(
        person=person,
        version=(last or 0) + 1,
        wishes=(wishes or "").strip(),
        childcare_needs=(childcare_needs or "").strip(),
        assessment=(assessment or "").strip(),
        created_by=actor,
        agency=agency,
        **lists,
    )
    _validate(profile)
    profile.save()
    audit.record(
        actor=actor, action="profile.create", target=profile, agency_id=agency.pk, changes={"version": profile.version}
    )
    events.publish("profile.created", profile, payload={"person": person.pk, "version": profile.version})
    return profile


# Integration plans (Kooperationsplan)


def _lock_open_plan(plan: Plan) -> Plan:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == PlanStatus.CLOSED:
        raise ValidationError(_("The plan is closed and cannot be changed any more."))
    return plan


@transaction.atomic
def plan_create(
    *,
    actor: User,
    person: Person,
    goals: str,
    plain_summary: str = "",
    review_on: datetime.date | None = None,
) -> Plan:
    """Open an integration plan (a draft until it is agreed with the person)."""
    access.require(actor, "plan", person)
    agency = _holding_agency(actor, person)
    plan = Plan(
        person=person,
        agency=agency,
        goals=(goals or "").strip(),
        plain_summary=(plain_summary or "").strip(),
        review_on=review_on,
        created_by=actor,
    )
    _validate(plan)
    plan.save()
    audit.record(actor=actor, action="plan.create", target=plan, agency_id=agency.pk)
    events.publish("plan.created", plan, payload={"person": person.pk})
    return plan


@transaction.atomic
def plan_update(*, actor: User, plan: Plan, **fields: Any) -> Plan:
    """Change goals, plain-language summary or review date of an open plan."""
    access.require(actor, "change", plan)
    plan = _lock_open_plan(plan)
    changes = _set_fields(plan, PLAN_FIELDS, fields)
    _validate(plan)
    if changes:
        plan.save(update_fields=_update_fields(changes, "updated_at"))
    audit.record(actor=actor, action="plan.update", target=plan, agency_id=plan.agency_id, changes=_names_only(changes))
    events.publish("plan.updated", plan, payload={"person": plan.person_id})
    return plan


@transaction.atomic
def plan_agree(*, actor: User, plan: Plan, agreed_on: datetime.date, review_on: datetime.date | None = None) -> Plan:
    """The person signed the plan on ``agreed_on``; a review date is part of every agreement."""
    access.require(actor, "agree", plan)
    plan = _lock_open_plan(plan)
    review_on = review_on or plan.review_on
    if agreed_on is None:
        raise ValidationError({"agreed_on": _("Give the date the plan was signed.")})
    if agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": _("The plan cannot be signed in the future.")})
    if review_on is None:
        raise ValidationError({"review_on": _("Set the date of the review.")})
    if review_on < agreed_on:
        raise ValidationError({"review_on": _("The review cannot come before the agreement.")})
    plan.status = PlanStatus.AGREED
    plan.agreed_on = agreed_on
    plan.review_on = review_on
    _validate(plan)
    plan.save(update_fields=["status", "agreed_on", "review_on", "updated_at"])
    audit.record(
        actor=actor,
        action="plan.agree",
        target=plan,
        agency_id=plan.agency_id,
        changes={"agreed_on": [None, agreed_on.isoformat()], "review_on": [None, review_on.isoformat()]},
    )
    events.publish("plan.agreed", plan, payload={"person": plan.person_id})
    return plan


@transaction.atomic
def plan_close(*, actor: User, plan: Plan) -> Plan:
    """End a plan; it stays readable as part of the person's history."""
    access.require(actor, "close", plan)
    plan = _lock_open_plan(plan)
    previous = plan.status
    plan.status = PlanStatus.CLOSED
    plan.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="plan.close",
        target=plan,
        agency_id=plan.agency_id,
        changes={"status": [previous, PlanStatus.CLOSED]},
    )
    events.publish("plan.closed", plan, payload={"person": plan.person_id})
    return plan


def _check_step(actor: User, step: PlanStep, changes: dict[str, list[Any]]) -> None:
    if "owner_agency" in changes and not access.visible(actor, Agency).filter(pk=step.owner_agency_id).exists():
        raise ValidationError({"owner_agency": _("Choose one of the agencies you work with.")})
    if step.starts_on and step.due_on and step.due_on < step.starts_on:
        raise ValidationError({"due_on": _("The step cannot be due before it starts.")})
    _validate(step)


def _step_audience(step: PlanStep) -> set[str]:
    return access.audience(step) | {f"agency.{step.owner_agency_id}"}


@transaction.atomic
def plan_step_add(
    *,
    actor: User,
    plan: Plan,
    kind: str,
    title: str,
    owner_agency: Agency,
    starts_on: datetime.date | None = None,
    due_on: datetime.date | None = None,
    status: str = StepStatus.PLANNED,
    notes: str = "",
) -> PlanStep:
    """Add a step to the end of the plan's chain, owned by an agency the actor works with."""
    access.require(actor, "add_step", plan)
    plan = _lock_open_plan(plan)
    last = plan.steps.order_by("-position").values_list("position", flat=True).first()
    step = PlanStep(
        plan=plan,
        position=(last or 0) + 1,
        kind=kind,
        title=(title or "").strip(),
        owner_agency=owner_agency,
        starts_on=starts_on,
        due_on=due_on,
        status=status,
        notes=(notes or "").strip(),
    )
    _check_step(actor, step, {"owner_agency": [None, owner_agency.pk]})
    step.save()
    audit.record(
        actor=actor,
        action="plan_step.add",
        target=step,
        agency_id=plan.agency_id,
        changes={"kind": [None, step.kind], "owner_agency": [None, step.owner_agency_id]},
    )
    events.publish("plan.step_added", step, audience=_step_audience(step), payload={"plan": plan.pk})
    return step


@transaction.atomic
def plan_step_update(*, actor: User, step: PlanStep, **fields: Any) -> PlanStep:
    """Change a step. The agency owning it without holding the file reports status and notes only."""
    access.require(actor, "change", step)
    step = PlanStep.objects.select_for_update(of=("self",)).select_related("plan").get(pk=step.pk)
    if step.plan.status == PlanStatus.CLOSED:
        raise ValidationError(_("The plan is closed and cannot be changed any more."))
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
    changes = _set_fields(step, STEP_FIELDS, fields)
    beyond_progress = set(changes) - STEP_PROGRESS_FIELDS
    if beyond_progress and not access.holds(actor, step.plan.person, *access.CASE_ROLES):
        raise ValidationError(
            {field: _("Only the agencies holding the file change this.") for field in sorted(beyond_progress)}
        )
    _check_step(actor, step, changes)
    if changes:
        step.save(update_fields=list(changes))
    agency_id = step.plan.agency_id
    if not access.holds(actor, step.plan.person, *access.CASE_ROLES):
        agency_id = step.owner_agency_id
    audit.record(
        actor=actor,
        action="plan_step.update",
        target=step,
        agency_id=agency_id,
        changes={
            field: (value if field in {"status", "kind", "owner_agency"} else ["…", "…"])
            for field, value in changes.items()
        },
    )
    events.publish("plan.step_updated", step, audience=_step_audience(step), payload={"plan": step.plan_id})
    return step


# Measures and enrolment


@transaction.atomic
def measure_create(*, actor: User, provider: Agency, **fields: Any) -> Measure:
    """A course provider offers a measure in the catalogue."""
    access.require(actor, "create", Measure)
    measure = Measure(provider=provider)
    # The policy answers for an unsaved offer of that provider: may the actor maintain its offers?
    if not access.can(actor, "change", measure):
        raise ValidationError({"provider": _("You can only offer measures of a course provider you work for.")})
    _set_fields(measure, MEASURE_FIELDS, fields)
    _check_measure(measure)
    measure.save()
    audit.record(actor=actor, action="measure.create", target=measure, agency_id=provider.pk)
    events.publish("measure.created", measure, payload={"measure": measure.pk})
    return measure


def _check_measure(measure: Measure) -> None:
    if measure.starts_on and measure.ends_on and measure.ends_on < measure.starts_on:
        raise ValidationError({"ends_on": _("The measure cannot end before it starts.")})
    _validate(measure)


def _enrolled_count(measure: Measure) -> int:
    return Enrollment.objects.filter(measure=measure, status=EnrollmentStatus.ENROLLED).count()


def _promote_waitlisted(actor: User, measure: Measure) -> list[Enrollment]:
    """Fill free seats from the waiting list in its order. The caller holds the measure's lock."""
    free = measure.seats - _enrolled_count(measure)
    if free <= 0:
        return []
    promoted = list(
        Enrollment.objects.select_for_update()
        .filter(measure=measure, status=EnrollmentStatus.WAITLISTED)
        .order_by("waitlist_position", "created_at")[:free]
    )
    for enrollment in promoted:
        position = enrollment.waitlist_position
        enrollment.status = EnrollmentStatus.ENROLLED
        enrollment.waitlist_position = None
        enrollment.save(update_fields=["status", "waitlist_position", "updated_at"])
        audit.record(
            actor=actor,
            action="enrollment.promote",
            target=enrollment,
            agency_id=measure.provider_id,
            changes={
                "status": [EnrollmentStatus.WAITLISTED, EnrollmentStatus.ENROLLED],
                "waitlist_position": [position, None],
            },
        )
        events.publish(
            "enrollment.promoted", enrollment, payload={"measure": measure.pk, "status": EnrollmentStatus.ENROLLED}
        )
    return promoted


@transaction.atomic
def measure_update(*, actor: User, measure: Measure, **fields: Any) -> Measure:
    """Change an offer. Seats cannot drop below the seats taken; added seats go to the waiting list first."""
    access.require(actor, "change", measure)
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    changes = _set_fields(measure, MEASURE_FIELDS, fields)
    taken = _enrolled_count(measure)
    if measure.seats is not None and measure.seats < taken:
        raise ValidationError(
            {"seats": _("%(taken)d persons hold a seat already; cancel enrolments first.") % {"taken": taken}}
        )
    _check_measure(measure)
    if changes:
        measure.save(update_fields=list(changes))
    audit.record(actor=actor, action="measure.update", target=measure, agency_id=measure.provider_id, changes=changes)
    events.publish("measure.updated", measure, payload={"measure": measure.pk})
    _promote_waitlisted(actor, measure)
    return measure


@transaction.atomic
def enrollment_request(*, actor: User, measure: Measure, person: Person) -> Enrollment:
    """Enrol a person the actor holds: a free seat if there is one, else the next place on the waiting list.

    Concurrent requests queue on the measure's row lock, so each one counts the seats
    after the previous one committed; the constraints on Enrollment back this up.
    """
    access.require(actor, "enroll", person)
    agency = _holding_agency(actor, person)
    measure = Measure.objects.select_for_update().get(pk=measure.pk)
    if not measure.is_open:
        raise ValidationError({"measure": _("This measure takes no enrolments at the moment.")})
    active = Enrollment.objects.filter(measure=measure, person=person, status__in=ACTIVE_ENROLLMENT)
    if active.exists():
        raise ValidationError({"person": _("The person is enrolled or on the waiting list already.")})
    if _enrolled_count(measure) < measure.seats:
        status, position = EnrollmentStatus.ENROLLED, None
    else:
        last = (
            Enrollment.objects.filter(measure=measure, status=EnrollmentStatus.WAITLISTED)
            .order_by("-waitlist_position")
            .values_list("waitlist_position", flat=True)
            .first()
        )
        status, position = EnrollmentStatus.WAITLISTED, (last or 0) + 1
    enrollment = Enrollment(
        measure=measure,
        person=person,
        status=status,
        waitlist_position=position,
        requested_by_agency=agency,
        created_by=actor,
    )
    enrollment.full_clean()
    enrollment.save()
    audit.record(
        actor=actor,
        action="enrollment.request",
        target=enrollment,
        agency_id=agency.pk,
        changes={"status": [None, status], "waitlist_position": [None, position]},
    )
    events.publish("enrollment.created", enrollment, payload={"measure": measure.pk, "status": status})
    return enrollment


def _lock_enrollment(enrollment: Enrollment) -> tuple[Measure, Enrollment]:
    # Always the measure first, then the enrolment: the same order as a request takes.
    measure = Measure.objects.select_for_update().get(pk=enrollment.measure_id)
    return measure, Enrollment.objects.select_for_update().get(pk=enrollment.pk)


@transaction.atomic
def enrollment_cancel(*, actor: User, enrollment: Enrollment) -> Enrollment:
    """Give up a seat or a place on the waiting list; a freed seat goes to the first one waiting."""
    access.require(actor, "cancel", enrollment)
    measure, enrollment = _lock_enrollment(enrollment)
    if enrollment.status not in ACTIVE_ENROLLMENT:
        raise ValidationError(_("This enrolment has ended already."))
    previous, position = enrollment.status, enrollment.waitlist_position
    enrollment.status = EnrollmentStatus.CANCELLED
    enrollment.waitlist_position = None
    enrollment.save(update_fields=["status", "waitlist_position", "updated_at"])
    requester = enrollment.requested_by_agency_id
    audit.record(
        actor=actor,
        action="enrollment.cancel",
        target=enrollment,
        agency_id=requester if requester in access.agency_ids(actor) else measure.provider_id,
        changes={"status": [previous, EnrollmentStatus.CANCELLED], "waitlist_position": [position, None]},
    )
    events.publish(
        "enrollment.cancelled", enrollment, payload={"measure": measure.pk, "status": EnrollmentStatus.CANCELLED}
    )
    if previous == EnrollmentStatus.ENROLLED:
        _promote_waitlisted(actor, measure)
    return enrollment


@transaction.atomic
def enrollment_complete(*, actor: User, enrollment: Enrollment) -> Enrollment:
    """The provider records that the person completed the measure."""
    access.require(actor, "complete", enrollment)
    measure, enrollment = _lock_enrollment(enrollment)
    if enrollment.status != EnrollmentStatus.ENROLLED:
        raise ValidationError(_("Only an enrolled person can complete the measure."))
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="enrollment.complete",
        target=enrollment,
        agency_id=measure.provider_id,
        changes={"status": [EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED]},
    )
    events.publish(
        "enrollment.completed", enrollment, payload={"measure": measure.pk, "status": EnrollmentStatus.COMPLETED}
    )
    return enrollment


# Transfer of responsibility (Zuständigkeitswechsel)


def _clean_checklist(checklist: Any) -> dict[str, bool]:
    if not isinstance(checklist, dict):
        raise ValidationError({"checklist": _("Give the checklist as an object of yes/no answers.")})
    unknown = sorted(str(key) for key in checklist if key not in TRANSFER_CHECKLIST)
    if unknown:
        raise ValidationError({"checklist": _("Unknown checklist item: %(items)s") % {"items": ", ".join(unknown)}})
    wrong = sorted(key for key in checklist if not isinstance(checklist[key], bool))
    if wrong:
        raise ValidationError({"checklist": _("Answer with true or false: %(items)s") % {"items": ", ".join(wrong)}})
    return {key: bool(checklist.get(key, False)) for key in TRANSFER_CHECKLIST}


@transaction.atomic
def transfer_propose(
    *,
    actor: User,
    person: Person,
    to_agency: Agency,
    effective_on: datetime.date,
    new_benefit_scheme: str,
    checklist: Any,
    note: str = "",
) -> ResponsibilityTransfer:
    """The responsible agency proposes to hand the case over; the receiving agency completes it."""
    access.require(actor, "transfer", person)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.responsible_agency_id not in access.agency_ids(actor, *access.CASE_ROLES):
        raise ValidationError(_("Only the agency responsible for the person hands the responsibility over."))
    if to_agency.pk == person.responsible_agency_id:
        raise ValidationError({"to_agency": _("This agency is responsible already.")})
    if not access.visible(actor, Agency).filter(pk=to_agency.pk).exists():
        raise ValidationError({"to_agency": _("Choose one of the agencies you work with.")})
    if ResponsibilityTransfer.objects.filter(person=person, status=TransferStatus.PROPOSED).exists():
        raise ValidationError(_("A transfer of this person is proposed already; complete or cancel it first."))
    if effective_on is None:
        raise ValidationError({"effective_on": _("Give the date the new agency takes over.")})
    transfer = ResponsibilityTransfer(
        person=person,
        from_agency_id=person.responsible_agency_id,
        to_agency=to_agency,
        effective_on=effective_on,
        new_benefit_scheme=new_benefit_scheme,
        checklist=_clean_checklist(checklist),
        note=(note or "").strip(),
        proposed_by=actor,
    )
    _validate(transfer)
    transfer.save()
    audit.record(
        actor=actor,
        action="transfer.propose",
        target=transfer,
        agency_id=transfer.from_agency_id,
        changes={"to_agency": [None, to_agency.pk], "effective_on": [None, effective_on.isoformat()]},
    )
    events.publish("transfer.proposed", transfer, payload={"transfer": transfer.pk})
    return transfer


@transaction.atomic
def transfer_complete(
    *, actor: User, transfer: ResponsibilityTransfer, checklist: Any = None
) -> ResponsibilityTransfer:
    """The receiving agency takes over: responsibility, benefits and its own case file; history stays.

    The former agency keeps its case file open: its records are kept until retention ends them.
    """
    access.require(actor, "complete", transfer)
    transfer = ResponsibilityTransfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != TransferStatus.PROPOSED:
        raise ValidationError(_("This transfer is not open any more."))
    if checklist is not None:
        transfer.checklist = _clean_checklist(checklist)
    missing = [key for key in TRANSFER_CHECKLIST if not (transfer.checklist or {}).get(key)]
    if missing:
        raise ValidationError(
            {"checklist": _("Confirm every item of the checklist first: %(items)s") % {"items": ", ".join(missing)}}
        )
    person = Person.objects.select_for_update().get(pk=transfer.person_id)
    if person.responsible_agency_id != transfer.from_agency_id:
        raise ValidationError(_("The responsibility has changed since the proposal; propose the transfer anew."))
    person.responsible_agency_id = transfer.to_agency_id
    person.responsible_since = transfer.effective_on
    updated = ["responsible_agency", "responsible_since"]
    if person.benefit_scheme != transfer.new_benefit_scheme:
        person.benefit_scheme = transfer.new_benefit_scheme
        person.benefits_since = transfer.effective_on
        updated += ["benefit_scheme", "benefits_since"]
    person.full_clean()
    person.save(update_fields=updated)
    if not CaseFile.objects.filter(person=person, agency_id=transfer.to_agency_id, closed_at=None).exists():
        CaseFile.objects.create(person=person, agency_id=transfer.to_agency_id, opened_by=actor, case_manager=actor)
    transfer.status = TransferStatus.COMPLETED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["status", "checklist", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="transfer.complete",
        target=transfer,
        agency_id=transfer.to_agency_id,
        changes={"responsible_agency": [transfer.from_agency_id, transfer.to_agency_id]},
    )
    events.publish(
        "transfer.completed",
        transfer,
        audience=access.audience(transfer) | access.audience(person),
        payload={"transfer": transfer.pk, "person": person.pk},
    )
    return transfer


@transaction.atomic
def transfer_cancel(*, actor: User, transfer: ResponsibilityTransfer) -> ResponsibilityTransfer:
    """The proposing agency withdraws a transfer that has not been completed."""
    access.require(actor, "cancel", transfer)
    transfer = ResponsibilityTransfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != TransferStatus.PROPOSED:
        raise ValidationError(_("This transfer is not open any more."))
    transfer.status = TransferStatus.CANCELLED
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="transfer.cancel",
        target=transfer,
        agency_id=transfer.from_agency_id,
        changes={"status": [TransferStatus.PROPOSED, TransferStatus.CANCELLED]},
    )
    events.publish("transfer.cancelled", transfer, payload={"transfer": transfer.pk})
    return transfer


# Recognition of foreign qualifications (Anerkennung)


def _check_recognition(recognition: RecognitionProcedure) -> None:
    decided = recognition.decision != RecognitionDecision.PENDING
    if decided and recognition.decided_on is None:
        raise ValidationError({"decided_on": _("Give the date of the decision.")})
    if not decided and recognition.decided_on is not None:
        raise ValidationError({"decided_on": _("A pending procedure has no decision date yet.")})
    if recognition.decided_on is not None and recognition.decided_on > timezone.localdate():
        raise ValidationError({"decided_on": _("The decision date lies in the future.")})
    if recognition.applied_on and recognition.decided_on and recognition.decided_on < recognition.applied_on:
        raise ValidationError({"decided_on": _("The decision cannot come before the application.")})
    if recognition.decision == RecognitionDecision.PARTIAL and not recognition.gaps.strip():
        raise ValidationError({"gaps": _("List the gaps that the decision names.")})
    _validate(recognition)


def _stripped(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value.strip() if isinstance(value, str) else value for key, value in fields.items()}


@transaction.atomic
def recognition_create(*, actor: User, person: Person, **fields: Any) -> RecognitionProcedure:
    """Record a recognition procedure for a foreign qualification of the person."""
    access.require(actor, "recognition", person)
    agency = _holding_agency(actor, person)
    recognition = RecognitionProcedure(person=person, agency=agency, created_by=actor)
    _set_fields(recognition, RECOGNITION_FIELDS, _stripped(fields))
    _check_recognition(recognition)
    recognition.save()
    audit.record(actor=actor, action="recognition.create", target=recognition, agency_id=agency.pk)
    events.publish("recognition.created", recognition, payload={"person": person.pk})
    return recognition


@transaction.atomic
def recognition_update(*, actor: User, recognition: RecognitionProcedure, **fields: Any) -> RecognitionProcedure:
    """Record the progress of a procedure: application, decision, gaps, bridging qualification."""
    access.require(actor, "change", recognition)
    recognition = RecognitionProcedure.objects.select_for_update().get(pk=recognition.pk)
    changes = _set_fields(recognition, RECOGNITION_FIELDS, _stripped(fields))
    _check_recognition(recognition)
    if changes:
        recognition.save(update_fields=list(changes))
    audit.record(
        actor=actor,
        action="recognition.update",
        target=recognition,
        agency_id=_holding_agency(actor, recognition.person).pk,
        changes=_names_only(changes),
    )
    events.publish("recognition.updated", recognition, payload={"person": recognition.person_id})
    return recognition
