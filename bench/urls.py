"""The hub's routes plus the bench-only ones of ``bench/ceiling.py``, under ``/api/bench/``.

Under ``/api/`` so that the middleware treats them as it treats the API they are compared with
(no live-event mark, JSON answers from the sign-in checks).

Loaded only through ``bench.settings`` (``DJANGO_SETTINGS_MODULE=bench.settings``); production's
``hub.settings`` keeps ``hub.urls``, which knows nothing of these.
"""

from django.urls import path

from bench import ceiling
from hub.urls import urlpatterns as hub_routes

urlpatterns = [
    *hub_routes,
    path("api/bench/ceiling/referrals/", ceiling.PlainReferralList.as_view(), name="bench-ceiling-referrals"),
    path(
        "api/bench/ceiling/referrals/all/",
        ceiling.PlainSentOrReceivedList.as_view(),
        name="bench-ceiling-referrals-all",
    ),
    path("api/bench/naive/referrals/", ceiling.GuardianReferralList.as_view(), name="bench-naive-referrals"),
    path("api/bench/hello/", ceiling.Hello.as_view(), name="bench-hello"),
]
