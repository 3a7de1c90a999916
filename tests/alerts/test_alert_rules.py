"""Threshold alerts: fired once per rule and period, resolved when they clear, like for like while a period is
in progress, guarded by a minimum volume, scoped at each evaluation; the rule form refuses bad input whole.

Expected outcomes are worked out here from the facts written and METRICS.md's target rule.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from alerts.evaluation import evaluate_pod
from alerts.models import AlertEvent, AlertRule, Notification
from metrics.models import Target
from metrics.tasks import refresh_dirty_metrics
from pods.models import CenterOfExcellence
from tests.support.factories import AccountFactory, LeadFactory, SupportTicketFactory, TargetFactory, UserFactory
from tests.support.pages import page_of

pytestmark = pytest.mark.django_db
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# A Wednesday afternoon: the week of 7 Dec is 3 days in, December 9 days in.
NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=NEW_YORK)
WEEK = dt.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.UCE_SITE_URL = "http://testserver"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def leader(leader_a):
    leader_a.email = "leader@example.com"
    leader_a.save()
    return leader_a


def leads(pod, count, when):
    account = AccountFactory(pod=pod)
    for _ in range(count):
        LeadFactory(account=account, created_at=when)


def compute():
    call_command("compute_metrics", "--full", verbosity=0)


def test_fires_once_per_period_and_tells_when_it_clears(pod_a, leader, smtp_server, django_capture_on_commit_callbacks):
    # 70 a week held pro rata: 3 days in, 30. Two leads miss it by far: red.
    TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=WEEK, value=Decimal("70"))
    leads(pod_a, 2, dt.datetime(2026, 12, 8, 10, tzinfo=NEW_YORK))
    compute()
    rule = AlertRule.objects.create(owner=leader, pod=pod_a, metric="lead_volume", grain="week", condition="off_target")
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate_pod(pod_a)["fired"] == 1
        assert evaluate_pod(pod_a)["fired"] == 0  # the next refresh: still off target, no second alert
    [notice] = Notification.objects.filter(user=leader)
    assert notice.kind == "alert_fired" and "Lead volume" in notice.title and "Southeast US" in notice.title
    assert notice.url == "/pods/southeast-us/?grain=week&period=2026-12-07&compare=previous"
    [mail] = smtp_server.wait_for(1)
    assert mail["Subject"].strip() == notice.title and "leader@example.com" in mail["To"]

    leads(pod_a, 40, dt.datetime(2026, 12, 9, 9, tzinfo=NEW_YORK))  # 42 against 30: on target
    compute()
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate_pod(pod_a)["resolved"] == 1
    assert [n.kind for n in Notification.objects.filter(user=leader)] == ["alert_resolved", "alert_fired"]
    assert AlertEvent.objects.get(rule=rule).resolved_at is not None
    assert len(smtp_server.wait_for(2)) == 2

    Target.objects.filter(metric="lead_volume", grain="week").update(value=Decimal("700"))  # red again
    compute()
    assert evaluate_pod(pod_a)["fired"] == 0, "once per rule and period, even after it cleared"


def test_a_move_counts_like_for_like_and_needs_its_minimum_volume(pod_a, leader):
    account = AccountFactory(pod=pod_a)
    for _ in range(10):  # 1-9 November: what 1-9 December is compared with
        SupportTicketFactory(account=account, opened_at=dt.datetime(2026, 11, 3, 10, tzinfo=NEW_YORK))
    for _ in range(30):  # later in November: outside the comparison
        SupportTicketFactory(account=account, opened_at=dt.datetime(2026, 11, 20, 10, tzinfo=NEW_YORK))
    for _ in range(2):
        SupportTicketFactory(account=account, opened_at=dt.datetime(2026, 12, 3, 10, tzinfo=NEW_YORK))
    compute()
    change = (2 - 10) / 10 * 100  # -80%; against the whole of November it would be (2 - 40) / 40: -95%

    def rule(pct, events):
        return AlertRule.objects.create(
            owner=leader,
            pod=pod_a,
            metric="tickets_opened",
            grain="month",
            condition="moves_by",
            change_pct=Decimal(pct),
            min_events=events,
        )

    fires = rule(abs(change) - 5, 10)  # 75%: 10 events behind (the larger period)
    rule(abs(change) + 5, 0)  # 85%: only a whole-month comparison would reach it
    rule(abs(change) - 5, 11)  # one event more than the 10 behind it
    evaluate_pod(pod_a)
    assert set(AlertEvent.objects.values_list("rule", flat=True)) == {fires.pk}
    assert "-80.0%" in AlertEvent.objects.get(rule=fires).detail


def test_stays_red_needs_k_red_periods_in_a_row(pod_a, leader):
    for weeks_back in (2, 1, 0):
        start = WEEK - dt.timedelta(weeks=weeks_back)
        TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=start, value=Decimal("70"))
    TargetFactory(pod=pod_a, metric="tickets_opened", grain="week", period_start=WEEK, value=Decimal("70"))
    TargetFactory(pod=pod_a, metric="tickets_opened", grain="week", period_start=WEEK - dt.timedelta(weeks=1), value=70)
    compute()  # no leads and no tickets at all: every targeted week is red

    def rule(metric, periods):
        return AlertRule.objects.create(
            owner=leader, pod=pod_a, metric=metric, grain="week", condition="stays_red", periods=periods
        )

    three = rule("lead_volume", 3)
    rule("lead_volume", 4)  # the week before those has no target: not red
    rule("tickets_opened", 3)  # two targeted weeks only
    evaluate_pod(pod_a)
    assert set(AlertEvent.objects.values_list("rule", flat=True)) == {three.pk}


def test_a_person_moved_off_the_pod_stops_hearing_its_alerts(pod_a, leader):
    TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=WEEK, value=Decimal("70"))
    compute()
    AlertRule.objects.create(owner=leader, pod=pod_a, metric="lead_volume", grain="week", condition="off_target")
    pod_a.leaders.remove(leader)
    assert evaluate_pod(pod_a) == {"fired": 0, "resolved": 0, "checked": 0}
    assert not Notification.objects.exists()


def test_a_refresh_evaluates_the_rules_of_the_pods_it_touched(pod_a, leader):
    TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=WEEK, value=Decimal("70"))
    compute()
    AlertRule.objects.create(owner=leader, pod=pod_a, metric="lead_volume", grain="week", condition="off_target")
    leads(pod_a, 1, dt.datetime(2026, 12, 8, 10, tzinfo=NEW_YORK))  # marks the pod dirty
    refresh_dirty_metrics.apply()  # eager here: its alert evaluation runs at once
    assert Notification.objects.filter(user=leader, kind="alert_fired").count() == 1


def test_the_bell_counts_unread_and_opening_marks_read(client, pod_a, leader):
    TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=WEEK, value=Decimal("70"))
    compute()
    AlertRule.objects.create(owner=leader, pod=pod_a, metric="lead_volume", grain="week", condition="off_target")
    assert evaluate_pod(pod_a)["fired"] == 1
    client.force_login(leader)
    page = page_of(client.get("/alerts/"))
    assert page.find(data_unread_count=True).text() == "1"
    [notice] = Notification.objects.all()
    response = client.post(f"/alerts/{notice.pk}/open/")
    assert response.status_code == 302 and response["Location"] == notice.url
    assert page_of(client.get("/alerts/")).find_all(data_unread_count=True) == []
    other = UserFactory(username="someone-else")
    client.force_login(other)
    assert client.post(f"/alerts/{notice.pk}/open/").status_code == 404


NEW_RULE = "/alerts/pods/{}/rules/new/"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"metric": "no_such_metric", "condition": "off_target"}, "metric", "Unknown metric “no_such_metric”"),
        ({"metric": "activities", "condition": "off_target"}, "metric", "Unknown metric “activities”"),
        ({"metric": "win_rate", "condition": "moves_by", "change_pct": "-5"}, "change_pct", "give 0 or more"),
        ({"metric": "win_rate", "condition": "moves_by"}, "change_pct", "how large a move"),
        ({"metric": "win_rate", "condition": "stays_red", "periods": "1"}, "periods", "greater than or equal to 2"),
        ({"metric": "win_rate", "condition": "sometimes"}, "condition", "Select a valid choice"),
    ],
)
def test_a_bad_rule_is_refused_whole_with_a_clear_error(client, pod_a, leader, data, field, message):
    client.force_login(leader)
    response = client.post(NEW_RULE.format(pod_a.slug), {"grain": "week", "min_events": "0", **data})
    error = page_of(response).find(data_field=field).find(cls="field-error")
    assert message in error.text()
    assert not AlertRule.objects.exists()


def test_rules_are_set_on_pods_one_leads_only(client, pod_a, pod_b, leader, staff_a):
    coe = UserFactory(username="coe")
    CenterOfExcellence.objects.create(name="Ops").members.add(coe)
    body = {"metric": "win_rate", "grain": "month", "condition": "moves_by", "change_pct": "20", "min_events": "5"}
    client.force_login(leader)
    assert client.post(NEW_RULE.format(pod_b.slug), body).status_code == 404  # not a pod they read
    assert client.get(NEW_RULE.format("no-such-pod")).status_code == 404
    for reader in (staff_a, coe):  # they read the pod but do not set its alerts
        client.force_login(reader)
        assert client.post(NEW_RULE.format(pod_a.slug), body).status_code == 403
    assert not AlertRule.objects.exists()
    client.force_login(leader)
    response = client.post(NEW_RULE.format(pod_a.slug), {**body, "periods": "4"})
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.owner, rule.pod, rule.change_pct, rule.min_events, rule.periods) == (
        leader,
        pod_a,
        Decimal("20"),
        5,
        None,
    )
    listing = page_of(client.get("/alerts/subscriptions/")).find(data_rule=str(rule.pk))
    assert "moves by 20% or more vs the previous month with at least 5 events behind it" in listing.text()


def test_notifications_of_a_pod_one_no_longer_reads_are_gone(client, pod_a, leader):
    TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=WEEK, value=Decimal("70"))
    compute()
    AlertRule.objects.create(owner=leader, pod=pod_a, metric="lead_volume", grain="week", condition="off_target")
    assert evaluate_pod(pod_a)["fired"] == 1
    [notice] = Notification.objects.all()
    pod_a.leaders.remove(leader)
    client.force_login(leader)
    page = page_of(client.get("/alerts/"))
    assert page.find_all(data_notification=True) == [] and page.find_all(data_unread_count=True) == []
    assert client.post(f"/alerts/{notice.pk}/open/").status_code == 404


def test_the_dashboard_offers_an_alert_to_those_who_may_set_one(client, pod_a, leader, staff_a):
    compute()
    client.force_login(leader)
    link = page_of(client.get(f"/pods/{pod_a.slug}/")).find(data_set_alert=True)
    assert link.attrs["href"] == f"/alerts/pods/{pod_a.slug}/rules/new/"
    client.force_login(staff_a)
    assert page_of(client.get(f"/pods/{pod_a.slug}/")).find_all(data_set_alert=True) == []
