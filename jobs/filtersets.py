"""Filter sets of the jobs app, one per model, shared by the pages and the API.

They only narrow a queryset that already starts from the caller's scope, so a filter can never
widen what a user sees.  References use the names of INTERCHANGE.md: ``pod`` is a pod slug,
``account`` an account's ``external_id``; ``since``/``until`` bound a fact's main timestamp
(both inclusive).
"""

import django_filters

from pods.choices import Persona
from pods.models import Account, Contact
from pods.validators import validate_timestamp_in_range

from .choices import BuyingJob, Channel, LeadStatus, OpportunityStatus
from .models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket


def pod_filter(field_name: str = "pod__slug") -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, label="Pod (slug)")


def account_filter(field_name: str = "account__external_id") -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, label="Account (external id)")


def since_filter(field_name: str) -> django_filters.IsoDateTimeFilter:
    return django_filters.IsoDateTimeFilter(
        field_name=field_name,
        lookup_expr="gte",
        label=f"{field_name} on or after (ISO 8601 timestamp)",
        validators=[validate_timestamp_in_range],  # PostgreSQL refuses offsets Python accepts
    )


def until_filter(field_name: str) -> django_filters.IsoDateTimeFilter:
    return django_filters.IsoDateTimeFilter(
        field_name=field_name,
        lookup_expr="lte",
        label=f"{field_name} on or before (ISO 8601 timestamp)",
        validators=[validate_timestamp_in_range],
    )


class AccountFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    external_id = django_filters.CharFilter()
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains (any case)")
    segment = django_filters.CharFilter()

    class Meta:
        model = Account
        fields = ["pod", "external_id", "name", "segment"]


class ContactFilterSet(django_filters.FilterSet):
    pod = pod_filter("account__pod__slug")
    account = account_filter()
    persona = django_filters.ChoiceFilter(choices=Persona.choices)

    class Meta:
        model = Contact
        fields = ["pod", "account", "persona"]


class ActivityFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    account = account_filter()
    job = django_filters.ChoiceFilter(choices=BuyingJob.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    kind = django_filters.CharFilter()
    staff = django_filters.CharFilter(field_name="staff__username", label="Staff (username)")
    since = since_filter("occurred_at")
    until = until_filter("occurred_at")

    class Meta:
        model = Activity
        fields = ["pod", "account", "job", "channel", "kind", "staff", "since", "until"]


class LeadFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    account = account_filter()
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    since = since_filter("created_at")
    until = until_filter("created_at")

    class Meta:
        model = Lead
        fields = ["pod", "account", "channel", "status", "since", "until"]


class OpportunityFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    account = account_filter()
    status = django_filters.ChoiceFilter(choices=OpportunityStatus.choices)
    since = since_filter("created_at")
    until = until_filter("created_at")
    closed_since = since_filter("closed_at")
    closed_until = until_filter("closed_at")

    class Meta:
        model = Opportunity
        fields = ["pod", "account", "status", "since", "until", "closed_since", "closed_until"]


class OrderFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    account = account_filter()
    since = since_filter("ordered_at")
    until = until_filter("ordered_at")
    installed = django_filters.BooleanFilter(field_name="installed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Order
        fields = ["pod", "account", "since", "until", "installed"]


class AdoptionReadingFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    account = account_filter()
    since = django_filters.DateFilter(field_name="measured_on", lookup_expr="gte", label="Measured on or after")
    until = django_filters.DateFilter(field_name="measured_on", lookup_expr="lte", label="Measured on or before")

    class Meta:
        model = AdoptionReading
        fields = ["pod", "account", "since", "until"]


class SupportTicketFilterSet(django_filters.FilterSet):
    pod = pod_filter()
    account = account_filter()
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    resolved = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", exclude=True)
    since = since_filter("opened_at")
    until = until_filter("opened_at")

    class Meta:
        model = SupportTicket
        fields = ["pod", "account", "channel", "resolved", "since", "until"]
