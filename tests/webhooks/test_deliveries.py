"""Emitting and delivering, against the real HTTP receiver on loopback (conftest.py): signed bodies, the
write that caused an event never waiting and a rolled-back one sending nothing, retries on the schedule,
failure after the last attempt, answers logged, redirects not followed."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import time
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from webhooks import services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def signature_is_valid(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's check, written here from docs/WEBHOOKS.md rather than imported."""
    fields = dict(item.split("=", 1) for item in headers["x-uce-signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300


def test_an_event_reaches_the_receiver_signed(endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = services.emit("alert.fired", {"rule_id": 7, "value": 1.5})
    [request] = receiver.requests
    assert request.path == "/hooks/uce"
    assert signature_is_valid(endpoint.secret, request.headers, request.body)
    payload = json.loads(request.body)
    assert set(payload) == {"id", "type", "occurred_at", "data"}
    assert (payload["type"], payload["data"]) == ("alert.fired", {"rule_id": 7, "value": 1.5})
    assert payload["id"] == request.headers["x-uce-event-id"] == str(delivery.event_id)
    assert uuid.UUID(payload["id"]).version == 4
    assert request.headers["x-uce-event"] == "alert.fired" and request.headers["content-type"] == "application/json"
    occurred = dt.datetime.fromisoformat(payload["occurred_at"])
    assert abs(timezone.now() - occurred) < dt.timedelta(seconds=30) and payload["occurred_at"].endswith("Z")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.response_body) == (
        "succeeded",
        1,
        200,
        "ok",
    )
    assert delivery.next_attempt_at is None and delivery.delivered_at is not None


def test_a_signature_with_another_secret_does_not_verify(endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.emit("alert.fired", {"rule_id": 1})
    [request] = receiver.requests
    assert not signature_is_valid("whsec_someone-else", request.headers, request.body)
    assert not signature_is_valid(endpoint.secret, request.headers, request.body.replace(b"1", b"2"))


def test_a_rolled_back_write_sends_nothing(endpoint, receiver, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.emit("alert.fired", {"rule_id": 1})
        raise RuntimeError("the write fails")
    assert callbacks == [] and not Delivery.objects.exists() and receiver.requests == []


def test_the_send_waits_for_the_commit(endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.emit("alert.fired", {"rule_id": 1})
        assert receiver.requests == [], "nothing is sent inside the write's transaction"
    assert len(callbacks) == 1 and receiver.requests == []


def test_only_active_endpoints_subscribed_to_the_event_get_it(endpoint, receiver, admin_user):
    Endpoint.objects.create(url=receiver.url, events=["import.finished"])
    Endpoint.objects.create(url=receiver.url, events=["alert.fired"], active=False)
    listening = Endpoint.objects.create(url=receiver.url + "?second", events=["alert.fired"])
    deliveries = services.emit("alert.fired", {"rule_id": 1})
    assert sorted(d.endpoint_id for d in deliveries) == sorted([endpoint.pk, listening.pk])
    assert len({d.event_id for d in deliveries}) == 1, "one event, one id, whichever endpoint receives it"
    assert services.emit("import.finished", lambda: [{"n": 1}, {"n": 2}])[0].payload["data"] == {"n": 1}
    assert Delivery.objects.filter(event_type="import.finished").count() == 4  # two events, two endpoints


def test_nobody_listening_costs_one_query_and_builds_nothing(db, django_assert_num_queries):
    def data():
        raise AssertionError("built although nobody listens")

    with django_assert_num_queries(1):
        assert services.emit("snapshot.refreshed", data) == []


def test_a_refused_answer_is_logged_and_retried_on_the_schedule(endpoint, receiver):
    receiver.answers = [(503, {}, b"x" * 5000)]
    [delivery] = services.emit("alert.fired", {"rule_id": 1})
    at = delivery.next_attempt_at
    waits = []
    for attempt in range(1, 7):
        recorded = services.attempt_delivery(delivery.pk, now=at)
        assert recorded.attempts == attempt and len(receiver.requests) == attempt
        assert (recorded.response_status, recorded.response_body) == (503, "x" * 2048)
        assert recorded.error == "The endpoint answered 503."
        assert receiver.requests[-1].headers["x-uce-delivery-attempt"] == str(attempt)
        if recorded.next_attempt_at is not None:
            waits.append(recorded.next_attempt_at - at)
            assert (
                services.attempt_delivery(delivery.pk, now=recorded.next_attempt_at - dt.timedelta(seconds=1)) is None
            )
            at = recorded.next_attempt_at
    assert waits == [dt.timedelta(seconds=s) for s in (30, 120, 600, 3600, 6 * 3600)]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 6, None)
    assert services.attempt_delivery(delivery.pk, now=at + dt.timedelta(days=1)) is None
    assert len(receiver.requests) == 6


def test_a_later_success_ends_the_retries(endpoint, receiver):
    receiver.answers = [(500, {}, b"busy"), (204, {}, b"")]
    [delivery] = services.emit("alert.fired", {"rule_id": 1})
    first = services.attempt_delivery(delivery.pk)
    assert (first.status, first.response_body) == ("pending", "busy")
    second = services.attempt_delivery(delivery.pk, now=first.next_attempt_at)
    assert (second.status, second.attempts, second.response_status, second.error) == ("succeeded", 2, 204, "")
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.requests[0].headers["x-uce-event-id"] == receiver.requests[1].headers["x-uce-event-id"]


def test_a_redirect_is_an_answer_not_followed(endpoint, receiver):
    receiver.answers = [(302, {"Location": "/elsewhere"}, b"")]
    [delivery] = services.emit("alert.fired", {"rule_id": 1})
    recorded = services.attempt_delivery(delivery.pk)
    assert (recorded.status, recorded.response_status) == ("pending", 302)
    assert [r.path for r in receiver.requests] == ["/hooks/uce"]


def test_an_unreachable_endpoint_is_an_error_retried(db, admin_user):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    Endpoint.objects.create(url=f"http://127.0.0.1:{port}/", events=["alert.fired"])
    [delivery] = services.emit("alert.fired", {"rule_id": 1})
    recorded = services.attempt_delivery(delivery.pk)
    assert recorded.status == "pending" and recorded.response_status is None
    assert "ConnectionRefusedError" in recorded.error


def test_an_address_that_became_unsafe_is_not_sent_to(endpoint, receiver, settings):
    [delivery] = services.emit("alert.fired", {"rule_id": 1})
    settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    recorded = services.attempt_delivery(delivery.pk)
    assert recorded.error.startswith("Not sent: ") and receiver.requests == []


def test_the_beat_sends_what_is_due(endpoint, receiver):
    from webhooks.tasks import send_due_deliveries

    services.emit("alert.fired", {"rule_id": 1})  # not committed in this test: no task was asked for
    assert receiver.requests == []
    assert send_due_deliveries() == 1
    assert len(receiver.requests) == 1 and Delivery.objects.get().status == "succeeded"
    assert send_due_deliveries() == 0
