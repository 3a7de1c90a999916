"""``roles``: which of the navigation's links lead anywhere for the person (pods.scoping.roles_of).

Read lazily, in one query, only when a page shows the navigation; never kept between requests, so a
change of role shows on the very next page.
"""

from django.utils.functional import SimpleLazyObject

from .scoping import NO_ROLES, roles_of


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": NO_ROLES}
    return {"roles": SimpleLazyObject(lambda: roles_of(user))}
