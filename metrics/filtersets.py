"""Filters of the metrics API's lists (``?pod=&metric=&grain=&since=&until=``)."""

import django_filters

from metrics.catalogue import TARGETABLE_METRIC_CHOICES
from metrics.choices import Grain
from metrics.models import Target


class TargetFilterSet(django_filters.FilterSet):
    pod = django_filters.CharFilter(field_name="pod__slug", label="Pod (slug)")
    metric = django_filters.ChoiceFilter(choices=TARGETABLE_METRIC_CHOICES)
    grain = django_filters.ChoiceFilter(choices=Grain.choices)
    since = django_filters.DateFilter(field_name="period_start", lookup_expr="gte", label="Period starts on or after")
    until = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", label="Period starts on or before")

    class Meta:
        model = Target
        fields = ["pod", "metric", "grain", "since", "until"]
