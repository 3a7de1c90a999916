"""A webhook sent by a real Celery worker consuming the webhooks queue: the reassignment commits, the worker
delivers the signed event to the receiver on loopback."""

import datetime as dt
import hashlib
import hmac
import json

import pytest

from devtools.workers import Worker, choose_broker, producer_on, wait_until
from pods.services import assignment_reassign
from tests.support.factories import AssignmentFactory, UserFactory
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_on_the_webhooks_queue_delivers_the_event(tmp_path, receiver, pod_a, pod_b):
    endpoint = Endpoint.objects.create(url=receiver.url, events=["assignment.changed"])
    person = UserFactory(username="moved")
    AssignmentFactory(person=person, pod=pod_a, job="learn", started_on=dt.date(2025, 1, 6))
    broker = choose_broker(tmp_path)
    worker = Worker(broker, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        assert broker.webhooks_queue in worker.output()  # it listens on the webhooks queue
        with producer_on(broker):
            assignment_reassign(person=person, pod=pod_b, job="buy", effective_on=dt.date(2026, 3, 2))
            assert receiver.got_one.wait(60), worker.output()
        wait_until(lambda: Delivery.objects.get().status == "succeeded", timeout=30, message="delivery recorded")
    finally:
        worker.stop()
    [request] = receiver.requests
    fields = dict(item.split("=", 1) for item in request.headers["x-uce-signature"].split(","))
    expected = hmac.new(endpoint.secret.encode(), f"{fields['t']}.".encode() + request.body, hashlib.sha256)
    assert hmac.compare_digest(expected.hexdigest(), fields["v1"])
    payload = json.loads(request.body)
    assert (payload["type"], payload["data"]["old"]["pod"], payload["data"]["new"]["pod"]) == (
        "assignment.changed",
        "southeast-us",
        "dach",
    )
    assert "webhooks.tasks.deliver" in worker.output()
