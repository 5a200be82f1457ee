"""Pages of lists whose filter costs more than their rows: the count comes with the page.

Django's ``Paginator`` (and DRF's ``PageNumberPagination``, which uses it) asks the database twice:
``COUNT(*)`` over the whole filtered list, then the page. Where the filter itself is the work (a
name searched in every person an agency may see), both queries do it. ``OnePassPaginator`` asks
once, with the count as a window over the same rows (``COUNT(*) OVER ()``), so that the filter runs
once per page. Lists that an index serves in order (the inbox) keep the plain paginator: their page
stops after its rows, while a window has to see every row.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from rest_framework.pagination import PageNumberPagination

TOTAL = "page_total_rows"


class OnePassPaginator(Paginator[Any]):
    """A paginator of querysets, without orphans, whose page query also counts the rows."""

    def __init__(self, object_list: QuerySet[Any], per_page: int | str, **options: Any) -> None:
        if not isinstance(object_list, QuerySet) or options.get("orphans"):
            raise TypeError("OnePassPaginator pages a queryset, without orphans")
        super().__init__(object_list, per_page, **options)
        self.queryset = object_list

    def validate_number(self, number: int | float | str) -> int:
        # Against the count only when a page comes back empty (``page``): counting first is the
        # second query this paginator saves.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def get_page(self, number: int | float | str | None) -> Page[Any]:
        try:
            return super().get_page(number)
        except EmptyPage:
            return self.page(self.num_pages)

    def page(self, number: int | str) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.queryset.annotate(**{TOTAL: Window(Count("*"))})[bottom : bottom + self.per_page])
        if rows:
            self.__dict__["count"] = getattr(rows[0], TOTAL)
        elif number == 1:
            self.__dict__["count"] = 0
        else:
            # Past the end: count, and say so as the plain paginator does.
            super().validate_number(number)
        return Page(rows, number, self)


class OnePassPagination(PageNumberPagination):
    django_paginator_class = OnePassPaginator
