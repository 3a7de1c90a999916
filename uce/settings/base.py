"""Settings shared by every environment.

Configuration comes from environment variables; each has a default that is safe on a
developer's machine.  ``production.py`` removes the defaults that would be unsafe there.
"""

import datetime as dt
import os
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from .mail import mail_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("UCE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-local-only-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "pods",
    "jobs",
    "metrics",
    "alerts",
    "webhooks",
    "devtools",  # seed_demo and benchmark: public commands (INTERCHANGE.md), so installed everywhere
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "uce.security.RefuseMalformedRequestsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "uce.urls"
WSGI_APPLICATION = "uce.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pods.context_processors.roles",
                "alerts.context_processors.notifications",
            ],
        },
    },
]

# --- Database: PostgreSQL only. DATABASE_URL, or the embedded server under var/. ---
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from uce.embedded_db import database_url

    DATABASE_URL = database_url(VAR_DIR / "pgdata")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("DATABASE_URL must point at PostgreSQL: the metric engine is written for it.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "pods.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login throttling first: a locked-out account or address is refused before any password is compared.
AUTHENTICATION_BACKENDS = ["uce.security.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]

# --- Security headers and cookies (every environment, so tests and browsers see what production sends;
# production.py adds HTTPS-only settings: HSTS, Secure cookies, the redirect). ---
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Pages read the CSRF token from the page itself (forms, hx-headers), never from the cookie.
CSRF_COOKIE_HTTPONLY = True
# A session lasts 12 hours from sign-in, not Django's two weeks (OWASP ASVS 3.3.2).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 12 * 3600))

# Content-Security-Policy (django-csp): scripts and styles come from our own static files only, never
# inline and never eval'd (htmx and Chart.js are vendored; page data travels in json_script blocks).
# The API docs page relaxes it for Swagger UI's own stylesheet and images (uce/api_router.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes, OWASP ASVS 2.2.1): after AXES_FAILURE_LIMIT failed sign-ins for one
# username, or from one address, further sign-ins for it (or from it) are refused for the cool-off
# period, the right password included. Counters are never reset by a success: a success of the
# attacker's own account would otherwise clear the failures their address piled up on others.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "uce.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "uce.security.client_ip"
AXES_VERBOSE = False  # no start-up banner in every command's output; lockouts are still logged as warnings
# Behind a reverse proxy, the client's address is the one the proxy appended to X-Forwarded-For.
UCE_BEHIND_PROXY = env_bool("UCE_BEHIND_PROXY", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# CSV imports: the largest upload accepted (bytes).
UCE_IMPORT_MAX_BYTES = int(os.environ.get("UCE_IMPORT_MAX_BYTES", 200 * 1024 * 1024))
# The spec records no currency: amounts are shown in the organisation's reporting currency.
UCE_CURRENCY_SYMBOL = os.environ.get("UCE_CURRENCY_SYMBOL", "$")

# --- Cache: the dashboard's rendered figures, keyed by the version of their data (metrics.dashboard). ---
# Each process keeps its own by default; CACHE_URL (redis://...) shares one among web servers.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}}
    )
}

# --- Mail (uce/settings/mail.py): EMAIL_HOST's SMTP server, else one file per message under var/mail/. ---
# Sets EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
# EMAIL_USE_SSL, EMAIL_TIMEOUT, EMAIL_FILE_PATH and DEFAULT_FROM_EMAIL.
globals().update(mail_settings(os.environ, VAR_DIR))
# The absolute base of the links in emails (no request to build them from in a Celery task).
UCE_SITE_URL = os.environ.get("UCE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- REST framework and OpenAPI ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "UCE pod dashboard API",
    "DESCRIPTION": "Pods, facts, metrics and imports. Contract: shared/spec/INTERCHANGE.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are for signed-in users, like the rest of the API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and ReDoc from the pip package, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery: CELERY_BROKER_URL, or kombu's filesystem transport under var/. ---
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL:
    _queue_dir = VAR_DIR / "broker"
    (_queue_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "store_processed": False,
        "control_folder": str(_queue_dir / "control"),
    }
if os.environ.get("CELERY_BROKER_VISIBILITY_TIMEOUT"):
    # Redis/SQS: how long an unacknowledged message waits before redelivery (after a lost worker).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ["CELERY_BROKER_VISIBILITY_TIMEOUT"])}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Webhook sends have their own queue (docs/WEBHOOKS.md): a slow receiver never delays refreshes or imports.
# A worker started without --queues consumes both; `--queues webhooks` makes one that only sends webhooks.
UCE_WEBHOOKS_QUEUE = os.environ.get("UCE_WEBHOOKS_QUEUE", "webhooks")
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in (CELERY_TASK_DEFAULT_QUEUE, UCE_WEBHOOKS_QUEUE)
]
CELERY_TASK_ROUTES = {"webhooks.tasks.*": {"queue": UCE_WEBHOOKS_QUEUE}}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # progress lives in the database, not in a result backend
CELERY_TASK_ACKS_LATE = True  # tasks are idempotent, so redelivery after a crash is safe
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", 1800))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 1900))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueue a metric refresh when a write commits (beat catches up every minute regardless).
UCE_REFRESH_ON_COMMIT = env_bool("UCE_REFRESH_ON_COMMIT", True)
# Pods one refresh transaction claims at a time (SKIP LOCKED): the unit several workers share out.
UCE_REFRESH_PODS_PER_BATCH = int(os.environ.get("UCE_REFRESH_PODS_PER_BATCH", 20))
# How many workers the nightly rebuild asks to share it (itself included): docs/SCALING.md.
UCE_REBUILD_WORKERS = max(1, int(os.environ.get("UCE_REBUILD_WORKERS", 4)))
# The weekly digest (docs/ALERTS.md): weekday 0 = Monday, local time of the pod's zone, HH:MM.
UCE_DIGEST_WEEKDAY = int(os.environ.get("UCE_DIGEST_WEEKDAY", "0"))
UCE_DIGEST_TIME = os.environ.get("UCE_DIGEST_TIME", "07:00")
if not (0 <= UCE_DIGEST_WEEKDAY <= 6 and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", UCE_DIGEST_TIME)):
    raise ImproperlyConfigured("UCE_DIGEST_WEEKDAY is 0 (Monday) to 6 and UCE_DIGEST_TIME is HH:MM, e.g. 07:00.")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Ticks that wait behind a slow run expire instead of piling up.
    "refresh-dirty-metrics": {
        "task": "metrics.tasks.refresh_dirty_metrics",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Work whose task could not be sent (broker down when it was asked for) is sent again.
    "resend-pending-recomputes": {
        "task": "metrics.tasks.resend_pending_recomputes",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "resend-pending-imports": {
        "task": "jobs.tasks.resend_pending_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "rebuild-all-metrics-nightly": {
        "task": "metrics.tasks.rebuild_all_metrics",
        "schedule": crontab(hour=2, minute=30),
    },
    # Each pod's weekly digest goes at UCE_DIGEST_TIME on UCE_DIGEST_WEEKDAY in the pod's zone (alerts/).
    "send-due-digests": {
        "task": "alerts.tasks.send_due_digests",
        "schedule": 900.0,
        "options": {"expires": 850},
    },
    # Webhook retries fall due (and sends the broker missed): webhooks.services.BACKOFF.
    "send-due-webhooks": {
        "task": "webhooks.tasks.send_due_deliveries",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    # After the rebuild: the propensity model learns from the day's won and lost opportunities.
    "refit-propensity-nightly": {
        "task": "metrics.tasks.refit_propensity",
        "schedule": crontab(hour=3, minute=15),
    },
}

# Webhooks (docs/WEBHOOKS.md): plain http, and loopback addresses at all, only where this is on (local: with DEBUG).
UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = env_bool("UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
