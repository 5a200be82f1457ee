"""The demo county: built through the services, complete, and safe to run twice."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from agencies.models import Agency, AgencyKind, Invitation, Role, Staff, User, Workspace
from hub import access
from hub.management.commands.demo_county import AGENCIES, DEMO_PASSWORD, PEOPLE, WORKSPACES, username
from hub.models import AuditEntry

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("demo_county", "--persons", "12", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        Agency.objects.count(),
        Staff.objects.count(),
        User.objects.count(),
        Workspace.objects.count(),
        Invitation.objects.count(),
    )


def test_demo_county_has_every_agency_kind_role_and_workspace() -> None:
    output = run()

    agencies = {agency.name: agency for agency in Agency.objects.all()}
    assert set(agencies) == {spec.name for spec in AGENCIES}
    assert {agency.kind for agency in agencies.values()} == set(AgencyKind.values) - {AgencyKind.OTHER}
    for agency in agencies.values():
        assert agency.street and agency.postcode and agency.city and agency.email and agency.phone
        active = Staff.objects.filter(agency=agency, is_active=True)
        for role in Role:
            assert active.filter(**{f"is_{role.value}": True}).exists(), (agency, role)
        assert any(member.is_read_only for member in active), agency

    round_table = Workspace.objects.get(name="Runder Tisch Integration")
    assert round_table.coordinator_agency.short_name == "Sozialamt"
    assert round_table.agencies.count() == 6
    team = Workspace.objects.get(name="Team Arbeitsintegration Flüchtlinge")
    assert team.coordinator_agency.short_name == "Jobcenter"
    assert {agency.short_name for agency in team.agencies.all()} == {"Jobcenter", "Agentur für Arbeit", "KVHS", "BBS"}
    assert len(WORKSPACES) == Workspace.objects.count()

    # The services ran: audit rows exist and the guardian grants give the partners their view.
    assert AuditEntry.objects.filter(action="agency.create").count() == len(AGENCIES)
    assert AuditEntry.objects.filter(action="staff.deactivate").count() == 1
    bbs_caseworker = User.objects.get(username="bbs.caseworker")
    assert set(access.visible(bbs_caseworker, Workspace)) == {team}
    assert Staff.objects.get(user__username="jobcenter.former").is_active is False

    # Every login in the table works with the shared password.
    assert DEMO_PASSWORD in output
    for person in PEOPLE:
        name = username(person)
        assert name in output
        assert authenticate(username=name, password=DEMO_PASSWORD) is not None, name
    assert "jobcenter.former" not in output
    assert "http://" in output or "https://" in output


def test_demo_county_runs_twice_without_duplicates() -> None:
    run()
    before = counts()
    audit_rows = AuditEntry.objects.count()

    output = run()

    assert counts() == before
    assert AuditEntry.objects.count() == audit_rows
    assert "exists already" in output
    assert "jobcenter.admin" in output


def test_reset_is_refused_on_postgresql_without_debug(settings) -> None:
    settings.DEBUG = False
    run()
    with pytest.raises(CommandError, match="SQLite or with DEBUG"):
        run("--reset")
    assert Agency.objects.count() == len(AGENCIES)


def test_reset_rebuilds_the_county_when_debug_is_on(settings) -> None:
    settings.DEBUG = True
    run()
    before = counts()
    old_ids = set(Agency.objects.values_list("pk", flat=True))

    output = run("--reset")

    assert "Removed the demo county" in output
    assert counts() == before
    assert old_ids.isdisjoint(Agency.objects.values_list("pk", flat=True))
