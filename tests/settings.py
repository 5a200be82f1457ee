"""Test settings: the real PostgreSQL and Redis, plain static storage, fast hashing."""

import os

from tests.services import ensure_postgres, ensure_redis

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ["DATABASE_URL"] = ensure_postgres()
os.environ["REDIS_URL"] = ensure_redis()

from hub.settings import *  # noqa: E402,F403
from hub.settings import BASE_DIR, REDIS_URL  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# Parallel workers (pytest-xdist) share one Redis: each gets its own channel-layer prefix, or a
# consumer test in one worker would hear the other's "agency.1". Live servers spawned by the
# browser tests inherit the variable and so the prefix.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"asgi-{_worker}"},
        }
    }

# WhiteNoise scans STATIC_ROOT for every new handler; tests serve static files through the finders.
STATIC_ROOT = BASE_DIR / "var" / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
