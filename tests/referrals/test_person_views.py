"""The persons UI: list, registration with duplicate check, the person page by data category,
editing, households, merging, consents with their signed document, and shares."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import User
from referrals import services
from referrals.models import Consent, Household, Person, Referral, Share
from tests.conftest import Case, World

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + datetime.timedelta(days=14)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
    return tmp_path


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def refer(world: World, case: Case, categories: list[str] | None = None, **overrides: object) -> Referral:
    kwargs: dict[str, object] = {
        "actor": world.alice,
        "person": case.person,
        "to_agency": world.social_office,
        "reason": "Beratung zur Wohnsituation",
        "categories": categories or ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent,
        "answer_due_on": SOON,
    } | overrides
    return services.referral_create(**kwargs)  # type: ignore[arg-type]


def person_data(**overrides: str) -> dict[str, str]:
    return {
        "agency": "",
        "first_name": "Omar",
        "last_name": "Khalil",
        "birth_date": "1985-02-03",
        "nationality": "afghanisch",
        "gender": "",
        "street": "Hauptstraße 1",
        "postcode": "48529",
        "city": "Nordhorn",
        "phone": "0170 7654321",
        "email": "",
        "arrival_date": "2024-05-01",
        "residence_status": "Aufenthaltsgestattung",
        "residence_permit_until": "",
        "residence_obligation": "",
        "benefit_scheme": "asylblg",
        "benefits_since": "",
    } | overrides


# The list ---------------------------------------------------------------------------------


def test_the_list_shows_only_persons_the_actor_may_see(world: World, case: Case) -> None:
    url = reverse("person-list")
    assert "Haddad" in client_for(world.alice).get(url).content.decode()
    assert "Haddad" in client_for(world.rita).get(url).content.decode()
    for persona in ("bob", "carol", "olga"):
        response = client_for(world.persona(persona)).get(url)
        assert response.status_code == 200
        assert "Haddad" not in response.content.decode(), persona
    refer(world, case)
    assert "Haddad" in client_for(world.bob).get(url).content.decode()
    assert client_for(None).get(url).status_code == 302


def test_the_list_searches_by_name_and_reference_and_filters(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("person-list")
    assert "Haddad" in client.get(url, {"q": "amina"}).content.decode()
    assert "Haddad" in client.get(url, {"q": case.person.reference}).content.decode()
    assert "Haddad" not in client.get(url, {"q": "nobody"}).content.decode()
    assert "Haddad" in client.get(url, {"responsible_agency": world.jobcenter.pk}).content.decode()
    assert "Haddad" not in client.get(url, {"responsible_agency": world.social_office.pk}).content.decode()
    assert "Haddad" not in client.get(url, {"nationality": "irakisch"}).content.decode()
    # Nonsense in a filter is ignored, not a server error.
    assert client.get(url, {"responsible_agency": "x"}).status_code == 200
    partial = client.get(url, {"q": "amina"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


# Registering ------------------------------------------------------------------------------


def test_registering_a_person_opens_the_case_file(world: World) -> None:
    client = client_for(world.alice)
    assert client.get(reverse("person-create")).status_code == 200
    response = client.post(reverse("person-create"), person_data(agency=str(world.jobcenter.pk)))
    person = Person.objects.get(last_name="Khalil")
    assert response.status_code == 302 and response["Location"] == reverse("person-detail", args=[person.pk])
    assert person.responsible_agency == world.jobcenter
    assert person.case_files.get().agency == world.jobcenter


def test_registering_shows_possible_duplicates_before_saving(world: World, case: Case) -> None:
    client = client_for(world.alice)
    data = person_data(
        agency=str(world.jobcenter.pk), first_name="amina", last_name="HADDAD", birth_date="1990-04-12"
    ) | {"nationality": "syrisch"}
    response = client.post(reverse("person-create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("person-detail", args=[case.person.pk]) in html
    assert 'name="confirm_duplicates"' in html
    assert Person.objects.count() == 1
    response = client.post(reverse("person-create"), data | {"confirm_duplicates": "1"})
    assert response.status_code == 302
    assert Person.objects.count() == 2


def test_registering_is_for_caseworkers_of_their_own_agency(world: World) -> None:
    for persona in ("rita", "adam"):
        assert client_for(world.persona(persona)).get(reverse("person-create")).status_code == 403
        response = client_for(world.persona(persona)).post(
            reverse("person-create"), person_data(agency=str(world.jobcenter.pk))
        )
        assert response.status_code == 403
    response = client_for(world.alice).post(reverse("person-create"), person_data(agency=str(world.social_office.pk)))
    assert response.status_code == 200 and "agency" in response.context["form"].errors
    response = client_for(world.alice).post(reverse("person-create"), person_data(birth_date="kein Datum"))
    assert response.status_code == 200 and "birth_date" in response.context["form"].errors
    assert not Person.objects.exists()


# The person page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("alice", 200),
        ("rita", 200),
        ("adam", 200),
        ("cora", 200),
        ("bob", 404),
        ("carol", 404),
        ("olga", 404),
        ("anon", 302),
    ],
)
def test_who_sees_the_person_page(world: World, case: Case, persona: str, status: int) -> None:
    user = None if persona == "anon" else world.persona(persona)
    response = client_for(user).get(reverse("person-detail", args=[case.person.pk]))
    assert response.status_code == status


def test_the_holder_sees_every_category(world: World, case: Case) -> None:
    html = client_for(world.alice).get(reverse("person-detail", args=[case.person.pk])).content.decode()
    for value in ("Amina", "0170 1234567", "Diabetes", "Aufenthaltserlaubnis"):
        assert value in html
    assert 'id="category-health"' in html
    assert reverse("person-edit", args=[case.person.pk]) in html


def test_a_receiver_sees_only_the_shared_categories(world: World, case: Case) -> None:
    refer(world, case, categories=["identity", "contact"])
    response = client_for(world.bob).get(reverse("person-detail", args=[case.person.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Amina" in html and "Haddad" in html
    assert "0170 1234567" in html  # contact was shared
    assert "Diabetes" not in html  # health never
    assert "Aufenthaltserlaubnis" not in html  # residence was not shared
    assert 'id="category-health"' not in html and 'id="category-residence"' not in html
    assert response.context["limited_categories"]  # the note "you see only the shared categories"
    assert set(response.context["view"].fields) >= {"phone"} and "health_notes" not in response.context["view"].fields
    # The receiver gets no buttons of the holder.
    assert reverse("person-edit", args=[case.person.pk]) not in html
    assert reverse("consent-create", args=[case.person.pk]) not in html
    assert client_for(world.bob).get(reverse("person-edit", args=[case.person.pk])).status_code == 403


def test_a_receiver_of_identity_only_sees_no_phone(world: World, case: Case) -> None:
    refer(world, case, categories=["identity"])
    html = client_for(world.bob).get(reverse("person-detail", args=[case.person.pk])).content.decode()
    assert "Amina" in html
    assert "0170 1234567" not in html and "Nordhorn" not in html.split("<main", 1)[1].split("<footer", 1)[0]


def test_the_timeline_shows_what_the_actor_may_see(world: World, case: Case) -> None:
    referral = refer(world, case)
    html = client_for(world.alice).get(reverse("person-detail", args=[case.person.pk])).content.decode()
    assert referral.reference in html
    assert case.consent.purpose in html
    html = client_for(world.bob).get(reverse("person-detail", args=[case.person.pk])).content.decode()
    assert referral.reference in html


def test_names_are_escaped(world: World) -> None:
    person = services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name="<script>alert(1)</script>",
        last_name="<b>Bold</b>",
        birth_date=datetime.date(1990, 1, 1),
        nationality="<i>x</i>",
    )
    client = client_for(world.alice)
    for url in (reverse("person-list"), reverse("person-detail", args=[person.pk])):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<b>Bold</b>" not in html, url


# Editing ----------------------------------------------------------------------------------


def test_the_holder_edits_every_category(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("person-edit", args=[case.person.pk])
    form = client.get(url).context["form"]
    assert {"first_name", "phone", "residence_status", "health_notes", "benefit_scheme"} <= set(form.fields)
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data |= {"phone": "0171 0000000", "birth_date": "1990-04-12", "health_notes": "Diabetes Typ 2"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    case.person.refresh_from_db()
    assert case.person.phone == "0171 0000000" and case.person.health_notes == "Diabetes Typ 2"
    response = client.post(url, data | {"first_name": ""})
    assert response.status_code == 200 and "first_name" in response.context["form"].errors


@pytest.mark.parametrize(("persona", "status"), [("rita", 403), ("adam", 403), ("carol", 404), ("olga", 404)])
def test_others_cannot_edit(world: World, case: Case, persona: str, status: int) -> None:
    client = client_for(world.persona(persona))
    url = reverse("person-edit", args=[case.person.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"first_name": "X"}).status_code == status
    case.person.refresh_from_db()
    assert case.person.first_name == "Amina"


# Households and merging -------------------------------------------------------------------


def test_a_new_household_is_opened_and_the_person_assigned(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("person-household", args=[case.person.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"household": "", "name": ""})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    response = client.post(url, {"household": "", "name": "Familie Haddad"})
    assert response.status_code == 302
    case.person.refresh_from_db()
    assert case.person.household is not None and case.person.household.name == "Familie Haddad"
    assert client_for(world.rita).post(url, {"name": "X"}).status_code == 403
    assert client_for(world.olga).post(url, {"name": "X"}).status_code == 404
    assert Household.objects.count() == 1


def test_an_existing_household_is_chosen(world: World, case: Case) -> None:
    other = services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name="Karim",
        last_name="Haddad",
        birth_date=datetime.date(1988, 1, 1),
        nationality="syrisch",
    )
    household = services.household_create(actor=world.alice, name="Haddad")
    services.person_update(actor=world.alice, person=other, household=household)
    response = client_for(world.alice).post(
        reverse("person-household", args=[case.person.pk]), {"household": household.pk}
    )
    assert response.status_code == 302
    case.person.refresh_from_db()
    assert case.person.household == household


def test_merging_a_duplicate_by_reference(world: World, case: Case) -> None:
    duplicate = services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name="Amina",
        last_name="Haddad",
        birth_date=datetime.date(1990, 4, 12),
        nationality="syrisch",
    )
    url = reverse("person-merge", args=[case.person.pk])
    client = client_for(world.alice)
    response = client.post(url, {"reference": "P-NOTHING"})
    assert response.status_code == 400 and "reference" in response.context["merge_form"].errors
    response = client.post(url, {"reference": case.person.reference})
    assert response.status_code == 400  # not with itself
    assert client_for(world.rita).post(url, {"reference": duplicate.reference}).status_code == 403
    assert client_for(world.bob).post(url, {"reference": duplicate.reference}).status_code == 404
    assert client.get(url).status_code == 405
    response = client.post(url, {"reference": duplicate.reference.lower()})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == case.person
    assert client.get(reverse("person-detail", args=[duplicate.pk])).status_code == 404


# Consents ---------------------------------------------------------------------------------


def consent_data(world: World, **overrides: object) -> dict[str, object]:
    return {
        "categories": ["identity", "contact"],
        "recipients": [world.social_office.pk],
        "purpose": "Wohnungssuche",
        "text_version": "2026-02",
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": "",
    } | overrides


def test_recording_a_consent_with_its_signed_pdf(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("consent-create", args=[case.person.pk])
    form = client.get(url).context["form"]
    offered = set(form.fields["recipients"].queryset)
    assert world.social_office in offered and world.youth_office in offered
    assert world.jobcenter not in offered and world.immigration not in offered  # own agency, not visible
    document = SimpleUploadedFile("einwilligung.pdf", PDF, content_type="application/pdf")
    response = client.post(url, consent_data(world, document=document))
    assert response.status_code == 302
    consent = Consent.objects.get(purpose="Wohnungssuche")
    assert consent.categories == ["identity", "contact"] and list(consent.recipients.all()) == [world.social_office]
    assert consent.document

    download = reverse("consent-document", args=[consent.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    for persona in ("olga", "carol"):
        assert client_for(world.persona(persona)).get(download).status_code == 404
    assert client_for(None).get(download).status_code == 302
    # A consent without a document has nothing to download.
    assert client.get(reverse("consent-document", args=[case.consent.pk])).status_code == 404


def test_the_upload_rejects_what_is_not_a_pdf(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("consent-create", args=[case.person.pk])
    fake = SimpleUploadedFile("einwilligung.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(url, consent_data(world, document=fake))
    assert response.status_code == 200
    assert "document" in response.context["form"].errors
    assert not Consent.objects.filter(purpose="Wohnungssuche").exists()


def test_the_upload_rejects_more_than_10_mb(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("consent-create", args=[case.person.pk])
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf")
    response = client.post(url, consent_data(world, document=big))
    assert response.status_code == 200
    assert "document" in response.context["form"].errors
    assert not Consent.objects.filter(purpose="Wohnungssuche").exists()


def test_consent_form_errors(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("consent-create", args=[case.person.pk])
    response = client.post(url, consent_data(world, recipients=[world.immigration.pk]))
    assert response.status_code == 200 and "recipients" in response.context["form"].errors
    response = client.post(url, consent_data(world, valid_until="2000-01-01"))
    assert response.status_code == 200 and "valid_until" in response.context["form"].errors
    response = client.post(url, consent_data(world, categories=["nonsense"]))
    assert response.status_code == 200 and "categories" in response.context["form"].errors


@pytest.mark.parametrize(("persona", "status"), [("rita", 403), ("adam", 403), ("bob", 404), ("olga", 404)])
def test_others_cannot_record_consents(world: World, case: Case, persona: str, status: int) -> None:
    url = reverse("consent-create", args=[case.person.pk])
    client = client_for(world.persona(persona))
    assert client.get(url).status_code == status
    assert client.post(url, consent_data(world)).status_code == status


def test_revoking_a_consent_ends_the_receivers_view(world: World, case: Case) -> None:
    refer(world, case)
    url = reverse("consent-revoke", args=[case.consent.pk])
    assert client_for(world.bob).post(url).status_code == 403  # the recipient sees it, but cannot revoke
    assert client_for(world.rita).post(url).status_code == 403
    assert client_for(world.olga).post(url).status_code == 404
    assert client_for(world.alice).get(url).status_code == 405
    response = client_for(world.alice).post(url)
    assert response.status_code == 302
    case.consent.refresh_from_db()
    assert case.consent.revoked_at is not None
    assert client_for(world.bob).get(reverse("person-detail", args=[case.person.pk])).status_code == 404
    # Twice is harmless.
    assert client_for(world.alice).post(url).status_code == 302


# Shares -----------------------------------------------------------------------------------


def test_sharing_with_consent_and_ending_the_share(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("share-create", args=[case.person.pk])
    form = client.get(url).context["form"]
    assert list(form.fields["consent"].queryset) == [case.consent]
    data = {
        "to_agency": world.youth_office.pk,
        "categories": ["identity", "languages"],
        "legal_basis": "consent",
        "consent": case.consent.pk,
        "basis_reason": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    share = Share.objects.get(to_agency=world.youth_office)
    assert client_for(world.carol).get(reverse("person-detail", args=[case.person.pk])).status_code == 200

    end = reverse("share-end", args=[share.pk])
    assert client_for(world.carol).post(end).status_code == 403  # the receiver cannot end it
    assert client_for(world.olga).post(end).status_code == 404
    assert client_for(world.rita).post(end).status_code == 403
    assert client.post(end).status_code == 302
    share.refresh_from_db()
    assert share.ended_at is not None
    assert client_for(world.carol).get(reverse("person-detail", args=[case.person.pk])).status_code == 404


def test_no_basis_no_share_on_the_form(world: World, case: Case) -> None:
    client = client_for(world.alice)
    url = reverse("share-create", args=[case.person.pk])
    base = {"to_agency": world.social_office.pk, "categories": ["identity"], "basis_reason": ""}
    response = client.post(url, base | {"legal_basis": "consent", "consent": ""})
    assert response.status_code == 200 and "consent" in response.context["form"].errors
    response = client.post(url, base | {"legal_basis": "sgb_x_69"})
    assert response.status_code == 200 and "basis_reason" in response.context["form"].errors
    response = client.post(url, base | {"legal_basis": "sgb_x_69", "categories": ["health"], "basis_reason": "x"})
    assert response.status_code == 200 and "categories" in response.context["form"].errors
    response = client.post(url, base | {"legal_basis": ""})
    assert response.status_code == 200 and "legal_basis" in response.context["form"].errors
    assert not Share.objects.filter(to_agency=world.social_office).exists()
    assert client_for(world.rita).get(url).status_code == 403
    assert client_for(world.carol).get(url).status_code == 404
