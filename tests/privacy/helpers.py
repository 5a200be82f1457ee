"""Builders for the data-protection tests, on top of the shared personas.

The personas hold no data-protection role, so these add two colleagues (not personas, so the access
matrix keeps its columns): dora, data-protection officer of the jobcenter, and sven, data-protection
officer of the social office.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from agencies import services as agency_services
from agencies.models import Agency, User
from privacy.models import ReadAccess
from referrals import services as case_services
from referrals.models import Referral
from tests.conftest import Case, World, make_user

API = "/api/v1"
SOON = timezone.localdate() + datetime.timedelta(days=14)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def officer(username: str, agency: Agency, *roles: str) -> User:
    user = make_user(username, username.title(), "Datenschutz")
    agency_services.staff_create(actor=None, agency=agency, user=user, roles=["data_protection_officer", *roles])
    return user


def browser(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def refer(world: World, case: Case, categories: list[str] | None = None, **overrides: Any) -> Referral:
    """Amina referred from the jobcenter to the social office: it sees the referral's categories."""
    kwargs: dict[str, Any] = {
        "actor": world.alice,
        "person": case.person,
        "to_agency": world.social_office,
        "reason": "Beratung zur Wohnsituation",
        "categories": categories or ["identity", "contact"],
        "legal_basis": "consent",
        "consent": case.consent,
        "answer_due_on": SOON,
    } | overrides
    return case_services.referral_create(**kwargs)


def reads() -> list[ReadAccess]:
    return list(ReadAccess.objects.order_by("id"))


def old_read(user: User, agency: Agency, person_id: int, days: int, **fields: Any) -> ReadAccess:
    """A read-access row as if written ``days`` ago."""
    defaults: dict[str, Any] = {"categories": ["identity"], "purpose": "person-detail", "method": "GET"}
    return ReadAccess.objects.create(
        user=user,
        agency=agency,
        person_id=person_id,
        at=timezone.now() - datetime.timedelta(days=days),
        **(defaults | fields),
    )
