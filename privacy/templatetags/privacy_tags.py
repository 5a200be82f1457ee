"""Labels of the data-protection pages, and whether the navigation offers them."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.translation import gettext_lazy as _

from hub import access
from privacy import reads
from privacy.retention import RULES
from privacy.selectors import category_labels

register = template.Library()

PURPOSES = {reads.SUBJECT_ACCESS: _("Request of access (art. 15 GDPR)")}


@register.filter
def read_categories(codes: Iterable[str]) -> str:
    return ", ".join(category_labels(codes)) or "–"


@register.filter
def read_purpose(purpose: str) -> str:
    """A purpose a view named, in words; otherwise the route it was derived from, as recorded."""
    label = PURPOSES.get(purpose)
    return str(label) if label is not None else purpose


@register.filter
def retention_rule(name: str) -> str:
    for rule in RULES:
        if rule.name == name:
            return str(rule.label)
    return name


@register.simple_tag(takes_context=True)
def is_data_protection_officer(context: template.Context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user is not None and bool(access.dpo_agencies(user))
