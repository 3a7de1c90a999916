"""Template filters over pods.scoping, so templates ask the same rules as views."""

from django import template

from pods import scoping

register = template.Library()


@register.filter
def is_uce_admin(user) -> bool:
    return scoping.is_uce_admin(user)


@register.filter
def may_review_reorganisations(user) -> bool:
    return scoping.may_review_reorganisations(user)
