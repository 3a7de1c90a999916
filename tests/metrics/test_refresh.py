"""Dirty marking by the database, and the refresh that drains it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, connections
from kombu.exceptions import OperationalError as BrokerError

from metrics import refresh
from metrics.models import DirtyRange, PodMetricSnapshot
from metrics.tasks import REBUILD_LOCK_KEY, rebuild_all_metrics, refresh_dirty_metrics
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AssignmentFactory,
    OpportunityFactory,
    PodFactory,
    SupportTicketFactory,
)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def marks(pod):
    return set(DirtyRange.objects.filter(pod=pod).values_list("from_day", "to_day"))


@pytest.mark.django_db
class TestDirtyMarks:
    def test_an_activity_marks_its_local_day(self, pod_a):
        # 03:00 UTC on March 1st is still February 28th in New York.
        ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=utc(2026, 3, 1, 3))
        assert marks(pod_a) == {(dt.date(2026, 2, 28), dt.date(2026, 2, 28))}

    def test_a_deleted_or_moved_activity_marks_old_and_new_days(self, pod_a):
        activity = ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=utc(2026, 5, 10, 12))
        DirtyRange.objects.all().delete()
        activity.occurred_at = utc(2026, 7, 1, 12)
        activity.save()
        assert marks(pod_a) == {(dt.date(2026, 5, 10),) * 2, (dt.date(2026, 7, 1),) * 2}
        DirtyRange.objects.all().delete()
        activity.delete()
        assert marks(pod_a) == {(dt.date(2026, 7, 1),) * 2}

    def test_a_won_opportunity_marks_the_periods_that_compare_with_it_a_year_later(self, pod_a):
        OpportunityFactory(
            account=AccountFactory(pod=pod_a),
            created_at=utc(2026, 1, 5, 15),
            status="won",
            closed_at=utc(2026, 3, 10, 15),
        )
        days = {d for d, _ in marks(pod_a)}
        assert days == {dt.date(2026, 1, 5), dt.date(2026, 3, 10), dt.date(2027, 3, 9), dt.date(2027, 3, 10)}

    def test_an_in_person_activity_marks_rep_free_wins_of_the_account_under_any_pod(self, pod_a, pod_b):
        account = AccountFactory(pod=pod_a)
        OpportunityFactory(
            account=account, created_at=utc(2026, 1, 1, 12), status="won", closed_at=utc(2026, 3, 10, 12)
        )
        account.pod = pod_b  # the account moved; its old won opportunity stays under pod A
        account.save()
        DirtyRange.objects.all().delete()
        ActivityFactory(account=account, pod=pod_b, channel="in_person", occurred_at=utc(2026, 2, 1, 12))
        assert marks(pod_a) == {(dt.date(2026, 3, 10),) * 2}
        assert marks(pod_b) == {(dt.date(2026, 2, 1),) * 2}
        DirtyRange.objects.all().delete()
        ActivityFactory(account=account, pod=pod_b, channel="digital", occurred_at=utc(2026, 2, 2, 12))
        assert marks(pod_a) == set()

    def test_a_ticket_marks_every_day_it_is_open(self, pod_a):
        account = AccountFactory(pod=pod_a)
        SupportTicketFactory(account=account, opened_at=utc(2026, 1, 10, 15), resolved_at=utc(2026, 4, 2, 15))
        SupportTicketFactory(account=account, opened_at=utc(2026, 2, 10, 15))
        assert marks(pod_a) == {(dt.date(2026, 1, 10), dt.date(2026, 4, 2)), (dt.date(2026, 2, 10), None)}

    def test_an_assignment_marks_its_whole_span_and_a_time_zone_change_everything(self, pod_a):
        AssignmentFactory(pod=pod_a, started_on=dt.date(2026, 1, 1), ended_on=dt.date(2026, 6, 1))
        assert marks(pod_a) == {(dt.date(2026, 1, 1), dt.date(2026, 6, 1))}
        DirtyRange.objects.all().delete()
        pod_a.name = "Renamed"
        pod_a.save()
        assert marks(pod_a) == set()
        pod_a.timezone = "America/Chicago"
        pod_a.save()
        assert marks(pod_a) == {(None, None)}


@pytest.mark.django_db
def test_refresh_drains_dirty_marks_and_running_it_again_changes_nothing(pod_a):
    account = AccountFactory(pod=pod_a)
    ActivityFactory(account=account, occurred_at=utc(2026, 3, 1, 3))
    OpportunityFactory(account=account, created_at=utc(2026, 1, 5), status="won", closed_at=utc(2026, 3, 10), amount=5)
    first = refresh.refresh()
    assert first.pods == 1 and first.snapshots > 0
    assert not DirtyRange.objects.exists()
    before = list(PodMetricSnapshot.objects.values_list("grain", "period_start", "metrics"))
    assert refresh.refresh().pods == 0
    refresh.rebuild()
    assert list(PodMetricSnapshot.objects.values_list("grain", "period_start", "metrics")) == before


@pytest.mark.django_db
def test_deleting_every_fact_removes_the_pods_snapshots(pod_a):
    activity = ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=utc(2026, 3, 1, 3))
    refresh.refresh()
    assert PodMetricSnapshot.objects.filter(pod=pod_a).exists()
    activity.delete()
    refresh.refresh()
    assert not PodMetricSnapshot.objects.filter(pod=pod_a).exists()


@pytest.mark.django_db(transaction=True)
def test_a_pod_being_computed_elsewhere_is_skipped_not_waited_for():
    busy, free = PodFactory(slug="busy"), PodFactory(slug="free")
    for pod in (busy, free):
        OpportunityFactory(account=AccountFactory(pod=pod), status="won", closed_at=utc(2026, 3, 10), amount=Decimal(9),
                           created_at=utc(2026, 1, 1))  # fmt: skip
    refresh.refresh(pod_ids=[])  # creates the state rows, claims nothing
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            # Another worker holds the busy pod (what a refresh in progress does).
            cursor.execute("SELECT 1 FROM metrics_podmetricstate WHERE pod_id = %s FOR UPDATE", [busy.pk])
        result = refresh.refresh()
        assert result.pod_ids == [free.pk]
        assert DirtyRange.objects.filter(pod=busy).exists()
        other.rollback()
    finally:
        other.close()
    assert refresh.refresh().pod_ids == [busy.pk]
    assert not DirtyRange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_second_nightly_rebuild_does_not_run_beside_a_running_one(pod_a):
    ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=utc(2026, 3, 1, 3))
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [REBUILD_LOCK_KEY])
        assert rebuild_all_metrics.apply().get() is None
        assert not PodMetricSnapshot.objects.exists()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REBUILD_LOCK_KEY])
    finally:
        other.close()
    assert rebuild_all_metrics.apply().get() > 0
    with connection.cursor() as cursor:
        # The rebuild released its lock (other databases on the server may hold their own).
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [REBUILD_LOCK_KEY],
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_incremental_refresh_fills_the_periods_a_growing_horizon_adds(pod_a):
    account = AccountFactory(pod=pod_a)
    SupportTicketFactory(account=account, opened_at=utc(2026, 6, 10, 15))
    refresh.refresh()
    # Data far earlier and far later than anything so far: the periods in between are new.
    ActivityFactory(account=account, occurred_at=utc(2024, 1, 15, 15))
    OpportunityFactory(account=account, created_at=utc(2027, 1, 5), status="won", closed_at=utc(2028, 2, 1), amount=7)
    refresh.refresh()
    ordered = PodMetricSnapshot.objects.order_by("grain", "period_start")
    incremental = list(ordered.values_list("grain", "period_start", "period_end", "metrics"))
    refresh.rebuild()
    full = list(ordered.values_list("grain", "period_start", "period_end", "metrics"))
    assert incremental == full
    assert ("month", dt.date(2024, 1, 1)) in {(grain, start) for grain, start, _, _ in full}


def test_the_nightly_rebuild_asks_other_workers_to_share_it(pod_a, pod_b, settings, monkeypatch):
    ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=utc(2026, 3, 1, 3))
    ActivityFactory(account=AccountFactory(pod=pod_b), occurred_at=utc(2026, 3, 2, 3))
    settings.UCE_REBUILD_WORKERS = 3
    asked = []
    # What another worker would do on receiving the task: claim the pods nobody holds.
    monkeypatch.setattr(refresh_dirty_metrics, "delay", lambda: asked.append(refresh.refresh(pods_per_batch=1)))
    assert rebuild_all_metrics.apply().get() == 2
    assert len(asked) == 2
    assert not DirtyRange.objects.exists()
    assert set(PodMetricSnapshot.objects.values_list("pod_id", flat=True)) == {pod_a.pk, pod_b.pk}


def test_the_nightly_rebuild_runs_alone_when_the_broker_is_down(pod_a, settings, monkeypatch):
    ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=utc(2026, 3, 1, 3))
    settings.UCE_REBUILD_WORKERS = 4

    def broker_down():
        raise BrokerError("connection refused")

    monkeypatch.setattr(refresh_dirty_metrics, "delay", broker_down)
    assert rebuild_all_metrics.apply().get() == 1
    assert not DirtyRange.objects.exists()
    assert PodMetricSnapshot.objects.filter(pod=pod_a, grain="month", period_start=dt.date(2026, 3, 1)).exists()
