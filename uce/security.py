"""Security wiring: login throttling (django-axes) and the refusal of malformed requests.

django-axes counts failed sign-ins per account and per address and refuses the next ones for a
cool-off period (settings ``AXES_*``); the backend, the client's address and the lockout page it
uses are adapted here, but the counting is the library's.
"""

from urllib.parse import unquote_to_bytes

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check before any password is compared, for every sign-in made over HTTP.

    ``authenticate()`` without a request comes from code (a management command, the shell, a test),
    never from a visitor: every web entry point (the login page, the admin's, DRF) passes the
    request.  Axes would raise there; such a call is simply not throttled.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str | None:
    """The address a sign-in comes from, as the per-address lockout counts it.

    Behind the reverse proxy that terminates TLS (``UCE_BEHIND_PROXY``, on in production), the
    client is the last address of ``X-Forwarded-For``: the one the proxy itself appended. Earlier
    entries are whatever the client sent and would let an attacker pick a fresh address per try.
    """
    if getattr(settings, "UCE_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of the login form while sign-ins are refused (HTTP 429)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


class RefuseMalformedRequestsMiddleware:
    """Refuse, before any view runs, requests that no page or client of the application sends.

    - A NUL character in the path or query string (400). No URL has a use for one, and PostgreSQL
      refuses it in any text value, so a lookup such as ``/api/accounts/%00/`` would otherwise end in
      a server error. Bodies need no such guard: Django's and DRF's text fields refuse NUL themselves,
      and so does the CSV reader.
    - A body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` that is not a multipart upload (413). Django
      enforces that limit on form posts only when ``request.body`` is read, DRF's JSON parser not at
      all; uploads stream to disk and have their own limit (``UCE_IMPORT_MAX_BYTES``).
    - A query string or form post that is not valid UTF-8 once percent-decoded (400).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = unquote_to_bytes(request.META.get("QUERY_STRING", ""))
        if "\x00" in request.path or b"\x00" in query:
            return self._refuse(request, 400, "Null characters are not allowed in the address.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not request.content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return self._refuse(request, 400, "The Content-Length header is not a number.")
            if length > limit:
                return self._refuse(
                    request, 413, f"The request is too large: at most {filesizeformat(limit)} may be sent at once."
                )
        # Django would decode invalid UTF-8 in a query or a form into U+FFFD and carry on; refuse it instead
        # (JSON bodies are refused by DRF's parser, CSV files by the import).
        form = request.body if request.content_type == "application/x-www-form-urlencoded" else b""
        if not _is_utf8(query) or not _is_utf8(unquote_to_bytes(form)):
            return self._refuse(request, 400, "The request is not valid UTF-8 text.")
        return self.get_response(request)

    @staticmethod
    def _refuse(request, status: int, message: str):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=status)
        return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
