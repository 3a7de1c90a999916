"""Pages of the pods app: the site's favicon (home, with its KPIs, is in metrics.views)."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# The "U" mark of the nav bar.  Served at /favicon.ico because browsers ask for that path on every
# page, the Django admin's included, and a 404 there is noise in logs and in the browser tests.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#3b82f6"/><stop offset="1" stop-color="#7c3aed"/></linearGradient></defs>'
    '<rect width="32" height="32" rx="8" fill="url(#g)"/>'
    '<text x="16" y="22.5" font-family="system-ui,Arial,sans-serif" font-size="18" font-weight="700" '
    'fill="#fff" text-anchor="middle">U</text></svg>'
)


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
