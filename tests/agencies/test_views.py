"""The browser UI of agencies, staff, invitations, workspaces and the profile, through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from agencies import services
from agencies.models import Invitation, Staff, User, Workspace, WorkspaceMembership
from hub.models import AuditEntry
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def pages(w: World) -> list[str]:
    alice = w.staff(w.alice)
    return [
        reverse("dashboard"),
        reverse("profile"),
        reverse("password-change"),
        reverse("agency-list"),
        reverse("agency-detail", args=[w.jobcenter.pk]),
        reverse("agency-edit", args=[w.jobcenter.pk]),
        reverse("staff-list", args=[w.jobcenter.pk]),
        reverse("staff-edit", args=[alice.pk]),
        reverse("invitation-create", args=[w.jobcenter.pk]),
        reverse("audit-list", args=[w.jobcenter.pk]),
        reverse("workspace-list"),
        reverse("workspace-create"),
        reverse("workspace-detail", args=[w.workspace.pk]),
        reverse("workspace-edit", args=[w.workspace.pk]),
        reverse("workspace-add-agency", args=[w.workspace.pk]),
    ]


def test_every_page_has_the_accessible_layout(world: World) -> None:
    client = client_for(world.adam)
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="de">' in html, url
        assert 'href="#main"' in html and '<main id="main"' in html, url
        assert "<nav" in html and "<header" in html and "<footer" in html, url
        assert html.count("<h1") == 1, url
        # The CSP forbids inline styles and scripts; none may creep in.
        assert "style=" not in html and "<style" not in html, url
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url
        assert 'name="htmx-config"' in html, url


def test_login_page_and_logout(world: World) -> None:
    client = Client()
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'autocomplete="current-password"' in response.content.decode()
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_dashboard_shows_memberships_workspaces_and_admin_links(world: World) -> None:
    html = client_for(world.adam).get(reverse("dashboard")).content.decode()
    assert world.jobcenter.name in html
    assert world.workspace.name in html
    assert reverse("staff-list", args=[world.jobcenter.pk]) in html
    html = client_for(world.alice).get(reverse("dashboard")).content.decode()
    assert reverse("staff-list", args=[world.jobcenter.pk]) not in html


def test_dashboard_explains_a_missing_membership(world: World) -> None:
    services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    response = client_for(world.alice).get(reverse("dashboard"))
    assert response.status_code == 200
    assert world.workspace.name not in response.content.decode()
    assert response.context["memberships"] == []


def test_filtered_list_answers_htmx_with_the_results_partial(world: World) -> None:
    client = client_for(world.alice)
    url = reverse("agency-list") + "?q=Sozial"
    full = client.get(url)
    assert "<html" in full.content.decode()
    assert [a.name for a in full.context["page_obj"]] == [world.social_office.name]
    partial = client.get(url, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert "<html" not in html
    assert world.social_office.name in html and world.youth_office.name not in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert "HX-Request" in partial["Vary"]
    # Back-button restores get the whole page.
    restore = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_lists_survive_odd_filter_values(world: World) -> None:
    client = client_for(world.adam)
    for url in [
        reverse("agency-list") + "?kind=nonsense&page=abc",
        reverse("agency-list") + "?q=" + "x" * 500,
        reverse("workspace-list") + "?is_archived=maybe&page=999",
        reverse("staff-list", args=[world.jobcenter.pk]) + "?role=superhero&is_active=perhaps&agency=x",
        reverse("audit-list", args=[world.jobcenter.pk]) + "?page=-1",
    ]:
        assert client.get(url).status_code == 200, url


def test_staff_list_filters_and_shows_deactivated(world: World) -> None:
    services.staff_deactivate(actor=world.adam, staff=world.staff(world.rita))
    client = client_for(world.adam)
    url = reverse("staff-list", args=[world.jobcenter.pk])
    assert {s.user.username for s in client.get(url).context["page_obj"]} == {"alice", "rita", "adam", "cora"}
    inactive = client.get(url, {"is_active": "false"}).context["page_obj"]
    assert [s.user.username for s in inactive] == ["rita"]
    coordinators = client.get(url, {"role": "coordinator"}).context["page_obj"]
    assert [s.user.username for s in coordinators] == ["cora"]


def test_invite_accept_and_log_in(world: World) -> None:
    admin = client_for(world.adam)
    response = admin.post(
        reverse("invitation-create", args=[world.jobcenter.pk]),
        {"email": "Nina@Example.org", "first_name": "Nina", "last_name": "Neu", "roles": ["caseworker"]},
    )
    assert response.status_code == 200
    link = response.context["url"]
    assert link in response.content.decode()
    assert len(mail.outbox) == 0 or link in mail.outbox[0].body
    path = link.split("://", 1)[1].split("/", 1)[1]
    path = "/" + path

    visitor = Client()
    page = visitor.get(path)
    assert page.status_code == 200 and world.jobcenter.name in page.content.decode()
    mismatch = visitor.post(path, {"username": "nina", "password1": "a-long-passphrase-1", "password2": "other"})
    assert mismatch.status_code == 200 and mismatch.context["form"].errors
    weak = visitor.post(path, {"username": "nina", "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200 and "password1" in weak.context["form"].errors
    taken = visitor.post(path, {"username": "ALICE", "password1": PASSWORD, "password2": PASSWORD})
    assert taken.status_code == 200 and "username" in taken.context["form"].errors
    done = visitor.post(path, {"username": "nina", "password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("dashboard")
    dashboard = visitor.get(reverse("dashboard"))
    assert dashboard.status_code == 200 and world.workspace.name in dashboard.content.decode()
    assert Staff.objects.get(user__username="nina").roles == ["caseworker"]
    # The link works once.
    again = Client().get(path)
    assert again.status_code == 404
    assert Client().login(username="nina", password=PASSWORD)


def test_invitation_form_errors_are_shown_not_raised(world: World) -> None:
    admin = client_for(world.adam)
    url = reverse("invitation-create", args=[world.jobcenter.pk])
    existing = admin.post(url, {"email": "alice@example.org", "first_name": "A", "last_name": "B"})
    assert existing.status_code == 200 and "email" in existing.context["form"].errors
    unknown_role = admin.post(url, {"email": "x@example.org", "first_name": "A", "last_name": "B", "roles": ["king"]})
    assert unknown_role.status_code == 200 and "roles" in unknown_role.context["form"].errors
    too_long = admin.post(url, {"email": "x@example.org", "first_name": "A" * 500, "last_name": "B"})
    assert too_long.status_code == 200 and "first_name" in too_long.context["form"].errors


def test_revoke_invitation(world: World) -> None:
    invitation, token = services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="neu@example.org", first_name="N", last_name="N"
    )
    admin = client_for(world.adam)
    page = admin.get(reverse("staff-list", args=[world.jobcenter.pk])).content.decode()
    assert reverse("invitation-revoke", args=[invitation.pk]) in page
    response = admin.post(reverse("invitation-revoke", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert Client().get(reverse("invitation-accept", args=[token])).status_code == 404


def test_deactivated_staff_loses_the_workspace(world: World) -> None:
    bob_client = client_for(world.bob)
    workspace_url = reverse("workspace-detail", args=[world.workspace.pk])
    assert bob_client.get(workspace_url).status_code == 200
    sam = User.objects.get(username="sam")
    response = client_for(sam).post(reverse("staff-deactivate", args=[world.staff(world.bob).pk]))
    assert response.status_code == 302
    assert bob_client.get(workspace_url).status_code == 404
    assert world.workspace.name not in bob_client.get(reverse("workspace-list")).content.decode()


def test_deactivate_with_htmx_redirects_the_whole_page(world: World) -> None:
    staff = world.staff(world.alice)
    response = client_for(world.adam).post(reverse("staff-deactivate", args=[staff.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("staff-list", args=[world.jobcenter.pk])
    staff.refresh_from_db()
    assert not staff.is_active
    response = client_for(world.adam).post(reverse("staff-reactivate", args=[staff.pk]))
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.is_active


def test_outsider_gets_404_on_another_agencys_pages(world: World) -> None:
    olga = client_for(world.olga)
    for url in [
        reverse("agency-detail", args=[world.jobcenter.pk]),
        reverse("agency-edit", args=[world.jobcenter.pk]),
        reverse("staff-list", args=[world.jobcenter.pk]),
        reverse("audit-list", args=[world.jobcenter.pk]),
        reverse("staff-edit", args=[world.staff(world.alice).pk]),
        reverse("workspace-detail", args=[world.workspace.pk]),
    ]:
        response = olga.get(url)
        assert response.status_code == 404, url
        assert world.jobcenter.name not in response.content.decode(), url


def test_staff_edit_roles_and_read_only(world: World) -> None:
    staff = world.staff(world.alice)
    admin = client_for(world.adam)
    url = reverse("staff-edit", args=[staff.pk])
    page = admin.get(url).content.decode()
    assert "<fieldset" in page and 'value="caseworker"' in page
    response = admin.post(url, {"job_title": "Fallmanagement", "phone": "123"})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.is_read_only and staff.job_title == "Fallmanagement"
    entry = AuditEntry.objects.filter(action="staff.update", target_id=str(staff.pk)).latest("at")
    assert entry.changes["is_caseworker"] == [True, False]


def test_last_admin_cannot_drop_the_role(world: World) -> None:
    adam = world.staff(world.adam)
    response = client_for(world.adam).post(reverse("staff-edit", args=[adam.pk]), {"roles": ["caseworker"]})
    assert response.status_code == 200
    assert response.context["form"].errors
    adam.refresh_from_db()
    assert adam.is_agency_admin


def test_agency_edit(world: World) -> None:
    admin = client_for(world.adam)
    url = reverse("agency-edit", args=[world.jobcenter.pk])
    data = {"name": world.jobcenter.name, "short_name": "JC", "kind": "jobcenter", "city": "Nordhorn"}
    response = admin.post(url, {**data, "email": "kontakt@jobcenter.example"})
    assert response.status_code == 302
    world.jobcenter.refresh_from_db()
    assert world.jobcenter.short_name == "JC"
    taken = admin.post(url, {**data, "name": world.social_office.name})
    assert taken.status_code == 200 and "name" in taken.context["form"].errors


def test_audit_list_shows_the_agencys_entries(world: World) -> None:
    services.staff_update(actor=world.adam, staff=world.staff(world.alice), roles=[], job_title="Leitung")
    response = client_for(world.adam).get(reverse("audit-list", args=[world.jobcenter.pk]))
    assert response.status_code == 200
    entries = list(response.context["page_obj"])
    assert entries and all(entry.agency_id == world.jobcenter.pk for entry in entries)
    assert "Leitung" in response.content.decode()


def test_profile_update_is_audited(world: World) -> None:
    client = client_for(world.alice)
    response = client.post(
        reverse("profile"), {"first_name": "Alicia", "last_name": "Arslan", "email": "alicia@example.org"}
    )
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert (world.alice.first_name, world.alice.email) == ("Alicia", "alicia@example.org")
    entry = AuditEntry.objects.get(action="user.update", target_id=str(world.alice.pk))
    assert entry.changes["first_name"] == ["Alice", "Alicia"]
    assert entry.agency_id == world.jobcenter.pk
    invalid = client.post(reverse("profile"), {"email": "not-an-address"})
    assert invalid.status_code == 200 and "email" in invalid.context["form"].errors


def test_api_token_is_shown_once_and_can_be_deleted(world: World) -> None:
    client = client_for(world.alice)
    response = client.post(reverse("api-token"))
    assert response.status_code == 302
    key = Token.objects.get(user=world.alice).key
    first = client.get(reverse("profile")).content.decode()
    assert key in first
    assert key not in client.get(reverse("profile")).content.decode()
    assert not AuditEntry.objects.filter(target_id=key).exists()
    assert AuditEntry.objects.filter(action="api_token.create", target_id=str(world.alice.pk)).exists()
    client.post(reverse("api-token"))
    assert Token.objects.get(user=world.alice).key != key
    assert client.post(reverse("api-token-delete")).status_code == 302
    assert not Token.objects.filter(user=world.alice).exists()
    assert client.get(reverse("api-token")).status_code == 405


def test_password_change(world: World) -> None:
    client = client_for(world.alice)
    new = "another correct horse battery"
    response = client.post(
        reverse("password-change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302 and response["Location"] == reverse("profile")
    assert Client().login(username="alice", password=new)


def test_workspace_create_add_and_remove_agency(world: World) -> None:
    cora = client_for(world.cora)
    page = cora.get(reverse("workspace-create"))
    assert list(page.context["form"].fields["coordinator_agency"].queryset) == [world.jobcenter]
    response = cora.post(
        reverse("workspace-create"),
        {
            "name": "Runder Tisch Wohnen",
            "purpose": "Wohnraum",
            "coordinator_agency": world.jobcenter.pk,
            "agencies": [world.social_office.pk],
        },
    )
    workspace = Workspace.objects.get(name="Runder Tisch Wohnen")
    assert response.status_code == 302 and response["Location"] == reverse("workspace-detail", args=[workspace.pk])
    assert set(workspace.agencies.all()) == {world.jobcenter, world.social_office}

    foreign = cora.post(reverse("workspace-create"), {"name": "X", "coordinator_agency": world.immigration.pk})
    assert foreign.status_code == 200 and "coordinator_agency" in foreign.context["form"].errors
    nameless = cora.post(reverse("workspace-create"), {"name": "", "coordinator_agency": world.jobcenter.pk})
    assert nameless.status_code == 200 and "name" in nameless.context["form"].errors

    add = cora.post(reverse("workspace-add-agency", args=[workspace.pk]), {"agency": world.youth_office.pk})
    assert add.status_code == 302
    assert world.youth_office in workspace.agencies.all()
    assert client_for(world.carol).get(reverse("workspace-detail", args=[workspace.pk])).status_code == 200

    detail = cora.get(reverse("workspace-detail", args=[workspace.pk])).content.decode()
    coordinator_membership = WorkspaceMembership.objects.get(workspace=workspace, agency=world.jobcenter)
    youth_membership = WorkspaceMembership.objects.get(workspace=workspace, agency=world.youth_office)
    assert reverse("workspace-remove-agency", args=[workspace.pk, youth_membership.pk]) in detail
    assert reverse("workspace-remove-agency", args=[workspace.pk, coordinator_membership.pk]) not in detail

    remove = cora.post(reverse("workspace-remove-agency", args=[workspace.pk, youth_membership.pk]))
    assert remove.status_code == 302
    assert client_for(world.carol).get(reverse("workspace-detail", args=[workspace.pk])).status_code == 404


def test_workspace_detail_hides_management_from_members(world: World) -> None:
    html = client_for(world.bob).get(reverse("workspace-detail", args=[world.workspace.pk])).content.decode()
    assert reverse("workspace-edit", args=[world.workspace.pk]) not in html
    assert "/remove/" not in html
    assert "Bob Becker" in html and "Carol Celik" in html


def test_workspace_edit_archives(world: World) -> None:
    response = client_for(world.cora).post(
        reverse("workspace-edit", args=[world.workspace.pk]),
        {"name": world.workspace.name, "purpose": "Neu", "is_archived": "on"},
    )
    assert response.status_code == 302
    world.workspace.refresh_from_db()
    assert world.workspace.is_archived and world.workspace.purpose == "Neu"


def test_invalid_invitation_page(world: World) -> None:
    response = Client().get(reverse("invitation-accept", args=["x" * 300]))
    assert response.status_code == 404
    assert 'lang="de"' in response.content.decode()


def test_invitation_accept_page_is_not_cached(world: World) -> None:
    _, token = services.staff_invite(
        actor=world.adam, agency=world.jobcenter, email="neu@example.org", first_name="N", last_name="N"
    )
    response = Client().get(reverse("invitation-accept", args=[token]))
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert Invitation.objects.get().is_open


def test_german_is_the_default_and_english_is_offered(world: World) -> None:
    client = client_for(world.alice)
    german = client.get(reverse("dashboard")).content.decode()
    assert '<html lang="de">' in german and "Übersicht" in german and "Arbeitsräume" in german
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("dashboard")})
    assert response.status_code == 302
    english = client.get(reverse("dashboard")).content.decode()
    assert '<html lang="en">' in english and "Overview" in english and "Workspaces" in english


def test_role_labels_are_translated(world: World) -> None:
    html = client_for(world.adam).get(reverse("staff-list", args=[world.jobcenter.pk])).content.decode()
    assert "Fallmanagement" in html and "Nur-Lesen" in html and "Behördenadministration" in html


def test_workspace_page_costs_the_same_queries_for_more_member_agencies(world: World, client: Client) -> None:
    client.force_login(world.cora)
    url = reverse("workspace-detail", args=[world.workspace.pk])
    with CaptureQueriesContext(connection) as three_agencies:
        assert client.get(url).status_code == 200
    for number in range(3):
        agency = services.agency_create(actor=None, name=f"Träger {number}", kind="course_provider")
        services.workspace_add_agency(actor=world.cora, workspace=world.workspace, agency=agency)
    with CaptureQueriesContext(connection) as six_agencies:
        assert client.get(url).status_code == 200
    assert len(six_agencies) == len(three_agencies)


def test_api_docs_page_has_a_language_a_main_landmark_and_no_inline_code(world: World, client: Client) -> None:
    client.force_login(world.alice)
    html = client.get(reverse("api-docs")).content.decode()
    assert '<html lang="de">' in html and '<main id="main">' in html and "<h1" in html
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
