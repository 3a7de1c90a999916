"""WSGI entry point (gunicorn uce.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uce.settings.production")

application = get_wsgi_application()
