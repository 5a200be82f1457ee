"""The access matrix: every route × method × persona → the expected HTTP status.

This table is the executable permission concept (Berechtigungskonzept): the matrix
test runs every row, and fails when a route of the URLconf is missing here.
Objects are built per row by ``target``, both on the jobcenter's side and on the
outsider's (immigration authority's) side, so that every object route is also
tried with the id of an agency the persona shares nothing with (IDOR).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from agencies import services
from agencies.models import Agency, Staff, User, WorkspaceMembership
from messaging import services as comment_services
from messaging.models import Comment, Notification
from referrals import services as referral_services
from referrals.models import Referral
from tests.conftest import ANON, PERSONAS, World, make_case, make_user

MEMBERS = ("alice", "bob", "carol", "rita", "adam", "cora")
JOBCENTER = ("alice", "rita", "adam", "cora")


def expect(default: int, anon: int | None = None, **overrides: int) -> dict[str, int]:
    """Statuses for all personas: ``default`` unless overridden; ``anon`` for the anonymous visitor."""
    table = {name: default for name in PERSONAS}
    table[ANON] = anon if anon is not None else default
    table.update(overrides)
    return table


def only(allowed: dict[str, int], others: int, anon: int, **overrides: int) -> dict[str, int]:
    table = expect(others, anon=anon, **overrides)
    table.update(allowed)
    return table


@dataclass
class Row:
    name: str
    method: str
    statuses: dict[str, int]
    args: Callable[[World], list[Any]] = lambda w: []
    data: dict[str, Any] | Callable[[World], dict[str, Any]] = field(default_factory=dict)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}-{self.method}{'-' + self.label if self.label else ''}"


def staff_of(username: str) -> Callable[[World], list[Any]]:
    return lambda w: [Staff.objects.get(user__username=username).pk]


def deactivated_colleague(w: World) -> list[Any]:
    staff = w.staff(w.rita)
    services.staff_deactivate(actor=w.adam, staff=staff)
    return [staff.pk]


def open_invitation(w: World) -> list[Any]:
    invitation, _ = services.staff_invite(
        actor=w.adam, agency=w.jobcenter, email="neu@example.org", first_name="Nina", last_name="Neu"
    )
    return [invitation.pk]


def invitation_token(w: World) -> list[Any]:
    _, token = services.staff_invite(
        actor=w.adam, agency=w.jobcenter, email="neu@example.org", first_name="Nina", last_name="Neu"
    )
    return [token]


def membership(w: World) -> list[Any]:
    return [w.workspace.pk, WorkspaceMembership.objects.get(workspace=w.workspace, agency=w.social_office).pk]


LOGIN = 302  # the UI sends anonymous visitors to the login page
UNAUTHORISED = 401  # the API answers anonymous calls with 401 and a WWW-Authenticate header
ADAM_ONLY = {"adam": 200}
MANAGERS = {"cora": 200, "adam": 200}


def bobs_notification(w: World) -> list[Any]:
    """Sending a referral to the social office notifies its caseworker bob."""
    sent_referral(w)
    return [Notification.objects.filter(recipient=w.bob).latest("id").pk]


UI_ROWS: list[Row] = [
    Row("dashboard", "GET", expect(200, anon=LOGIN)),
    Row("login", "GET", expect(200)),
    Row("logout", "POST", expect(302)),
    Row("set_language", "POST", expect(302), data={"language": "en", "next": "/"}),
    Row("profile", "GET", expect(200, anon=LOGIN)),
    Row("profile", "POST", expect(200, anon=LOGIN), data={"email": "not-an-address"}, label="invalid"),
    Row("password-change", "GET", expect(200, anon=LOGIN)),
    Row("api-token", "POST", expect(302, anon=LOGIN)),
    Row("api-token-delete", "POST", expect(302, anon=LOGIN)),
    Row("agency-list", "GET", expect(200, anon=LOGIN)),
    Row("agency-detail", "GET", expect(200, anon=LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("agency-detail", "GET", only({"olga": 200}, 404, LOGIN), lambda w: [w.immigration.pk], label="foreign"),
    Row("agency-detail", "GET", expect(404, anon=LOGIN), lambda w: [999999], label="missing"),
    Row("agency-edit", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("agency-edit", "POST", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk], {"email": "x"}),
    Row("agency-edit", "GET", only({}, 404, LOGIN, olga=403), lambda w: [w.immigration.pk], label="foreign"),
    Row("staff-list", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("staff-list", "GET", only({}, 404, LOGIN, olga=403), lambda w: [w.immigration.pk], label="foreign"),
    Row("staff-edit", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), staff_of("alice")),
    Row("staff-edit", "POST", only(ADAM_ONLY, 403, LOGIN, olga=404), staff_of("alice"), {"roles": ["superhero"]}),
    Row("staff-edit", "GET", only({}, 404, LOGIN, olga=403), staff_of("ines"), label="foreign"),
    Row("staff-deactivate", "POST", only({"adam": 302}, 403, LOGIN, olga=404), staff_of("alice")),
    Row("staff-deactivate", "POST", only({}, 404, LOGIN, olga=403), staff_of("ines"), label="foreign"),
    # A deactivated membership is visible to its agency's admins only.
    Row("staff-reactivate", "POST", only({"adam": 302}, 404, LOGIN), deactivated_colleague),
    Row("invitation-create", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row(
        "invitation-create",
        "POST",
        only(ADAM_ONLY, 403, LOGIN, olga=404),
        lambda w: [w.jobcenter.pk],
        {"email": "broken"},
        label="invalid",
    ),
    Row("invitation-revoke", "POST", only({"adam": 302}, 404, LOGIN), open_invitation),
    Row("invitation-accept", "GET", expect(200), invitation_token),
    Row("invitation-accept", "GET", expect(404), lambda w: ["no-such-token"], label="unknown"),
    Row("invitation-accept", "POST", expect(200), invitation_token, {"username": ""}, label="invalid"),
    Row("audit-list", "GET", only(ADAM_ONLY, 403, LOGIN, olga=404), lambda w: [w.jobcenter.pk]),
    Row("audit-list", "GET", only({}, 404, LOGIN, olga=403), lambda w: [w.immigration.pk], label="foreign"),
    Row("workspace-list", "GET", expect(200, anon=LOGIN)),
    Row("workspace-create", "GET", only(MANAGERS, 403, LOGIN)),
    Row("workspace-create", "POST", only(MANAGERS, 403, LOGIN), data={"name": ""}, label="invalid"),
    Row("workspace-detail", "GET", expect(200, anon=LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "workspace-detail",
        "GET",
        only({"olga": 200}, 404, LOGIN),
        lambda w: [w.other_workspace.pk],
        label="foreign",
    ),
    Row("workspace-edit", "GET", only(MANAGERS, 403, LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row("workspace-edit", "POST", only(MANAGERS, 403, LOGIN, olga=404), lambda w: [w.workspace.pk], {"name": ""}),
    Row("workspace-add-agency", "GET", only(MANAGERS, 403, LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "workspace-add-agency",
        "POST",
        only(MANAGERS, 403, LOGIN, olga=404),
        lambda w: [w.workspace.pk],
        {"agency": "999999"},
        label="invalid",
    ),
    Row("workspace-remove-agency", "POST", only({"cora": 302, "adam": 302}, 403, LOGIN, olga=404), membership),
]

# Cases: Amina is held by the jobcenter (alice is her case manager); a referral goes to the social office.


def person(w: World) -> list[Any]:
    return [make_case(w).person.pk]


def sent_referral(w: World) -> Referral:
    case = make_case(w)
    return referral_services.referral_create(
        actor=w.alice,
        person=case.person,
        to_agency=w.social_office,
        reason="Beratung",
        categories=["identity", "contact"],
        legal_basis="consent",
        consent=case.consent,
        answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
    )


def referral(w: World) -> list[Any]:
    return [sent_referral(w).pk]


def referral_step(action: str) -> Callable[[World], list[Any]]:
    return lambda w: [sent_referral(w).pk, action]


def accepted_referral(w: World) -> list[Any]:
    found = referral_services.referral_transition(actor=w.bob, referral=sent_referral(w), action="accept")
    return [found.pk]


def shared_person(w: World) -> list[Any]:
    """Amina after a referral: the social office sees her identity and contact."""
    return [sent_referral(w).person_id]


def referral_share(w: World) -> list[Any]:
    return [sent_referral(w).share_id]


def consent(w: World) -> list[Any]:
    return [make_case(w).consent.pk]


def consent_document(w: World) -> list[Any]:
    """The consent of a sent referral, with a signed PDF: the receiver may check its basis."""
    found = sent_referral(w).consent
    assert found is not None
    found.document.save("consent.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    return [found.pk]


CASE_WORKERS = {"alice": 200, "cora": 200}  # the jobcenter's caseworker and coordinator hold Amina's file
JOBCENTER_READERS = {"alice": 200, "rita": 200, "adam": 200, "cora": 200}
MAY_REGISTER = {"alice": 200, "bob": 200, "carol": 200, "olga": 200, "cora": 200}

CASE_ROWS: list[Row] = [
    Row("person-list", "GET", expect(200, anon=LOGIN)),
    Row("person-create", "GET", only(MAY_REGISTER, 403, LOGIN)),
    Row("person-create", "POST", only(MAY_REGISTER, 403, LOGIN), data={"first_name": ""}, label="invalid"),
    Row("person-detail", "GET", only(JOBCENTER_READERS, 404, LOGIN), person),
    Row("person-detail", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, LOGIN), shared_person, label="shared"),
    Row("person-edit", "GET", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person),
    Row(
        "person-edit", "GET", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403, bob=403), shared_person, label="shared"
    ),
    Row("person-edit", "POST", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person, {"first_name": ""}),
    Row("person-household", "GET", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person),
    Row("person-merge", "POST", only({"alice": 400, "cora": 400}, 404, LOGIN, rita=403, adam=403), person),
    Row("consent-create", "GET", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person),
    Row("consent-create", "POST", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person, label="invalid"),
    Row("consent-revoke", "POST", only({"alice": 302, "cora": 302}, 404, LOGIN, rita=403, adam=403), consent),
    Row("consent-document", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, LOGIN), consent_document),
    Row("share-create", "GET", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person),
    Row("share-create", "POST", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person, label="invalid"),
    Row("share-end", "POST", only({"alice": 302, "cora": 302}, 403, LOGIN, carol=404, olga=404), referral_share),
    Row("referral-create", "GET", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person),
    Row("referral-create", "POST", only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403), person, label="invalid"),
    Row("referral-inbox", "GET", expect(200, anon=LOGIN)),
    Row("referral-list", "GET", expect(200, anon=LOGIN)),
    Row("referral-detail", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, LOGIN), referral),
    Row("referral-step", "POST", only({"bob": 302}, 403, LOGIN, carol=404, olga=404), referral_step("receive")),
    Row(
        "referral-step",
        "POST",
        only({"alice": 302, "cora": 302}, 403, LOGIN, carol=404, olga=404),
        referral_step("withdraw"),
        label="withdraw",
    ),
    Row("referral-decline", "GET", only({"bob": 200}, 403, LOGIN, carol=404, olga=404), referral),
    Row("referral-complete", "GET", only({"bob": 200}, 403, LOGIN, carol=404, olga=404), accepted_referral),
    Row("referral-fail", "GET", only({"bob": 200}, 403, LOGIN, carol=404, olga=404), accepted_referral),
    Row("referral-redirect", "GET", only({"alice": 200, "cora": 200}, 403, LOGIN, carol=404, olga=404), referral),
]


def case_of(w: World) -> Any:
    return make_case(w).person


def profile(w: World) -> list[Any]:
    found = referral_services.profile_create(
        actor=w.alice, person=case_of(w), languages=[{"language": "Arabisch", "level": "native"}]
    )
    return [found.pk]


def make_plan(w: World) -> Any:
    return referral_services.plan_create(actor=w.alice, person=case_of(w), goals="Sprachniveau B1")


def plan(w: World) -> list[Any]:
    return [make_plan(w).pk]


def plan_step(w: World) -> list[Any]:
    step = referral_services.plan_step_add(
        actor=w.alice, plan=make_plan(w), kind="language_course", title="Integrationskurs", owner_agency=w.jobcenter
    )
    return [step.pk]


def recognition(w: World) -> list[Any]:
    found = referral_services.recognition_create(
        actor=w.alice,
        person=case_of(w),
        qualification="Bachelor Pflege",
        country="Syrien",
        reference_profession="Pflegefachfrau",
        competent_body="NLGA",
    )
    return [found.pk]


def measure_of_a_provider(w: World) -> Any:
    """A course of a provider none of the personas works for."""
    # Reused when one world builds several targets (the security tests populate one world).
    provider = Agency.objects.filter(name="Volkshochschule").first()
    teacher = User.objects.filter(username="vera").first()
    if provider is None or teacher is None:
        provider = services.agency_create(actor=None, name="Volkshochschule", kind="course_provider")
        teacher = make_user("vera", "Vera", "Vogel")
        services.staff_create(actor=None, agency=provider, user=teacher, roles=["caseworker"])
    return referral_services.measure_create(
        actor=teacher,
        provider=provider,
        title="Integrationskurs B1",
        kind="integration_course",
        starts_on=timezone.localdate() + datetime.timedelta(days=30),
        seats=2,
    )


def measure(w: World) -> list[Any]:
    return [measure_of_a_provider(w).pk]


def enrollment(w: World) -> list[Any]:
    found = referral_services.enrollment_request(actor=w.alice, measure=measure_of_a_provider(w), person=case_of(w))
    return [found.pk]


def transfer(w: World) -> list[Any]:
    found = referral_services.transfer_propose(
        actor=w.alice,
        person=case_of(w),
        to_agency=w.social_office,
        effective_on=timezone.localdate(),
        new_benefit_scheme="sgb_xii",
        checklist={},
    )
    return [found.pk]


# Statuses shared by many routes of profiling, plans and recognition (Amina's file is the jobcenter's).
READ_CASE = only(JOBCENTER_READERS, 404, LOGIN)
WRITE_CASE = only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403)
API_READ_CASE = only(JOBCENTER_READERS, 404, UNAUTHORISED)
API_WRITE_CASE = only(CASE_WORKERS, 404, UNAUTHORISED, rita=403, adam=403)
EVERYONE = expect(200, anon=LOGIN)
API_EVERYONE = expect(200, anon=UNAUTHORISED)
NOBODY_HERE = expect(403, anon=LOGIN)  # only a provider's staff maintain measures

PLAN_ROWS: list[Row] = [
    *(Row(name, "GET", READ_CASE, person) for name in ("person-profile", "person-plans", "person-recognitions")),
    Row("person-transfers", "GET", READ_CASE, person),
    Row("profile-detail", "GET", READ_CASE, profile),
    *(Row(name, "GET", READ_CASE, plan) for name in ("plan-detail", "plan-print")),
    *(
        Row(name, method, WRITE_CASE, person)
        for name in ("profile-create", "plan-create", "transfer-create", "recognition-create")
        for method in ("GET", "POST")
    ),
    *(
        Row(name, method, WRITE_CASE, plan)
        for name in ("plan-edit", "plan-agree", "plan-step-add")
        for method in ("GET", "POST")
    ),
    Row("plan-step-edit", "GET", WRITE_CASE, plan_step),
    Row("recognition-edit", "GET", WRITE_CASE, recognition),
    Row("plan-close", "POST", only({"alice": 302, "cora": 302}, 404, LOGIN, rita=403, adam=403), plan),
    *(Row(name, "GET", EVERYONE) for name in ("plan-list", "measure-list", "transfer-list")),
    Row("measure-detail", "GET", EVERYONE, measure),
    Row("measure-enrol", "GET", EVERYONE, measure),
    Row("measure-enrol", "POST", EVERYONE, measure, label="invalid"),
    Row("measure-create", "GET", NOBODY_HERE),
    Row("measure-edit", "GET", NOBODY_HERE, measure),
    Row("transfer-detail", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, LOGIN), transfer),
    Row("transfer-complete", "GET", only({"bob": 200}, 403, LOGIN, carol=404, olga=404), transfer),
    Row("transfer-cancel", "POST", only({"alice": 302, "cora": 302}, 403, LOGIN, carol=404, olga=404), transfer),
    Row("enrollment-cancel", "POST", only({"alice": 302, "cora": 302}, 404, LOGIN, rita=403, adam=403), enrollment),
    Row("enrollment-complete", "POST", only({}, 404, LOGIN, alice=403, cora=403, rita=403, adam=403), enrollment),
]

API_PLAN_ROWS: list[Row] = [
    *(
        Row(f"api:{name}-list", "GET", API_EVERYONE)
        for name in ("profile", "plan", "measure", "enrollment", "transfer", "recognition")
    ),
    *(
        Row(f"api:{name}-list", "POST", only({}, 400, UNAUTHORISED, rita=403, adam=403))
        for name in ("profile", "plan", "enrollment", "transfer", "recognition", "plan-step")
    ),
    Row("api:measure-list", "POST", expect(403, anon=UNAUTHORISED)),
    Row("api:profile-detail", "GET", API_READ_CASE, profile),
    Row("api:plan-detail", "GET", API_READ_CASE, plan),
    Row("api:plan-detail", "PATCH", API_WRITE_CASE, plan),
    Row("api:plan-step-detail", "PATCH", API_WRITE_CASE, plan_step),
    Row("api:recognition-detail", "GET", API_READ_CASE, recognition),
    Row("api:recognition-detail", "PATCH", API_WRITE_CASE, recognition),
    Row("api:enrollment-detail", "GET", API_READ_CASE, enrollment),
    Row("api:plan-agree", "POST", only({"alice": 400, "cora": 400}, 404, UNAUTHORISED, rita=403, adam=403), plan),
    Row("api:plan-close", "POST", API_WRITE_CASE, plan),
    Row("api:measure-detail", "GET", API_EVERYONE, measure),
    Row("api:measure-detail", "PATCH", expect(403, anon=UNAUTHORISED), measure),
    Row("api:enrollment-cancel", "POST", API_WRITE_CASE, enrollment),
    Row(
        "api:enrollment-complete",
        "POST",
        only({}, 404, UNAUTHORISED, alice=403, cora=403, rita=403, adam=403),
        enrollment,
    ),
    Row("api:transfer-detail", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, UNAUTHORISED), transfer),
    Row("api:transfer-complete", "POST", only({"bob": 400}, 403, UNAUTHORISED, carol=404, olga=404), transfer),
    Row(
        "api:transfer-cancel",
        "POST",
        only({"alice": 200, "cora": 200}, 403, UNAUTHORISED, carol=404, olga=404),
        transfer,
    ),
]


def invite_body(w: World) -> dict[str, Any]:
    return {"agency": w.jobcenter.pk, "email": "neu@example.org", "first_name": "Nina", "last_name": "Neu"}


def new_workspace(w: World) -> dict[str, Any]:
    return {"name": "Team Arbeit", "coordinator_agency": w.jobcenter.pk}


def new_person_body(w: World) -> dict[str, Any]:
    return {
        "agency": w.jobcenter.pk,
        "first_name": "Nadia",
        "last_name": "Karimi",
        "birth_date": "1992-03-01",
        "nationality": "afghanisch",
    }


def duplicate_body(w: World) -> dict[str, Any]:
    duplicate = referral_services.person_create(
        actor=w.alice,
        agency=w.jobcenter,
        first_name="Amina",
        last_name="Haddad",
        birth_date=datetime.date(1990, 4, 12),
        nationality="syrisch",
    )
    return {"duplicate": duplicate.pk}


def household(w: World) -> list[Any]:
    case = make_case(w)
    found = referral_services.household_create(actor=w.alice, name="Familie Haddad")
    referral_services.person_update(actor=w.alice, person=case.person, household=found)
    return [found.pk]


def about_amina(**body: Any) -> Callable[[World], dict[str, Any]]:
    """A body that names Amina (and, with ``consent=True``, her consent) next to ``body``."""

    def build(w: World) -> dict[str, Any]:
        case = make_case(w)
        built: dict[str, Any] = {"person": case.person.pk}
        for key, value in body.items():
            if key == "consent":
                built["consent"] = case.consent.pk
            else:
                built[key] = value(w) if callable(value) else value
        return built

    return build


DUE = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
CREATES = {"alice": 201, "cora": 201}
HOLDERS_ONLY = only(CREATES, 400, UNAUTHORISED, rita=403, adam=403)  # others' ids read as nonexistent

API_CASE_ROWS: list[Row] = [
    Row("api:person-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:person-list", "POST", HOLDERS_ONLY, data=new_person_body),
    Row("api:person-detail", "GET", only(JOBCENTER_READERS, 404, UNAUTHORISED), person),
    Row(
        "api:person-detail",
        "GET",
        only({**JOBCENTER_READERS, "bob": 200}, 404, UNAUTHORISED),
        shared_person,
        label="shared",
    ),
    Row(
        "api:person-detail", "PATCH", only(CASE_WORKERS, 404, UNAUTHORISED, rita=403, adam=403), person, {"phone": "1"}
    ),
    Row("api:person-merge", "POST", only(CASE_WORKERS, 404, UNAUTHORISED, rita=403, adam=403), person, duplicate_body),
    Row("api:household-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row(
        "api:household-list",
        "POST",
        HOLDERS_ONLY,
        data=lambda w: {"name": "Familie", "members": [make_case(w).person.pk]},
    ),
    Row("api:household-detail", "GET", only(JOBCENTER_READERS, 404, UNAUTHORISED), household),
    Row("api:consent-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row(
        "api:consent-list",
        "POST",
        HOLDERS_ONLY,
        data=about_amina(
            categories=["identity"], recipients=lambda w: [w.social_office.pk], purpose="Beratung", text_version="1"
        ),
    ),
    Row("api:consent-detail", "GET", only(JOBCENTER_READERS, 404, UNAUTHORISED), consent),
    Row("api:consent-revoke", "POST", only(CASE_WORKERS, 404, UNAUTHORISED, rita=403, adam=403), consent),
    Row(
        "api:consent-document",
        "GET",
        only({**JOBCENTER_READERS, "bob": 200}, 404, UNAUTHORISED),
        consent_document,
    ),
    Row("api:share-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row(
        "api:share-list",
        "POST",
        HOLDERS_ONLY,
        data=about_amina(
            to_agency=lambda w: w.social_office.pk, categories=["identity"], legal_basis="sgb_x_69", basis_reason="x"
        ),
    ),
    Row("api:share-detail", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, UNAUTHORISED), referral_share),
    Row(
        "api:share-end",
        "POST",
        only({"alice": 200, "cora": 200}, 403, UNAUTHORISED, carol=404, olga=404),
        referral_share,
    ),
    Row("api:referral-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row(
        "api:referral-list",
        "POST",
        HOLDERS_ONLY,
        data=about_amina(
            consent=True,
            to_agency=lambda w: w.social_office.pk,
            reason="Beratung",
            categories=["identity"],
            legal_basis="consent",
            answer_due_on=DUE,
        ),
    ),
    Row("api:referral-detail", "GET", only({**JOBCENTER_READERS, "bob": 200}, 404, UNAUTHORISED), referral),
    Row(
        "api:referral-transition",
        "POST",
        only({"bob": 200}, 403, UNAUTHORISED, carol=404, olga=404),
        referral,
        {"action": "receive"},
    ),
    Row(
        "api:referral-transition",
        "POST",
        only({"alice": 200, "cora": 200}, 403, UNAUTHORISED, carol=404, olga=404),
        referral,
        {"action": "withdraw"},
        label="withdraw",
    ),
    Row(
        "api:referral-redirect",
        "POST",
        only(CREATES, 403, UNAUTHORISED, carol=404, olga=404),
        referral,
        lambda w: {"to_agency": w.youth_office.pk},
    ),
    Row("api:referral-inbox", "GET", expect(200, anon=UNAUTHORISED)),
]

API_ROWS: list[Row] = [
    Row("api-schema", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api-docs", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:me-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:agency-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:agency-detail", "GET", expect(200, anon=UNAUTHORISED, olga=404), lambda w: [w.jobcenter.pk]),
    Row(
        "api:agency-detail",
        "GET",
        only({"olga": 200}, 404, UNAUTHORISED),
        lambda w: [w.immigration.pk],
        label="foreign",
    ),
    Row(
        "api:agency-detail",
        "PATCH",
        only(ADAM_ONLY, 403, UNAUTHORISED, olga=404),
        lambda w: [w.jobcenter.pk],
        {"phone": "05921 96-0"},
    ),
    Row("api:staff-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:staff-detail", "GET", expect(200, anon=UNAUTHORISED, olga=404), staff_of("alice")),
    Row("api:staff-detail", "GET", only({"olga": 200}, 404, UNAUTHORISED), staff_of("ines"), label="foreign"),
    Row(
        "api:staff-detail",
        "PATCH",
        only(ADAM_ONLY, 403, UNAUTHORISED, olga=404),
        staff_of("alice"),
        {"job_title": "Fallmanagerin"},
    ),
    Row("api:staff-deactivate", "POST", only(ADAM_ONLY, 403, UNAUTHORISED, olga=404), staff_of("alice")),
    Row("api:staff-reactivate", "POST", only(ADAM_ONLY, 404, UNAUTHORISED), deactivated_colleague),
    Row("api:invitation-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:invitation-list", "POST", only({"adam": 201}, 403, UNAUTHORISED, olga=400), data=invite_body),
    Row("api:invitation-detail", "GET", only(ADAM_ONLY, 404, UNAUTHORISED), open_invitation),
    Row("api:invitation-revoke", "POST", only(ADAM_ONLY, 404, UNAUTHORISED), open_invitation),
    Row("api:workspace-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:workspace-list", "POST", only({"cora": 201, "adam": 201}, 403, UNAUTHORISED), data=new_workspace),
    Row("api:workspace-detail", "GET", expect(200, anon=UNAUTHORISED, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "api:workspace-detail",
        "GET",
        only({"olga": 200}, 404, UNAUTHORISED),
        lambda w: [w.other_workspace.pk],
        label="foreign",
    ),
    Row(
        "api:workspace-detail",
        "PATCH",
        only({"cora": 200, "adam": 200}, 403, UNAUTHORISED, olga=404),
        lambda w: [w.workspace.pk],
        {"purpose": "Neu"},
    ),
    Row("api:workspace-members", "GET", expect(200, anon=UNAUTHORISED, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "api:workspace-members",
        "POST",
        only({"cora": 201, "adam": 201}, 403, UNAUTHORISED, olga=404),
        lambda w: [w.workspace.pk],
        lambda w: {"agency": w.immigration.pk},
    ),
    Row(
        "api:workspace-member",
        "DELETE",
        only({"cora": 204, "adam": 204}, 403, UNAUTHORISED, olga=404),
        membership,
    ),
]

NOTIFICATION_ROWS: list[Row] = [
    Row("notification-list", "GET", expect(200, anon=LOGIN)),
    Row("notification-read", "POST", only({"bob": 302}, 404, LOGIN), bobs_notification),
    Row("notification-read-all", "POST", expect(302, anon=LOGIN)),
    Row("notification-preferences", "GET", expect(200, anon=LOGIN)),
    Row("notification-preferences", "POST", expect(302, anon=LOGIN)),
    Row("api:notification-list", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:notification-detail", "GET", only({"bob": 200}, 404, UNAUTHORISED), bobs_notification),
    Row("api:notification-read", "POST", only({"bob": 200}, 404, UNAUTHORISED), bobs_notification),
    Row("api:notification-read-all", "POST", expect(200, anon=UNAUTHORISED)),
    Row("api:notification-preference", "GET", expect(200, anon=UNAUTHORISED)),
    Row("api:notification-preference", "PATCH", expect(200, anon=UNAUTHORISED)),
]


# Comments: alice's comment on the referral to bob's social office, and olga's on a person of her own.


def referral_comment(w: World) -> list[Any]:
    return [comment_services.comment_create(actor=w.alice, target=sent_referral(w), body="Termin am Montag?").pk]


def olgas_comment(w: World) -> list[Any]:
    """A comment on a person only the immigration authority holds: the other side of every IDOR row."""
    own = referral_services.person_create(
        actor=w.olga,
        agency=w.immigration,
        first_name="Omar",
        last_name="Odeh",
        birth_date=datetime.date(1985, 1, 5),
        nationality="irakisch",
    )
    return [comment_services.comment_create(actor=w.olga, target=own, body="Vorsprache", category="residence").pk]


def olgas_person(w: World) -> list[Any]:
    found = Comment.objects.get(pk=olgas_comment(w)[0])
    return [found.person_id]


REFERRAL_SIDES = {**JOBCENTER_READERS, "bob": 200}
OLGA_ONLY = only({"olga": 200}, 404, LOGIN)
WRITE_REFERRAL_COMMENT = only({"alice": 200, "cora": 200, "bob": 200}, 404, LOGIN, rita=403, adam=403)
OWN_COMMENT = only({"alice": 200}, 403, LOGIN, carol=404, olga=404)
API_OWN_COMMENT = only({"alice": 200}, 403, UNAUTHORISED, carol=404, olga=404)

COMMENT_ROWS: list[Row] = [
    Row("comment-thread-referral", "GET", only(REFERRAL_SIDES, 404, LOGIN), referral),
    Row("comment-thread-person", "GET", READ_CASE, person),
    Row("comment-thread-person", "GET", only(REFERRAL_SIDES, 404, LOGIN), shared_person, label="shared"),
    Row("comment-thread-person", "GET", OLGA_ONLY, olgas_person, label="foreign"),
    Row("comment-create-referral", "POST", WRITE_REFERRAL_COMMENT, referral, {"body": ""}, label="invalid"),
    Row(
        "comment-create-referral",
        "POST",
        only({"alice": 302, "cora": 302, "bob": 302}, 404, LOGIN, rita=403, adam=403),
        referral,
        {"body": "Passt Montag?"},
    ),
    Row("comment-create-person", "POST", WRITE_CASE, person, {"body": "", "category": "plan"}, label="invalid"),
    Row(
        "comment-create-person",
        "POST",
        only({"alice": 302, "cora": 302, "bob": 302}, 404, LOGIN, rita=403, adam=403),
        shared_person,
        {"body": "Neue Telefonnummer", "category": "contact"},
        label="shared",
    ),
    Row(
        "comment-create-person",
        "POST",
        only({"olga": 302}, 404, LOGIN),
        olgas_person,
        {"body": "Termin", "category": "residence"},
        label="foreign",
    ),
    Row("comment-edit", "GET", OWN_COMMENT, referral_comment),
    Row("comment-edit", "POST", OWN_COMMENT, referral_comment, {"body": ""}, label="invalid"),
    Row("comment-edit", "GET", OLGA_ONLY, olgas_comment, label="foreign"),
    Row("comment-delete", "GET", OWN_COMMENT, referral_comment),
    Row("comment-delete", "POST", only({"alice": 302}, 403, LOGIN, carol=404, olga=404), referral_comment),
    Row("comment-delete", "POST", only({"olga": 302}, 404, LOGIN), olgas_comment, label="foreign"),
    Row("api:referral-comments", "GET", only(REFERRAL_SIDES, 404, UNAUTHORISED), referral),
    Row(
        "api:referral-comments",
        "POST",
        only({"alice": 201, "cora": 201, "bob": 201}, 404, UNAUTHORISED, rita=403, adam=403),
        referral,
        {"body": "Passt Montag?"},
    ),
    Row(
        "api:referral-comments",
        "POST",
        only({"alice": 400, "cora": 400, "bob": 400}, 404, UNAUTHORISED, rita=403, adam=403),
        referral,
        {"body": "", "extra": 1},
        label="invalid",
    ),
    Row("api:person-comments", "GET", API_READ_CASE, person),
    Row("api:person-comments", "GET", only({"olga": 200}, 404, UNAUTHORISED), olgas_person, label="foreign"),
    Row(
        "api:person-comments",
        "POST",
        only(CREATES, 404, UNAUTHORISED, rita=403, adam=403),
        person,
        {"body": "Plan prüfen", "category": "plan"},
    ),
    Row(
        "api:person-comments",
        "POST",
        only({"alice": 400, "cora": 400}, 404, UNAUTHORISED, rita=403, adam=403),
        person,
        {"body": "x"},
        label="invalid",
    ),
    Row("api:comment-detail", "GET", only(REFERRAL_SIDES, 404, UNAUTHORISED), referral_comment),
    Row("api:comment-detail", "GET", only({"olga": 200}, 404, UNAUTHORISED), olgas_comment, label="foreign"),
    Row("api:comment-detail", "PATCH", API_OWN_COMMENT, referral_comment, {"body": "Dienstag?"}),
    Row(
        "api:comment-detail",
        "DELETE",
        only({"alice": 204}, 403, UNAUTHORISED, carol=404, olga=404),
        referral_comment,
    ),
    Row("api:comment-detail", "DELETE", only({"olga": 204}, 404, UNAUTHORISED), olgas_comment, label="foreign"),
]

# Housing: the social office rents the flats (bob is also its housing officer in these rows), shares
# them with the round table (jobcenter, social and youth office); the jobcenter keeps the rent limits.


def housing_officer_bob(w: World) -> None:
    sam = User.objects.get(username="sam")
    services.staff_update(actor=sam, staff=w.staff(w.bob), roles=["caseworker", "housing_officer"])


def flat_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "street": "Lindenallee 4",
        "postcode": "48529",
        "city": "Nordhorn",
        "district": "Nordhorn-Mitte",
        "comparison_area": "Vergleichsraum Stadt",
        "rooms": "3",
        "living_space": "72.50",
        "base_rent": "450.00",
        "running_costs": "140.00",
        "heating_costs": "95.00",
        "available_from": timezone.localdate().isoformat(),
    }
    fields.update(overrides)
    return fields


def make_flat(w: World) -> Any:
    from housing import services as housing_services

    housing_officer_bob(w)
    found = housing_services.listing_create(actor=w.bob, owner_agency=w.social_office, **flat_fields())
    housing_services.listing_share(actor=w.bob, listing=found, workspace=w.workspace)
    return housing_services.listing_transition(actor=w.bob, listing=found, action="publish")


def flat(w: World) -> list[Any]:
    return [make_flat(w).pk]


def flat_photo(w: World) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from housing import services as housing_services
    from tests.housing.helpers import jpeg_bytes

    upload = SimpleUploadedFile("flat.jpg", jpeg_bytes(64, 48), content_type="image/jpeg")
    return housing_services.photo_add(actor=w.bob, listing=make_flat(w), photo=upload)


def photo_id(w: World) -> list[Any]:
    return [flat_photo(w).pk]


def flat_and_photo(w: World) -> list[Any]:
    photo = flat_photo(w)
    return [photo.listing_id, photo.pk]


def flat_and_share(w: World) -> list[Any]:
    from housing.models import ListingShare

    found = make_flat(w)
    return [found.pk, ListingShare.objects.get(listing=found).pk]


def flat_body(w: World) -> dict[str, Any]:
    housing_officer_bob(w)
    return flat_fields()


def rent_limit_body(w: World) -> dict[str, Any]:
    return {
        "comparison_area": "Vergleichsraum Stadt",
        "household_size": 3,
        "max_gross_cold_rent": "640.00",
        "valid_from": timezone.localdate().isoformat(),
    }


def make_rent_limit(w: World) -> Any:
    from housing import services as housing_services

    return housing_services.rent_limit_create(actor=w.adam, **rent_limit_body(w))


def rent_limit(w: World) -> list[Any]:
    return [make_rent_limit(w).pk]


def bobs_household(w: World) -> Any:
    from tests.housing.helpers import make_household

    return make_household(w.bob, w.social_office, size=3)


def alices_household(w: World) -> Any:
    from tests.housing.helpers import make_household

    return make_household(w.alice, w.jobcenter, size=3)


def make_reservation(w: World) -> Any:
    from housing import services as housing_services
    from housing.models import RentLimit

    # One rent limit per area, size and day: reused when one world builds several reservations.
    if not RentLimit.objects.filter(comparison_area="Vergleichsraum Stadt", household_size=3).exists():
        make_rent_limit(w)
    return housing_services.reservation_create(actor=w.bob, listing=make_flat(w), household=bobs_household(w))


def reservation(w: World) -> list[Any]:
    return [make_reservation(w).pk]


def tenancy(w: World) -> list[Any]:
    from housing import services as housing_services

    found = housing_services.tenancy_allocate(actor=w.bob, reservation=make_reservation(w))
    return [found.pk]


def moved_in_tenancy(w: World) -> list[Any]:
    from housing import services as housing_services
    from housing.models import Tenancy

    found = Tenancy.objects.get(pk=tenancy(w)[0])
    housing_services.tenancy_move_in(actor=w.bob, tenancy=found, move_in=timezone.localdate())
    return [found.pk]


def housing_request(w: World) -> list[Any]:
    from housing import services as housing_services

    found = housing_services.housing_request_create(actor=w.alice, household=alices_household(w), listing=make_flat(w))
    return [found.pk]


def approval(w: World) -> list[Any]:
    from housing import services as housing_services

    found = housing_services.over_limit_approve(
        actor=w.adam, listing=make_flat(w), household=alices_household(w), reason="Kein anderer Wohnraum"
    )
    return [found.pk]


def request_body(w: World) -> dict[str, Any]:
    return {"household": alices_household(w).pk, "listing": make_flat(w).pk}


def reservation_body(w: World) -> dict[str, Any]:
    return {"listing": make_flat(w).pk, "household": bobs_household(w).pk}


def match_query(w: World) -> dict[str, Any]:
    make_flat(w)
    return {"household": bobs_household(w).pk}


SEE_FLAT = expect(200, anon=UNAUTHORISED, olga=404)  # the round table sees the shared flat
BOB_ONLY = {"bob": 200}  # the social office's housing officer manages it
MANAGE_FLAT = only(BOB_ONLY, 403, UNAUTHORISED, olga=404)
OWNER_ROWS = only(BOB_ONLY, 404, UNAUTHORISED)  # reservations and tenancies of the social office's household
KDU = only({"adam": 200}, 403, UNAUTHORISED)  # the jobcenter's admin maintains the rent limits
JOBCENTER_AND_OWNER = {"alice": 200, "rita": 200, "adam": 200, "cora": 200, "bob": 200}

HOUSING_ROWS: list[Row] = [
    Row("listing-photo", "GET", expect(200, anon=LOGIN, olga=404), photo_id),
    Row("listing-photo-thumbnail", "GET", expect(200, anon=LOGIN, olga=404), photo_id),
    Row("api:listing-list", "GET", API_EVERYONE),
    Row("api:listing-list", "POST", only({"bob": 201}, 403, UNAUTHORISED), data=flat_body),
    Row("api:listing-detail", "GET", SEE_FLAT, flat),
    Row("api:listing-detail", "PATCH", MANAGE_FLAT, flat, {"title": "Neu"}),
    Row("api:listing-transition", "POST", MANAGE_FLAT, flat, {"action": "withdraw"}),
    Row("api:listing-history", "GET", MANAGE_FLAT, flat),
    Row("api:listing-shares", "GET", MANAGE_FLAT, flat),
    Row(
        "api:listing-shares",
        "POST",
        only({"bob": 201}, 403, UNAUTHORISED, olga=404),
        flat,
        lambda w: {"agency": w.jobcenter.pk},
    ),
    Row("api:listing-share", "DELETE", only({"bob": 204}, 403, UNAUTHORISED, olga=404), flat_and_share),
    Row("api:listing-photos", "GET", SEE_FLAT, flat),
    Row("api:listing-photos", "POST", only({"bob": 400}, 403, UNAUTHORISED, olga=404), flat, label="invalid"),
    Row("api:listing-photo", "DELETE", only({"bob": 204}, 403, UNAUTHORISED, olga=404), flat_and_photo),
    Row("api:listing-occupancy", "GET", API_EVERYONE),
    Row("api:rent-limit-list", "GET", API_EVERYONE),
    Row("api:rent-limit-list", "POST", only({"adam": 201}, 403, UNAUTHORISED), data=rent_limit_body),
    Row("api:rent-limit-detail", "GET", API_EVERYONE, rent_limit),
    Row("api:rent-limit-detail", "PATCH", KDU, rent_limit, {"max_gross_cold_rent": "650.00"}),
    Row("api:rent-limit-detail", "DELETE", only({"adam": 204}, 403, UNAUTHORISED), rent_limit),
    Row("api:rent-approval-list", "GET", API_EVERYONE),
    Row("api:rent-approval-list", "POST", only({"adam": 400}, 403, UNAUTHORISED), label="invalid"),
    Row("api:rent-approval-detail", "GET", only(JOBCENTER_AND_OWNER, 404, UNAUTHORISED), approval),
    Row("api:housing-request-list", "GET", API_EVERYONE),
    Row(
        "api:housing-request-list",
        "POST",
        only({"alice": 201, "cora": 201}, 400, UNAUTHORISED, rita=403, adam=403),
        data=request_body,
    ),
    Row("api:housing-request-detail", "GET", only(JOBCENTER_AND_OWNER, 404, UNAUTHORISED), housing_request),
    Row(
        "api:housing-request-withdraw",
        "POST",
        only({"alice": 200, "cora": 200}, 403, UNAUTHORISED, carol=404, olga=404),
        housing_request,
    ),
    Row(
        "api:housing-request-decline",
        "POST",
        only(BOB_ONLY, 403, UNAUTHORISED, carol=404, olga=404),
        housing_request,
        {"note": "Zu klein"},
    ),
    Row(
        "api:housing-request-accept",
        "POST",
        only({"bob": 201}, 403, UNAUTHORISED, carol=404, olga=404),
        housing_request,
    ),
    Row("api:reservation-list", "GET", API_EVERYONE),
    Row("api:reservation-list", "POST", only({"bob": 201}, 403, UNAUTHORISED), data=reservation_body),
    Row("api:reservation-detail", "GET", OWNER_ROWS, reservation),
    Row("api:reservation-release", "POST", OWNER_ROWS, reservation),
    Row("api:reservation-allocate", "POST", only({"bob": 201}, 404, UNAUTHORISED), reservation),
    Row("api:tenancy-list", "GET", API_EVERYONE),
    Row("api:tenancy-detail", "GET", OWNER_ROWS, tenancy),
    Row("api:tenancy-move-in", "POST", OWNER_ROWS, tenancy, lambda w: {"move_in": timezone.localdate().isoformat()}),
    Row(
        "api:tenancy-move-out",
        "POST",
        OWNER_ROWS,
        moved_in_tenancy,
        lambda w: {"move_out": timezone.localdate().isoformat()},
    ),
    Row("api:tenancy-handover", "POST", OWNER_ROWS, moved_in_tenancy),
    Row("api:housing-match-list", "GET", only(BOB_ONLY, 400, UNAUTHORISED), data=match_query),
]


# The housing pages: the same flat, photo, share, request, reservation and tenancy as the API rows.


def as_housing_officer(w: World) -> list[Any]:
    housing_officer_bob(w)
    return []


def flat_step(w: World) -> list[Any]:
    return [make_flat(w).pk, "withdraw"]


def flat_share(w: World) -> list[Any]:
    return flat_and_share(w)[1:]


def alices_household_id(w: World) -> list[Any]:
    return [alices_household(w).pk]


def invalid_flat_body(w: World) -> dict[str, Any]:
    housing_officer_bob(w)
    return {**flat_fields(base_rent="-1.00"), "owner_agency": w.social_office.pk}


MANAGE_FLAT_UI = only({"bob": 200}, 403, LOGIN, olga=404)
OWNER_UI = only({"bob": 200}, 404, LOGIN)
CASEWORKERS_UI = only({"alice": 200, "bob": 200, "carol": 200, "olga": 200, "cora": 200}, 403, LOGIN)
ANSWER_REQUEST = only({"bob": 200}, 403, LOGIN, carol=404, olga=404)
KDU_UI = only({"adam": 200}, 403, LOGIN)
COMMENT_ON_FLAT = only({"alice": 302, "bob": 302, "carol": 302, "cora": 302}, 403, LOGIN, olga=404)

HOUSING_UI_ROWS: list[Row] = [
    Row("housing-listing-list", "GET", expect(200, anon=LOGIN)),
    Row("housing-listing-create", "GET", only({"bob": 200}, 403, LOGIN), as_housing_officer),
    Row("housing-listing-create", "POST", only({"bob": 200}, 403, LOGIN), data=invalid_flat_body, label="invalid"),
    Row("housing-listing-detail", "GET", expect(200, anon=LOGIN, olga=404), flat),
    Row("housing-listing-detail", "GET", expect(404, anon=LOGIN), lambda w: [999999], label="missing"),
    Row("housing-listing-edit", "GET", MANAGE_FLAT_UI, flat),
    Row("housing-listing-edit", "POST", MANAGE_FLAT_UI, flat, {"base_rent": "-1"}, label="invalid"),
    Row("housing-listing-step", "POST", only({"bob": 302}, 403, LOGIN, olga=404), flat_step),
    Row("housing-photo-add", "GET", MANAGE_FLAT_UI, flat),
    Row("housing-photo-add", "POST", MANAGE_FLAT_UI, flat, label="invalid"),
    Row("housing-photo-delete", "POST", only({"bob": 302}, 403, LOGIN, olga=404), photo_id),
    Row("housing-share-create", "GET", MANAGE_FLAT_UI, flat),
    Row("housing-share-create", "POST", MANAGE_FLAT_UI, flat, label="invalid"),
    Row("housing-share-delete", "POST", only({"bob": 302}, 404, LOGIN), flat_share),
    Row("housing-listing-reserve", "GET", MANAGE_FLAT_UI, flat),
    Row("housing-approval-create", "GET", only({"adam": 200}, 403, LOGIN, olga=404), flat),
    Row("housing-occupancy", "GET", expect(200, anon=LOGIN)),
    Row("housing-rent-limit-list", "GET", expect(200, anon=LOGIN)),
    Row("housing-rent-limit-create", "GET", KDU_UI),
    Row("housing-rent-limit-create", "POST", KDU_UI, label="invalid"),
    Row("housing-rent-limit-edit", "GET", KDU_UI, rent_limit),
    Row("housing-rent-limit-delete", "GET", KDU_UI, rent_limit),
    Row("housing-rent-limit-delete", "POST", only({"adam": 302}, 403, LOGIN), rent_limit),
    Row("housing-match", "GET", only(JOBCENTER_READERS, 404, LOGIN), alices_household_id),
    Row("housing-request-list", "GET", expect(200, anon=LOGIN)),
    Row("housing-request-create", "GET", CASEWORKERS_UI),
    Row("housing-request-create", "POST", CASEWORKERS_UI, label="invalid"),
    Row("housing-request-accept", "GET", ANSWER_REQUEST, housing_request),
    Row("housing-request-decline", "GET", ANSWER_REQUEST, housing_request),
    Row("housing-request-decline", "POST", ANSWER_REQUEST, housing_request, {"note": ""}, label="invalid"),
    Row(
        "housing-request-withdraw",
        "POST",
        only({"alice": 302, "cora": 302}, 403, LOGIN, carol=404, olga=404),
        housing_request,
    ),
    Row("housing-reservation-release", "POST", only({"bob": 302}, 404, LOGIN), reservation),
    Row("housing-reservation-allocate", "GET", OWNER_UI, reservation),
    Row("housing-tenancy-move-in", "GET", OWNER_UI, tenancy),
    Row("housing-tenancy-move-out", "GET", OWNER_UI, moved_in_tenancy),
    Row("housing-tenancy-move-out", "POST", OWNER_UI, moved_in_tenancy, {"move_out": "2000-01-01"}, label="invalid"),
    Row("housing-tenancy-handover", "GET", OWNER_UI, moved_in_tenancy),
    Row("comment-thread-listing", "GET", expect(200, anon=LOGIN, olga=404), flat),
    Row("comment-create-listing", "POST", COMMENT_ON_FLAT, flat, {"body": "Besichtigung am Freitag?"}),
    Row(
        "comment-create-listing",
        "POST",
        only({"alice": 200, "bob": 200, "carol": 200, "cora": 200}, 403, LOGIN, olga=404),
        flat,
        {"body": ""},
        label="invalid",
    ),
    Row("api:listing-comments", "GET", expect(200, anon=UNAUTHORISED, olga=404), flat),
    Row(
        "api:listing-comments",
        "POST",
        only({"alice": 201, "bob": 201, "carol": 201, "cora": 201}, 403, UNAUTHORISED, olga=404),
        flat,
        {"body": "Besichtigung am Freitag?"},
    ),
    Row(
        "api:listing-comments",
        "POST",
        only({"alice": 400, "bob": 400, "carol": 400, "cora": 400}, 403, UNAUTHORISED, olga=404),
        flat,
        {"body": "", "extra": 1},
        label="invalid",
    ),
]


# Meetings: cora plans them for the jobcenter, which coordinates the round table; they invite the social
# office (bob). The youth office (carol) sits at the round table but is not invited: the meeting does not
# exist for her. The foreign rows use a meeting of olga's immigration authority at its own round table.


def _meeting(w: World, days: int = 7) -> Any:
    from messaging.meetings import services as meeting_services

    starts = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=days), datetime.time(10))
    )
    return meeting_services.meeting_create(
        actor=w.cora,
        workspace=w.workspace,
        title="Runder Tisch",
        starts_at=starts,
        place="Kreishaus",
        invited_agencies=[w.social_office],
    )


def _held(w: World) -> Any:
    from messaging.meetings import services as meeting_services

    return meeting_services.meeting_hold(actor=w.cora, meeting=_meeting(w, days=0))


def _item(w: World, meeting: Any = None) -> Any:
    from messaging.meetings import services as meeting_services

    return meeting_services.agenda_item_propose(actor=w.cora, meeting=meeting or _meeting(w), title="Sprachkurse")


def _approved(w: World) -> Any:
    from messaging.meetings import services as meeting_services

    meeting = _held(w)
    _item(w, meeting)
    meeting_services.minutes_circulate(actor=w.cora, meeting=meeting)
    meeting_services.minutes_approve(actor=w.cora, meeting=meeting)
    return meeting


def planned_meeting(w: World) -> list[Any]:
    return [_meeting(w).pk]


def meeting_today(w: World) -> list[Any]:
    return [_meeting(w, days=0).pk]


def held_meeting(w: World) -> list[Any]:
    return [_held(w).pk]


def circulated_meeting(w: World) -> list[Any]:
    from messaging.meetings import services as meeting_services

    meeting = _held(w)
    meeting_services.minutes_circulate(actor=w.cora, meeting=meeting)
    return [meeting.pk]


def approved_meeting(w: World) -> list[Any]:
    return [_approved(w).pk]


def meeting_and_social_office(w: World) -> list[Any]:
    return [_meeting(w).pk, w.social_office.pk]


def agenda_item(w: World) -> list[Any]:
    return [_item(w).pk]


def bobs_action_item(w: World) -> list[Any]:
    from messaging.meetings import services as meeting_services

    found = meeting_services.action_item_create(
        actor=w.cora,
        meeting=_held(w),
        title="Wohnungsangebot prüfen",
        owner_agency=w.social_office,
        owner=w.bob,
        due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    return [found.pk]


def olgas_meeting(w: World) -> Any:
    """A meeting at the immigration authority's own round table, where olga is invited."""
    from messaging.meetings import services as meeting_services

    oscar = User.objects.filter(username="oscar").first()
    if oscar is None:
        oscar = make_user("oscar", "Oscar", "Ortmann")
        services.staff_create(actor=None, agency=w.immigration, user=oscar, roles=["coordinator"])
    return meeting_services.meeting_create(
        actor=oscar,
        workspace=w.other_workspace,
        title="Arbeitskreis",
        starts_at=timezone.now() + datetime.timedelta(days=3),
        video_url="https://video.example/ak",
    )


def olgas_agenda_item(w: World) -> list[Any]:
    from messaging.meetings import services as meeting_services

    meeting = olgas_meeting(w)
    return [meeting_services.agenda_item_propose(actor=w.olga, meeting=meeting, title="Duldungen").pk]


def new_meeting_body(w: World) -> dict[str, Any]:
    starts = timezone.now() + datetime.timedelta(days=10)
    return {"workspace": w.workspace.pk, "title": "Runder Tisch", "starts_at": starts.isoformat(), "place": "Kreishaus"}


def new_action_item_body(w: World) -> dict[str, Any]:
    return {
        "meeting": _held(w).pk,
        "title": "Nachweis anfordern",
        "owner_agency": w.social_office.pk,
        "due_on": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
    }


SEE_MEETING = only({"alice": 200, "bob": 200, "rita": 200, "adam": 200, "cora": 200}, 404, UNAUTHORISED)
RUN_MEETING = only({"cora": 200}, 403, UNAUTHORISED, carol=404, olga=404)
PROPOSERS = {"alice": 201, "bob": 201, "cora": 201}


def run_meeting(code: int) -> dict[str, int]:
    return only({"cora": code}, 403, UNAUTHORISED, carol=404, olga=404)


MEETING_ROWS: list[Row] = [
    Row("api:meeting-list", "GET", API_EVERYONE),
    Row("api:meeting-list", "POST", only({"cora": 201}, 403, UNAUTHORISED, olga=400), data=new_meeting_body),
    Row("api:meeting-detail", "GET", SEE_MEETING, planned_meeting),
    Row(
        "api:meeting-detail",
        "GET",
        only({"olga": 200}, 404, UNAUTHORISED),
        lambda w: [olgas_meeting(w).pk],
        label="foreign",
    ),
    Row("api:meeting-detail", "PATCH", RUN_MEETING, planned_meeting, {"place": "Jobcenter, Raum 2"}),
    Row("api:meeting-detail", "PATCH", run_meeting(400), planned_meeting, {"place": "", "extra": 1}, label="invalid"),
    Row("api:meeting-cancel", "POST", RUN_MEETING, planned_meeting, {"reason": "Krankheit"}),
    Row("api:meeting-hold", "POST", RUN_MEETING, meeting_today),
    Row("api:meeting-close", "POST", RUN_MEETING, approved_meeting),
    Row("api:meeting-invitations", "GET", SEE_MEETING, planned_meeting),
    Row(
        "api:meeting-invitations",
        "POST",
        run_meeting(201),
        planned_meeting,
        lambda w: {"agency": w.youth_office.pk},
    ),
    Row("api:meeting-invitation", "DELETE", run_meeting(204), meeting_and_social_office),
    Row("api:meeting-attendance", "GET", SEE_MEETING, held_meeting),
    Row(
        "api:meeting-attendance",
        "POST",
        RUN_MEETING,
        held_meeting,
        lambda w: {"user": w.bob.pk, "present": True},
    ),
    Row("api:meeting-agenda", "GET", SEE_MEETING, planned_meeting),
    Row(
        "api:meeting-agenda",
        "POST",
        only(PROPOSERS, 404, UNAUTHORISED, rita=403, adam=403),
        planned_meeting,
        {"title": "Wohnraum"},
    ),
    Row(
        "api:meeting-agenda",
        "POST",
        only({"alice": 400, "bob": 400, "cora": 400}, 404, UNAUTHORISED, rita=403, adam=403),
        planned_meeting,
        {"title": ""},
        label="invalid",
    ),
    Row("api:meeting-reorder", "POST", run_meeting(400), planned_meeting, {"order": [999999]}, label="invalid"),
    Row("api:meeting-circulate", "POST", RUN_MEETING, held_meeting),
    Row("api:meeting-approve", "POST", RUN_MEETING, circulated_meeting),
    Row("api:meeting-correct", "POST", run_meeting(400), approved_meeting, {"reason": ""}, label="invalid"),
    Row("api:meeting-versions", "GET", SEE_MEETING, approved_meeting),
    Row("api:meeting-carry-over", "POST", RUN_MEETING, planned_meeting),
    Row("api:agenda-item-detail", "GET", SEE_MEETING, agenda_item),
    Row("api:agenda-item-detail", "GET", only({"olga": 200}, 404, UNAUTHORISED), olgas_agenda_item, label="foreign"),
    Row("api:agenda-item-detail", "PATCH", RUN_MEETING, agenda_item, {"title": "Sprachkurse B1"}),
    Row("api:agenda-item-minutes", "PUT", RUN_MEETING, agenda_item, {"minutes": "Frau H. berichtet", "version": 0}),
    Row(
        "api:agenda-item-minutes",
        "PUT",
        run_meeting(409),
        agenda_item,
        {"minutes": "Veraltet", "version": 5},
        label="conflict",
    ),
    Row("api:agenda-item-minutes", "PUT", run_meeting(400), agenda_item, {"minutes": "x"}, label="invalid"),
    Row("api:agenda-item-decisions", "GET", SEE_MEETING, agenda_item),
    Row("api:agenda-item-decisions", "POST", run_meeting(201), agenda_item, {"text": "Kursplatz beantragen"}),
    Row("api:agenda-item-comments", "GET", SEE_MEETING, agenda_item),
    Row(
        "api:agenda-item-comments",
        "POST",
        only(PROPOSERS, 404, UNAUTHORISED, rita=403, adam=403),
        agenda_item,
        {"body": "Ich bringe die Kursliste mit."},
    ),
    Row("api:action-item-list", "GET", API_EVERYONE),
    Row(
        "api:action-item-list",
        "POST",
        only({"cora": 201}, 403, UNAUTHORISED, carol=400, olga=400),
        data=new_action_item_body,
    ),
    Row("api:action-item-overview", "GET", API_EVERYONE),
    Row("api:action-item-detail", "GET", SEE_MEETING, bobs_action_item),
    Row("api:action-item-detail", "PATCH", RUN_MEETING, bobs_action_item, {"note": "Rückruf erbeten"}),
    Row(
        "api:action-item-status",
        "POST",
        only({"bob": 200, "cora": 200}, 403, UNAUTHORISED, carol=404, olga=404),
        bobs_action_item,
        {"status": "done"},
    ),
]


# The round table's pages: meetings, agenda, approval and print. The same meetings as the API rows.


def two_agenda_items(w: World) -> list[Any]:
    meeting = _meeting(w)
    first = _item(w, meeting)
    _item(w, meeting)
    return [first.pk]


def meeting_step(action: str, meeting: Callable[[World], list[Any]]) -> Callable[[World], list[Any]]:
    return lambda w: [*meeting(w), action]


def first_minutes_version(w: World) -> list[Any]:
    return [_approved(w).pk, 1]


def meeting_form_body(w: World) -> dict[str, Any]:
    starts = timezone.localtime(timezone.now() + datetime.timedelta(days=10))
    return {
        "workspace": w.workspace.pk,
        "title": "Runder Tisch",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "place": "Kreishaus",
    }


def meeting_edit_body(w: World) -> dict[str, Any]:
    return {key: value for key, value in meeting_form_body(w).items() if key != "workspace"}


def bob_present(w: World) -> dict[str, Any]:
    return {f"presence_{w.bob.pk}": "present"}


SEE_MEETING_UI = only({"alice": 200, "bob": 200, "rita": 200, "adam": 200, "cora": 200}, 404, LOGIN)
PROPOSE_UI = {"alice": 200, "bob": 200, "cora": 200}


def run_meeting_ui(code: int) -> dict[str, int]:
    return only({"cora": code}, 403, LOGIN, carol=404, olga=404)


def propose_ui(code: int) -> dict[str, int]:
    return only({name: code for name in PROPOSE_UI}, 404, LOGIN, rita=403, adam=403)


PLAN_UI = only({"cora": 200}, 403, LOGIN)

MEETING_UI_ROWS: list[Row] = [
    Row("meeting-list", "GET", expect(200, anon=LOGIN)),
    Row("meeting-create", "GET", PLAN_UI),
    Row("meeting-create", "POST", only({"cora": 302}, 403, LOGIN), data=meeting_form_body),
    Row("meeting-create", "POST", PLAN_UI, data={"title": ""}, label="invalid"),
    Row("meeting-detail", "GET", SEE_MEETING_UI, planned_meeting),
    Row("meeting-detail", "GET", only({"olga": 200}, 404, LOGIN), lambda w: [olgas_meeting(w).pk], label="foreign"),
    Row("meeting-detail", "GET", expect(404, anon=LOGIN), lambda w: [999999], label="missing"),
    Row("meeting-edit", "GET", run_meeting_ui(200), planned_meeting),
    Row("meeting-edit", "POST", run_meeting_ui(302), planned_meeting, meeting_edit_body),
    Row("meeting-edit", "POST", run_meeting_ui(200), planned_meeting, {"title": ""}, label="invalid"),
    Row("meeting-cancel", "GET", run_meeting_ui(200), planned_meeting),
    Row("meeting-cancel", "POST", run_meeting_ui(302), planned_meeting, {"reason": "Krankheit"}),
    Row("meeting-step", "POST", run_meeting_ui(302), meeting_step("hold", meeting_today)),
    Row("meeting-step", "POST", run_meeting_ui(302), meeting_step("close", approved_meeting), label="close"),
    Row("meeting-invite", "POST", run_meeting_ui(302), planned_meeting, lambda w: {"agency": w.youth_office.pk}),
    Row("meeting-uninvite", "POST", run_meeting_ui(302), meeting_and_social_office),
    Row("meeting-attendance", "GET", run_meeting_ui(200), held_meeting),
    Row("meeting-attendance", "POST", run_meeting_ui(302), held_meeting, bob_present),
    Row(
        "meeting-attendance",
        "POST",
        run_meeting_ui(200),
        held_meeting,
        lambda w: {f"presence_{w.bob.pk}": "?"},
        label="invalid",
    ),
    Row("agenda-item-create", "GET", propose_ui(200), planned_meeting),
    Row("agenda-item-create", "POST", propose_ui(302), planned_meeting, {"title": "Wohnraum"}),
    Row("agenda-item-create", "POST", propose_ui(200), planned_meeting, {"title": ""}, label="invalid"),
    Row("agenda-item-edit", "GET", run_meeting_ui(200), agenda_item),
    Row("agenda-item-edit", "POST", run_meeting_ui(200), agenda_item, {"title": ""}, label="invalid"),
    Row("agenda-item-edit", "GET", only({}, 404, LOGIN, olga=403), olgas_agenda_item, label="foreign"),
    Row("agenda-item-move", "POST", run_meeting_ui(302), two_agenda_items, {"direction": "down"}),
    Row("minutes-step", "POST", run_meeting_ui(302), meeting_step("circulate", held_meeting)),
    Row("minutes-step", "POST", run_meeting_ui(302), meeting_step("approve", circulated_meeting), label="approve"),
    Row("minutes-correct", "GET", run_meeting_ui(200), approved_meeting),
    Row("minutes-correct", "POST", run_meeting_ui(200), approved_meeting, {"reason": ""}, label="invalid"),
    Row("minutes-version", "GET", SEE_MEETING_UI, first_minutes_version),
    Row("meeting-print", "GET", SEE_MEETING_UI, planned_meeting),
]


def olgas_action_item(w: World) -> list[Any]:
    """An action item of olga's immigration authority at its own round table."""
    from agencies.models import User
    from messaging.meetings import services as meeting_services

    meeting = olgas_meeting(w)
    return [
        meeting_services.action_item_create(
            actor=User.objects.get(username="oscar"),
            meeting=meeting,
            title="Duldung verlängern",
            owner_agency=w.immigration,
            owner=w.olga,
            due_on=timezone.localdate() + datetime.timedelta(days=7),
        ).pk
    ]


def action_item_form_body(w: World) -> dict[str, Any]:
    return {
        "title": "Nachweis anfordern",
        "owner_agency": w.social_office.pk,
        "owner": w.bob.pk,
        "due_on": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
    }


SEES_THE_MEETING_UI = only({"alice": 200, "bob": 200, "rita": 200, "adam": 200, "cora": 200}, 404, LOGIN)
REPORTERS_UI = only({"bob": 302, "cora": 302}, 403, LOGIN, carol=404, olga=404)
COMMENTERS_UI = ("alice", "bob", "cora")


def coordinator_ui(code: int) -> dict[str, int]:
    return only({"cora": code}, 403, LOGIN, carol=404, olga=404)


def commenters_ui(code: int) -> dict[str, int]:
    return only({name: code for name in COMMENTERS_UI}, 404, LOGIN, rita=403, adam=403)


# The round table's work pages: live minutes, decisions, action items and agenda comments.
ACTION_UI_ROWS: list[Row] = [
    Row("meeting-minutes", "GET", coordinator_ui(200), held_meeting),
    Row("meeting-minutes", "GET", only({}, 404, LOGIN, olga=403), lambda w: [olgas_meeting(w).pk], label="foreign"),
    Row(
        "agenda-item-minutes", "POST", coordinator_ui(302), agenda_item, {"minutes": "Frau H. berichtet", "version": 0}
    ),
    Row(
        "agenda-item-minutes",
        "POST",
        coordinator_ui(409),
        agenda_item,
        {"minutes": "Veraltet", "version": 5},
        label="conflict",
    ),
    Row("agenda-item-minutes", "POST", coordinator_ui(409), agenda_item, {"minutes": "x"}, label="invalid"),
    Row(
        "agenda-item-minutes",
        "POST",
        only({}, 404, LOGIN, olga=403),
        olgas_agenda_item,
        {"minutes": "x", "version": 0},
        label="foreign",
    ),
    Row("decision-create", "GET", coordinator_ui(200), agenda_item),
    Row("decision-create", "POST", coordinator_ui(302), agenda_item, {"text": "Kursplatz beantragen"}),
    Row("decision-create", "POST", coordinator_ui(200), agenda_item, {"text": ""}, label="invalid"),
    Row("decision-create", "GET", only({}, 404, LOGIN, olga=403), olgas_agenda_item, label="foreign"),
    Row("action-item-create", "GET", coordinator_ui(200), held_meeting),
    Row("action-item-create", "POST", coordinator_ui(302), held_meeting, action_item_form_body),
    Row("action-item-create", "POST", coordinator_ui(200), held_meeting, {"title": ""}, label="invalid"),
    Row("action-items-carry-over", "POST", coordinator_ui(302), planned_meeting),
    Row("action-item-overview", "GET", expect(200, anon=LOGIN)),
    Row("action-item-overview", "GET", expect(200, anon=LOGIN), data={"status": "done"}, label="done"),
    Row("action-item-detail", "GET", SEES_THE_MEETING_UI, bobs_action_item),
    Row("action-item-detail", "GET", only({"olga": 200}, 404, LOGIN), olgas_action_item, label="foreign"),
    Row("action-item-detail", "GET", expect(404, anon=LOGIN), lambda w: [999999], label="missing"),
    Row("action-item-edit", "GET", coordinator_ui(200), bobs_action_item),
    Row("action-item-edit", "POST", coordinator_ui(302), bobs_action_item, action_item_form_body),
    Row("action-item-edit", "POST", coordinator_ui(200), bobs_action_item, {"title": ""}, label="invalid"),
    Row("action-item-status", "POST", REPORTERS_UI, bobs_action_item, {"status": "done"}),
    Row("action-item-status", "POST", REPORTERS_UI, bobs_action_item, {"status": "lost"}, label="invalid"),
    Row(
        "action-item-status",
        "POST",
        only({"olga": 302}, 404, LOGIN),
        olgas_action_item,
        {"status": "done"},
        label="foreign",
    ),
    Row("comment-thread-agenda_item", "GET", SEES_THE_MEETING_UI, agenda_item),
    Row("comment-thread-agenda_item", "GET", only({"olga": 200}, 404, LOGIN), olgas_agenda_item, label="foreign"),
    Row("comment-create-agenda_item", "POST", commenters_ui(302), agenda_item, {"body": "Ich bringe die Liste mit."}),
    Row("comment-create-agenda_item", "POST", commenters_ui(200), agenda_item, {"body": ""}, label="invalid"),
]

# Sign-in security: two-factor set-up and login steps.
AUTH_ROWS: list[Row] = [
    Row("login", "POST", expect(200), data={"username": "nobody", "password": "wrong"}, label="invalid"),
    # Without a password step in this session the code step sends everyone back to the login.
    Row("login-code", "GET", expect(302)),
    Row("login-code", "POST", expect(302), data={"code": "123456"}),
    Row("two-factor-setup", "GET", expect(200, anon=LOGIN)),
    Row("two-factor-setup", "POST", expect(200, anon=LOGIN), data={"code": ""}, label="invalid"),
    # New recovery codes are shown only right after they were made; otherwise back to the profile.
    Row("two-factor-recovery-codes", "GET", expect(302, anon=LOGIN)),
    Row("two-factor-recovery-codes", "POST", expect(302, anon=LOGIN)),
    Row("two-factor-recovery-codes-download", "GET", expect(302, anon=LOGIN)),
    Row("two-factor-recovery-codes-regenerate", "POST", expect(302, anon=LOGIN)),
    Row("two-factor-recovery-codes-regenerate", "GET", expect(405, anon=LOGIN)),
    Row("two-factor-disable", "GET", expect(200, anon=LOGIN)),
    Row("two-factor-disable", "POST", expect(200, anon=LOGIN), data={"secret": ""}, label="invalid"),
    # Agency admins reset a colleague's second factor (alice has none: a message, back to her page).
    Row("staff-two-factor-reset", "POST", only({"adam": 302}, 403, LOGIN, olga=404), staff_of("alice")),
    Row("staff-two-factor-reset", "POST", only({}, 404, LOGIN, olga=403), staff_of("ines"), label="foreign"),
]

# Data protection: the read-access log, the data-protection officer's pages, exports, retention.
# No persona holds the data-protection officer's role; these rows give it to rita (the jobcenter's
# read-only member), so that she is the jobcenter's officer and everyone else is not.


def rita_as_officer(w: World) -> list[Any]:
    services.staff_update(actor=w.adam, staff=w.staff(w.rita), roles=["data_protection_officer"])
    return []


def officers_hold(w: World) -> list[Any]:
    """A legal hold rita placed, as the jobcenter's officer, on Amina."""
    from privacy import services as privacy_services

    rita_as_officer(w)
    hold = privacy_services.legal_hold_place(actor=w.rita, person=make_case(w).person, reason="Az. 4 K 12/26")
    return [hold.pk]


def amina_for_the_officer(w: World) -> list[Any]:
    rita_as_officer(w)
    return person(w)


OFFICER = only({"rita": 200}, 403, LOGIN)
API_OFFICER = only({"rita": 200}, 403, UNAUTHORISED)
# Who answers a request of access for Amina: her file's caseworker and coordinator (bob sees nothing of her).
SUBJECT_ACCESS = only(CASE_WORKERS, 404, LOGIN, rita=403, adam=403)
API_SUBJECT_ACCESS = only(CASE_WORKERS, 404, UNAUTHORISED, rita=403, adam=403)

PRIVACY_ROWS: list[Row] = [
    Row("privacy-read-log", "GET", OFFICER, rita_as_officer),
    Row("privacy-read-log", "GET", OFFICER, rita_as_officer, {"reference": "P-NOBODY"}, label="search"),
    Row("privacy-read-log-csv", "GET", OFFICER, rita_as_officer, lambda w: {"user": w.alice.pk}),
    Row("privacy-retention", "GET", OFFICER, rita_as_officer),
    Row("privacy-hold-create", "GET", OFFICER, rita_as_officer),
    Row("privacy-hold-create", "POST", OFFICER, rita_as_officer, {"reference": ""}, label="invalid"),
    Row("privacy-hold-lift", "POST", only({"rita": 302}, 404, LOGIN), officers_hold),
    *(Row(name, "GET", SUBJECT_ACCESS, person) for name in ("privacy-subject-access", "privacy-subject-access-json")),
    Row(
        "privacy-subject-access",
        "GET",
        only({**CASE_WORKERS, "bob": 403}, 404, LOGIN, rita=403, adam=403),
        shared_person,
        label="shared",
    ),
    Row(
        "privacy-subject-access",
        "GET",
        only({**CASE_WORKERS, "rita": 200}, 404, LOGIN, adam=403),
        amina_for_the_officer,
        label="officer",
    ),
    Row("api:privacy-read-list", "GET", API_OFFICER, rita_as_officer, {"reference": "P-NOBODY"}),
    Row("api:privacy-deletion-list", "GET", API_OFFICER, rita_as_officer),
    Row("api:privacy-retention-preview", "GET", API_OFFICER, rita_as_officer),
    Row("api:privacy-hold-list", "GET", API_OFFICER, rita_as_officer),
    Row("api:privacy-hold-list", "POST", only({"rita": 400}, 403, UNAUTHORISED), rita_as_officer, {"reference": ""}),
    Row("api:privacy-hold-lift", "POST", only({"rita": 200}, 404, UNAUTHORISED), officers_hold),
    Row("api:privacy-subject-access", "GET", API_SUBJECT_ACCESS, person),
    Row(
        "api:privacy-subject-access",
        "GET",
        only({**CASE_WORKERS, "rita": 200}, 404, UNAUTHORISED, adam=403),
        amina_for_the_officer,
        label="officer",
    ),
]


# The other side of the IDOR rows for API objects: the immigration authority's own person, case
# file, round table, meeting and action item answer 404 to everyone but olga.
OLGA_API = only({"olga": 200}, 404, UNAUTHORISED)


def olgas_file(w: World) -> Any:
    """Omar, whom only the immigration authority holds (reused when one world builds several rows)."""
    from referrals.models import Person

    return Person.objects.filter(last_name="Odeh").first() or Person.objects.get(pk=olgas_person(w)[0])


def olgas_plan(w: World) -> list[Any]:
    return [referral_services.plan_create(actor=w.olga, person=olgas_file(w), goals="Sprachkurs A2").pk]


def olgas_profile(w: World) -> list[Any]:
    languages = [{"language": "Arabisch", "level": "native"}]
    return [referral_services.profile_create(actor=w.olga, person=olgas_file(w), languages=languages).pk]


def olgas_recognition(w: World) -> list[Any]:
    found = referral_services.recognition_create(
        actor=w.olga,
        person=olgas_file(w),
        qualification="Lehramt Mathematik",
        country="Irak",
        reference_profession="Lehrer",
        competent_body="Landesschulbehörde",
    )
    return [found.pk]


def olgas_household(w: World) -> list[Any]:
    found = referral_services.household_create(actor=w.olga, name="Familie Odeh")
    referral_services.person_update(actor=w.olga, person=olgas_file(w), household=found)
    return [found.pk]


FOREIGN_API_ROWS: list[Row] = [
    Row("api:person-detail", "GET", OLGA_API, olgas_person, label="foreign"),
    Row("api:person-detail", "PATCH", OLGA_API, olgas_person, {"phone": "0591 1234"}, label="foreign"),
    Row("api:workspace-members", "GET", OLGA_API, lambda w: [w.other_workspace.pk], label="foreign"),
    Row("api:meeting-agenda", "GET", OLGA_API, lambda w: [olgas_meeting(w).pk], label="foreign"),
    Row("api:meeting-invitations", "GET", OLGA_API, lambda w: [olgas_meeting(w).pk], label="foreign"),
    Row("api:action-item-detail", "GET", OLGA_API, olgas_action_item, label="foreign"),
    Row("api:plan-detail", "GET", OLGA_API, olgas_plan, label="foreign"),
    Row("api:plan-detail", "PATCH", OLGA_API, olgas_plan, {"goals": "Arbeit"}, label="foreign"),
    Row("api:profile-detail", "GET", OLGA_API, olgas_profile, label="foreign"),
    Row("api:recognition-detail", "GET", OLGA_API, olgas_recognition, label="foreign"),
    Row("api:household-detail", "GET", OLGA_API, olgas_household, label="foreign"),
]


# Outcome reporting: the dashboard pages, their exports and the API.
REPORTING_UI_ROWS: list[Row] = [
    Row("reporting-index", "GET", EVERYONE),
    Row("reporting-workspace", "GET", expect(200, anon=LOGIN, olga=404), lambda w: [w.workspace.pk]),
    Row(
        "reporting-workspace",
        "GET",
        only({"olga": 200}, 404, LOGIN),
        lambda w: [w.other_workspace.pk],
        label="foreign",
    ),
    # A bad period is a form error on the page; an agency not at the table is no choice either.
    Row(
        "reporting-workspace",
        "GET",
        expect(200, anon=LOGIN, olga=404),
        lambda w: [w.workspace.pk],
        lambda w: {"start": "2025-13-01", "agency": w.immigration.pk},
        label="invalid",
    ),
    Row("reporting-agency", "GET", only(JOBCENTER_READERS, 404, LOGIN), lambda w: [w.jobcenter.pk]),
    Row(
        "reporting-agency",
        "GET",
        only({"olga": 200}, 404, LOGIN),
        lambda w: [w.immigration.pk],
        label="foreign",
    ),
]
REPORTING_EXPORT_ROWS: list[Row] = [
    *(
        Row(name, "GET", expect(200, anon=LOGIN, olga=404), lambda w: [w.workspace.pk])
        for name in ("reporting-workspace-csv", "reporting-workspace-xlsx")
    ),
    *(
        Row(name, "GET", only({"olga": 200}, 404, LOGIN), lambda w: [w.other_workspace.pk], label="foreign")
        for name in ("reporting-workspace-csv", "reporting-workspace-xlsx")
    ),
    *(
        Row(name, "GET", only(JOBCENTER_READERS, 404, LOGIN), lambda w: [w.jobcenter.pk])
        for name in ("reporting-agency-csv", "reporting-agency-xlsx")
    ),
    *(
        Row(name, "GET", only({"olga": 200}, 404, LOGIN), lambda w: [w.immigration.pk], label="foreign")
        for name in ("reporting-agency-csv", "reporting-agency-xlsx")
    ),
    Row(
        "reporting-workspace-csv",
        "GET",
        expect(400, anon=LOGIN, olga=404),
        lambda w: [w.workspace.pk],
        {"table": "nonsense"},
        label="invalid",
    ),
    Row(
        "reporting-agency-xlsx",
        "GET",
        only({name: 400 for name in JOBCENTER}, 404, LOGIN),
        lambda w: [w.jobcenter.pk],
        {"start": "2025-13-01"},
        label="invalid",
    ),
]

# The API reads one quarter; a period that ends before it starts, or an agency that does not sit at
# the round table, is a 400 for those who may see the figures and a 404 for everyone else.
FIGURES_Q1 = {"start": "2025-01-01", "end": "2025-03-31"}
FIGURES_BACKWARDS = {"start": "2025-03-31", "end": "2025-01-01"}
API_ROUND_TABLE_FIGURES = expect(200, anon=UNAUTHORISED, olga=404)
API_JOBCENTER_FIGURES = only(JOBCENTER_READERS, 404, UNAUTHORISED)
API_NO_FIGURES = expect(404, anon=UNAUTHORISED)
REPORTING_API_ROWS: list[Row] = [
    Row("api:reporting-workspace", "GET", API_ROUND_TABLE_FIGURES, lambda w: [w.workspace.pk], FIGURES_Q1),
    Row("api:reporting-workspace", "GET", OLGA_API, lambda w: [w.other_workspace.pk], FIGURES_Q1, label="foreign"),
    Row("api:reporting-workspace", "GET", API_NO_FIGURES, lambda w: [999999], FIGURES_Q1, label="missing"),
    Row(
        "api:reporting-workspace",
        "GET",
        expect(400, anon=UNAUTHORISED, olga=404),
        lambda w: [w.workspace.pk],
        {"start": "2025-02-30"},
        label="invalid",
    ),
    Row(
        "api:reporting-workspace",
        "GET",
        expect(400, anon=UNAUTHORISED, olga=404),
        lambda w: [w.workspace.pk],
        lambda w: {**FIGURES_Q1, "agency": w.immigration.pk},
        label="foreign-agency",
    ),
    Row("api:reporting-agency", "GET", API_JOBCENTER_FIGURES, lambda w: [w.jobcenter.pk], FIGURES_Q1),
    Row("api:reporting-agency", "GET", OLGA_API, lambda w: [w.immigration.pk], FIGURES_Q1, label="foreign"),
    Row("api:reporting-agency", "GET", API_NO_FIGURES, lambda w: [999999], FIGURES_Q1, label="missing"),
    Row(
        "api:reporting-agency",
        "GET",
        only({name: 400 for name in JOBCENTER}, 404, UNAUTHORISED),
        lambda w: [w.jobcenter.pk],
        FIGURES_BACKWARDS,
        label="invalid",
    ),
]


ROWS: list[Row] = (
    NOTIFICATION_ROWS
    + UI_ROWS
    + CASE_ROWS
    + PLAN_ROWS
    + API_ROWS
    + API_CASE_ROWS
    + API_PLAN_ROWS
    + COMMENT_ROWS
    + HOUSING_ROWS
    + HOUSING_UI_ROWS
    + MEETING_ROWS
    + MEETING_UI_ROWS
    + ACTION_UI_ROWS
    + AUTH_ROWS
    + PRIVACY_ROWS
    + FOREIGN_API_ROWS
    + REPORTING_UI_ROWS
    + REPORTING_EXPORT_ROWS
    + REPORTING_API_ROWS
)
