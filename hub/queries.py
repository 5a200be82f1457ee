"""Query building blocks shared by the access policy and the figures."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet


def among(field: str, *subqueries: QuerySet[Any]) -> Q:
    """``field`` among the values of any of ``subqueries`` (each of one column).

    Written as one ``IN (… UNION …)`` rather than an OR of ``IN`` subqueries: PostgreSQL cannot
    start from an OR of subqueries, so it checks every row of the table against both, and at state
    scale that is a million persons for the few thousand an agency sees. A UNION it can read
    first, through each part's own index, and then fetch the rows by primary key.
    """
    first, *rest = subqueries
    return Q(**{f"{field}__in": first.union(*rest) if rest else first})
