"""Who receives a pod's digest, and sending it once per person and week (docs/ALERTS.md)."""

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from pods.models import Pod
from pods.scoping import pods_readable_by

from . import mail
from .choices import DeliveryStatus, DigestStatus
from .digest import digest_week, pod_digest
from .models import DigestDelivery, DigestSubscription

logger = logging.getLogger(__name__)


def digest_statuses(user, pods) -> dict[int, str]:
    """``{pod id: subscribed | paused | unsubscribed}``: the person's choice, else subscribed for a pod they lead."""
    chosen = dict(DigestSubscription.objects.filter(user=user).values_list("pod_id", "status"))
    led = set(user.led_pods.values_list("pk", flat=True))
    default = {True: DigestStatus.SUBSCRIBED, False: DigestStatus.UNSUBSCRIBED}
    return {pod.pk: chosen.get(pod.pk, default[pod.pk in led]) for pod in pods}


def set_digest_status(user, pod: Pod, status: str) -> None:
    DigestSubscription.objects.update_or_create(user=user, pod=pod, defaults={"status": status})


def digest_recipients(pod: Pod) -> list:
    """Active people with an email who chose the digest (leaders unless they opted out) and may read the pod
    today: a person moved off the pod stops receiving it at once."""
    chosen = DigestSubscription.objects.filter(pod=pod)
    subscribed = chosen.filter(status=DigestStatus.SUBSCRIBED).values("user_id")
    declined = chosen.exclude(status=DigestStatus.SUBSCRIBED).values("user_id")
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(Q(pk__in=subscribed) | (Q(led_pods=pod) & ~Q(pk__in=declined)))
        .distinct()
        .order_by("username")
    )
    return [person for person in people if pods_readable_by(person).filter(pk=pod.pk).exists()]


def digest_due(pod: Pod, now: dt.datetime) -> bool:
    """Whether this week's digest time has come in the pod's zone (UCE_DIGEST_WEEKDAY at UCE_DIGEST_TIME)."""
    local = now.astimezone(zoneinfo.ZoneInfo(pod.timezone))
    hour, minute = (int(part) for part in settings.UCE_DIGEST_TIME.split(":"))
    if local.weekday() != settings.UCE_DIGEST_WEEKDAY:
        return local.weekday() > settings.UCE_DIGEST_WEEKDAY
    return (local.hour, local.minute) >= (hour, minute)


@dataclass
class DigestRun:
    pod: Pod
    week_start: dt.date
    sent: list = field(default_factory=list)
    already: list = field(default_factory=list)
    nothing_to_say: bool = False
    digest: object = None


def send_pod_digest(pod: Pod, *, now: dt.datetime | None = None, dry_run: bool = False) -> DigestRun:
    """The digest of the pod's last complete week to each recipient who has not had it yet.

    Each person's delivery row is inserted before their mail is sent, in its own transaction: a task
    delivered twice, two beats or two workers find it there and send nothing (``digest_delivery_once_a_week``).
    A failed send removes the row again, so the next tick retries that person.
    """
    now = now or timezone.now()
    week = digest_week(pod, now)
    run = DigestRun(pod=pod, week_start=week)
    recipients = digest_recipients(pod)
    if not recipients:
        return run
    pending = [
        person
        for person in recipients
        if not DigestDelivery.objects.filter(user=person, pod=pod, week_start=week).exists()
    ]
    run.already = [person for person in recipients if person not in pending]
    if not pending:
        return run
    digest = pod_digest(pod, week, now=now)
    run.digest = digest
    run.nothing_to_say = not digest.has_news
    if dry_run:
        run.sent = pending if digest.has_news else []
        return run
    status = DeliveryStatus.SENDING if digest.has_news else DeliveryStatus.NOTHING_TO_SAY
    for person in pending:
        try:
            with transaction.atomic():
                delivery = DigestDelivery.objects.create(
                    user=person, pod=pod, week_start=week, status=status, subject=digest.subject[:200]
                )
        except IntegrityError:  # another delivery of this task got there first
            run.already.append(person)
            continue
        if not digest.has_news:
            continue
        try:
            mail.digest_message(digest, person).send()
        except Exception:
            delivery.delete()
            logger.exception("digest of %s for %s could not be sent; the next tick retries", pod.slug, person)
            raise
        DigestDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
        run.sent.append(person)
    return run
