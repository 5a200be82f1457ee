"""API of the outcome dashboard: a round table's figures and an agency's own, as the pages show them.

The target, the actor's right to see it and the period and agency filter come from
``reporting.web.load``, shared with the pages and the exports: a round table or agency the actor
does not belong to is a 404 before the query string is read, an invalid query a 400 with the
form's messages. Suppression is the figures' own (``reporting.figures``); the serializers add
that a hidden number leaves the server as its display only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import BAD_REQUEST, NOT_FOUND, HubAPIMixin, request_actor
from reporting.api.serializers import DashboardSerializer
from reporting.filters import PRESETS
from reporting.web import AGENCY, WORKSPACE, load

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "preset",
        OpenApiTypes.STR,
        enum=list(PRESETS),
        description=_("A period counties report on (default: this year so far); start and end win over it."),
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, description=_("First day of the period (default: 1 January).")),
    OpenApiParameter("end", OpenApiTypes.DATE, description=_("Last day of the period, included (default: today).")),
]
AGENCY_FILTER = OpenApiParameter(
    "agency", OpenApiTypes.INT, description=_("Only the figures of this member agency of the round table.")
)


class FiguresView(HubAPIMixin, APIView):
    permission_classes = [IsAuthenticated]
    kind: str

    def get(self, request: Request, pk: int) -> Response:
        loaded = load(request_actor(request), self.kind, pk, request.query_params)
        if loaded.dashboard is None:
            # The form's messages by field, in the request's language, as every 400 of the API.
            errors = loaded.form.errors.get_json_data()
            raise APIValidationError({field: [error["message"] for error in found] for field, found in errors.items()})
        return Response(DashboardSerializer(loaded.dashboard).data)


@extend_schema(
    tags=["reporting"],
    summary=_("A round table's figures for a period, optionally for one of its agencies; small numbers hidden"),
    parameters=[*PERIOD_PARAMETERS, AGENCY_FILTER],
    responses={200: DashboardSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
)
class WorkspaceFiguresView(FiguresView):
    """The figures of a round table you sit at. Counts of 1 to 4 persons are shown as "<5" and values
    derived from fewer than five persons as "–", with the number itself null."""

    kind = WORKSPACE


@extend_schema(
    tags=["reporting"],
    summary=_("Your agency's own figures for a period"),
    parameters=PERIOD_PARAMETERS,
    responses={200: DashboardSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
)
class AgencyFiguresView(FiguresView):
    """The figures of an agency you work for; nothing is suppressed, as every case counted is your
    agency's own."""

    kind = AGENCY
