"""Emitting events and delivering them (docs/WEBHOOKS.md).

:func:`emit` is called by the write that caused an event, inside its transaction: it writes one
``Delivery`` per active endpoint subscribed to the event and asks for their sends once that
transaction commits. The write never waits for HTTP, and a write rolled back sends nothing.
:func:`attempt_delivery` is one attempt, on a worker of the ``webhooks`` queue.
"""

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from . import destinations, signing
from .choices import DeliveryStatus, EventType
from .models import Delivery, Endpoint, new_secret

logger = logging.getLogger(__name__)

# The waits after each failed attempt; after the last one fails the delivery is failed (6 attempts in all).
BACKOFF = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10
# A claimed delivery is not claimed again before this: longer than one attempt can take, so a worker lost
# mid-send leaves it to be sent again by the beat (at least once: receivers deduplicate on the event id).
CLAIM_LEASE = dt.timedelta(seconds=TIMEOUT_SECONDS * 3 + 30)
RESPONSE_BODY_LIMIT = 2048
USER_AGENT = "UCE-Webhooks/1"

Data = dict | list[dict]


def emit(event_type: EventType | str, data: Data | Callable[[], Data]) -> list[Delivery]:
    """Record ``event_type`` for every active endpoint subscribed to it and send once the caller commits.

    ``data`` is the event's data, a list of them (one event each), or a function returning either:
    it is called only when some endpoint listens, so an event nobody subscribes to costs one query.
    """
    event_type = EventType(event_type)
    endpoints = list(Endpoint.objects.filter(active=True, events__contains=[event_type.value]).order_by("pk"))
    if not endpoints:
        return []
    data = data() if callable(data) else data
    now = timezone.now()
    deliveries = []
    for item in data if isinstance(data, list) else [data]:
        event_id = uuid.uuid4()
        payload = {"id": str(event_id), "type": event_type.value, "occurred_at": _utc(now), "data": item}
        payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))  # as the receiver will read it
        deliveries += [
            Delivery(
                endpoint=endpoint,
                event_type=event_type,
                event_id=event_id,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
    Delivery.objects.bulk_create(deliveries)
    ids = [delivery.pk for delivery in deliveries]
    # robust: a failure to enqueue must not break the caller's other on-commit work; the beat sends them anyway.
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return deliveries


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _enqueue(delivery_ids: list[int]) -> None:
    from .tasks import deliver

    for delivery_id in delivery_ids:
        try:
            deliver.delay(delivery_id)
        except BrokerError:  # the broker is down: send_due_deliveries sends it when it is back
            logger.warning("could not ask for the send of webhook delivery %s", delivery_id, exc_info=True)
            return


def body_of(delivery: Delivery) -> bytes:
    """The bytes sent, and signed: the payload as compact JSON."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def headers_of(delivery: Delivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-UCE-Event": delivery.event_type,
        "X-UCE-Event-Id": str(delivery.event_id),
        "X-UCE-Delivery-Attempt": str(delivery.attempts + 1),
        signing.HEADER: signing.header_value(delivery.endpoint.secret, timestamp, body),
    }


def next_attempt_after(attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When to try again after ``attempts`` failed attempts; None once they are all spent."""
    return now + BACKOFF[attempts - 1] if attempts < MAX_ATTEMPTS else None


def attempt_delivery(delivery_id: int, *, now: dt.datetime | None = None) -> Delivery | None:
    """One attempt at a due delivery; returns it as recorded, or None when it was not due or is claimed elsewhere.

    Safe to call twice: the claim (moving ``next_attempt_at`` forward) lets one caller through.
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + CLAIM_LEASE
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    outcome = {"response_status": None, "response_body": "", "error": ""}
    if not delivery.endpoint.active:
        outcome["error"] = "The endpoint was deactivated; not sent."
        return _record(delivery, outcome, now, give_up=True)
    body = body_of(delivery)
    try:
        destination = destinations.resolve(delivery.endpoint.url)
        answer = destinations.post(
            destination,
            body,
            headers_of(delivery, body, int(timezone.now().timestamp())),
            timeout=TIMEOUT_SECONDS,
            limit=RESPONSE_BODY_LIMIT,
        )
    except destinations.UnsafeDestination as error:
        outcome["error"] = f"Not sent: {error}"
    except (OSError, ValueError) as error:  # refused, reset, timed out, TLS, a malformed answer
        outcome["error"] = f"{type(error).__name__}: {error}"[:2000]
    else:
        outcome.update(response_status=answer.status, response_body=answer.body[:RESPONSE_BODY_LIMIT])
        if not 200 <= answer.status < 300:
            outcome["error"] = f"The endpoint answered {answer.status}."
    return _record(delivery, outcome, now)


def _record(delivery: Delivery, outcome: dict, now: dt.datetime, *, give_up: bool = False) -> Delivery:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    for name, value in outcome.items():
        setattr(delivery, name, value)
    if not outcome["error"]:
        delivery.status, delivery.next_attempt_at, delivery.delivered_at = DeliveryStatus.SUCCEEDED, None, now
    else:
        retry_at = None if give_up else next_attempt_after(delivery.attempts, now)
        delivery.status = DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED
        delivery.next_attempt_at = retry_at
    delivery.save(
        update_fields=[
            "attempts", "last_attempt_at", "response_status", "response_body", "error", "status",
            "next_attempt_at", "delivered_at",
        ]
    )  # fmt: skip
    if delivery.status == DeliveryStatus.FAILED:
        logger.warning("webhook delivery %s failed after %s attempts: %s", delivery.pk, delivery.attempts,
                       delivery.error)  # fmt: skip
    return delivery


def due_delivery_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


@transaction.atomic
def deliveries_resend(*, deliveries) -> int:
    """Send these deliveries again from their first attempt (same event id: a receiver that has it may skip it)."""
    ids = list(deliveries.values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), delivered_at=None
    )
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return len(ids)


@transaction.atomic
def endpoint_regenerate_secret(*, endpoint: Endpoint) -> Endpoint:
    """A new secret: deliveries signed from now on use it, the old one stops verifying at once."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint
