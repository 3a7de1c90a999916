"""The weekly digest: its content against the facts the test wrote, its schedule in the pod's zone, one mail
per person and week under redelivery, through a real SMTP server on loopback, and one-click unsubscribe.

Expected figures come from the facts (counted here) and METRICS.md's target rule, not from the code.
"""

import datetime as dt
import re
import threading
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from alerts import services
from alerts.digest import digest_week, pod_digest
from alerts.models import DigestDelivery, DigestSubscription
from alerts.tasks import send_due_digests, send_pod_digest
from devtools.workers import Worker, choose_broker, producer_on, wait_until
from pods.models import CenterOfExcellence
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AssignmentFactory,
    LeadFactory,
    SupportTicketFactory,
    TargetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.UCE_SITE_URL = "http://testserver"


NEW_YORK = zoneinfo.ZoneInfo("America/New_York")

# Mondays at 07:30 in New York: after a plain week, after the week DST ended (1 Nov), after the week
# DST began (8 Mar), and after the week across the new year (ISO week 53 of 2026).
MONDAYS = [
    dt.datetime(2026, 12, 7, 7, 30, tzinfo=NEW_YORK),
    dt.datetime(2026, 11, 2, 7, 30, tzinfo=NEW_YORK),
    dt.datetime(2026, 3, 9, 7, 30, tzinfo=NEW_YORK),
    dt.datetime(2027, 1, 4, 7, 30, tzinfo=NEW_YORK),
]


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)


def build_week(pod, monday_now: dt.datetime) -> dict:
    """Facts of the reported week W and the week before it; returns what the digest must say."""
    this_monday = monday_now.date() - dt.timedelta(days=monday_now.weekday())
    week, before = this_monday - dt.timedelta(days=7), this_monday - dt.timedelta(days=14)
    leads_account = AccountFactory(pod=pod, name="Lead Holder")
    # Lead volume of W: Wednesday noon twice, and Sunday 23:30 (W's last half hour); Monday 00:30 is next week.
    for when in (
        local(week + dt.timedelta(days=2), 12),
        local(week + dt.timedelta(days=2), 13),
        local(week + dt.timedelta(days=6), 23, 30),
    ):
        LeadFactory(account=leads_account, created_at=when)
    LeadFactory(account=leads_account, created_at=local(this_monday, 0, 30))
    TargetFactory(pod=pod, metric="lead_volume", grain="week", period_start=week, value=Decimal("10"))
    # Tickets: 20 opened the week before, 5 in W: a fall of 75%, with 20 events behind it.
    for n in range(20):
        SupportTicketFactory(account=leads_account, opened_at=local(before + dt.timedelta(days=n % 7), 10))
    for n in range(5):
        SupportTicketFactory(account=leads_account, opened_at=local(week + dt.timedelta(days=n), 10))
    # 5 against 5.5: misses by 0.5, within 10% of the target (0.55): amber.
    TargetFactory(pod=pod, metric="tickets_opened", grain="week", period_start=week, value=Decimal("5.5"))
    caller = AccountFactory(pod=pod, external_id="CALL-ME", name="Call Me Inc")
    for day in (1, 3):
        ActivityFactory(account=caller, job="learn", occurred_at=local(week + dt.timedelta(days=day), 11))
    for job in ("learn", "buy", "order_install", "adopt"):  # nobody in Support
        AssignmentFactory(pod=pod, job=job, started_on=week - dt.timedelta(days=30))
    return {"week": week, "lead_volume": 3, "tickets_change": (5 - 20) / 20 * 100}


def compute():
    call_command("compute_metrics", "--full", verbosity=0)


@pytest.mark.parametrize("now", MONDAYS, ids=lambda d: d.date().isoformat())
def test_the_digest_says_what_the_week_held(pod_a, now):
    with time_machine.travel(now, tick=False):
        expected = build_week(pod_a, now)
        compute()
        digest = pod_digest(pod_a, digest_week(pod_a, now))
    assert digest.week_start == expected["week"]
    assert digest.has_news
    assert [(line.key, line.value) for line in digest.off_target] == [("lead_volume", str(expected["lead_volume"]))]
    assert [line.key for line in digest.amber] == ["tickets_opened"]
    movers = {line.key: line.change for line in digest.movers}
    assert movers["tickets_opened"] == pytest.approx(expected["tickets_change"])
    assert all(abs(change) >= 10 for change in movers.values())
    assert digest.empty_jobs == ["Support"]
    assert [row["external_id"] for row in digest.accounts] == ["CALL-ME"]
    assert f"period={expected['week'].isoformat()}" in digest.dashboard_url and "grain=week" in digest.dashboard_url


@pytest.mark.parametrize(
    ("instant", "due"),
    [
        (dt.datetime(2026, 11, 2, 11, 59, tzinfo=dt.UTC), False),  # 06:59 EST, the day after DST ended
        (dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC), True),  # 07:00 EST
        (dt.datetime(2026, 7, 6, 10, 59, tzinfo=dt.UTC), False),  # 06:59 EDT
        (dt.datetime(2026, 7, 6, 11, 0, tzinfo=dt.UTC), True),  # 07:00 EDT
        (dt.datetime(2026, 7, 5, 23, 0, tzinfo=dt.UTC), True),  # Sunday evening: this week's went on Monday
    ],
)
def test_the_digest_is_due_at_seven_on_monday_in_the_pods_zone(pod_a, instant, due):
    assert services.digest_due(pod_a, instant) is due


@override_settings(UCE_DIGEST_WEEKDAY=4, UCE_DIGEST_TIME="16:30")
def test_the_digest_time_is_configurable(pod_b):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert not services.digest_due(pod_b, dt.datetime(2026, 12, 11, 16, 29, tzinfo=berlin))
    assert services.digest_due(pod_b, dt.datetime(2026, 12, 11, 16, 30, tzinfo=berlin))


def recipients_world(pod_a, pod_b, leader_a, staff_a):
    leader_a.email, staff_a.email = "leader@example.com", "staff@example.com"
    leader_a.save(), staff_a.save()
    DigestSubscription.objects.create(user=staff_a, pod=pod_a, status="subscribed")
    outsider = UserFactory(username="outsider", email="out@example.com")
    DigestSubscription.objects.create(user=outsider, pod=pod_a, status="subscribed")  # reads no pod: nothing
    coe = UserFactory(username="coe", email="coe@example.com")
    CenterOfExcellence.objects.create(name="Ops").members.add(coe)  # reads every pod, not opted in
    return outsider, coe


def test_recipients_are_leaders_and_opted_in_readers_and_follow_reassignment(pod_a, pod_b, leader_a, staff_a):
    outsider, coe = recipients_world(pod_a, pod_b, leader_a, staff_a)
    assert [p.username for p in services.digest_recipients(pod_a)] == ["leader-a", "staff-a"]
    DigestSubscription.objects.create(user=coe, pod=pod_a, status="subscribed")
    DigestSubscription.objects.update_or_create(user=leader_a, pod=pod_a, defaults={"status": "paused"})
    assert [p.username for p in services.digest_recipients(pod_a)] == ["coe", "staff-a"]
    staff_a.assignments.update(ended_on=pod_a.local_today())  # moved off the pod today
    assert [p.username for p in services.digest_recipients(pod_a)] == ["coe"]


def test_one_digest_per_person_and_week_when_the_task_is_delivered_twice(smtp_server, pod_a, pod_b, leader_a, staff_a):
    recipients_world(pod_a, pod_b, leader_a, staff_a)
    now = MONDAYS[0]
    with time_machine.travel(now, tick=False):
        build_week(pod_a, now)
        compute()
        assert send_pod_digest.apply(args=[pod_a.pk]).get() == 2
        assert send_pod_digest.apply(args=[pod_a.pk]).get() == 0  # the redelivery
        assert send_due_digests.apply().get() >= 1  # and the beat after it: nothing more either
    received = smtp_server.wait_for(2)
    assert sorted(address.addr_spec for message in received for address in message["To"].addresses) == [
        "leader@example.com",
        "staff@example.com",
    ]
    assert len(smtp_server.messages()) == 2
    assert DigestDelivery.objects.filter(pod=pod_a, status="sent").count() == 2
    message = received[0]
    assert message["Subject"].strip().startswith("Southeast US — Week 49, 2026")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Lead volume: 3" in text and "Call Me Inc" in text and "Support" in text
    assert "http://testserver/pods/southeast-us/?grain=week&period=2026-11-30" in text.replace("&amp;", "&")
    assert "Call Me Inc" in html and "Open the dashboard at this week" in html
    assert message["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"


def test_no_digest_when_there_is_nothing_to_say(smtp_server, pod_a, leader_a):
    leader_a.email = "leader@example.com"
    leader_a.save()
    now = MONDAYS[0]
    with time_machine.travel(now, tick=False):
        for job in ("learn", "buy", "order_install", "adopt", "support"):
            AssignmentFactory(pod=pod_a, job=job)
        compute()
        run = services.send_pod_digest(pod_a)
    assert run.nothing_to_say and run.sent == []
    assert smtp_server.messages() == []
    assert DigestDelivery.objects.get(user=leader_a).status == "nothing"


def test_one_click_unsubscribe_from_the_mail(client, smtp_server, pod_a, pod_b, leader_a, staff_a):
    recipients_world(pod_a, pod_b, leader_a, staff_a)
    now = MONDAYS[0]
    with time_machine.travel(now, tick=False):
        build_week(pod_a, now)
        compute()
        services.send_pod_digest(pod_a)
    message = next(m for m in smtp_server.wait_for(2) if "staff@example.com" in m["To"])
    link = re.search(r"(http://testserver/alerts/unsubscribe/[^\s]+/)", message.get_body(("plain",)).get_content())[1]
    assert message["List-Unsubscribe"].strip() == f"<{link}>"  # (folded: a long header starts on the next line)
    path = link.removeprefix("http://testserver")
    page = client.get(path)  # signed out: the link is the credential
    assert page.status_code == 200 and b"Unsubscribe?" in page.content
    assert DigestSubscription.objects.get(user=staff_a, pod=pod_a).status == "subscribed", "a GET changes nothing"
    assert client.post(path).status_code == 200  # what a mail client's one-click button sends
    assert DigestSubscription.objects.get(user=staff_a, pod=pod_a).status == "unsubscribed"
    assert [p.username for p in services.digest_recipients(pod_a)] == ["leader-a"]
    tampered = client.post(path[:-3] + "xx/")
    assert tampered.status_code == 400 and b"does not work" in tampered.content


def test_send_digests_command(pod_a, pod_b, leader_a, staff_a, smtp_server, capsys):
    recipients_world(pod_a, pod_b, leader_a, staff_a)
    now = MONDAYS[0]
    with time_machine.travel(now, tick=False):
        build_week(pod_a, now)
        compute()
        call_command("send_digests", "--pod", "southeast-us", "--dry-run")
        assert "would send to leader-a, staff-a" in capsys.readouterr().out
        assert smtp_server.messages() == [] and not DigestDelivery.objects.exists()
        call_command("send_digests", "--pod", "southeast-us")
        assert "2 digests sent." in capsys.readouterr().out
        call_command("send_digests")
        out = capsys.readouterr().out
        assert "already sent to leader-a, staff-a" in out and "0 digests sent." in out
    with pytest.raises(CommandError, match="No pod with slug 'nope'"):
        call_command("send_digests", "--pod", "nope")


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_digest_at_once_send_it_once(smtp_server, pod_a, pod_b, leader_a, staff_a):
    recipients_world(pod_a, pod_b, leader_a, staff_a)
    now = MONDAYS[0]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(len(services.send_pod_digest(pod_a, now=now).sent))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    with time_machine.travel(now, tick=False):
        build_week(pod_a, now)
        compute()
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(results) in ([0, 2], [1, 1])  # each person by exactly one of them
    smtp_server.wait_for(2)
    assert len(smtp_server.messages()) == 2  # every send was acknowledged before the threads ended
    assert DigestDelivery.objects.filter(status="sent").count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_given_the_digest_task_twice_mails_each_person_once(
    smtp_server, tmp_path, pod_a, pod_b, leader_a, staff_a
):
    """Over the broker (Redis when it runs, else the embedded one), as a redelivery after a lost ack would."""
    recipients_world(pod_a, pod_b, leader_a, staff_a)
    build_week(pod_a, timezone.now().astimezone(NEW_YORK))  # the real clock: the worker reads it too
    compute()
    broker = choose_broker(tmp_path)
    log = tmp_path / "worker.log"
    worker = Worker(broker, log, extra_env={"UCE_TEST_SMTP_PORT": str(smtp_server.port)})

    def finished():
        return re.findall(r"send_pod_digest\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log.read_text())

    try:
        worker.wait_ready()
        with producer_on(broker):
            send_pod_digest.delay(pod_a.pk)
            send_pod_digest.delay(pod_a.pk)
            wait_until(lambda: len(finished()) == 2, timeout=60, message="both deliveries of the task done")
    finally:
        worker.stop()
    assert sorted(int(sent) for sent in finished()) in ([0, 2], [1, 1])
    received = smtp_server.wait_for(2)
    assert sorted(address.addr_spec for message in received for address in message["To"].addresses) == [
        "leader@example.com",
        "staff@example.com",
    ]
    assert len(smtp_server.messages()) == 2
    assert DigestDelivery.objects.filter(pod=pod_a, status="sent").count() == 2
