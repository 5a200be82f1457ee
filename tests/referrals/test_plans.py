"""First profiling, integration plans, transfers of responsibility, recognition and referral expiry.

Every service is tried by who may and who may not; a receiving agency sees only the parts
of a profile its shares cover, in pages and API alike.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import User
from hub import access
from hub.models import AuditEntry, Event
from referrals import selectors, services
from referrals.models import (
    CaseFile,
    Category,
    Person,
    Plan,
    PlanStatus,
    PlanStep,
    Profile,
    RecognitionProcedure,
    Referral,
    ReferralStatus,
    ResponsibilityTransfer,
)
from tests.conftest import Case, World

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)

PROFILE: dict[str, Any] = {
    "languages": [{"language": "Arabisch", "level": "native"}, {"language": "Deutsch", "level": "A2"}],
    "qualifications": [
        {"kind": "vocational", "title": "Elektriker", "country": "Syrien", "recognition": "pending"},
    ],
    "work_experience": [{"occupation": "Elektriker", "country": "Syrien", "years": 6}],
    "wishes": "Wieder als Elektriker arbeiten",
    "childcare_needs": "Kita-Platz für die Tochter",
    "assessment": "Motiviert, Sprachkurs B1 zuerst",
}


def share(world: World, case: Case, categories: list[str], to: str = "social_office") -> None:
    """The jobcenter shares categories of Amina with another agency on a statutory basis."""
    services.share_create(
        actor=world.alice,
        person=case.person,
        to_agency=getattr(world, to),
        categories=categories,
        legal_basis="sgb_x_69",
        basis_reason="Abstimmung der Integrationsschritte",
    )


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# First profiling ---------------------------------------------------------------------------


def test_each_profile_is_a_new_version_and_older_ones_stay(world: World, case: Case) -> None:
    first = services.profile_create(actor=world.alice, person=case.person, **PROFILE)
    second = services.profile_create(
        actor=world.cora, person=case.person, **(PROFILE | {"languages": [{"language": "Deutsch", "level": "B1"}]})
    )
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert first.languages == PROFILE["languages"]
    assert [view.profile.version for view in selectors.profile_versions(world.alice, case.person)] == [2, 1]
    assert first.agency == world.jobcenter and first.created_by == world.alice
    entry = AuditEntry.objects.get(action="profile.create", target_id=str(second.pk))
    assert entry.changes == {"version": 2} and entry.agency_id == world.jobcenter.pk
    assert Event.objects.filter(verb="profile.created", target_id=str(second.pk)).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("languages", [{"language": "Deutsch", "level": "B3"}]),
        ("languages", [{"language": "", "level": "B1"}]),
        ("languages", [{"language": "x" * 101, "level": "B1"}]),
        ("languages", [{"language": "Deutsch", "level": "B1", "since": 2020}]),
        ("languages", [{"language": "Deutsch", "level": "B1"}] * 31),
        ("languages", "Deutsch B1"),
        ("languages", ["Deutsch"]),
        ("qualifications", [{"kind": "doctorate", "title": "Dr.", "country": "", "recognition": "pending"}]),
        ("qualifications", [{"kind": "school", "title": "Abitur", "recognition": "maybe"}]),
        ("work_experience", [{"occupation": "Koch", "years": 61}]),
        ("work_experience", [{"occupation": "Koch", "years": -1}]),
        ("work_experience", [{"occupation": "Koch", "years": True}]),
        ("work_experience", [{"occupation": "Koch", "years": "5"}]),
        ("work_experience", [{"occupation": "Koch", "country": 3, "years": 5}]),
        ("wishes", "x" * 4001),
    ],
)
def test_profile_lists_are_validated_strictly(world: World, case: Case, field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.profile_create(actor=world.alice, person=case.person, **(PROFILE | {field: value}))
    assert field in excinfo.value.message_dict
    assert not Profile.objects.exists()


@pytest.mark.parametrize(
    ("persona", "error"),
    [("rita", PermissionDenied), ("adam", PermissionDenied), ("carol", Http404), ("olga", Http404)],
)
def test_only_holders_record_a_profile(world: World, case: Case, persona: str, error: type) -> None:
    with pytest.raises(error):
        services.profile_create(actor=world.persona(persona), person=case.person, **PROFILE)


def test_a_receiver_may_read_but_not_write_the_profile(world: World, case: Case) -> None:
    share(world, case, ["languages"])
    with pytest.raises(PermissionDenied):
        services.profile_create(actor=world.bob, person=case.person, **PROFILE)


def test_receivers_see_only_the_profile_parts_of_their_categories(world: World, case: Case) -> None:
    profile = services.profile_create(actor=world.alice, person=case.person, **PROFILE)
    share(world, case, ["languages"])
    share(world, case, ["education", "work"], to="youth_office")
    [bobs] = selectors.profile_versions(world.bob, case.person)
    assert set(bobs.fields) == {"languages"}
    [carols] = selectors.profile_versions(world.carol, case.person)
    assert set(carols.fields) == {"qualifications", "work_experience", "wishes", "assessment"}
    assert set(selectors.profile_versions(world.alice, case.person)[0].fields) == {
        "languages",
        "qualifications",
        "work_experience",
        "wishes",
        "assessment",
        "childcare_needs",
    }
    # The API leaves the other parts out; it does not send them empty.
    body = api(world.bob).get(f"/api/v1/profiles/{profile.pk}/").json()
    assert body["languages"] == PROFILE["languages"]
    assert not {"qualifications", "work_experience", "wishes", "assessment", "childcare_needs"} & set(body)
    listed = api(world.bob).get("/api/v1/profiles/", {"person": case.person.pk}).json()["results"]
    assert [set(item) & {"languages", "assessment"} for item in listed] == [{"languages"}]
    # The page, too.
    page = browser(world.bob).get(reverse("person-profile", args=[case.person.pk])).content.decode()
    assert "Arabisch" in page and "Elektriker" not in page and "Kita-Platz" not in page
    # Childcare needs are health data: nobody without the holder's file sees them here.
    assert "Kita-Platz" not in browser(world.carol).get(reverse("profile-detail", args=[profile.pk])).content.decode()


def test_without_a_profile_category_the_profile_is_not_there(world: World, case: Case) -> None:
    profile = services.profile_create(actor=world.alice, person=case.person, **PROFILE)
    share(world, case, ["contact"])
    assert access.person_categories(world.bob, case.person) == {"identity", "contact"}
    assert browser(world.bob).get(reverse("person-profile", args=[case.person.pk])).status_code == 404
    assert browser(world.bob).get(reverse("profile-detail", args=[profile.pk])).status_code == 404
    assert api(world.bob).get(f"/api/v1/profiles/{profile.pk}/").status_code == 404
    assert api(world.olga).get(f"/api/v1/profiles/{profile.pk}/").status_code == 404


def test_profile_form_saves_a_new_version_without_javascript(world: World, case: Case) -> None:
    services.profile_create(actor=world.alice, person=case.person, **PROFILE)
    client = browser(world.alice)
    url = reverse("profile-create", args=[case.person.pk])
    page = client.get(url)
    assert page.status_code == 200
    forms = page.context["forms"]
    # The current entries plus five empty rows each.
    assert len(forms.languages.forms) == 2 + 5 and len(forms.work_experience.forms) == 1 + 5
    data = {
        "wishes": "Ausbildung",
        "childcare_needs": "",
        "assessment": "",
        "languages-TOTAL_FORMS": "3",
        "languages-INITIAL_FORMS": "2",
        "languages-0-language": "Arabisch",
        "languages-0-level": "native",
        "languages-1-language": "Deutsch",
        "languages-1-level": "A2",
        "languages-1-DELETE": "on",
        "languages-2-language": "Englisch",
        "languages-2-level": "B2",
        "qualifications-TOTAL_FORMS": "1",
        "qualifications-INITIAL_FORMS": "0",
        "work_experience-TOTAL_FORMS": "2",
        "work_experience-INITIAL_FORMS": "0",
        "work_experience-0-occupation": "Kellner",
        "work_experience-0-years": "2",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    latest = Profile.objects.get(person=case.person, version=2)
    assert latest.languages == [{"language": "Arabisch", "level": "native"}, {"language": "Englisch", "level": "B2"}]
    assert latest.work_experience == [{"occupation": "Kellner", "country": "", "years": 2}]
    assert latest.qualifications == [] and latest.wishes == "Ausbildung"
    bad = client.post(url, data | {"work_experience-0-years": "99", "languages-2-level": "Z9"})
    assert bad.status_code == 200 and bad.context["forms"].formsets["work_experience"].errors[0]
    assert Profile.objects.filter(person=case.person).count() == 2
    assert client.post(url, {"languages-TOTAL_FORMS": "x"}).status_code in {200, 400}
    assert browser(world.rita).get(url).status_code == 403


# Plans -------------------------------------------------------------------------------------


def make_plan(world: World, case: Case, **fields: Any) -> Plan:
    values: dict[str, Any] = {"goals": "Sprachniveau B1, dann Ausbildung", "review_on": TODAY + 10 * DAY} | fields
    return services.plan_create(actor=world.alice, person=case.person, **values)


def add_step(world: World, plan: Plan, **fields: Any) -> PlanStep:
    values: dict[str, Any] = {
        "kind": "language_course",
        "title": "Integrationskurs",
        "owner_agency": world.jobcenter,
    } | fields
    return services.plan_step_add(actor=world.alice, plan=plan, **values)


def test_a_plan_is_opened_agreed_and_closed(world: World, case: Case) -> None:
    plan = make_plan(world, case, review_on=None)
    assert (plan.status, plan.agency) == (PlanStatus.DRAFT, world.jobcenter)
    with pytest.raises(ValidationError) as excinfo:
        services.plan_agree(actor=world.alice, plan=plan, agreed_on=TODAY)
    assert "review_on" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.plan_agree(actor=world.alice, plan=plan, agreed_on=TODAY + DAY, review_on=TODAY + 90 * DAY)
    assert "agreed_on" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.plan_agree(actor=world.alice, plan=plan, agreed_on=TODAY, review_on=TODAY - DAY)
    assert "review_on" in excinfo.value.message_dict
    plan = services.plan_agree(actor=world.alice, plan=plan, agreed_on=TODAY, review_on=TODAY + 90 * DAY)
    assert (plan.status, plan.agreed_on, plan.review_on) == (PlanStatus.AGREED, TODAY, TODAY + 90 * DAY)
    services.plan_update(actor=world.cora, plan=plan, plain_summary="Erst Deutsch lernen.")
    assert AuditEntry.objects.get(action="plan.update").changes == {"plain_summary": ["…", "…"]}
    plan = services.plan_close(actor=world.alice, plan=plan)
    assert plan.status == PlanStatus.CLOSED
    for attempt in (
        lambda: services.plan_update(actor=world.alice, plan=plan, goals="neu"),
        lambda: services.plan_close(actor=world.alice, plan=plan),
        lambda: add_step(world, plan),
    ):
        with pytest.raises(ValidationError):
            attempt()
    assert Event.objects.filter(verb="plan.closed", target_id=str(plan.pk)).exists()


@pytest.mark.parametrize(
    ("persona", "error"), [("rita", PermissionDenied), ("adam", PermissionDenied), ("bob", Http404), ("olga", Http404)]
)
def test_only_holders_plan(world: World, case: Case, persona: str, error: type) -> None:
    actor = world.persona(persona)
    with pytest.raises(error):
        services.plan_create(actor=actor, person=case.person, goals="x")
    plan = make_plan(world, case)
    for call in (
        lambda: services.plan_update(actor=actor, plan=plan, goals="x"),
        lambda: services.plan_agree(actor=actor, plan=plan, agreed_on=TODAY),
        lambda: services.plan_close(actor=actor, plan=plan),
        lambda: services.plan_step_add(
            actor=actor, plan=plan, kind="job", title="Arbeit", owner_agency=world.jobcenter
        ),
    ):
        with pytest.raises(error):
            call()
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT and not PlanStep.objects.exists()


def test_steps_form_a_chain_with_owners_dates_and_progress(world: World, case: Case) -> None:
    plan = make_plan(world, case)
    done = add_step(world, plan, title="Erstberatung", kind="counselling", status="done", due_on=TODAY - 30 * DAY)
    late = add_step(world, plan, title="Sprachkurs", starts_on=TODAY - 60 * DAY, due_on=TODAY - DAY)
    following = add_step(world, plan, title="Praktikum", kind="internship", owner_agency=world.social_office)
    add_step(world, plan, title="Ausbildung", kind="apprenticeship", due_on=TODAY + 300 * DAY)
    assert [s.position for s in plan.steps.order_by("position")] == [1, 2, 3, 4]
    progress = selectors.plan_progress(selectors.plan_detail(world.alice, plan.pk))
    assert progress.late == [late] and progress.next == following and done not in progress.late
    assert list(selectors.late_steps(world.alice)) == [late]
    with pytest.raises(ValidationError) as excinfo:
        add_step(world, plan, starts_on=TODAY, due_on=TODAY - DAY)
    assert "due_on" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        add_step(world, plan, owner_agency=world.immigration)  # not an agency the jobcenter works with
    assert "owner_agency" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        add_step(world, plan, kind="party")
    assert "kind" in excinfo.value.message_dict
    services.plan_step_update(actor=world.alice, step=late, status="done")
    assert selectors.plan_progress(selectors.plan_detail(world.alice, plan.pk)).late == []
    assert AuditEntry.objects.filter(action="plan_step.update", target_id=str(late.pk)).exists()


def test_the_owner_of_a_step_reports_progress_only(world: World, case: Case) -> None:
    plan = make_plan(world, case)
    theirs = add_step(world, plan, title="Wohnberatung", kind="counselling", owner_agency=world.social_office)
    ours = add_step(world, plan)
    with pytest.raises(Http404):  # without a share of the plan, the social office does not see it
        services.plan_step_update(actor=world.bob, step=theirs, status="in_progress")
    share(world, case, ["plan"])
    services.plan_step_update(actor=world.bob, step=theirs, status="in_progress", notes="Termin vereinbart")
    theirs.refresh_from_db()
    assert (theirs.status, theirs.notes) == ("in_progress", "Termin vereinbart")
    with pytest.raises(ValidationError) as excinfo:
        services.plan_step_update(actor=world.bob, step=theirs, title="Anderes")
    assert "title" in excinfo.value.message_dict
    with pytest.raises(PermissionDenied):
        services.plan_step_update(actor=world.bob, step=ours, status="done")
    with pytest.raises(PermissionDenied):
        services.plan_agree(actor=world.bob, plan=plan, agreed_on=TODAY)


def test_plans_due_for_review(world: World, case: Case) -> None:
    soon = make_plan(world, case, review_on=TODAY + 14 * DAY)
    overdue = make_plan(world, case, review_on=TODAY - DAY)
    make_plan(world, case, review_on=TODAY + 15 * DAY)
    closed = make_plan(world, case, review_on=TODAY)
    services.plan_close(actor=world.alice, plan=closed)
    assert list(selectors.plans_due_for_review(world.alice)) == [overdue, soon]
    assert list(selectors.plans_due_for_review(world.bob)) == []


def test_plan_pages(world: World, case: Case) -> None:
    client = browser(world.alice)
    response = client.post(
        reverse("plan-create", args=[case.person.pk]),
        {"goals": "Arbeit als Elektriker", "plain_summary": "Sie lernen Deutsch.", "review_on": ""},
    )
    plan = Plan.objects.get(person=case.person)
    assert response["Location"] == reverse("plan-detail", args=[plan.pk])
    response = client.post(
        reverse("plan-step-add", args=[plan.pk]),
        {
            "kind": "language_course",
            "title": "Integrationskurs",
            "owner_agency": world.jobcenter.pk,
            "starts_on": (TODAY - 10 * DAY).isoformat(),
            "due_on": (TODAY - DAY).isoformat(),
            "status": "planned",
        },
    )
    assert response.status_code == 302
    step = plan.steps.get()
    bad_step = {"kind": "x", "title": "", "owner_agency": world.immigration.pk, "status": "planned"}
    assert client.post(reverse("plan-step-add", args=[plan.pk]), bad_step).status_code == 200
    detail = client.get(reverse("plan-detail", args=[plan.pk]))
    assert detail.status_code == 200 and detail.context["rows"][0].is_late
    listing = client.get(reverse("plan-list"))
    assert listing.context["late_steps"] == [step]
    assert client.post(reverse("plan-agree", args=[plan.pk]), {"agreed_on": TODAY.isoformat()}).status_code == 200
    response = client.post(
        reverse("plan-agree", args=[plan.pk]),
        {"agreed_on": TODAY.isoformat(), "review_on": (TODAY + 90 * DAY).isoformat()},
    )
    assert response.status_code == 302
    printed = client.get(reverse("plan-print", args=[plan.pk])).content.decode()
    assert 'media="print"' in printed and "print.css" in printed
    assert "Sie lernen Deutsch." in printed and "Integrationskurs" in printed and "Amina Haddad" in printed
    assert client.get(reverse("plan-step-edit", args=[step.pk])).status_code == 200
    assert client.post(reverse("plan-close", args=[plan.pk])).status_code == 302
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.CLOSED
    assert browser(world.rita).get(reverse("plan-detail", args=[plan.pk])).status_code == 200
    assert browser(world.rita).get(reverse("plan-edit", args=[plan.pk])).status_code == 403
    assert browser(world.bob).get(reverse("plan-detail", args=[plan.pk])).status_code == 404
    assert browser(world.bob).get(reverse("person-plans", args=[case.person.pk])).status_code == 404


def test_plan_api(world: World, case: Case) -> None:
    body = {"person": case.person.pk, "goals": "Ausbildung", "review_on": str(TODAY + 30 * DAY)}
    assert api(world.rita).post("/api/v1/plans/", body, format="json").status_code == 403
    assert api(world.bob).post("/api/v1/plans/", body, format="json").status_code == 400
    assert (
        api(world.alice).post("/api/v1/plans/", body | {"status": "agreed", "x": 1}, format="json").status_code == 400
    )
    created = api(world.alice).post("/api/v1/plans/", body, format="json")
    assert created.status_code == 201 and created.json()["status"] == "draft"
    plan_id = created.json()["id"]
    step_body = {
        "plan": plan_id,
        "kind": "language_course",
        "title": "Integrationskurs",
        "owner_agency": world.jobcenter.pk,
        "due_on": str(TODAY - DAY),
    }
    assert (
        api(world.alice)
        .post("/api/v1/plan-steps/", step_body | {"owner_agency": world.immigration.pk}, format="json")
        .status_code
        == 400
    )
    step = api(world.alice).post("/api/v1/plan-steps/", step_body, format="json")
    assert step.status_code == 201, step.content
    detail = api(world.alice).get(f"/api/v1/plans/{plan_id}/").json()
    assert detail["late_steps"] == [step.json()["id"]] and detail["next_step"] is None
    patched = api(world.alice).patch(f"/api/v1/plan-steps/{step.json()['id']}/", {"status": "done"}, format="json")
    assert patched.status_code == 200 and patched.json()["status"] == "done"
    assert (
        api(world.rita)
        .patch(f"/api/v1/plan-steps/{step.json()['id']}/", {"status": "planned"}, format="json")
        .status_code
        == 403
    )
    assert api(world.alice).get(f"/api/v1/plan-steps/{step.json()['id']}/").status_code == 405
    assert (
        api(world.alice).post(f"/api/v1/plans/{plan_id}/agree/", {"agreed_on": "tomorrow"}, format="json").status_code
        == 400
    )
    agreed = api(world.alice).post(f"/api/v1/plans/{plan_id}/agree/", {"agreed_on": str(TODAY)}, format="json")
    assert agreed.status_code == 200 and agreed.json()["status"] == "agreed"
    assert api(world.rita).post(f"/api/v1/plans/{plan_id}/close/").status_code == 403
    assert api(world.olga).post(f"/api/v1/plans/{plan_id}/close/").status_code == 404
    assert (
        api(world.alice).patch(f"/api/v1/plans/{plan_id}/", {"goals": "Arbeit"}, format="json").json()["goals"]
        == "Arbeit"
    )
    assert api(world.alice).post(f"/api/v1/plans/{plan_id}/close/").json()["status"] == "closed"
    assert api(world.alice).post(f"/api/v1/plans/{plan_id}/close/").status_code == 400
    assert api(world.bob).get("/api/v1/plans/").json()["results"] == []


# Transfers of responsibility ----------------------------------------------------------------

CHECKLIST_DONE = {
    "effective_date_confirmed": True,
    "open_measures_reviewed": True,
    "plan_handed_over": True,
    "housing_checked": True,
}


def propose(world: World, case: Case, **overrides: Any) -> ResponsibilityTransfer:
    values: dict[str, Any] = {
        "actor": world.alice,
        "person": case.person,
        "to_agency": world.social_office,
        "effective_on": TODAY + 7 * DAY,
        "new_benefit_scheme": "sgb_xii",
        "checklist": {"effective_date_confirmed": True},
        "note": "Rente ab nächstem Monat",
    } | overrides
    return services.transfer_propose(**values)


def test_a_transfer_moves_responsibility_and_keeps_the_history(world: World, case: Case) -> None:
    plan = make_plan(world, case)
    transfer = propose(world, case)
    assert transfer.from_agency == world.jobcenter and transfer.status == "proposed"
    assert transfer.checklist == {
        "effective_date_confirmed": True,
        "open_measures_reviewed": False,
        "plan_handed_over": False,
        "housing_checked": False,
    }
    with pytest.raises(ValidationError) as excinfo:
        services.transfer_complete(actor=world.bob, transfer=transfer)
    assert "checklist" in excinfo.value.message_dict
    services.transfer_complete(actor=world.bob, transfer=transfer, checklist=CHECKLIST_DONE)
    person = Person.objects.get(pk=case.person.pk)
    assert person.responsible_agency == world.social_office
    assert person.responsible_since == TODAY + 7 * DAY
    assert (person.benefit_scheme, person.benefits_since) == ("sgb_xii", TODAY + 7 * DAY)
    files = set(CaseFile.objects.filter(person=person, closed_at=None).values_list("agency_id", flat=True))
    assert files == {world.jobcenter.pk, world.social_office.pk}  # the former agency keeps its file
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decided_by) == ("completed", world.bob)
    # The new agency holds the file now: every category, the plan, the right to act.
    assert access.person_categories(world.bob, person) == frozenset(Category.values)
    assert access.visible(world.bob, Plan).filter(pk=plan.pk).exists()
    assert access.can(world.bob, "transfer", person)
    assert AuditEntry.objects.filter(action="transfer.complete", agency_id=world.social_office.pk).exists()
    event = Event.objects.get(verb="transfer.completed")
    assert {f"agency.{world.jobcenter.pk}", f"agency.{world.social_office.pk}"} <= set(event.audience)
    with pytest.raises(PermissionDenied):  # completed: nothing left to decide
        services.transfer_complete(actor=world.bob, transfer=transfer)


def test_who_may_propose_complete_and_cancel(world: World, case: Case) -> None:
    with pytest.raises(PermissionDenied):
        propose(world, case, actor=world.rita)
    with pytest.raises(Http404):
        propose(world, case, actor=world.bob)
    with pytest.raises(ValidationError):
        propose(world, case, to_agency=world.jobcenter)  # responsible already
    with pytest.raises(ValidationError):
        propose(world, case, to_agency=world.immigration)  # not an agency the jobcenter works with
    with pytest.raises(ValidationError) as excinfo:
        propose(world, case, checklist={"flat": True})
    assert "checklist" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        propose(world, case, checklist={"housing_checked": "yes"})
    transfer = propose(world, case)
    with pytest.raises(ValidationError):
        propose(world, case, to_agency=world.youth_office)  # one open proposal at a time
    with pytest.raises(PermissionDenied):
        services.transfer_complete(actor=world.alice, transfer=transfer, checklist=CHECKLIST_DONE)
    with pytest.raises(Http404):
        services.transfer_complete(actor=world.carol, transfer=transfer, checklist=CHECKLIST_DONE)
    with pytest.raises(PermissionDenied):
        services.transfer_cancel(actor=world.bob, transfer=transfer)
    with pytest.raises(PermissionDenied):
        services.transfer_cancel(actor=world.rita, transfer=transfer)
    services.transfer_cancel(actor=world.alice, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    assert Person.objects.get(pk=case.person.pk).responsible_agency == world.jobcenter
    propose(world, case, to_agency=world.youth_office)  # a new proposal is possible again


def test_transfer_pages_and_api(world: World, case: Case) -> None:
    client = browser(world.alice)
    data = {
        "to_agency": world.social_office.pk,
        "effective_on": (TODAY + 7 * DAY).isoformat(),
        "new_benefit_scheme": "sgb_xii",
        "effective_date_confirmed": "on",
    }
    response = client.post(reverse("transfer-create", args=[case.person.pk]), data)
    transfer = ResponsibilityTransfer.objects.get()
    assert response["Location"] == reverse("transfer-detail", args=[transfer.pk])
    assert client.get(reverse("person-transfers", args=[case.person.pk])).status_code == 200
    bob = browser(world.bob)
    detail = bob.get(reverse("transfer-detail", args=[transfer.pk])).content.decode()
    assert case.person.reference in detail and "Haddad" not in detail  # no share: the reference only
    assert bob.post(reverse("transfer-complete", args=[transfer.pk]), {"plan_handed_over": "on"}).status_code == 200
    assert ResponsibilityTransfer.objects.get().status == "proposed"
    assert client.get(reverse("transfer-complete", args=[transfer.pk])).status_code == 403
    assert browser(world.olga).get(reverse("transfer-detail", args=[transfer.pk])).status_code == 404
    body = api(world.bob).get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert body["checklist"]["effective_date_confirmed"] is True and body["checklist"]["housing_checked"] is False
    assert api(world.bob).post(f"/api/v1/transfers/{transfer.pk}/complete/", {}, format="json").status_code == 400
    bad = {"checklist": CHECKLIST_DONE | {"flat": True}}
    assert api(world.bob).post(f"/api/v1/transfers/{transfer.pk}/complete/", bad, format="json").status_code == 400
    assert api(world.alice).post(f"/api/v1/transfers/{transfer.pk}/complete/", {}, format="json").status_code == 403
    done = api(world.bob).post(
        f"/api/v1/transfers/{transfer.pk}/complete/", {"checklist": CHECKLIST_DONE}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert Person.objects.get(pk=case.person.pk).responsible_agency == world.social_office
    created = api(world.bob).post(
        "/api/v1/transfers/",
        {
            "person": case.person.pk,
            "to_agency": world.youth_office.pk,
            "effective_on": str(TODAY),
            "new_benefit_scheme": "sgb_ii",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert api(world.carol).post(f"/api/v1/transfers/{created.json()['id']}/cancel/").status_code == 403
    assert api(world.bob).post(f"/api/v1/transfers/{created.json()['id']}/cancel/").json()["status"] == "cancelled"


# Recognition of foreign qualifications -------------------------------------------------------

RECOGNITION: dict[str, Any] = {
    "qualification": "Elektriker (Berufsabschluss)",
    "country": "Syrien",
    "reference_profession": "Elektroniker/-in",
    "competent_body": "Handwerkskammer Osnabrück-Emsland",
    "applied_on": TODAY - 60 * DAY,
}


def test_recognition_procedures(world: World, case: Case) -> None:
    recognition = services.recognition_create(actor=world.alice, person=case.person, **RECOGNITION)
    assert recognition.decision == "pending" and recognition.agency == world.jobcenter
    with pytest.raises(ValidationError) as excinfo:
        services.recognition_update(actor=world.alice, recognition=recognition, decision="full")
    assert "decided_on" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.recognition_update(actor=world.alice, recognition=recognition, decision="partial", decided_on=TODAY)
    assert "gaps" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.recognition_update(
            actor=world.alice, recognition=recognition, decision="full", decided_on=TODAY - 90 * DAY
        )
    assert "decided_on" in excinfo.value.message_dict  # before the application
    with pytest.raises(ValidationError):
        services.recognition_update(actor=world.alice, recognition=recognition, agency=world.social_office)
    services.recognition_update(
        actor=world.alice,
        recognition=recognition,
        decision="partial",
        decided_on=TODAY,
        gaps="Fachpraxis Gebäudetechnik",
        bridging="Anpassungsqualifizierung",
    )
    recognition.refresh_from_db()
    assert (recognition.decision, recognition.gaps) == ("partial", "Fachpraxis Gebäudetechnik")
    assert AuditEntry.objects.get(action="recognition.update").changes["gaps"] == ["…", "…"]


@pytest.mark.parametrize(
    ("persona", "error"), [("rita", PermissionDenied), ("adam", PermissionDenied), ("bob", Http404), ("olga", Http404)]
)
def test_only_holders_record_recognition(world: World, case: Case, persona: str, error: type) -> None:
    with pytest.raises(error):
        services.recognition_create(actor=world.persona(persona), person=case.person, **RECOGNITION)
    recognition = services.recognition_create(actor=world.alice, person=case.person, **RECOGNITION)
    with pytest.raises(error):
        services.recognition_update(actor=world.persona(persona), recognition=recognition, gaps="x")


def test_recognition_follows_the_education_category(world: World, case: Case) -> None:
    recognition = services.recognition_create(actor=world.alice, person=case.person, **RECOGNITION)
    share(world, case, ["languages"])
    assert browser(world.bob).get(reverse("person-recognitions", args=[case.person.pk])).status_code == 404
    assert api(world.bob).get(f"/api/v1/recognitions/{recognition.pk}/").status_code == 404
    share(world, case, ["education"])
    page = browser(world.bob).get(reverse("person-recognitions", args=[case.person.pk]))
    assert page.status_code == 200 and "Handwerkskammer" in page.content.decode()
    with pytest.raises(PermissionDenied):
        services.recognition_update(actor=world.bob, recognition=recognition, gaps="x")
    assert (
        api(world.bob).patch(f"/api/v1/recognitions/{recognition.pk}/", {"gaps": "x"}, format="json").status_code == 403
    )


def test_recognition_pages_and_api(world: World, case: Case) -> None:
    client = browser(world.alice)
    data = {key: str(value) for key, value in RECOGNITION.items()} | {"decision": "pending"}
    response = client.post(reverse("recognition-create", args=[case.person.pk]), data)
    assert response.status_code == 302
    recognition = RecognitionProcedure.objects.get()
    bad = client.post(reverse("recognition-edit", args=[recognition.pk]), data | {"decision": "full"})
    assert bad.status_code == 200 and "decided_on" in bad.context["form"].errors
    assert browser(world.rita).get(reverse("recognition-edit", args=[recognition.pk])).status_code == 403
    body = {"person": case.person.pk, **{k: str(v) for k, v in RECOGNITION.items()}}
    created = api(world.alice).post("/api/v1/recognitions/", body, format="json")
    assert created.status_code == 201
    patched = api(world.alice).patch(
        f"/api/v1/recognitions/{created.json()['id']}/",
        {"decision": "none", "decided_on": str(TODAY)},
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["decision"] == "none"
    listed = api(world.alice).get("/api/v1/recognitions/", {"person": case.person.pk}).json()
    assert listed["count"] == 2


# Referral expiry --------------------------------------------------------------------------


def test_expire_referrals_command_prints_the_count(world: World, case: Case) -> None:
    referral = services.referral_create(
        actor=world.alice,
        person=case.person,
        to_agency=world.social_office,
        reason="Beratung",
        categories=["identity"],
        legal_basis="consent",
        consent=case.consent,
        answer_due_on=TODAY,
    )
    out = io.StringIO()
    call_command("expire_referrals", stdout=out)
    assert out.getvalue().startswith("0 ")
    # Time passes: the answer is overdue now.
    Referral.objects.filter(pk=referral.pk).update(answer_due_on=TODAY - DAY)
    out = io.StringIO()
    call_command("expire_referrals", stdout=out)
    assert out.getvalue().startswith("1 ")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.EXPIRED


def test_pages_follow_the_layout_rules(world: World, case: Case) -> None:
    """No inline style or script (the CSP forbids them); every page a full document with a main landmark."""
    profile = services.profile_create(actor=world.alice, person=case.person, **PROFILE)
    plan = make_plan(world, case)
    step = add_step(world, plan, due_on=TODAY - DAY)
    recognition = services.recognition_create(actor=world.alice, person=case.person, **RECOGNITION)
    transfer = propose(world, case)
    person = case.person.pk
    urls = [
        reverse("person-profile", args=[person]),
        reverse("profile-create", args=[person]),
        reverse("profile-detail", args=[profile.pk]),
        reverse("plan-list"),
        reverse("person-plans", args=[person]),
        reverse("plan-create", args=[person]),
        reverse("plan-detail", args=[plan.pk]),
        reverse("plan-edit", args=[plan.pk]),
        reverse("plan-agree", args=[plan.pk]),
        reverse("plan-print", args=[plan.pk]),
        reverse("plan-step-add", args=[plan.pk]),
        reverse("plan-step-edit", args=[step.pk]),
        reverse("transfer-list"),
        reverse("person-transfers", args=[person]),
        reverse("transfer-create", args=[person]),
        reverse("transfer-detail", args=[transfer.pk]),
        reverse("person-recognitions", args=[person]),
        reverse("recognition-create", args=[person]),
        reverse("recognition-edit", args=[recognition.pk]),
        reverse("measure-list"),
        reverse("measure-create"),
    ]
    client = browser(world.alice)
    for url in urls:
        response = client.get(url)
        if url == reverse("measure-create"):
            assert response.status_code == 403  # alice works for no course provider
            continue
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="de">' in html and '<main id="main"' in html and "<h1>" in html, url
        assert "style=" not in html and "<style" not in html, url
        assert "<script>" not in html and "onclick" not in html, url


@pytest.mark.parametrize(
    ("url", "build"),
    [
        ("/api/v1/plans/", lambda world, case: add_step(world, make_plan(world, case), due_on=TODAY - DAY)),
        ("/api/v1/profiles/", lambda world, case: services.profile_create(actor=world.alice, person=case.person)),
        (
            "/api/v1/recognitions/",
            lambda world, case: services.recognition_create(actor=world.alice, person=case.person, **RECOGNITION),
        ),
        ("/plans/", lambda world, case: add_step(world, make_plan(world, case, review_on=TODAY), due_on=TODAY - DAY)),
    ],
)
def test_lists_cost_the_same_queries_whatever_their_length(world: World, case: Case, url: str, build: Any) -> None:
    client = api(world.alice) if url.startswith("/api/") else browser(world.alice)
    build(world, case)
    client.get(url)  # warm up: sessions, memberships
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(5):
        build(world, case)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [query["sql"] for query in many.captured_queries]
