"""Test settings: fast password hashing; tasks run eagerly unless a test starts a real worker."""

import os

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run tasks in-process unless they start a real worker (devtools/workers.py), whose process
# gets UCE_CELERY_EAGER=0.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("UCE_CELERY_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
# Tests refresh metrics explicitly (or switch this on, as the real-worker tests do), so that an
# eager refresh does not run after every factory save in transactional tests.
UCE_REFRESH_ON_COMMIT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Mail stays in memory (django.core.mail.outbox) whatever EMAIL_HOST the shell has, in real worker processes too
# (they are not set up by the test runner); the smtp_server fixture (tests/conftest.py) sends it over SMTP.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A real worker started by a test that reads the mail it sends gets the test's SMTP server (tests/support/smtp.py).
if os.environ.get("UCE_TEST_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["UCE_TEST_SMTP_PORT"])
    EMAIL_USE_TLS = EMAIL_USE_SSL = False
    UCE_SITE_URL = "http://testserver"

# Webhook tests send to a real receiver on loopback (tests/webhooks/).
UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = True

# WhiteNoise looks files up per request instead of scanning STATIC_ROOT (not collected in tests).
WHITENOISE_AUTOREFRESH = True

# Login throttling stays on (its tests sign in through the real form); client.force_login bypasses it.
AXES_ENABLED = True

# Sessions running side by side (make test-calendar runs several dates at once) each need their own test database.
if os.environ.get("UCE_TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["UCE_TEST_DATABASE_NAME"]}  # noqa: F405
