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
    Consent,
    Household,
    LegalBasis,
    Outcome,
    Person,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    Share,
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
    audit.record(actor=actor, action="household.create", target=household, agency_id=access.acting_agency_id(actor))
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
        basis = check_legal_basis(
            person=referral.person,
            from_agency=referral.from_agency,
            to_agency=referral.to_agency,
            categories=list(referral.categories),
            legal_basis=referral.legal_basis,
            consent=referral.consent,
            reason=referral.basis_reason,
        )
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
        f"referral.{target}", referral, audience=audience, payload={"status": target, "referral": referral.pk}
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
