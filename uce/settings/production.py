"""Production settings: no insecure defaults. Refuses to start without the essentials."""

import os

from django.core.exceptions import ImproperlyConfigured

for _required in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"):
    if not os.environ.get(_required):
        raise ImproperlyConfigured(f"{_required} must be set in production.")

from .base import *  # noqa: E402, F403
from .base import env_bool  # noqa: E402

DEBUG = False
# TLS ends at a reverse proxy (hence SECURE_PROXY_SSL_HEADER): login throttling counts the address it saw.
UCE_BEHIND_PROXY = env_bool("UCE_BEHIND_PROXY", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# HttpOnly, SameSite, nosniff, Referrer-Policy, frame denial and the CSP come from base.py.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
