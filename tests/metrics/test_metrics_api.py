"""GET /api/pods/{slug}/metrics/ and POST /api/pods/{slug}/recompute/: contract, scope, query count."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.catalogue import METRIC_KEYS
from metrics.models import RecomputeRequest
from tests.support.factories import AccountFactory, LeadFactory, OpportunityFactory, TargetFactory

pytestmark = pytest.mark.django_db


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def pod_with_data(pod_a):
    account = AccountFactory(pod=pod_a)
    # 2026-03-01 04:30 UTC is still February 28th in New York: it belongs to February.
    LeadFactory(account=account, created_at=utc(2026, 3, 1, 4, 30), status="accepted", decided_at=utc(2026, 3, 2))
    LeadFactory(account=account, created_at=utc(2026, 3, 1, 5, 30), status="rejected", decided_at=utc(2026, 3, 3))
    OpportunityFactory(
        account=account, created_at=utc(2025, 1, 5), status="won", closed_at=utc(2025, 3, 10), amount=Decimal("100.00")
    )
    OpportunityFactory(
        account=account, created_at=utc(2026, 1, 5), status="won", closed_at=utc(2026, 3, 10), amount=Decimal("250.50")
    )
    call_command("compute_metrics", "--full")
    return pod_a


def get_metrics(client, slug, **params):
    return client.get(f"/api/pods/{slug}/metrics/", params)


def test_every_period_in_the_range_with_every_key(client, admin_user, pod_with_data):
    client.force_login(admin_user)
    body = get_metrics(client, "southeast-us", grain="month", start="2024-12-01", end="2026-05-01").json()
    assert body["pod"] == "southeast-us" and body["timezone"] == "America/New_York" and body["grain"] == "month"
    assert body["computed_at"]
    starts = [p["start"] for p in body["periods"]]
    assert starts[0] == "2024-12-01" and starts[-1] == "2026-05-01" and len(starts) == 18
    assert all(set(p["metrics"]) == set(METRIC_KEYS) for p in body["periods"])
    by_start = {p["start"]: p for p in body["periods"]}
    assert by_start["2026-02-01"]["metrics"]["lead_volume"] == 1
    assert by_start["2026-03-01"]["metrics"]["lead_volume"] == 1
    assert by_start["2026-03-01"]["metrics"]["lead_acceptance_rate"] == 0.5
    assert by_start["2026-03-01"]["end"] == "2026-04-01"
    assert by_start["2026-03-01"]["metrics"]["bookings"] == 250.5
    assert by_start["2026-03-01"]["metrics"]["bookings_yoy_growth"] == pytest.approx((250.5 - 100) / 100)
    # A period before any data: zero counts, null ratios, every cell of the matrices present.
    empty = by_start["2024-12-01"]["metrics"]
    assert empty["lead_volume"] == 0 and empty["lead_acceptance_rate"] is None
    assert {job: sum(cells.values()) for job, cells in empty["activities"].items()} == dict.fromkeys(
        ["learn", "buy", "order_install", "adopt", "support"], 0
    )


def test_targets_come_with_their_status(client, admin_user, pod_with_data):
    TargetFactory(pod=pod_with_data, metric="lead_volume", grain="month", period_start=dt.date(2026, 3, 1), value=1)
    TargetFactory(pod=pod_with_data, metric="bookings", grain="month", period_start=dt.date(2026, 3, 1), value=270)
    TargetFactory(pod=pod_with_data, metric="win_rate", grain="month", period_start=dt.date(2026, 3, 1), value="1.2")
    client.force_login(admin_user)
    period = get_metrics(client, "southeast-us", grain="month", start="2026-03-01", end="2026-03-01").json()["periods"][
        0
    ]
    assert period["targets"]["lead_volume"] == {"value": 1.0, "status": "green"}
    assert period["targets"]["bookings"]["status"] == "amber"  # 250.5 misses 270 by 7%
    assert period["targets"]["win_rate"]["status"] == "red"  # 1.0 misses 1.2 by 17%


def test_query_count_does_not_grow_with_the_range(client, admin_user, pod_with_data):
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as short:
        assert (
            get_metrics(client, "southeast-us", grain="month", start="2026-03-01", end="2026-03-01").status_code == 200
        )
    with CaptureQueriesContext(connection) as long:
        assert (
            get_metrics(client, "southeast-us", grain="week", start="2020-01-01", end="2030-12-31").status_code == 200
        )
    assert len(long) == len(short)


def test_out_of_scope_pod_answers_like_a_missing_one(client, staff_b, pod_with_data):
    client.force_login(staff_b)
    foreign = get_metrics(client, "southeast-us")
    missing = get_metrics(client, "no-such-pod")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert client.post("/api/pods/southeast-us/recompute/").content == client.post("/api/pods/nope/recompute/").content


@pytest.mark.parametrize(
    "params",
    [{"grain": "fortnight"}, {"start": "2026-13-01"}, {"start": "2026-05-01", "end": "2026-01-01"},
     {"grain": "week", "start": "1900-01-01", "end": "2100-01-01"}],
)  # fmt: skip
def test_bad_query_parameters_are_400(client, admin_user, pod_with_data, params):
    client.force_login(admin_user)
    assert get_metrics(client, "southeast-us", **params).status_code == 400


def test_anonymous_is_refused(client, pod_with_data):
    assert get_metrics(client, "southeast-us").status_code in (401, 403)


def test_recompute_runs_and_reports_progress(client, leader_a, pod_with_data, django_capture_on_commit_callbacks):
    client.force_login(leader_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/pods/southeast-us/recompute/")
    assert response.status_code == 202
    job = RecomputeRequest.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded" and job.steps_done == job.steps_total > 0
    progress = client.get(f"/api/recomputes/{job.pk}/").json()
    assert progress["status"] == "succeeded" and progress["percent"] == 100


def test_a_recompute_asked_for_while_the_broker_is_down_is_accepted_and_sent_later(
    client, leader_a, pod_with_data, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from metrics import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    client.force_login(leader_a)
    with monkeypatch.context() as patched:
        patched.setattr(tasks.recompute_pod, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/pods/southeast-us/recompute/")
    assert response.status_code == 202
    job = RecomputeRequest.objects.get(pk=response.json()["id"])
    assert job.status == "pending"
    # A minute later beat's resend finds it (the broker is back) and the work gets done.
    RecomputeRequest.objects.filter(pk=job.pk).update(created_at=job.created_at - dt.timedelta(minutes=2))
    tasks.resend_pending_recomputes.apply()
    job.refresh_from_db()
    assert job.status == "succeeded"
