"""Field allowlists: the keys every API read answers, per route and role, in one table.

Each GET route of the API is read by each persona in a world where every route has an object
(tests/security/populated.py). Whatever a persona may read, the keys of the object (or of each
item of a list) must be exactly the documented ones: a new serializer field fails here until it
is listed, so that no field reaches another agency unnoticed (ASVS 8.2.3).

Two rules depend on the reader rather than the route:
- a person shows the fields of the data categories the reader may see and no others: all of
  them to the agency holding the file, the shared categories to a receiving agency;
- a flat's landlord contact is null for everyone but the managing agency.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from agencies.models import Staff
from hub import access
from tests.access_matrix import ANON
from tests.conftest import PERSONAS, World
from tests.security.populated import API_ROWS, populate


def keys(*names: str) -> frozenset[str]:
    return frozenset(names)


# A person: always these, plus the fields of each category the reader may see.
PERSON_ALWAYS = keys("id", "reference", "categories", "responsible_agency", "responsible_since")
PERSON_CATEGORIES = {
    "identity": keys("first_name", "last_name", "birth_date", "nationality", "gender", "household"),
    "contact": keys("street", "postcode", "city", "phone", "email"),
    "residence": keys("arrival_date", "residence_status", "residence_permit_until", "residence_obligation"),
    "health": keys("health_notes"),
    "benefits": keys("benefit_scheme", "benefits_since"),
    # Kept in the profile and the plan, which have their own routes and scoping.
    "languages": keys(),
    "education": keys(),
    "work": keys(),
    "plan": keys(),
}
PERSON = keys("<the categories the reader may see>")

NOTIFICATION = keys(
    "created_at", "id", "is_read", "kind", "read_at", "target_id", "target_type", "title", "url", "verb"
)
PREFERENCE = keys(
    "email_action_item_due", "email_answer_overdue", "email_mentioned", "email_referral_received", "in_app"
)
ME = keys("email", "first_name", "full_name", "id", "last_name", "memberships", "username")
AGENCY = keys(
    "active_staff_count", "city", "created_at", "email", "id", "kind", "name", "phone", "postcode", "short_name",
    "street", "website",
)  # fmt: skip
STAFF = keys("agency", "deactivated_at", "id", "is_active", "job_title", "joined_at", "phone", "roles", "user")
INVITATION = keys(
    "accepted_at", "agency", "created_at", "email", "expires_at", "first_name", "id", "invited_by", "job_title",
    "last_name", "revoked_at", "roles", "status",
)  # fmt: skip
WORKSPACE = keys("agency_count", "coordinator_agency", "created_at", "id", "is_archived", "name", "purpose")
WORKSPACE_MEMBER = keys("agency", "id", "joined_at")
HOUSEHOLD = keys("created_at", "id", "members", "name", "reference")
CONSENT = keys(
    "categories", "has_document", "id", "person", "purpose", "recipients", "recorded_at", "recorded_by",
    "recorded_by_agency", "revoked_at", "text_version", "valid_from", "valid_today", "valid_until",
)  # fmt: skip
SHARE = keys(
    "basis_reason", "categories", "consent", "created_at", "created_by", "ended_at", "from_agency", "id",
    "is_active", "legal_basis", "person", "to_agency",
)  # fmt: skip
REFERRAL = keys(
    "answer_due_on", "answered_at", "basis_reason", "categories", "closed_at", "consent", "created_at", "created_by",
    "from_agency", "id", "legal_basis", "measure", "outcome", "outcome_reason", "person", "reason", "redirected_to",
    "reference", "sent_at", "status", "status_note", "to_agency", "urgency",
)  # fmt: skip
REFERRAL_DETAIL = REFERRAL | keys("allowed_actions", "history")
INBOX = keys("incoming", "outgoing", "overdue")
PROFILE = keys(
    "agency", "assessment", "childcare_needs", "created_at", "created_by", "id", "languages", "person",
    "qualifications", "version", "wishes", "work_experience",
)  # fmt: skip
PLAN = keys(
    "agency", "agreed_on", "created_at", "created_by", "goals", "id", "late_steps", "next_step", "person",
    "plain_summary", "review_on", "status", "steps", "updated_at",
)  # fmt: skip
MEASURE = keys(
    "created_at", "description", "ends_on", "enrolled_count", "free_seats", "id", "is_open", "kind", "languages",
    "location", "provider", "seats", "starts_on", "title", "waitlist_count",
)  # fmt: skip
ENROLLMENT = keys(
    "created_at", "id", "measure", "person", "requested_by_agency", "status", "updated_at", "waitlist_position"
)
TRANSFER = keys(
    "checklist", "decided_at", "decided_by", "effective_on", "from_agency", "id", "new_benefit_scheme", "note",
    "person", "proposed_at", "proposed_by", "status", "to_agency",
)  # fmt: skip
RECOGNITION = keys(
    "agency", "applied_on", "bridging", "competent_body", "country", "created_at", "created_by", "decided_on",
    "decision", "gaps", "id", "person", "qualification", "reference_profession",
)  # fmt: skip
COMMENT = keys(
    "agency", "author", "body", "category", "created_at", "deleted_at", "edited_at", "id", "is_deleted", "listing",
    "may_change", "mentions", "person", "referral", "target",
)  # fmt: skip
LISTING = keys(
    "accessibility", "available_from", "base_rent", "city", "comparison_area", "created_at", "description",
    "district", "floor", "gross_cold_rent", "has_lift", "heating_costs", "id", "landlord", "lease_holder",
    "living_space", "owner_agency", "photos", "postcode", "reference", "rooms", "running_costs", "status", "street",
    "title", "total_rent", "updated_at", "within_limits_for",
)  # fmt: skip
LISTING_DETAIL = LISTING | keys("allowed_actions", "can_manage")
LISTING_CHANGE = keys("action", "actor", "agency", "at", "changes", "from_status", "id", "note", "to_status")
LISTING_SHARE = keys("agency", "created_at", "created_by", "id", "workspace")
PHOTO = keys("id", "caption", "width", "height", "size_bytes", "position", "uploaded_at", "url", "thumbnail_url")
OCCUPANCY = keys("allocated", "available", "district", "reserved", "total", "withdrawn_or_ended")
RENT_LIMIT = keys(
    "agency", "comparison_area", "created_at", "household_size", "id", "max_gross_cold_rent", "max_heating_costs",
    "max_living_space", "valid_from",
)  # fmt: skip
RENT_APPROVAL = keys(
    "agency", "approved_at", "approved_by", "gross_cold_rent", "household", "household_size", "id", "listing",
    "reason", "rent_limit",
)  # fmt: skip
HOUSING_REQUEST = keys(
    "accessibility_need", "created_at", "decided_at", "decision_note", "districts", "household", "household_size",
    "id", "listing", "note", "requested_by", "requesting_agency", "status", "to_agency", "wanted_from",
)  # fmt: skip
RESERVATION = keys(
    "agency", "ended_at", "expires_at", "household", "household_size", "id", "listing", "note", "request",
    "reserved_at", "reserved_by", "status",
)  # fmt: skip
TENANCY = keys(
    "allocated_at", "allocated_by", "approval", "gross_cold_rent", "handovers", "heating_costs", "household",
    "household_size", "id", "lease_holder", "listing", "move_in", "move_out", "rent_limit", "status",
)  # fmt: skip
MEETING = keys(
    "agenda_count", "cancel_reason", "created_at", "ends_at", "id", "minutes_status", "open_action_count", "place",
    "starts_at", "status", "title", "updated_at", "video_url", "workspace", "workspace_name",
)  # fmt: skip
MEETING_DETAIL = MEETING | keys("invited_agencies", "may_propose", "may_run")
INVITED_AGENCY = keys("id", "kind", "name")
MINUTES_VERSION = keys("content", "created_at", "created_by", "id", "number", "reason", "status")
AGENDA_ITEM = keys(
    "action_items", "case_label", "case_name", "case_reference", "created_at", "decisions", "description", "id",
    "meeting", "minutes", "minutes_updated_at", "minutes_updated_by", "position", "proposed_by", "proposer_agency",
    "referral_reference", "title", "version",
)  # fmt: skip
ACTION_ITEM = keys(
    "agenda_item", "carried_over_from", "case_label", "case_name", "case_reference", "completed_at", "created_at",
    "decision", "due_on", "id", "is_overdue", "meeting", "note", "owner", "owner_agency", "referral_reference",
    "status", "title", "updated_at",
)  # fmt: skip
READ_ACCESS = keys("id", "at", "user", "agency", "person", "person_reference", "categories", "purpose", "method")
DELETION = keys("id", "at", "run_id", "rule", "record_type", "record_id", "action", "count", "details")
RETENTION_RULE = keys("count", "days", "description", "ids", "rule")
LEGAL_HOLD = keys("id", "person", "person_reference", "agency", "reason", "placed_at", "lifted_at", "is_active")
DASHBOARD = keys("figures", "period", "scope", "today")
# A figure's parts, checked as well (``NESTED``): a suppressed number's ``cases`` must never appear.
FIGURE_EXTRA = keys("display", "key", "label", "suppressed", "unit", "value")
DASHBOARD_PARTS = {
    "scope": keys("agency", "id", "kind", "name"),
    "period": keys("end", "start"),
    "figures": FIGURE_EXTRA | keys("extra", "series"),
    "figures.extra": FIGURE_EXTRA,
    "figures.series": keys("key", "label", "points"),
    "figures.series.points": keys("display", "key", "label", "suppressed", "value"),
}

# Route → the keys of its object, or of each item of its list. Routes that answer a file or only
# an error in this world (the consent's PDF, matches without a household) have no keys to check.
FIELDS: dict[str, frozenset[str] | None] = {
    "api:notification-list": NOTIFICATION,
    "api:notification-detail": NOTIFICATION,
    "api:notification-preference": PREFERENCE,
    "api:me-list": ME,
    "api:agency-list": AGENCY,
    "api:agency-detail": AGENCY,
    "api:staff-list": STAFF,
    "api:staff-detail": STAFF,
    "api:invitation-list": INVITATION,
    "api:invitation-detail": INVITATION,
    "api:workspace-list": WORKSPACE,
    "api:workspace-detail": WORKSPACE,
    "api:workspace-members": WORKSPACE_MEMBER,
    "api:person-list": PERSON,
    "api:person-detail": PERSON,
    "api:household-list": HOUSEHOLD,
    "api:household-detail": HOUSEHOLD,
    "api:consent-list": CONSENT,
    "api:consent-detail": CONSENT,
    "api:consent-document": None,
    "api:share-list": SHARE,
    "api:share-detail": SHARE,
    "api:referral-list": REFERRAL,
    "api:referral-detail": REFERRAL_DETAIL,
    "api:referral-inbox": INBOX,
    "api:referral-comments": COMMENT,
    "api:profile-list": PROFILE,
    "api:profile-detail": PROFILE,
    "api:plan-list": PLAN,
    "api:plan-detail": PLAN,
    "api:measure-list": MEASURE,
    "api:measure-detail": MEASURE,
    "api:enrollment-list": ENROLLMENT,
    "api:enrollment-detail": ENROLLMENT,
    "api:transfer-list": TRANSFER,
    "api:transfer-detail": TRANSFER,
    "api:recognition-list": RECOGNITION,
    "api:recognition-detail": RECOGNITION,
    "api:person-comments": COMMENT,
    "api:comment-detail": COMMENT,
    "api:listing-list": LISTING,
    "api:listing-detail": LISTING_DETAIL,
    "api:listing-history": LISTING_CHANGE,
    "api:listing-shares": LISTING_SHARE,
    "api:listing-photos": PHOTO,
    "api:listing-occupancy": OCCUPANCY,
    "api:listing-comments": COMMENT,
    "api:rent-limit-list": RENT_LIMIT,
    "api:rent-limit-detail": RENT_LIMIT,
    "api:rent-approval-list": RENT_APPROVAL,
    "api:rent-approval-detail": RENT_APPROVAL,
    "api:housing-request-list": HOUSING_REQUEST,
    "api:housing-request-detail": HOUSING_REQUEST,
    "api:reservation-list": RESERVATION,
    "api:reservation-detail": RESERVATION,
    "api:tenancy-list": TENANCY,
    "api:tenancy-detail": TENANCY,
    "api:housing-match-list": None,
    "api:meeting-list": MEETING,
    "api:meeting-detail": MEETING_DETAIL,
    "api:meeting-invitations": INVITED_AGENCY,
    "api:meeting-attendance": keys("id", "user", "agency", "present", "note", "recorded_at"),
    "api:meeting-agenda": AGENDA_ITEM,
    "api:meeting-versions": MINUTES_VERSION,
    "api:agenda-item-detail": AGENDA_ITEM,
    "api:agenda-item-decisions": keys("id", "agenda_item", "text", "referral_reference", "recorded_by", "created_at"),
    "api:agenda-item-comments": COMMENT,
    "api:action-item-list": ACTION_ITEM,
    "api:action-item-overview": ACTION_ITEM,
    "api:action-item-detail": ACTION_ITEM,
    "api:privacy-read-list": READ_ACCESS,
    "api:privacy-deletion-list": DELETION,
    "api:privacy-retention-preview": RETENTION_RULE,
    "api:privacy-hold-list": LEGAL_HOLD,
    # The answer to a request of access (Art. 15 GDPR) is the whole file the answering agency
    # holds, in sections; tests/privacy checks what it contains and for whom.
    "api:privacy-subject-access": None,
    "api:reporting-workspace": DASHBOARD,
    "api:reporting-agency": DASHBOARD,
}

# Routes whose answer nests objects of its own: the keys at each path (dots follow keys, through lists).
NESTED: dict[str, dict[str, frozenset[str]]] = {
    "api:reporting-workspace": DASHBOARD_PARTS,
    "api:reporting-agency": DASHBOARD_PARTS,
}


def nested_objects(item: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """The objects at ``path`` below ``item``: "figures.series" is every series of every figure."""
    found = [item]
    for key in path.split("."):
        found = [inner for outer in found for inner in objects_of(outer[key])]
    return found


def objects_of(body: Any) -> list[dict[str, Any]]:
    """The object a read answered, or the items of its list (paginated or plain)."""
    if isinstance(body, dict) and set(body) == {"count", "next", "previous", "results"}:
        return list(body["results"])
    if isinstance(body, list):
        return body
    return [body]


def expected_keys(route: str, item: dict[str, Any]) -> frozenset[str]:
    documented = FIELDS[route]
    assert documented is not None
    if documented is not PERSON:
        return documented
    shown = PERSON_ALWAYS
    for category in item.get("categories", []):
        shown |= PERSON_CATEGORIES[category]
    return shown


def own_agency_ids(persona: str) -> set[int]:
    return set(Staff.objects.filter(user__username=persona, is_active=True).values_list("agency_id", flat=True))


@pytest.mark.django_db
def test_every_api_read_answers_exactly_its_documented_fields(world: World) -> None:
    populated = populate(world)
    reads = [row for row in API_ROWS if row.method == "GET" and populated.url(row) is not None]
    missing = sorted({row.name for row in reads} - set(FIELDS))
    assert not missing, f"API reads without a field allowlist in tests/security/test_api_fields.py: {missing}"

    problems: list[str] = []
    checked = 0
    for row in reads:
        url = populated.url(row)
        assert url is not None
        for persona in PERSONAS:
            if persona == ANON or FIELDS[row.name] is None:
                continue
            client = Client()
            client.force_login(world.persona(persona))
            with transaction.atomic():
                response = client.get(url, row.data(world) if callable(row.data) else row.data)
                transaction.set_rollback(True)
            access.forget(world.persona(persona))
            if response.status_code != 200:
                continue
            for item in objects_of(response.json()):
                checked += 1
                wanted = expected_keys(row.name, item)
                if set(item) != wanted:
                    extra, absent = sorted(set(item) - wanted), sorted(wanted - set(item))
                    problems.append(f"{row.id} as {persona}: extra {extra}, missing {absent}")
                for path, nested_keys in NESTED.get(row.name, {}).items():
                    for inner in nested_objects(item, path):
                        if set(inner) != nested_keys:
                            extra, absent = sorted(set(inner) - nested_keys), sorted(nested_keys - set(inner))
                            problems.append(f"{row.id} as {persona} at {path}: extra {extra}, missing {absent}")
                if row.name.startswith("api:listing-") and "landlord" in item:
                    owner = item["owner_agency"]["id"] if isinstance(item["owner_agency"], dict) else None
                    if owner not in own_agency_ids(persona) and item["landlord"] is not None:
                        problems.append(f"{row.id} as {persona}: the landlord's contact of another agency's flat")
    assert checked > 0
    assert not problems, "\n".join(problems)

    # The receiving agency sees exactly the categories the referral shared (identity and contact).
    shared = next(row for row in API_ROWS if row.id == "api:person-detail-GET-shared")
    client = Client()
    client.force_login(world.bob)
    shared_url = populated.url(shared)
    assert shared_url is not None
    body = client.get(shared_url).json()
    assert body["categories"] == ["identity", "contact"]
    assert "health_notes" not in body and "residence_status" not in body
