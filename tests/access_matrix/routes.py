"""Every URL pattern of the project, found by walking the resolver, and the few the matrix leaves out."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    key: str  # the pattern's name, namespaced ("imports:detail"); the pattern itself when unnamed
    pattern: str  # the full regex/route, e.g. "api/^activities/(?P<pk>\\d+)/$"
    view: str  # dotted path of the view (function or viewset class)
    methods: frozenset[str] | None  # DRF views: the methods they implement (None: a plain Django view)
    namespace: str | None


def _view_path(callback) -> str:
    target = getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback
    return f"{target.__module__}.{getattr(target, '__qualname__', target.__name__)}"


def _drf_methods(callback) -> frozenset[str] | None:
    """What a DRF view answers besides HEAD/OPTIONS: a viewset's routed actions, an APIView's handlers."""
    cls = getattr(callback, "cls", None)
    if cls is None:
        return None
    actions = getattr(callback, "actions", None)
    names = set(actions) if actions else {name for name in cls.http_method_names if hasattr(cls, name)}
    return frozenset(name.upper() for name in names & set(cls.http_method_names) - {"head", "options", "trace"})


def _walk(resolver: URLResolver, prefix: str = "", namespace: str | None = None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield Route(
                key=name or pattern,
                pattern=pattern,
                view=_view_path(entry.callback),
                methods=_drf_methods(entry.callback),
                namespace=namespace,
            )


def discover() -> list[Route]:
    return list(_walk(get_resolver()))


# Routes the matrix leaves out, and why. Each is still checked by a dedicated test of its own gate.
EXCLUDED_NAMESPACES = {
    # The Django admin has its own gate (is_staff, then model permissions); test_django_admin_gate checks it.
    "admin": "Django admin: gated by is_staff and model permissions",
}
EXCLUDED = {
    # django.contrib.auth's views: they serve people who are not (yet) logged in, by design.
    "login": "django.contrib.auth login page: open to anyone",
    "logout": "django.contrib.auth logout: ends the caller's own session",
    "legacy-login": "the login page at its first address (/accounts/login/): open to anyone",
    "legacy-logout": "logout at its first address: ends the caller's own session",
    "password_change": "django.contrib.auth: the caller's own password",
    "password_change_done": "django.contrib.auth: the caller's own password",
    "password_reset": "django.contrib.auth password reset: open to anyone by design",
    "password_reset_done": "django.contrib.auth password reset: open to anyone by design",
    "password_reset_confirm": "django.contrib.auth password reset: guarded by its signed token",
    "password_reset_complete": "django.contrib.auth password reset: open to anyone by design",
    # A static asset; test_favicon_is_public checks it.
    "favicon": "static asset served to anyone",
    # The API's description, not its data; test_openapi_schema_and_docs checks who may read it.
    "api-schema": "OpenAPI schema",
    "api-docs": "OpenAPI interactive docs",
}

# Routes the matrix covers that answer without a login, because their credential is in the URL: their
# policy says ``public=True`` and judges anonymous callers like everyone else (a valid credential is
# honoured, a bad one refused). test_every_route_has_a_policy keeps this list and the table's equal.
PUBLIC = {
    "alerts:unsubscribe": "one-click unsubscribe from an email (RFC 8058): the signed token is the credential",
}


def is_excluded(route: Route) -> bool:
    top = (route.namespace or "").split(":")[0]
    return top in EXCLUDED_NAMESPACES or route.key in EXCLUDED
