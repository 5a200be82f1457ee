"""Settings of the HTTP benchmark (``bench/pages.py``): the hub's own, plus the bench-only routes.

Only ``ROOT_URLCONF`` differs, so every page and API call runs exactly as in production; the
routes of ``bench/urls.py`` (the ceilings and the naive guardian list) exist only under these
settings, never under ``hub.settings``.
"""

from hub.settings import *  # noqa: F403 (the hub's settings, unchanged)

ROOT_URLCONF = "bench.urls"
