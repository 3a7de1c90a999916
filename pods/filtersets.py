"""Filter sets of the pods app, shared by the pages and the API (one filter set per list)."""

import django_filters

from .models import Pod


class PodFilterSet(django_filters.FilterSet):
    """Filters of the pod list: ``?slug=``, ``?name=`` (contains, any case), ``?is_active=``, ``?timezone=``."""

    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains (any case)")

    class Meta:
        model = Pod
        fields = ["slug", "name", "is_active", "timezone"]
