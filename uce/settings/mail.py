"""Mail settings from the environment, under Django's own names (README "Mail").

With ``EMAIL_HOST`` set, mail goes to that SMTP server. Without it (a newcomer's ``make run``) nothing is
sent: each message is written as a file under ``var/mail/``. ``EMAIL_BACKEND`` overrides both.
"""

from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
DEFAULT_FROM_EMAIL = "UCE pod dashboard <dashboard@uce.invalid>"


def _flag(environ: Mapping[str, str], name: str) -> bool:
    """The words ``base.env_bool`` accepts as true; anything else (or nothing) is false."""
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def mail_settings(environ: Mapping[str, str], var_dir: Path) -> dict[str, object]:
    """The ``EMAIL_*`` and ``DEFAULT_FROM_EMAIL`` settings for ``environ``; files go under ``var_dir / "mail"``."""
    host = environ.get("EMAIL_HOST", "").strip()
    use_tls, use_ssl = _flag(environ, "EMAIL_USE_TLS"), _flag(environ, "EMAIL_USE_SSL")
    if use_tls and use_ssl:
        # Django would only refuse at the first send; refuse at start-up instead.
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one of them.")
    return {
        "EMAIL_BACKEND": environ.get("EMAIL_BACKEND", "").strip() or (SMTP_BACKEND if host else FILE_BACKEND),
        "EMAIL_HOST": host or "localhost",
        "EMAIL_PORT": int(environ.get("EMAIL_PORT", "").strip() or 25),
        "EMAIL_HOST_USER": environ.get("EMAIL_HOST_USER", ""),
        "EMAIL_HOST_PASSWORD": environ.get("EMAIL_HOST_PASSWORD", ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": int(environ.get("EMAIL_TIMEOUT", "").strip() or 10),
        "EMAIL_FILE_PATH": str(var_dir / "mail"),  # read by the filebased backend only
        "DEFAULT_FROM_EMAIL": environ.get("DEFAULT_FROM_EMAIL", "").strip() or DEFAULT_FROM_EMAIL,
    }
