"""Bench-only views that ``bench/pages.py`` measures the hub's pages against (``bench/urls.py``).

- ``PlainReferralList``, the ceiling: the referral list of the API (``/api/v1/referrals/``: the same
  serializer, pagination, filters, ordering and ``select_related``) with a plain foreign-key filter,
  ``to_agency_id = <the user's agency>``, instead of ``hub.access`` and its ``AccessPolicy``. Its rows
  are the app's ``?direction=incoming`` list.
- ``PlainSentOrReceivedList``, the ceiling of the whole list: ``from_agency_id`` or ``to_agency_id``
  the user's agency, the rows of the app's list without a direction.
- ``GuardianReferralList``, the naive stack: the same list filtered through django-guardian's
  generic object permissions (``get_objects_for_user`` over ``guardian_groupobjectpermission``,
  one group per agency), as a team would build it with guardian's defaults. ``bench/pages.py``
  fills those rows (one per agency group and referral it sent or received) before measuring.
- ``Hello``: DRF's fixed cost, an ``APIView`` answering ``{"hello": "world"}`` with the API's
  authentication, permission and renderer.

Reachable only under ``bench.settings``; ``hub.urls`` does not know them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import access
from hub.api import HubAPIMixin, request_actor
from referrals.api.persons import ReferralSerializer
from referrals.filters import ReferralFilterSet
from referrals.models import Referral

# What referrals.selectors.referral_list and ReferralViewSet.get_queryset join for the list.
RELATED = ("person", "from_agency", "to_agency", "measure", "created_by")
ORDERING = ("-created_at", "-pk")


class BenchReferralList(HubAPIMixin, generics.ListAPIView[Referral]):
    """The API's referral list without its access layer: only ``rows()`` differs between the two below."""

    serializer_class = ReferralSerializer
    filterset_class = ReferralFilterSet
    permission_classes = [IsAuthenticated]

    def rows(self) -> QuerySet[Referral]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Referral]:
        return self.rows().select_related(*RELATED).order_by(*ORDERING)


class PlainReferralList(BenchReferralList):
    def rows(self) -> QuerySet[Referral]:
        # The user's agency from the membership row the serializer loads anyway (redirected_to asks
        # for the user's agencies; the answer is kept for the request), so the ceiling pays no extra query.
        return Referral.objects.filter(to_agency_id=self.agency())

    def agency(self) -> int | None:
        return min(access.agency_ids(request_actor(self.request)), default=None)


class PlainSentOrReceivedList(PlainReferralList):
    def rows(self) -> QuerySet[Referral]:
        agency = self.agency()
        return Referral.objects.filter(Q(from_agency_id=agency) | Q(to_agency_id=agency))


class GuardianReferralList(BenchReferralList):
    def rows(self) -> QuerySet[Referral]:
        rows: QuerySet[Referral] = get_objects_for_user(
            request_actor(self.request),
            "referrals.view_referral",
            klass=Referral,
            use_groups=True,
            accept_global_perms=False,
        )
        return rows


class Hello(HubAPIMixin, APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"hello": "world"})
