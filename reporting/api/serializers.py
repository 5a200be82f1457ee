"""The dashboard as JSON: the figures of ``reporting.figures`` as the pages print them.

A suppressed number leaves the server as its ``display`` only ("<5" or "–"): ``value`` is null
then, for figures, their extras and the points of their series alike, since a raw count of three
persons in a client's JSON is as identifying as on a page. ``Figure.cases`` (how many persons a
median rests on) is not part of the answer at all: it is the very number suppression hides.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reporting.figures import Dashboard, Figure, Period, Point, Scope, Series
from reporting.web import AGENCY, WORKSPACE


@extend_schema_field(OpenApiTypes.NUMBER)
class ShownValueField(serializers.Field[Any, Any, Any, Any]):
    """The number behind ``display``, or null where it is suppressed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("The number; null where it is suppressed (read display then)."))
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value: Figure | Point) -> int | float | None:
        return None if value.suppressed else value.value


# A field named "label" clashes with ``Field.label`` in the type stubs only: DRF's metaclass takes
# the declared fields out of the class, so the serializer's own label is untouched.
class FigurePointSerializer(serializers.Serializer[Point]):
    key = serializers.CharField(help_text=_("A status, kind, agency id or month (YYYY-MM); not translated."))
    label = serializers.CharField()  # type: ignore[assignment]
    value = ShownValueField()
    display = serializers.CharField(help_text=_('As printed: "<5" for 1 to 4 persons, "–" where hidden.'))
    suppressed = serializers.BooleanField()


class FigureSeriesSerializer(serializers.Serializer[Series]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    points = FigurePointSerializer(many=True)


class FigureExtraSerializer(serializers.Serializer[Figure]):
    """A figure that belongs to another, such as the 90th percentile next to a median."""

    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    unit = serializers.CharField()
    value = ShownValueField()
    display = serializers.CharField(help_text=_('As printed: "<5" for 1 to 4 persons, "–" where hidden.'))
    suppressed = serializers.BooleanField()


class FigureListSerializer(serializers.ListSerializer[Figure]):
    """The dashboard keeps its figures by key; the answer lists them in the dashboard's order."""

    def to_representation(self, data: Any) -> list[Any]:
        return super().to_representation(list(data.values()) if isinstance(data, dict) else data)


class FigureSerializer(FigureExtraSerializer):
    """One figure of the dashboard, with the figures that belong to it and its series."""

    extra = FigureExtraSerializer(many=True)
    series = FigureSeriesSerializer(many=True)

    class Meta:
        list_serializer_class = FigureListSerializer


class FigureScopeSerializer(serializers.Serializer[Scope]):
    kind = serializers.ChoiceField(choices=[(WORKSPACE, _("Round table")), (AGENCY, _("Agency"))])
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    agency = serializers.IntegerField(
        source="filtered_by", allow_null=True, help_text=_("The agency the round table's figures are narrowed to.")
    )


class FigurePeriodSerializer(serializers.Serializer[Period]):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Included."))


class DashboardSerializer(serializers.Serializer[Dashboard]):
    scope = FigureScopeSerializer()
    period = FigurePeriodSerializer()
    today = serializers.DateField(
        help_text=_("The day the figures that describe today (flats, action items) refer to.")
    )
    figures = FigureSerializer(many=True)
