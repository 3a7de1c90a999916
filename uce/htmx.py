"""What an htmx request asks for, decided once for every app's views (django-htmx's ``request.htmx``).

One URL answers with a page or, to an htmx swap, with a named partial of that page's template.
"""


def wants_fragment(request) -> bool:
    """An htmx swap gets a fragment; a history restore (Back after the cache missed) gets the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request
