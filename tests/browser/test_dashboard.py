"""End-to-end in Chromium: a pod leader reads the dashboard, changes the period through htmx, goes Back,
drills into a figure, exports CSV and recomputes; a staff member cannot open another pod.

Data comes from factories and ``compute_metrics`` in each test (the dashboard reads snapshots only).
"""

import csv
import datetime as dt
import io
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from jobs.models import Lead
from metrics.models import RecomputeRequest
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AdoptionReadingFactory,
    AssignmentFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportTicketFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOBS = ["Learn", "Buy", "Order/Install", "Adopt", "Support"]
CHANNELS = ["digital", "in_person", "partner"]
JOB_CODES = ["learn", "buy", "order_install", "adopt", "support"]

ALL_CHARTS_DRAWN = """() => {
    const canvases = [...document.querySelectorAll('canvas[data-chart]')];
    return canvases.length === 4 && canvases.every(c => window.Chart && Chart.getChart(c));
}"""

# Painted, not just created: some pixels of every canvas are not transparent.
CANVASES_PAINTED = """() => [...document.querySelectorAll('canvas[data-chart]')].map(c => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) painted++; }
    return painted;
})"""


def seed_pod(pod):
    """Four months of work in every job and channel, plus a few leads a few minutes old (this month)."""
    now = timezone.now()
    with transaction.atomic():
        for job in JOB_CODES[:4]:
            AssignmentFactory(pod=pod, job=job, started_on=dt.date.today() - dt.timedelta(days=400))
        for n in range(8):
            account = AccountFactory(pod=pod, name=f"Account {n}")
            for k in range(10):
                ActivityFactory(
                    account=account,
                    job=JOB_CODES[(n + k) % 5],
                    channel=CHANNELS[k % 3],
                    occurred_at=now - dt.timedelta(days=3 + 11 * k + n, hours=n),
                )
            LeadFactory(
                account=account,
                created_at=now - dt.timedelta(days=20 + 9 * n),
                status=("accepted", "rejected", "open")[n % 3],
                decided_at=(now - dt.timedelta(days=15 + 9 * n)) if n % 3 != 2 else None,
            )
            created = now - dt.timedelta(days=100 + n)
            OpportunityFactory(
                account=account,
                name=f"Deal {n}",
                amount=Decimal(1000 * (n + 1)),
                created_at=created,
                status="won" if n % 2 == 0 else "lost",
                closed_at=now - dt.timedelta(days=5 + 12 * n),
            )
            OrderFactory(
                account=account,
                ordered_at=now - dt.timedelta(days=40 + n),
                installed_at=now - dt.timedelta(days=10 + n),
            )
            AdoptionReadingFactory(account=account, measured_on=dt.date.today() - dt.timedelta(days=7 * n))
            SupportTicketFactory(
                account=account,
                opened_at=now - dt.timedelta(days=6 * n + 2, hours=5),
                resolved_at=now - dt.timedelta(days=6 * n + 1) if n % 4 else None,
                csat=(n % 5) + 1 if n % 4 else None,
            )
        fresh = AccountFactory(pod=pod, name="Fresh Leads Inc.")
        for _ in range(3):
            LeadFactory(account=fresh, created_at=now - dt.timedelta(minutes=5))
    call_command("compute_metrics", "--full")


def local_today(pod) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(pod.timezone)).date()


def test_leader_reads_the_dashboard_changes_period_goes_back_drills_down_and_exports(
    page, live_server, login, leader_a, pod_a, tmp_path
):
    seed_pod(pod_a)
    today = local_today(pod_a)
    login(page, live_server, "leader-a", "demo")

    page.get_by_role("link", name="Open dashboard for Southeast US").click()
    page.wait_for_url(f"{live_server.url}/pods/southeast-us/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Southeast US")
    expect(page.locator(".period-label")).to_have_text(today.strftime("%B %Y"))

    # The headline three first, then the five jobs; every chart drawn on its canvas.
    expect(page.locator("[data-headline]")).to_have_count(3)
    assert page.locator("[data-headline] .kpi-label").all_inner_texts()[0].lower() == "lead volume"
    assert page.locator("[data-job] h3").all_inner_texts() == JOBS
    page.wait_for_function(ALL_CHARTS_DRAWN)
    assert all(count > 0 for count in page.evaluate(CANVASES_PAINTED))
    month_volume = page.locator('[data-headline="lead_volume"] .headline-value').inner_text().split()[0]

    # Changing the grain swaps the page through htmx (no reload: the marker survives) and updates the URL.
    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Grain").select_option("quarter")
    page.wait_for_url(re.compile(r"/pods/southeast-us/\?grain=quarter&period=\d{4}-\d{2}-01&compare=previous$"))
    quarter = f"Q{(today.month - 1) // 3 + 1} {today.year}"
    expect(page.locator(".period-label")).to_have_text(quarter)
    assert page.evaluate("window.__marker") == "still here"
    page.wait_for_function(ALL_CHARTS_DRAWN)
    assert page.evaluate("[...document.querySelectorAll('canvas[data-chart]')].length") == 4

    # Comparing with last year is one more state in the URL.
    page.get_by_label("Compare with").select_option("last_year")
    page.wait_for_url(re.compile(r"compare=last_year$"))
    # The quarter is in progress, so the comparison is the same days of the quarter a year earlier.
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    first = quarter_start.replace(year=today.year - 1)
    last = first + (today - quarter_start)
    comparison = expect(page.locator("#headline-title + p"))
    comparison.to_contain_text(f"vs {first.day} {first:%b}")
    comparison.to_contain_text(f"{last.day} {last:%b} {today.year - 1}")

    # Back restores the previous states, URL and content.
    page.go_back()
    page.wait_for_url(re.compile(r"grain=quarter&period=\d{4}-\d{2}-01&compare=previous$"))
    expect(page.get_by_label("Compare with")).to_have_value("previous")
    page.go_back()
    page.wait_for_url(f"{live_server.url}/pods/southeast-us/")
    expect(page.locator(".period-label")).to_have_text(today.strftime("%B %Y"))
    expect(page.get_by_label("Grain")).to_have_value("month")
    assert page.evaluate("window.__marker") == "still here"
    page.wait_for_function(ALL_CHARTS_DRAWN)

    # Drill into lead volume: the records behind the number.
    page.locator('[data-kpi="lead_volume"] a.kpi-value').click()
    page.wait_for_url(re.compile(r"/pods/southeast-us/drilldown/lead_volume/\?grain=month"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads created")
    rows = page.locator("table[data-drilldown] tbody tr")
    expect(rows).to_have_count(int(month_volume))
    assert "Fresh Leads Inc." in page.locator("table[data-drilldown]").inner_text()

    # Export what the dashboard shows.
    page.go_back()
    page.wait_for_url(f"{live_server.url}/pods/southeast-us/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("CSV")).click()
    download = download_info.value
    assert download.suggested_filename == f"southeast-us-month-{today.replace(day=1).isoformat()}.csv"
    path = tmp_path / "export.csv"
    download.save_as(path)
    rows = {row["Key"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}
    assert rows["lead_volume"]["Value"] == month_volume
    assert {"lead_acceptance_rate", "bookings_yoy_growth", "median_resolution_hours", "maze_index"} <= set(rows)


def test_recompute_shows_progress_then_fresh_figures(page, live_server, login, leader_a, pod_a):
    seed_pod(pod_a)
    login(page, live_server, "leader-a", "demo", next_path="/pods/southeast-us/")
    page.wait_for_function(ALL_CHARTS_DRAWN)
    page.evaluate("window.__marker = 'still here'")

    before = int(page.locator('[data-headline="lead_volume"] .headline-value').inner_text().split()[0])

    # A lead written in bulk (no model signal, so no refresh is queued): the figures are behind, and say so.
    account = AccountFactory(pod=pod_a, name="Late Lead Co.")
    Lead.objects.bulk_create([Lead(pod=pod_a, account=account, created_at=timezone.now(), channel="digital")])
    page.reload()
    expect(page.locator("#freshness")).to_contain_text("Pending changes")
    expect(page.locator('[data-headline="lead_volume"] .headline-value')).to_have_text(re.compile(rf"^{before}\b"))
    page.evaluate("window.__marker = 'still here'")

    page.get_by_role("button", name="Recompute").click()
    # The progress bar polls until the worker is done, then the figures reload in place.
    expect(page.locator("#freshness progress")).to_be_visible()
    expect(page.locator('[data-headline="lead_volume"] .headline-value')).to_have_text(
        re.compile(rf"^{before + 1}\b"), timeout=15_000
    )
    expect(page.locator("#freshness")).to_contain_text("Computed")
    expect(page.locator("#freshness")).not_to_contain_text("Pending changes")
    assert page.evaluate("window.__marker") == "still here"
    assert RecomputeRequest.objects.get(pod=pod_a).status == RecomputeRequest.Status.SUCCEEDED
    page.wait_for_function(ALL_CHARTS_DRAWN)


def test_staff_cannot_open_another_pods_dashboard(page, live_server, login, pod_a, pod_b):
    AssignmentFactory(pod=pod_a, job="learn", person=UserFactory(username="maria", full_name="Maria Lopez"))
    login(page, live_server, "maria", "demo")
    # Staff see their own pod (empty: no data yet) …
    page.goto(f"{live_server.url}/pods/southeast-us/")
    expect(page.locator("[data-empty-dashboard]")).to_contain_text("No data for Southeast US yet")
    # … and another pod answers 404, like a pod that does not exist (requested outside the page,
    # whose failed requests would fail the test).
    assert page.request.get(f"{live_server.url}/pods/dach/").status == 404
    assert page.request.get(f"{live_server.url}/pods/dach/export.csv").status == 404
    assert page.request.get(f"{live_server.url}/pods/compare/").status == 404
