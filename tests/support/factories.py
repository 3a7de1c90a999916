"""factory_boy factories for every model; facts take their pod from their account, as the services do."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from jobs import models as facts
from metrics.models import Target
from pods.models import Account, Assignment, Contact, Pod, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    full_name = factory.Faker("name")
    password = factory.django.Password("demo")


class PodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pod
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"pod-{n}")
    name = factory.Sequence(lambda n: f"Pod {n}")
    timezone = "America/New_York"
    territory = "US-FL US-GA"


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    person = factory.SubFactory(UserFactory)
    pod = factory.SubFactory(PodFactory)
    job = "learn"
    # A month before today in the pod's own time zone, the date by which the product reads staffing.
    started_on = factory.LazyAttribute(lambda assignment: assignment.pod.local_today() - dt.timedelta(days=30))


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"ACC-{n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    pod = factory.SubFactory(PodFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    external_id = factory.Sequence(lambda n: f"CON-{n}")
    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    persona = "champion"


class FactFactory(factory.django.DjangoModelFactory):
    account = factory.SubFactory(AccountFactory)
    pod = factory.LazyAttribute(lambda o: o.account.pod)


class ActivityFactory(FactFactory):
    class Meta:
        model = facts.Activity

    occurred_at = factory.LazyFunction(timezone.now)
    job = "learn"
    channel = "digital"
    kind = "webinar"


class LeadFactory(FactFactory):
    class Meta:
        model = facts.Lead

    created_at = factory.LazyFunction(timezone.now)
    channel = "digital"
    status = "open"


class OpportunityFactory(FactFactory):
    class Meta:
        model = facts.Opportunity

    amount = Decimal("1000.00")
    created_at = factory.LazyFunction(timezone.now)
    status = "open"


class OrderFactory(FactFactory):
    class Meta:
        model = facts.Order

    ordered_at = factory.LazyFunction(timezone.now)


class AdoptionReadingFactory(FactFactory):
    class Meta:
        model = facts.AdoptionReading

    # Today in the account's pod's zone, as the product dates a reading.
    measured_on = factory.LazyAttribute(lambda reading: reading.account.pod.local_today())
    licensed_seats = 10
    active_seats = 5


class SupportTicketFactory(FactFactory):
    class Meta:
        model = facts.SupportTicket

    opened_at = factory.LazyFunction(timezone.now)
    channel = "digital"


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    pod = factory.SubFactory(PodFactory)
    metric = "lead_volume"
    grain = "month"
    period_start = dt.date(2026, 1, 1)
    value = Decimal("100")
