"""The database refuses bad facts (and targets) even when the code skips validation.

Every write here goes through ``objects.create``, ``bulk_create`` or ``queryset.update``, none of which
call ``full_clean``: what stops the bad row is a constraint or trigger in PostgreSQL.
Targets belong to ``metrics`` but are checked here with the other rows the import writes.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobs.models import Activity, AdoptionReading, Lead, Opportunity, SupportTicket
from metrics.models import Target
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AdoptionReadingFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    PodFactory,
    SupportTicketFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 30), dt.UTC)
BEFORE = T0 - dt.timedelta(minutes=1)

FACT_FACTORIES = {
    "activity": ActivityFactory,
    "lead": LeadFactory,
    "opportunity": OpportunityFactory,
    "order": OrderFactory,
    "adoption reading": AdoptionReadingFactory,
    "support ticket": SupportTicketFactory,
}


@pytest.fixture
def account(db):
    return AccountFactory()


# --- Codes -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "fields", "constraint"),
    [
        (ActivityFactory, {"job": "sell"}, "activity_job_valid"),
        (ActivityFactory, {"channel": "fax"}, "activity_channel_valid"),
        (ActivityFactory, {"kind": ""}, "activity_kind_not_empty"),
        (LeadFactory, {"channel": "carrier_pigeon"}, "lead_channel_valid"),
        (LeadFactory, {"status": "maybe", "created_at": T0, "decided_at": T0}, "lead_status_valid"),
        (OpportunityFactory, {"status": "pending", "created_at": T0, "closed_at": T0}, "opportunity_status_valid"),
        (SupportTicketFactory, {"channel": "Digital"}, "ticket_channel_valid"),
    ],
    ids=[
        "activity job",
        "activity channel",
        "activity kind",
        "lead channel",
        "lead status",
        "opp. status",
        "ticket channel",
    ],
)
def test_codes_outside_the_fixed_vocabularies_are_refused(account, factory, fields, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        factory(account=account, **fields)
    assert not factory._meta.model.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("job", "selling"), ("channel", "telepathy")])
def test_codes_cannot_be_updated_to_unknown_ones(account, field, value):
    ActivityFactory(account=account)
    with pytest.raises(IntegrityError, match=f"activity_{field}_valid"), transaction.atomic():
        Activity.objects.update(**{field: value})


# --- Leads ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["accepted", "rejected"])
def test_a_decided_lead_needs_its_decision_time(account, status):
    with pytest.raises(IntegrityError, match="lead_decided_unless_open"), transaction.atomic():
        LeadFactory(account=account, created_at=T0, status=status, decided_at=None)


def test_accepting_a_lead_by_update_without_decision_time_is_refused(account):
    lead = LeadFactory(account=account, created_at=T0)
    with pytest.raises(IntegrityError, match="lead_decided_unless_open"), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status="accepted")


def test_a_lead_cannot_be_decided_before_it_was_created(account):
    with pytest.raises(IntegrityError, match="lead_decided_after_created"), transaction.atomic():
        Lead.objects.bulk_create(
            [
                Lead(
                    pod=account.pod,
                    account=account,
                    created_at=T0,
                    channel="digital",
                    status="accepted",
                    decided_at=BEFORE,
                )
            ]
        )


def test_a_lead_decided_the_moment_it_was_created_is_fine(account):
    LeadFactory(account=account, created_at=T0, status="rejected", decided_at=T0, rejection_reason="not a fit")


# --- Opportunities ------------------------------------------------------------------------------------------------


def test_an_opportunity_amount_cannot_be_negative(account):
    with pytest.raises(IntegrityError, match="opportunity_amount_not_negative"), transaction.atomic():
        OpportunityFactory(account=account, amount=Decimal("-0.01"))


def test_an_opportunity_cannot_close_before_it_was_created(account):
    with pytest.raises(IntegrityError, match="opportunity_closed_after_created"), transaction.atomic():
        OpportunityFactory(account=account, created_at=T0, status="won", closed_at=BEFORE)


@pytest.mark.parametrize("status", ["won", "lost"])
def test_a_closed_opportunity_needs_its_closing_time(account, status):
    opportunity = OpportunityFactory(account=account, created_at=T0)
    with pytest.raises(IntegrityError, match="opportunity_closed_unless_open"), transaction.atomic():
        Opportunity.objects.filter(pk=opportunity.pk).update(status=status)
    opportunity.refresh_from_db()
    assert opportunity.status == "open"


def test_a_free_opportunity_is_fine(account):
    OpportunityFactory(account=account, amount=Decimal("0.00"), created_at=T0, status="lost", closed_at=T0)


# --- Orders and tickets ------------------------------------------------------------------------------------------


def test_an_order_cannot_be_installed_before_it_was_ordered(account):
    with pytest.raises(IntegrityError, match="order_installed_after_ordered"), transaction.atomic():
        OrderFactory(account=account, ordered_at=T0, installed_at=BEFORE)


@pytest.mark.parametrize("csat", [0, 6])
def test_csat_is_between_1_and_5(account, csat):
    with pytest.raises(IntegrityError, match="ticket_csat_1_to_5"), transaction.atomic():
        SupportTicketFactory(account=account, opened_at=T0, resolved_at=T0, csat=csat)


@pytest.mark.parametrize("csat", [1, 5, None])
def test_csat_bounds_and_no_csat_are_accepted(account, csat):
    SupportTicketFactory(account=account, csat=csat)


def test_a_ticket_cannot_be_resolved_before_it_was_opened(account):
    ticket = SupportTicketFactory(account=account, opened_at=T0)
    with pytest.raises(IntegrityError, match="ticket_resolved_after_opened"), transaction.atomic():
        SupportTicket.objects.filter(pk=ticket.pk).update(resolved_at=BEFORE)


# --- Keys -------------------------------------------------------------------------------------------------------


def different_day(factory, offset):
    # Adoption readings are also unique per account and day: keep that rule out of the external_id test.
    return {"measured_on": dt.date(2026, 3, 1 + offset)} if factory is AdoptionReadingFactory else {}


@pytest.mark.parametrize("factory", FACT_FACTORIES.values(), ids=FACT_FACTORIES.keys())
def test_external_ids_are_unique_per_kind_of_fact(account, factory):
    first = factory(account=account, external_id="X-1", **different_day(factory, 0))
    with pytest.raises(IntegrityError, match="external_id"), transaction.atomic():
        factory(account=account, external_id="X-1", **different_day(factory, 1))
    assert factory._meta.model.objects.get() == first


def test_facts_without_external_id_do_not_collide(account):
    ActivityFactory(account=account, external_id=None)
    ActivityFactory(account=account, external_id=None)
    assert Activity.objects.count() == 2


def test_one_adoption_reading_per_account_and_day(account):
    AdoptionReadingFactory(account=account, measured_on=dt.date(2026, 3, 1))
    with pytest.raises(IntegrityError, match="adoption_one_reading_per_account_day"), transaction.atomic():
        AdoptionReading.objects.bulk_create(
            [
                AdoptionReading(
                    pod=account.pod, account=account, measured_on=dt.date(2026, 3, 1), licensed_seats=9, active_seats=9
                )
            ]
        )
    AdoptionReadingFactory(account=account, measured_on=dt.date(2026, 3, 2))
    AdoptionReadingFactory(account=AccountFactory(pod=account.pod), measured_on=dt.date(2026, 3, 1))
    assert AdoptionReading.objects.count() == 3


# --- A fact keeps its pod ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", FACT_FACTORIES.values(), ids=FACT_FACTORIES.keys())
def test_a_facts_pod_cannot_be_changed_by_update(account, factory):
    fact = factory(account=account)
    other_pod = PodFactory()
    model = factory._meta.model
    with pytest.raises(IntegrityError, match="keeps the pod it was created under"), transaction.atomic():
        model.objects.filter(pk=fact.pk).update(pod=other_pod)
    assert model.objects.get(pk=fact.pk).pod_id == account.pod_id


def test_a_facts_pod_cannot_be_changed_by_save(account):
    order = OrderFactory(account=account)
    order.pod = PodFactory()
    with pytest.raises(IntegrityError, match="keeps the pod it was created under"), transaction.atomic():
        order.save()


def test_moving_the_account_leaves_its_facts_where_they_were(account):
    lead = LeadFactory(account=account)
    created_under = account.pod_id
    account.pod = PodFactory()
    account.save()
    # Other fields of a fact stay editable; only its pod is frozen.
    Lead.objects.filter(pk=lead.pk).update(status="rejected", decided_at=lead.created_at)
    lead.refresh_from_db()
    assert (lead.pod_id, lead.status) == (created_under, "rejected")


# --- Targets ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grain", "period_start"),
    [
        ("month", dt.date(2026, 1, 15)),
        ("week", dt.date(2026, 1, 6)),  # a Tuesday
        ("week", dt.date(2026, 1, 1)),  # a Thursday, though the first of the year
        ("quarter", dt.date(2026, 2, 1)),
        ("year", dt.date(2026, 4, 1)),
    ],
)
def test_a_target_starts_at_the_start_of_a_period_of_its_grain(grain, period_start):
    with pytest.raises(IntegrityError, match="target_period_start_is_grain_start"), transaction.atomic():
        TargetFactory(grain=grain, period_start=period_start)
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("grain", "period_start"),
    [
        ("week", dt.date(2026, 1, 5)),  # a Monday
        ("week", dt.date(2025, 12, 29)),  # ISO week 1 of 2026 starts in 2025
        ("month", dt.date(2026, 2, 1)),
        ("quarter", dt.date(2026, 10, 1)),
        ("year", dt.date(2027, 1, 1)),
    ],
)
def test_period_starts_of_every_grain_are_accepted(grain, period_start):
    TargetFactory(grain=grain, period_start=period_start)


def test_a_targets_period_start_cannot_be_moved_off_a_period_start():
    target = TargetFactory(grain="month", period_start=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError, match="target_period_start_is_grain_start"), transaction.atomic():
        Target.objects.filter(pk=target.pk).update(period_start=dt.date(2026, 1, 2))


def test_one_target_per_pod_metric_grain_and_period():
    target = TargetFactory(metric="bookings", grain="quarter", period_start=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError, match="target_unique_per_period"), transaction.atomic():
        TargetFactory(pod=target.pod, metric="bookings", grain="quarter", period_start=dt.date(2026, 1, 1), value=1)
    TargetFactory(pod=target.pod, metric="bookings", grain="month", period_start=dt.date(2026, 1, 1))
    TargetFactory(metric="bookings", grain="quarter", period_start=dt.date(2026, 1, 1))  # another pod


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"grain": "day", "period_start": dt.date(2026, 1, 1)}, "target_grain_valid"),
        ({"metric": "happiness"}, "target_metric_valid"),
    ],
)
def test_a_target_has_a_known_grain_and_metric(fields, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        TargetFactory(**fields)
