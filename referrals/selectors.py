"""Reads on persons and their case data, scoped by ``hub.access`` and minimised by data category.

A receiving agency sees only the categories its active shares cover; ``person_fields``
and ``profile_fields`` are the one place that turns categories into visible fields, for
pages and API alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from hub import access
from referrals.models import CATEGORY_FIELDS, PROFILE_CATEGORY_FIELDS, Person, Profile

if TYPE_CHECKING:
    from hub.access import Actor


@dataclass(frozen=True)
class PersonView:
    """A person as one actor may see them: the record plus the categories they may read."""

    person: Person
    categories: frozenset[str]

    def may_see(self, category: str) -> bool:
        return category in self.categories

    @property
    def fields(self) -> dict[str, Any]:
        return person_fields(self.person, self.categories)


def person_list(actor: Actor) -> QuerySet[Person]:
    return access.visible(actor, Person).select_related("responsible_agency", "household")


def person_view(actor: Actor, pk: object) -> PersonView:
    """The person with the categories the actor may see; 404 when not visible at all."""
    person = access.get_visible_or_404(actor, Person, pk=pk)
    return PersonView(person=person, categories=access.person_categories(actor, person))


def visible_field_names(categories: frozenset[str] | set[str]) -> set[str]:
    return {field for category, fields in CATEGORY_FIELDS.items() if category in categories for field in fields}


def person_fields(person: Person, categories: frozenset[str] | set[str]) -> dict[str, Any]:
    """The person's fields of the given categories only; everything else is left out, not blanked."""
    return {field: getattr(person, field) for field in sorted(visible_field_names(categories))}


def profile_fields(profile: Profile, categories: frozenset[str] | set[str]) -> dict[str, Any]:
    return {
        field: getattr(profile, field)
        for category, fields in PROFILE_CATEGORY_FIELDS.items()
        if category in categories
        for field in fields
    }
