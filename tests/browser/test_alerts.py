"""End-to-end in Chromium: a leader follows an alert from the bell to the dashboard, and sets an alert with the
keyboard, the form refusing a negative move first."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from alerts.evaluation import evaluate_pod
from alerts.models import AlertRule
from metrics.periods import period_start
from tests.support.factories import TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_leads_to_the_alert_and_the_dashboard(page, live_server, login, leader_a, pod_a, screenshot_path):
    # 70 leads a week, held pro rata to the day the week is at, against none: off target on any date.
    week = period_start("week", pod_a.local_today())
    TargetFactory(pod=pod_a, metric="lead_volume", grain="week", period_start=week, value=Decimal("70"))
    call_command("compute_metrics", "--full", verbosity=0)
    AlertRule.objects.create(owner=leader_a, pod=pod_a, metric="lead_volume", grain="week", condition="off_target")
    assert evaluate_pod(pod_a)["fired"] == 1

    login(page, live_server, "leader-a", "demo")
    bell = page.locator("[data-bell]")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    bell.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/alerts/")
    notice = page.locator("[data-notification]")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("Southeast US: Lead volume misses its target")
    page.screenshot(path=screenshot_path("alerts-notifications-browser.png"), full_page=True)
    notice.get_by_role("button", name="Open dashboard").click()
    page.wait_for_url(f"{live_server.url}/pods/southeast-us/?grain=week&period={week.isoformat()}&compare=previous")
    expect(page.locator("[data-unread-count]")).to_have_count(0)
    expect(page.locator("[data-bell]")).to_have_attribute("aria-label", "Notifications")


def test_a_leader_sets_an_alert_with_the_keyboard(page, live_server, login, leader_a, pod_a, screenshot_path):
    login(page, live_server, "leader-a", "demo", next_path="/alerts/subscriptions/")
    expect(page.locator("[data-no-rules]")).to_be_visible()
    page.get_by_role("link", name="New alert on Southeast US").click()
    page.get_by_label("Metric").select_option("tickets_opened")
    page.get_by_label("Condition").select_option("moves_by")
    page.get_by_label("Smallest move (%)").fill("-5")
    page.get_by_label("Smallest move (%)").press("Enter")
    summary = page.locator("#rule-form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("give 0 or more")
    assert not AlertRule.objects.exists()
    page.screenshot(path=screenshot_path("alerts-rule-error-browser.png"), full_page=True)
    page.get_by_label("Smallest move (%)").fill("30")
    page.get_by_label("Fewest events behind it").fill("12")
    page.get_by_label("Fewest events behind it").press("Enter")
    page.wait_for_url(f"{live_server.url}/alerts/subscriptions/")
    expect(page.locator("[data-rules]")).to_contain_text(
        "moves by 30% or more vs the previous week with at least 12 events behind it"
    )
    rule = AlertRule.objects.get()
    assert (rule.metric, rule.grain, rule.change_pct, rule.min_events) == ("tickets_opened", "week", 30, 12)
