"""Reads of the data-protection records, scoped by ``hub.access``.

The read-access log is read by the data-protection officers of the agency whose staff read, never
by another agency's. It names persons by case reference (a pseudonym) and staff by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet

from hub import access
from privacy.models import DeletionLogEntry, LegalHold, ReadAccess
from privacy.reads import RECORD_KINDS
from referrals.models import Category

if TYPE_CHECKING:
    from hub.access import Actor


def require_officer(actor: Actor) -> set[int]:
    """The agencies where the actor is data-protection officer; 403 for everyone else."""
    agencies = access.dpo_agencies(actor)
    if not agencies:
        raise PermissionDenied
    return agencies


def read_log(actor: Actor) -> QuerySet[ReadAccess]:
    """The reads of the officer's own agencies, newest first, with staff, agency and case reference."""
    return (
        access.visible(actor, ReadAccess)
        .select_related("user", "agency")
        .annotate(person_reference=F("person__reference"))
        .order_by("-at", "-id")
    )


def deletion_log(actor: Actor) -> QuerySet[DeletionLogEntry]:
    return access.visible(actor, DeletionLogEntry).order_by("-at", "-id")


def legal_holds(actor: Actor) -> QuerySet[LegalHold]:
    """The active holds the officer's agencies placed, with the person's case reference."""
    return (
        access.visible(actor, LegalHold)
        .filter(lifted_at=None)
        .select_related("person", "agency", "placed_by")
        .order_by("-placed_at", "-pk")
    )


def category_label(code: str) -> str:
    """A data category or kind of record, in words."""
    if code in Category.values:
        return str(Category(code).label)
    label = RECORD_KINDS.get(code)
    return str(label) if label is not None else code


def category_labels(codes: Iterable[str]) -> list[str]:
    order = [*Category.values, *RECORD_KINDS]
    known = [code for code in order if code in set(codes)]
    return [category_label(code) for code in known]
