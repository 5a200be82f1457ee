"""The answer to a person's request of access (art. 15 GDPR): everything the hub stores about them
that the requesting agency may see, and the requesting agency's reads of it.

Every part is read through ``hub.access`` with the requester as actor, and the person's own fields
and profile through the same category minimisation as the pages (``referrals.selectors``): the
answer never holds more than the agency may see. Another agency answers for its own view.

Staff are named by agency only, in the reads too: the person learns when, by which agency, for what
purpose and which categories were read, not which employee (CJEU C-579/21).

The same sections serve the printable page and the JSON download: each value has a JSON form (codes,
ISO dates) and a form to read (labels, local dates).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models
from django.db.models import F, Prefetch, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from agencies.models import Agency
from housing.models import HousingRequest, Reservation, Tenancy
from hub import access
from privacy.models import ReadAccess
from privacy.reads import CONSENTS, REFERRALS, TRANSFERS
from privacy.selectors import category_labels
from referrals import selectors as case_selectors
from referrals.models import (
    CATEGORY_FIELDS,
    CaseFile,
    Category,
    Consent,
    Enrollment,
    Person,
    Plan,
    PlanStep,
    Profile,
    RecognitionProcedure,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    ResponsibilityTransfer,
    Share,
)

if TYPE_CHECKING:
    from hub.access import Actor


@dataclass(frozen=True)
class Value:
    key: str
    label: str
    data: Any
    text: str


@dataclass
class Section:
    key: str
    title: str
    entries: list[list[Value]] = field(default_factory=list)

    def as_json(self) -> list[dict[str, Any]]:
        return [{value.key: value.data for value in entry} for entry in self.entries]


@dataclass
class SubjectAccess:
    person: Person
    agency_name: str
    generated_at: datetime.datetime
    categories: frozenset[str]
    person_ids: list[int]
    sections: list[Section]

    @property
    def shown(self) -> set[str]:
        """The categories and kinds of record the answer shows, for the read-access log."""
        present = {section.key for section in self.sections if section.entries}
        kinds = {
            kind
            for kind, sections in (
                (REFERRALS, {"referrals"}),
                (CONSENTS, {"consents", "shares"}),
                (TRANSFERS, {"transfers"}),
            )
            if present & sections
        }
        return set(self.categories) | kinds

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "legal_basis": "Art. 15 GDPR",
            "generated_at": self.generated_at.isoformat(),
            "answered_by": self.agency_name,
            "data_categories": sorted(self.categories),
        }
        for section in self.sections:
            body[section.key] = section.as_json()[0] if section.key == "person" else section.as_json()
        return body


# Values -----------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(item) for item in value]
    return str(value)


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, dict):
        return ", ".join(_text(item) for item in value.values() if item not in (None, ""))
    if isinstance(value, list | tuple):
        return "; ".join(_text(item) for item in value)
    return str(value)


def _value(key: str, label: str, data: Any, text: str | None = None) -> Value:
    return Value(key=key, label=label, data=_json(data), text=text if text is not None else _text(data))


def _fields(obj: models.Model, names: Iterable[str]) -> list[Value]:
    """Model fields by name: choices as code and label, related rows by their name."""
    found = []
    for name in names:
        model_field = obj._meta.get_field(name)
        label = str(getattr(model_field, "verbose_name", name))
        raw = getattr(obj, name)
        if getattr(model_field, "choices", None):
            shown = dict(model_field.flatchoices).get(raw, raw)  # type: ignore[union-attr]
            found.append(_value(name, label, raw, _text(shown)))
        elif isinstance(raw, models.Model):
            found.append(_value(name, label, str(getattr(raw, "name", raw))))
        else:
            found.append(_value(name, label, raw))
    return found


def _categories(codes: Iterable[str]) -> Value:
    codes = [code for code in Category.values if code in set(codes)]
    return _value("categories", _("data categories"), codes, ", ".join(category_labels(codes)) or "–")


def _agency(obj: Any, name: str, label: str) -> Value:
    agency = getattr(obj, name)
    return _value(name, label, agency.name if agency is not None else None)


# Sections ---------------------------------------------------------------------------------------


def _person_section(actor: Actor, person: Person, categories: frozenset[str]) -> Section:
    shown = case_selectors.person_fields(person, categories)
    entry = [
        _value("reference", _("case reference"), person.reference),
        _agency(person, "responsible_agency", _("responsible agency")),
        _value("responsible_since", _("responsible since"), person.responsible_since),
    ]
    # In the order of the person's page: category by category.
    for name in (name for names in CATEGORY_FIELDS.values() for name in names if name in shown):
        if name == "household":
            household = person.household
            entry.append(
                _value("household", _("household"), f"{household.name} ({household.reference})" if household else None)
            )
            continue
        entry.extend(_fields(person, [name]))
    entry.append(_categories(categories))
    return Section("person", _("Personal data"), [entry])


def _case_files(actor: Actor, person: Person) -> Section:
    rows = access.visible(actor, CaseFile).filter(person=person).select_related("agency").order_by("opened_at", "pk")
    return Section(
        "case_files",
        _("Agencies holding a file"),
        [[_agency(row, "agency", _("agency")), *_fields(row, ["opened_at", "closed_at"])] for row in rows],
    )


def _consents(actor: Actor, person: Person) -> Section:
    rows = (
        access.visible(actor, Consent)
        .filter(person=person)
        .select_related("recorded_by_agency")
        .prefetch_related(Prefetch("recipients", queryset=access.visible(actor, Agency).order_by("name")))
        .order_by("recorded_at", "pk")
    )
    entries = []
    for row in rows:
        recipients = [agency.name for agency in row.recipients.all()]
        entries.append(
            [
                _categories(row.categories),
                _value("recipients", _("recipients"), recipients),
                *_fields(row, ["purpose", "valid_from", "valid_until", "text_version"]),
                _agency(row, "recorded_by_agency", _("recorded by")),
                *_fields(row, ["recorded_at", "revoked_at"]),
                _value("signed_document", _("signed document on file"), bool(row.document)),
            ]
        )
    return Section("consents", _("Consents"), entries)


def _shares(actor: Actor, person: Person) -> Section:
    rows = (
        access.visible(actor, Share)
        .filter(person=person)
        .select_related("from_agency", "to_agency")
        .order_by("created_at", "pk")
    )
    return Section(
        "shares",
        _("Data shared between agencies"),
        [
            [
                _agency(row, "from_agency", _("from")),
                _agency(row, "to_agency", _("to")),
                _categories(row.categories),
                *_fields(row, ["legal_basis", "basis_reason", "created_at", "ended_at"]),
            ]
            for row in rows
        ],
    )


def _history(changes: Iterable[ReferralStatusChange]) -> Value:
    rows = []
    lines = []
    for change in changes:
        agency = change.agency.name if change.agency is not None else ""
        rows.append({"at": change.at, "status": change.to_status, "agency": agency, "note": change.note})
        line = f"{_text(change.at)}: {ReferralStatus(change.to_status).label}"
        lines.append(" · ".join(part for part in (line, agency, change.note) if part))
    return _value("history", _("history"), rows, "\n".join(lines) or "–")


def _referrals(actor: Actor, person: Person) -> Section:
    history = ReferralStatusChange.objects.select_related("agency").order_by("at", "id")
    rows = (
        access.visible(actor, Referral)
        .filter(person=person)
        .select_related("from_agency", "to_agency", "measure")
        .prefetch_related(Prefetch("history", queryset=history))
        .order_by("created_at", "pk")
    )
    names = [
        "reference",
        "measure",
        "reason",
        "urgency",
        "legal_basis",
        "basis_reason",
        "answer_due_on",
        "status",
        "outcome",
        "outcome_reason",
        "status_note",
        "created_at",
        "sent_at",
        "answered_at",
        "closed_at",
    ]
    entries = []
    for row in rows:
        entries.append(
            [
                _agency(row, "from_agency", _("from")),
                _agency(row, "to_agency", _("to")),
                _categories(row.categories),
                *_fields(row, names),
                _history(row.history.all()),
            ]
        )
    return Section("referrals", _("Referrals"), entries)


def _profiles(actor: Actor, person: Person, categories: frozenset[str]) -> Section:
    rows = access.visible(actor, Profile).filter(person=person).select_related("agency").order_by("version", "pk")
    entries = []
    for row in rows:
        entry = [*_fields(row, ["version"]), _agency(row, "agency", _("agency")), *_fields(row, ["created_at"])]
        entry.extend(_fields(row, case_selectors.profile_fields(row, categories)))
        entries.append(entry)
    return Section("profiles", _("First profiling"), entries)


def _plans(actor: Actor, person: Person) -> Section:
    visible_steps = access.visible(actor, PlanStep).select_related("owner_agency").order_by("position", "pk")
    rows = (
        access.visible(actor, Plan)
        .filter(person=person)
        .select_related("agency")
        .prefetch_related(Prefetch("steps", queryset=visible_steps))
        .order_by("created_at", "pk")
    )
    entries = []
    for row in rows:
        steps = list(row.steps.all())
        step_rows = [
            {
                "kind": step.kind,
                "title": step.title,
                "agency": step.owner_agency.name,
                "starts_on": step.starts_on,
                "due_on": step.due_on,
                "status": step.status,
                "notes": step.notes,
            }
            for step in steps
        ]
        lines = [
            " · ".join(
                part
                for part in (
                    f"{step.title} ({step.get_kind_display()})",
                    step.owner_agency.name,
                    _("due %(date)s") % {"date": _text(step.due_on)} if step.due_on else "",
                    str(step.get_status_display()),
                    step.notes,
                )
                if part
            )
            for step in steps
        ]
        entries.append(
            [
                _agency(row, "agency", _("agency")),
                *_fields(row, ["goals", "plain_summary", "status", "agreed_on", "review_on", "created_at"]),
                _value("steps", _("steps"), step_rows, "\n".join(lines) or "–"),
            ]
        )
    return Section("plans", _("Integration plans"), entries)


def _enrollments(actor: Actor, person: Person) -> Section:
    rows = (
        access.visible(actor, Enrollment)
        .filter(person=person)
        .select_related("measure", "measure__provider")
        .order_by("created_at", "pk")
    )
    return Section(
        "enrollments",
        _("Measures"),
        [
            [
                _value("measure", _("measure"), row.measure.title),
                _value("provider", _("provider"), row.measure.provider.name),
                *_fields(row, ["status", "waitlist_position", "created_at"]),
            ]
            for row in rows
        ],
    )


def _transfers(actor: Actor, person: Person) -> Section:
    rows = (
        access.visible(actor, ResponsibilityTransfer)
        .filter(person=person)
        .select_related("from_agency", "to_agency")
        .order_by("proposed_at", "pk")
    )
    return Section(
        "transfers",
        _("Transfers of responsibility"),
        [
            [
                _agency(row, "from_agency", _("from")),
                _agency(row, "to_agency", _("to")),
                *_fields(row, ["effective_on", "new_benefit_scheme", "status", "note", "proposed_at", "decided_at"]),
            ]
            for row in rows
        ],
    )


def _recognitions(actor: Actor, person: Person) -> Section:
    rows = (
        access.visible(actor, RecognitionProcedure)
        .filter(person=person)
        .select_related("agency")
        .order_by("created_at", "pk")
    )
    names = [
        "qualification",
        "country",
        "reference_profession",
        "competent_body",
        "applied_on",
        "decision",
        "decided_on",
        "gaps",
        "bridging",
    ]
    return Section(
        "recognitions",
        _("Recognition of foreign qualifications"),
        [[*_fields(row, names), _agency(row, "agency", _("agency"))] for row in rows],
    )


def _comments(actor: Actor, person: Person) -> Section:
    comment = apps.get_model("messaging", "Comment")
    rows = (
        access.visible(actor, comment)
        .filter(Q(person=person) | Q(referral__person=person))
        .select_related("agency", "referral")
        .order_by("created_at", "pk")
    )
    entries = []
    for row in rows:
        referral = row.referral
        about = referral.reference if referral is not None else ", ".join(category_labels([row.category]))
        entries.append(
            [
                _value("created_at", _("written"), row.created_at),
                _agency(row, "agency", _("agency")),
                _value("about", _("about"), about),
                _value("body", _("comment"), row.body),
            ]
        )
    return Section("comments", _("Comments"), entries)


def _housing(actor: Actor, person: Person) -> Section:
    if person.household_id is None:
        return Section("housing", _("Housing"))
    household = person.household_id
    entries: list[list[Value]] = []
    requests = access.visible(actor, HousingRequest).filter(household_id=household).order_by("created_at", "pk")
    for request in requests:
        entries.append(
            [
                _value("kind", _("record"), "request", _("request for a flat")),
                *_fields(request, ["household_size", "status", "created_at", "note", "decision_note"]),
            ]
        )
    reservations = access.visible(actor, Reservation).filter(household_id=household)
    for reservation in reservations.annotate(flat=F("listing__reference")).order_by("reserved_at", "pk"):
        entries.append(
            [
                _value("kind", _("record"), "reservation", _("reservation")),
                _value("flat", _("flat"), reservation.flat),
                *_fields(reservation, ["status", "reserved_at", "expires_at", "ended_at"]),
            ]
        )
    tenancies = access.visible(actor, Tenancy).filter(household_id=household)
    for tenancy in tenancies.annotate(flat=F("listing__reference")).order_by("allocated_at", "pk"):
        entries.append(
            [
                _value("kind", _("record"), "tenancy", _("tenancy")),
                _value("flat", _("flat"), tenancy.flat),
                *_fields(tenancy, ["status", "move_in", "move_out", "gross_cold_rent", "heating_costs"]),
            ]
        )
    return Section("housing", _("Housing"), entries)


def _meetings(actor: Actor, person: Person) -> Section:
    agenda_item = apps.get_model("messaging", "AgendaItem")
    action_item = apps.get_model("messaging", "ActionItem")
    entries: list[list[Value]] = []
    items = access.visible(actor, agenda_item).filter(person=person).select_related("meeting")
    for item in items.order_by("created_at", "pk"):
        entries.append(
            [
                _value("kind", _("record"), "agenda_item", _("agenda item")),
                _value("meeting", _("meeting"), str(item.meeting)),
                _value("title", _("title"), item.title),
                _value("minutes", _("minutes"), item.minutes),
            ]
        )
    actions = access.visible(actor, action_item).filter(person=person).select_related("meeting", "owner_agency")
    for action in actions.order_by("due_on", "pk"):
        entries.append(
            [
                _value("kind", _("record"), "action_item", _("action item")),
                _value("meeting", _("meeting"), str(action.meeting)),
                _value("title", _("title"), action.title),
                _agency(action, "owner_agency", _("responsible agency")),
                _value("due_on", _("due on"), action.due_on),
                _value("status", _("status"), action.status, str(action.get_status_display())),
            ]
        )
    return Section("meetings", _("Round-table meetings"), entries)


def _reads(actor: Actor, person_ids: list[int]) -> Section:
    rows = (
        ReadAccess.objects.filter(person_id__in=person_ids, agency_id__in=access.agency_ids(actor))
        .select_related("agency")
        .order_by("-at", "-id")
    )
    return Section(
        "reads",
        _("Who read the data (your agency)"),
        [
            [
                _value("at", _("time"), row.at),
                _value("agency", _("agency"), row.agency.name if row.agency is not None else None),
                _value("categories", _("data categories"), row.categories, ", ".join(category_labels(row.categories))),
                _value("purpose", _("purpose"), row.purpose),
            ]
            for row in rows
        ],
    )


def build(actor: Actor, person: Person) -> SubjectAccess:
    """The whole answer for ``person`` as ``actor``'s agencies see them (the caller checked the right to ask)."""
    categories = access.person_categories(actor, person)
    person_ids = [person.pk, *Person.objects.filter(merged_into=person).values_list("pk", flat=True)]
    agency_id = access.acting_agency_id(actor)
    agency = Agency.objects.filter(pk=agency_id).first() if agency_id is not None else None
    return SubjectAccess(
        person=person,
        agency_name=agency.name if agency is not None else "",
        generated_at=timezone.now(),
        categories=categories,
        person_ids=person_ids,
        sections=[
            _person_section(actor, person, categories),
            _case_files(actor, person),
            _consents(actor, person),
            _shares(actor, person),
            _referrals(actor, person),
            _profiles(actor, person, categories),
            _plans(actor, person),
            _enrollments(actor, person),
            _transfers(actor, person),
            _recognitions(actor, person),
            _comments(actor, person),
            _housing(actor, person),
            _meetings(actor, person),
            _reads(actor, person_ids),
        ],
    )
