"""Settings of the round-table hub, read from the environment.

Without DATABASE_URL the hub runs on a SQLite file and without REDIS_URL on the
in-memory channel layer, so that the demo starts on a bare machine. Production
sets both, plus SECRET_KEY, ALLOWED_HOSTS and DEBUG=false (the default).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# A development key is only acceptable while DEBUG is on; production must bring its own.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "channels",
    "django_tasks_db",
    "hub",
    "agencies",
    "referrals",
    "housing",
    "messaging",
    "privacy",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "agencies.signin.middleware.SessionLimitsMiddleware",
    "agencies.signin.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hub.middleware.RequestContextMiddleware",
    "privacy.middleware.ReadAccessLogMiddleware",
    "hub.middleware.NoStoreMiddleware",
    "hub.middleware.LiveEventMarkMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hub.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL in production and tests, a SQLite file for the demo.
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's psycopg pool; persistent connections leaked under ASGI in our measurement.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN", "1")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX", "10")),
        "timeout": 10,
    }
    # Planner settings of each session, for the hub's short queries on an SSD (bench/README.md):
    # a lookup by primary key costs about as much as a sequential page, so the planner drives a
    # search from the persons an agency sees instead of scanning all of the state's; and compiling
    # a query (JIT) took 430 of the flat search's 490 ms. Parallel workers help a lone report but
    # cost more CPU than they save when every core already serves a request: without them the
    # state's figures answered in 3.8 instead of 4.9 s under load. DATABASE_SESSION_SETTINGS=""
    # leaves the server's own settings in force.
    DATABASES["default"]["OPTIONS"]["options"] = os.environ.get(
        "DATABASE_SESSION_SETTINGS", "-c random_page_cost=1.1 -c jit=off -c max_parallel_workers_per_gather=0"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channels: Redis pub/sub in production (the default RedisChannelLayer dropped
# messages of bursts at its default capacity), in-memory for the demo.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "agencies.User"
AUTHENTICATION_BACKENDS = [
    # Django's ModelBackend; it also loads what the second-factor check needs with the user.
    "agencies.signin.backends.SignInBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Millions of leaked passwords, shipped with the package: no request leaves the server.
    {"NAME": "agencies.signin.validators.BreachedPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# django-guardian: never widen object permissions through global ones, never
# let a superuser through, and no anonymous user.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_STORAGE",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

# Mail goes to the console unless an SMTP host is configured.
if os.environ.get("SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["SMTP_HOST"],
                "port": int(os.environ.get("SMTP_PORT", "587")),
                "username": os.environ.get("SMTP_USER", ""),
                "password": os.environ.get("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_STARTTLS", True),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hub@localhost")

# Background work (notification e-mails) is queued in the database: the task row is written in the
# transaction of the change that caused it, so it exists exactly when the change committed, and a
# worker (manage.py db_worker) that was down picks it up when it comes back.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Security. Every page of the hub may show social data, so the defaults are strict.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions end after HUB_SESSION_IDLE_MINUTES without activity and HUB_SESSION_MAX_HOURS after
# sign-in (ASVS 3.3.2). The session engine writes the earlier of both as the row's expiry, which is
# what the websocket's Ticker checks; agencies.signin.middleware checks both on every request.
SESSION_ENGINE = "agencies.signin.sessions"
HUB_SESSION_IDLE_MINUTES = int(os.environ.get("HUB_SESSION_IDLE_MINUTES", "30"))
HUB_SESSION_MAX_HOURS = int(os.environ.get("HUB_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = HUB_SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous call answers 401 with a WWW-Authenticate header.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "hub.api.HubAutoSchema",
    "EXCEPTION_HANDLER": "hub.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Round-table hub API",
    "DESCRIPTION": "Agencies, staff and workspaces of a county's round table for integration.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enum components are named after the field; name the ones whose field name other apps will reuse.
    "ENUM_NAME_OVERRIDES": {
        "InvitationStatusEnum": "agencies.api.serializers.InvitationStatus",
        "AgencyKindEnum": "agencies.models.AgencyKind",
        "RoleEnum": "agencies.models.Role",
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "CategoryEnum": "referrals.models.Category",
        "PlanStatusEnum": "referrals.models.PlanStatus",
        "StepStatusEnum": "referrals.models.StepStatus",
        "StepKindEnum": "referrals.models.StepKind",
        "MeasureKindEnum": "referrals.models.MeasureKind",
        "QualificationKindEnum": "referrals.models.QualificationKind",
        "EnrollmentStatusEnum": "referrals.models.EnrollmentStatus",
        "TransferStatusEnum": "referrals.models.TransferStatus",
        "BenefitSchemeEnum": "referrals.models.BenefitScheme",
        "RecognitionDecisionEnum": "referrals.models.RecognitionDecision",
        "RecognitionStatusEnum": "referrals.models.RecognitionStatus",
        "CEFRLevelEnum": "referrals.models.CEFRLevel",
        "ListingStatusEnum": "housing.models.ListingStatus",
        "ListingLeaseHolderEnum": "housing.models.LISTING_LEASE_HOLDERS",
        "LeaseHolderEnum": "housing.models.LeaseHolder",
        "AccessibilityEnum": "housing.models.Accessibility",
        "HousingRequestStatusEnum": "housing.models.RequestStatus",
        "ReservationStatusEnum": "housing.models.ReservationStatus",
        "TenancyStatusEnum": "housing.models.TenancyStatus",
        "MeetingStatusEnum": "messaging.models.MeetingStatus",
        "MinutesStatusEnum": "messaging.models.MinutesStatus",
        "ActionItemStatusEnum": "messaging.models.ActionItemStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# The address people reach the hub under; used in e-mailed links.
HUB_BASE_URL = os.environ.get("HUB_BASE_URL", "http://127.0.0.1:8000")

# Outbox events older than this are pruned (manage.py prune_events); a browser that was
# offline longer reloads its page instead of catching up.
HUB_EVENT_RETENTION_HOURS = int(os.environ.get("HUB_EVENT_RETENTION_HOURS", "24"))

# Retention (manage.py apply_retention, daily): after how many days each kind of record is anonymised
# or deleted. privacy/retention.py describes the rules and docs/architecture.md why these defaults.
PRIVACY_RETENTION_DAYS = {
    # Persons with every file closed and no activity since: anonymised.
    "person_inactive": int(os.environ.get("PRIVACY_PERSON_INACTIVE_DAYS", str(5 * 365))),
    # Signed consent documents, after the consent was revoked or expired.
    "consent_ended": int(os.environ.get("PRIVACY_CONSENT_ENDED_DAYS", str(3 * 365))),
    # Comments on referrals, after the referral closed.
    "referral_comments": int(os.environ.get("PRIVACY_REFERRAL_COMMENTS_DAYS", "365")),
    # The read-access log itself (never less than privacy.models.READ_LOG_MIN_DAYS).
    "read_log": int(os.environ.get("PRIVACY_READ_LOG_DAYS", str(2 * 365))),
}

# Sign-in: failed attempts (wrong password or code) within the window block further attempts for
# the account typed and for the client's address; unknown accounts are counted like real ones.
HUB_SIGNIN_WINDOW_MINUTES = int(os.environ.get("HUB_SIGNIN_WINDOW_MINUTES", "15"))
HUB_SIGNIN_FAILURES_PER_ACCOUNT = int(os.environ.get("HUB_SIGNIN_FAILURES_PER_ACCOUNT", "5"))
HUB_SIGNIN_FAILURES_PER_ADDRESS = int(os.environ.get("HUB_SIGNIN_FAILURES_PER_ADDRESS", "20"))
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = os.environ.get("HUB_TOTP_ISSUER", "Round-table hub")
