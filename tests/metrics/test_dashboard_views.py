"""The pod dashboard, its drill-downs, CSV export and recomputation, read as a pod leader reads them.

One month is built by hand — March 2025 in New York, the month daylight saving starts — with
facts placed on both sides of its local-midnight edges, so every figure below is worked out from
the data written here (METRICS.md), not from the code's output.
"""

import csv
import datetime as dt
import io
import json
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.catalogue import METRICS
from metrics.models import RecomputeRequest
from pods.models import CenterOfExcellence
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AssignmentFactory,
    LeadFactory,
    OpportunityFactory,
    SupportTicketFactory,
    TargetFactory,
    UserFactory,
)
from tests.support.pages import Node, local, page_of

pytestmark = pytest.mark.django_db

MARCH = "2025-03-01"
JOBS = ["learn", "buy", "order_install", "adopt", "support"]
SCALAR_KEYS = [m.key for m in METRICS if m.is_scalar]


# --- Data: March 2025 in New York ------------------------------------------------------------------------------


def build_march(pod):
    """Facts around March 2025 (DST starts 9 March in New York), with the figures they make."""
    acme = AccountFactory(pod=pod, name="Acme Corp", external_id="ACME")
    globex = AccountFactory(pod=pod, name="Globex", external_id="GLOBEX")
    initech = AccountFactory(pod=pod, name="Initech", external_id="INITECH")
    umbrella = AccountFactory(pod=pod, name="Umbrella", external_id="UMBRELLA")
    hooli = AccountFactory(pod=pod, name="Hooli", external_id="HOOLI")

    # Leads created in March (local time): the first instant of the month and the last half hour count;
    # midnight on 1 April and 23:59 on 28 February do not.
    LeadFactory(
        account=hooli,
        external_id="L-START",
        created_at=local(pod, "2025-03-01 00:00"),
        status="rejected",
        decided_at=local(pod, "2025-03-02 09:00"),
        rejection_reason="No budget",
    )
    LeadFactory(account=hooli, external_id="L-END", created_at=local(pod, "2025-03-31 23:30"))
    LeadFactory(
        account=hooli,
        external_id="L-MID",
        created_at=local(pod, "2025-03-15 10:00"),
        status="accepted",
        decided_at=local(pod, "2025-03-16 10:00"),
    )
    LeadFactory(account=hooli, external_id="L-APRIL", created_at=local(pod, "2025-04-01 00:00"))
    LeadFactory(
        account=hooli,
        external_id="L-FEB",
        created_at=local(pod, "2025-02-28 23:59"),
        status="accepted",
        decided_at=local(pod, "2025-03-03 12:00"),
    )
    # Globex has a lead 49 days before the end of March; Umbrella's is 121 days before.
    LeadFactory(account=globex, external_id="L-GLOBEX", created_at=local(pod, "2025-02-10 12:00"))
    LeadFactory(account=umbrella, external_id="L-UMBRELLA", created_at=local(pod, "2024-12-01 12:00"))
    # A year earlier: two leads in March 2024.
    LeadFactory(account=hooli, external_id="L-LY1", created_at=local(pod, "2024-03-05 12:00"))
    LeadFactory(account=hooli, external_id="L-LY2", created_at=local(pod, "2024-03-20 12:00"))

    # Bookings: 3,000 + 1,500 won in March 2025 against 3,000 in March 2024 (+50%); one loss.
    OpportunityFactory(
        account=acme,
        name="Acme renewal",
        amount=Decimal("3000.00"),
        created_at=local(pod, "2025-01-10 10:00"),
        status="won",
        closed_at=local(pod, "2025-03-20 10:00"),
    )
    OpportunityFactory(
        account=hooli,
        name="Hooli pilot",
        amount=Decimal("1500.00"),
        created_at=local(pod, "2025-02-01 10:00"),
        status="won",
        closed_at=local(pod, "2025-03-31 23:00"),
    )
    OpportunityFactory(
        account=hooli,
        name="Hooli lost deal",
        amount=Decimal("900.00"),
        created_at=local(pod, "2025-02-01 10:00"),
        status="lost",
        closed_at=local(pod, "2025-03-05 10:00"),
    )
    OpportunityFactory(
        account=hooli,
        name="Hooli 2024",
        amount=Decimal("3000.00"),
        created_at=local(pod, "2024-01-10 10:00"),
        status="won",
        closed_at=local(pod, "2024-03-10 10:00"),
    )

    # Activities in March: Acme goes Learn → Buy → Learn (a loopback) → Learn.
    ActivityFactory(account=acme, job="learn", channel="digital", occurred_at=local(pod, "2025-03-03 10:00"))
    ActivityFactory(account=acme, job="buy", channel="in_person", occurred_at=local(pod, "2025-03-05 10:00"))
    ActivityFactory(account=acme, job="learn", channel="digital", occurred_at=local(pod, "2025-03-07 10:00"))
    ActivityFactory(account=acme, job="learn", channel="in_person", occurred_at=local(pod, "2025-03-10 10:00"))
    ActivityFactory(account=umbrella, job="learn", channel="digital", occurred_at=local(pod, "2025-03-12 10:00"))
    ActivityFactory(account=umbrella, job="learn", channel="partner", occurred_at=local(pod, "2025-03-20 10:00"))
    ActivityFactory(account=globex, job="learn", channel="digital", occurred_at=local(pod, "2025-03-04 10:00"))
    ActivityFactory(account=globex, job="learn", channel="digital", occurred_at=local(pod, "2025-03-06 10:00"))
    ActivityFactory(account=initech, job="learn", channel="digital", occurred_at=local(pod, "2025-03-08 10:00"))

    # Support: one ticket resolved in 24 hours with CSAT 4; one still open at the end of March.
    SupportTicketFactory(
        account=hooli,
        external_id="T-1",
        opened_at=local(pod, "2025-03-10 09:00"),
        resolved_at=local(pod, "2025-03-11 09:00"),
        csat=4,
    )
    SupportTicketFactory(
        account=hooli,
        external_id="T-2",
        opened_at=local(pod, "2025-03-20 09:00"),
        resolved_at=local(pod, "2025-04-02 09:00"),
    )

    # Only Buy is staffed in March 2025.
    AssignmentFactory(pod=pod, job="buy", started_on=dt.date(2025, 1, 1))

    # Targets for March: lead volume 4 (3 misses by 25%: red), acceptance 70% (66.7% misses by < 10%:
    # amber), YoY growth 40% (50% beats it: green).
    TargetFactory(pod=pod, metric="lead_volume", grain="month", period_start=dt.date(2025, 3, 1), value=4)
    TargetFactory(
        pod=pod, metric="lead_acceptance_rate", grain="month", period_start=dt.date(2025, 3, 1), value=Decimal("0.70")
    )
    TargetFactory(
        pod=pod, metric="bookings_yoy_growth", grain="month", period_start=dt.date(2025, 3, 1), value=Decimal("0.40")
    )
    call_command("compute_metrics", "--full")
    return pod


@pytest.fixture
def march(pod_a):
    return build_march(pod_a)


def dashboard(client, user, slug="southeast-us", **params):
    client.force_login(user)
    return client.get(f"/pods/{slug}/", {"grain": "month", "period": MARCH, **params})


def kpi_text(page: Node, key: str, cls="kpi-value") -> str:
    return page.find(data_kpi=key).find(cls=cls).text()


def headline(page: Node, key: str) -> Node:
    return page.find(data_headline=key)


# --- The page --------------------------------------------------------------------------------------------------


def test_headline_kpis_come_first_then_the_five_jobs(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    headlines = [node.attrs["data-headline"] for node in page.find_all(data_headline=True)]
    assert headlines == ["lead_volume", "lead_acceptance_rate", "bookings_yoy_growth"]
    assert [node.attrs["data-job"] for node in page.find_all(data_job=True)] == JOBS
    assert [node.find("h3").text() for node in page.find_all(data_job=True)] == [
        "Learn",
        "Buy",
        "Order/Install",
        "Adopt",
        "Support",
    ]
    # Headline cards come before the job cards in the document.
    html = dashboard(client, leader_a).content.decode()
    assert html.index('data-headline="lead_volume"') < html.index('data-job="learn"')


def test_figures_of_the_month_in_the_pods_time_zone(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    assert headline(page, "lead_volume").find(cls="headline-value").text() == "3"
    assert headline(page, "lead_acceptance_rate").find(cls="headline-value").text() == "66.7%"
    assert headline(page, "bookings_yoy_growth").find(cls="headline-value").text() == "+50.0%"
    assert kpi_text(page, "bookings") == "$4,500"
    assert kpi_text(page, "win_rate") == "66.7%"
    assert kpi_text(page, "engaged_accounts") == "4"
    assert kpi_text(page, "activity_total") == "9"
    assert kpi_text(page, "median_resolution_hours") == "24.0 hours"
    # Cycles of 69 days less the hour DST took (Acme) and 58 days 13 hours less that hour (Hooli): median 63.7.
    assert kpi_text(page, "median_sales_cycle_days") == "63.7 days"
    assert kpi_text(page, "csat") == "4.0"
    assert kpi_text(page, "open_backlog") == "1"
    # Nothing to divide: an em dash, not 0%.
    assert kpi_text(page, "adoption_rate") == "—"


def test_each_kpi_shows_its_target_status_in_words_and_icon(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    volume = headline(page, "lead_volume").find(cls="status")
    assert "status-red" in volume.classes and volume.text() == "✕ Off target"
    acceptance = headline(page, "lead_acceptance_rate").find(cls="status")
    assert "status-amber" in acceptance.classes and acceptance.text() == "! Within 10%"
    growth = headline(page, "bookings_yoy_growth").find(cls="status")
    assert "status-green" in growth.classes and growth.text() == "✓ On target"
    assert page.find(data_kpi="bookings").find(cls="status").text() == "No target"


def test_change_against_the_previous_period(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    # February: L-FEB and L-GLOBEX were created then; 3 against 2 is +50%, good news.
    card = headline(page, "lead_volume")
    change = card.find(cls="change")
    assert change.text() == "▲ +50.0%" and "change-better" in change.classes
    assert "up 50.0%, better" in change.text(spoken=True)
    assert "vs 2 in February 2025" in card.find(cls="headline-compare").text()
    # February decided no lead: no rate, so no change either.
    assert "vs — in February 2025" in headline(page, "lead_acceptance_rate").text()


def test_change_against_the_same_period_last_year(client, leader_a, march):
    page = page_of(dashboard(client, leader_a, compare="last_year"))
    card = headline(page, "lead_volume")
    assert "vs 2 in March 2024" in card.text()
    assert card.find(cls="change").text() == "▲ +50.0%"
    assert "$3,000" in page.find(data_kpi="bookings").find(cls="kpi-sub").text()


def test_lower_is_better_metrics_call_a_rise_worse(client, leader_a, march):
    # Backlog: 1 at the end of March against 0 at the end of February.
    page = page_of(dashboard(client, leader_a))
    change = page.find(data_kpi="open_backlog").find(cls="change")
    assert change.text() == "▲ +1" and "change-worse" in change.classes


def test_period_controls_and_canonical_links(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    assert page.find(cls="period-label").text() == "March 2025"
    grain = page.find("select", name="grain")
    assert [o.attrs["value"] for o in grain.find_all("option")] == ["week", "month", "quarter", "year"]
    assert "selected" in grain.find("option", value="month").attrs
    compare = page.find("select", name="compare")
    assert [o.attrs["value"] for o in compare.find_all("option")] == ["previous", "last_year"]
    previous = page.find("a", rel="prev")
    assert previous.attrs["href"] == "/pods/southeast-us/?grain=month&period=2025-02-01&compare=previous"
    assert previous.attrs["hx-get"] == previous.attrs["href"] and previous.attrs["hx-push-url"] == "true"
    assert page.find("a", rel="next").attrs["href"].endswith("period=2025-04-01&compare=previous")


@pytest.mark.parametrize(
    ("params", "label"),
    [
        ({"grain": "quarter", "period": "2025-03-17"}, "Q1 2025"),
        ({"grain": "week", "period": "2025-03-12"}, "Week 11, 2025 (10–16 Mar)"),
        ({"grain": "year", "period": "2025-03-01"}, "2025"),
        ({"grain": "decade", "period": "2025-03-01"}, "March 2025"),  # unknown grain: month
    ],
)
def test_any_day_opens_the_period_containing_it(client, leader_a, march, params, label):
    client.force_login(leader_a)
    page = page_of(client.get("/pods/southeast-us/", params))
    assert page.find(cls="period-label").text() == label


def test_a_garbled_period_opens_the_current_one_and_no_future_is_offered(client, leader_a, march):
    client.force_login(leader_a)
    page = page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": "yesterday"}))
    today = dt.datetime.now(zoneinfo.ZoneInfo("America/New_York")).date()
    assert page.find(cls="period-label").text() == today.strftime("%B %Y")
    assert not page.find_all("a", rel="next")
    future = page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": "2999-01-01"}))
    assert future.find(cls="period-label").text() == today.strftime("%B %Y")


def test_trend_sparklines_and_chart_data_cover_twelve_periods(client, leader_a, march):
    response = dashboard(client, leader_a)
    page = page_of(response)
    sparkline = headline(page, "lead_volume").find("svg", cls="sparkline")
    spoken = sparkline.attrs["aria-label"]
    assert spoken.startswith("Lead volume, last 12 periods: ")
    values = spoken.split(": ", 1)[1].split(", ")
    assert len(values) == 12 and values[-2:] == ["2", "3"]  # February, March
    data = json.loads(page.find("script", id="dashboard-chart-data").text())
    assert data["labels"][0] == "Apr 24" and data["labels"][-1] == "Mar 25"
    assert data["trends"]["lead_volume"][-1] == 3
    channels = {c["key"]: c["data"] for c in data["channelMix"]["channels"]}
    # Learn: Acme 2 digital + 1 in person, Umbrella 1 digital + 1 partner, Globex 2 and Initech 1 digital.
    assert channels == {
        "digital": [6, 0, 0, 0, 0],
        "in_person": [1, 1, 0, 0, 0],
        "partner": [1, 0, 0, 0, 0],
    }
    for name in ("leads", "bookings", "support", "channels"):
        canvas = page.find("canvas", data_chart=name)
        assert "chart-box" in canvas.parent.classes and canvas.attrs["aria-label"]


def test_journey_table_highlights_loopbacks(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    back = page.find("td", data_from="buy", data_to="learn")
    assert "is-loopback" in back.classes and back.text() == "↺ 1"
    assert "loopback" in back.text(spoken=True)
    forward = page.find("td", data_from="learn", data_to="buy")
    assert "is-loopback" not in forward.classes and forward.text() == "1"
    assert len(page.find("table", cls="heatmap").find_all("td", cls="is-loopback")) == 10  # below the diagonal
    assert kpi_text(page, "loopbacks") == "1"


def test_unstaffed_jobs_are_flagged(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    rows = {node.attrs["data-staff-job"]: node for node in page.find_all(data_staff_job=True)}
    assert rows["buy"].find(cls="staff-count").text() == "1"
    assert "is-empty" not in rows["buy"].classes
    for job in ("learn", "order_install", "adopt", "support"):
        assert "is-empty" in rows[job].classes and "Unstaffed" in rows[job].text()
    assert "Nobody works Learn, Order/Install, Adopt, Support" in page.find(data_unstaffed=True).text()


def test_engaged_accounts_without_a_lead_are_listed_busiest_first(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    section = page.find(id="engaged-accounts")
    rows = [
        (row.attrs["data-engaged-account"], [td.text() for td in row.find_all("td")])
        for row in section.find_all("tr", data_engaged_account=True)
    ]
    # Acme: 3 Learn activities, no lead ever. Umbrella: 2, its lead is 121 days old.
    # Globex has a lead 49 days before the end of March; Initech has a single Learn activity.
    assert [(code, cells[:3]) for code, cells in rows] == [
        ("ACME", ["Acme Corp", "3", "2"]),
        ("UMBRELLA", ["Umbrella", "2", "1"]),
    ]
    assert rows[1][1][3] == "2025-03-20 10:00"  # shown in the pod's time zone


def test_engaged_accounts_are_paginated_through_htmx(client, leader_a, pod_a):
    for n in range(13):
        account = AccountFactory(pod=pod_a, name=f"Reader {n:02d}")
        for day in (3, 4 + n % 5):
            ActivityFactory(account=account, job="learn", occurred_at=local(pod_a, f"2025-03-{day:02d} 10:00"))
    call_command("compute_metrics", "--full")
    client.force_login(leader_a)
    first = page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": MARCH}))
    assert len(first.find(id="engaged-accounts").find_all("tr", data_engaged_account=True)) == 10
    assert "Page 1 of 2 · 13 accounts" in first.find(cls="pager").text()
    response = client.get(
        "/pods/southeast-us/",
        {"grain": "month", "period": MARCH, "engaged_page": 2},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="engaged-accounts",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="engaged-accounts"')
    assert len(page_of(response).find_all("tr", data_engaged_account=True)) == 3
    assert (
        response["HX-Push-Url"] == "/pods/southeast-us/?grain=month&period=2025-03-01&compare=previous&engaged_page=2"
    )


def test_freshness_and_pending_changes(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    freshness = page.find(id="freshness")
    assert freshness.text().startswith("Computed")
    assert freshness.find("time").attrs["datetime"]
    assert "Pending changes" not in freshness.text()
    # A write after the computation is not in the figures yet: say so.
    LeadFactory(account=AccountFactory(pod=march), created_at=local(march, "2025-03-20 12:00"))
    page = page_of(dashboard(client, leader_a))
    assert "Pending changes" in page.find(id="freshness").text()


# --- Rendered figures are kept, but never shown stale ------------------------------------------------------------


def test_figures_follow_a_recomputation_although_the_page_was_seen_before(client, leader_a, march):
    assert headline(page_of(dashboard(client, leader_a)), "lead_volume").find(cls="headline-value").text() == "3"
    LeadFactory(account=AccountFactory(pod=march), created_at=local(march, "2025-03-20 12:00"))
    # Until the refresh, the page says its figures lack a change, and shows the figures it has.
    page = page_of(dashboard(client, leader_a))
    assert "Pending changes" in page.find(id="freshness").text()
    assert headline(page, "lead_volume").find(cls="headline-value").text() == "3"
    call_command("compute_metrics")
    page = page_of(dashboard(client, leader_a))
    assert headline(page, "lead_volume").find(cls="headline-value").text() == "4"
    assert "Pending changes" not in page.find(id="freshness").text()


def test_a_changed_target_shows_at_once(client, leader_a, march):
    volume = headline(page_of(dashboard(client, leader_a)), "lead_volume").find(cls="status")
    assert volume.text() == "✕ Off target"
    # 3 leads against a target of 3: met. No recomputation is needed for a target.
    march.targets.filter(metric="lead_volume").update(value=3)
    volume = headline(page_of(dashboard(client, leader_a)), "lead_volume").find(cls="status")
    assert "status-green" in volume.classes and volume.text() == "✓ On target"
    march.targets.filter(metric="lead_volume").delete()
    assert headline(page_of(dashboard(client, leader_a)), "lead_volume").find(cls="status").text() == "No target"


def test_a_second_view_of_the_same_figures_reads_no_snapshot(client, leader_a, staff_a, march):
    with CaptureQueriesContext(connection) as first:
        leader_page = dashboard(client, leader_a)
    with CaptureQueriesContext(connection) as second:
        staff_page = dashboard(client, staff_a)
    read_snapshots = [q["sql"] for q in second.captured_queries if 'metrics_podmetricsnapshot"."metrics' in q["sql"]]
    assert read_snapshots == []
    assert len(second.captured_queries) < len(first.captured_queries)
    # Another person who may see the pod gets the same figures.
    figures = page_of(leader_page).find(id="dashboard-body")
    again = page_of(staff_page).find(id="dashboard-body")
    assert [n.text() for n in figures.find_all(data_kpi=True)] == [n.text() for n in again.find_all(data_kpi=True)]


def test_a_pod_without_data_shows_the_empty_state(client, leader_a, pod_a):
    page = page_of(dashboard(client, leader_a))
    assert page.find(data_empty_dashboard=True).find("h2").text() == "No data for Southeast US yet"
    assert not page.find_all(data_kpi=True)
    assert page.find(id="freshness").find("button").text() == "↻ Recompute"


# --- htmx: partial swaps, history and caching ----------------------------------------------------------------


def test_htmx_request_gets_the_body_partial_and_the_canonical_url_to_push(client, leader_a, march):
    client.force_login(leader_a)
    response = client.get(
        "/pods/southeast-us/",
        {"grain": "quarter", "period": "2025-03-17", "compare": "last_year"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="dashboard-body",
    )
    html = response.content.decode()
    assert "<html" not in html and '<header class="site-header"' not in html
    assert html.lstrip().startswith('<div id="dashboard-body"')
    assert response["HX-Push-Url"] == "/pods/southeast-us/?grain=quarter&period=2025-01-01&compare=last_year"
    assert "HX-Request" in response["Vary"]
    assert page_of(response).find(cls="period-label").text() == "Q1 2025"


def test_history_restore_gets_the_whole_page(client, leader_a, march):
    client.force_login(leader_a)
    response = client.get(
        "/pods/southeast-us/",
        {"grain": "month", "period": MARCH},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    html = response.content.decode()
    assert html.startswith("<!doctype html>") and '<div id="dashboard-body"' in html
    assert "HX-Push-Url" not in response
    assert "HX-Request" in response["Vary"]


def test_the_full_page_also_varies_on_hx_request(client, leader_a, march):
    assert "HX-Request" in dashboard(client, leader_a)["Vary"]


def test_reload_after_recompute_does_not_add_a_history_entry(client, leader_a, march):
    client.force_login(leader_a)
    response = client.get(
        "/pods/southeast-us/",
        {"grain": "month", "period": MARCH},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="dashboard-body",
        HTTP_HX_TRIGGER="dashboard-body",
    )
    assert response.content.decode().lstrip().startswith('<div id="dashboard-body"')
    assert "HX-Push-Url" not in response


def test_controls_swap_the_body_and_push_the_url(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    form = page.find("form", cls="filters")
    assert form.attrs["hx-get"] == "/pods/southeast-us/" and form.attrs["action"] == "/pods/southeast-us/"
    assert form.attrs["hx-target"] == "#dashboard-body" and form.attrs["hx-push-url"] == "true"
    body = page.find(id="dashboard-body")
    assert body.attrs["hx-trigger"] == "metrics-recomputed from:body"
    assert body.attrs["hx-get"] == "/pods/southeast-us/?grain=month&period=2025-03-01&compare=previous"


def test_pages_load_chart_js_and_the_dashboard_module_without_inline_scripts(client, leader_a, march):
    html = dashboard(client, leader_a).content.decode()
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert "/static/vendor/chart.js-4.5.1/chart.umd.min.js" in sources and "/static/js/dashboard.js" in sources
    # Every other <script> is json_script data, never code.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' id="dashboard-chart-data" type="application/json"']


# --- Access --------------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, pod_a):
    response = client.get("/pods/southeast-us/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


@pytest.mark.parametrize(
    "path",
    [
        "/pods/dach/",
        "/pods/dach/drilldown/lead_volume/",
        "/pods/dach/export.csv",
        "/pods/no-such-pod/",
    ],
)
def test_a_pod_outside_the_scope_answers_404(client, staff_a, pod_b, path):
    client.force_login(staff_a)
    assert client.get(path).status_code == 404


def test_staff_see_their_own_pod(client, staff_a, march):
    client.force_login(staff_a)
    assert client.get("/pods/southeast-us/").status_code == 200


# --- Drill-down ----------------------------------------------------------------------------------------------


def drilldown(client, user, metric, slug="southeast-us", headers=None, **params):
    client.force_login(user)
    return client.get(
        f"/pods/{slug}/drilldown/{metric}/", {"grain": "month", "period": MARCH, **params}, **(headers or {})
    )


def first_column(page: Node) -> list[str]:
    table = page.find("table", data_drilldown=True)
    return [row.find("td").text() for row in table.find("tbody").find_all("tr")]


def test_every_kpi_links_to_its_records(client, leader_a, march):
    page = page_of(dashboard(client, leader_a))
    for key in SCALAR_KEYS:
        if key == "staff_by_job":
            continue
        link = page.find(data_kpi=key).find("a", cls="kpi-value")
        assert (
            link.attrs["href"] == f"/pods/southeast-us/drilldown/{key}/?grain=month&period=2025-03-01&compare=previous"
        )
        assert drilldown(client, leader_a, key).status_code == 200


def test_lead_volume_records_are_the_leads_created_in_the_local_month(client, leader_a, march):
    page = page_of(drilldown(client, leader_a, "lead_volume"))
    assert sorted(first_column(page)) == ["L-END", "L-MID", "L-START"]
    assert page.find(data_figure=True).text() == "3"
    assert page.find("h1").text() == "Leads created"
    # Times read in New York: the last lead of March is 23:30 there (03:30 UTC on 1 April).
    table = page.find("table", data_drilldown=True)
    end_row = next(r for r in table.find("tbody").find_all("tr") if r.find("td").text() == "L-END")
    assert "2025-03-31 23:30" in end_row.text()


def test_bookings_records_are_the_won_opportunities_closed_in_the_month(client, leader_a, march):
    page = page_of(drilldown(client, leader_a, "bookings"))
    table = page.find("table", data_drilldown=True)
    rows = [[td.text() for td in row.find_all("td")] for row in table.find("tbody").find_all("tr")]
    assert [(r[0], r[2]) for r in rows] == [("Hooli pilot", "$1,500.00"), ("Acme renewal", "$3,000.00")]
    assert page.find(data_figure=True).text() == "$4,500"


def test_growth_records_show_both_years(client, leader_a, march):
    page = page_of(drilldown(client, leader_a, "bookings_yoy_growth"))
    assert sorted(first_column(page)) == ["A year earlier", "This period", "This period"]


def test_acceptance_records_are_the_decided_leads(client, leader_a, march):
    page = page_of(drilldown(client, leader_a, "lead_acceptance_rate"))
    assert sorted(first_column(page)) == ["L-FEB", "L-MID", "L-START"]
    assert "No budget" in page.find("table", data_drilldown=True).text()


def test_resolution_records_carry_their_duration(client, leader_a, march):
    page = page_of(drilldown(client, leader_a, "median_resolution_hours"))
    table = page.find("table", data_drilldown=True)
    assert [row.find_all("td")[-1].text() for row in table.find("tbody").find_all("tr")] == ["24.0 hours"]
    backlog = page_of(drilldown(client, leader_a, "open_backlog"))
    assert first_column(backlog) == ["T-2"]


def test_loopback_records_are_the_moves_back_to_an_earlier_job(client, leader_a, march):
    page = page_of(drilldown(client, leader_a, "loopbacks"))
    table = page.find("table", data_drilldown=True)
    rows = [[td.text() for td in row.find_all("td")] for row in table.find("tbody").find_all("tr")]
    assert [(r[0], r[2], r[3]) for r in rows] == [("Acme Corp", "Buy", "Learn")]
    moves = page_of(drilldown(client, leader_a, "maze_index"))
    assert len(moves.find("table", data_drilldown=True).find("tbody").find_all("tr")) == 2


def test_drilldown_is_paginated_with_htmx_partials(client, leader_a, pod_a):
    account = AccountFactory(pod=pod_a)
    for n in range(30):
        LeadFactory(
            account=account, external_id=f"L-{n:02d}", created_at=local(pod_a, f"2025-03-{1 + n % 28:02d} 12:00")
        )
    call_command("compute_metrics", "--full")
    page = page_of(drilldown(client, leader_a, "lead_volume"))
    assert len(first_column(page)) == 25
    assert "30 records" in page.find(cls="records-count").text()
    response = drilldown(
        client, leader_a, "lead_volume", page=2, headers={"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "records"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="records"')
    assert len(first_column(page_of(response))) == 5
    assert (
        response["HX-Push-Url"]
        == "/pods/southeast-us/drilldown/lead_volume/?grain=month&period=2025-03-01&compare=previous&page=2"
    )


def test_unknown_metric_answers_404(client, leader_a, march):
    assert drilldown(client, leader_a, "happiness").status_code == 404
    assert drilldown(client, leader_a, "activities").status_code == 404  # an object, not a figure


def test_drilldown_never_shows_another_pods_records(client, leader_ab, march, pod_b):
    LeadFactory(account=AccountFactory(pod=pod_b), external_id="L-DACH", created_at=local(pod_b, "2025-03-10 12:00"))
    call_command("compute_metrics", "--full")
    assert "L-DACH" not in first_column(page_of(drilldown(client, leader_ab, "lead_volume")))
    assert first_column(page_of(drilldown(client, leader_ab, "lead_volume", slug="dach"))) == ["L-DACH"]


# --- CSV export ----------------------------------------------------------------------------------------------


def export_rows(client, user, **params) -> list[dict]:
    client.force_login(user)
    response = client.get("/pods/southeast-us/export.csv", {"grain": "month", "period": MARCH, **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="southeast-us-month-2025-03-01.csv"'
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_export_has_every_kpi_of_the_period_and_its_comparison(client, leader_a, march):
    rows = export_rows(client, leader_a)
    by_key = {row["Key"]: row for row in rows}
    assert set(SCALAR_KEYS) <= set(by_key)
    volume = by_key["lead_volume"]
    assert volume["Period"] == "March 2025" and volume["Value"] == "3"
    assert volume["Comparison period"] == "February 2025" and volume["Comparison value"] == "2"
    assert volume["Target status"] == "red" and volume["Job"] == "Learn"
    assert by_key["bookings"]["Value"] == "4500.00"
    assert float(by_key["lead_acceptance_rate"]["Value"]) == pytest.approx(2 / 3)
    assert by_key["adoption_rate"]["Value"] == ""
    assert by_key["staff_by_job"]["Job"] in {"Learn", "Buy", "Order/Install", "Adopt", "Support"}


def test_export_follows_the_chosen_comparison(client, leader_a, march):
    by_key = {row["Key"]: row for row in export_rows(client, leader_a, compare="last_year")}
    assert by_key["bookings"]["Comparison period"] == "March 2024"
    assert float(by_key["bookings"]["Comparison value"]) == 3000


def test_export_neutralises_spreadsheet_formulas(client, leader_a, march):
    march.name = '=HYPERLINK("http://evil.example","click")'
    march.save()
    rows = export_rows(client, leader_a)
    assert rows[0]["Pod"] == "'" + march.name


def test_the_export_link_carries_the_state(client, leader_a, march):
    page = page_of(dashboard(client, leader_a, compare="last_year"))
    link = next(a for a in page.find_all("a") if "CSV" in a.text())
    assert link.attrs["href"] == "/pods/southeast-us/export.csv?grain=month&period=2025-03-01&compare=last_year"


# --- Recompute -----------------------------------------------------------------------------------------------


def test_recompute_creates_a_request_runs_it_on_commit_and_reports_progress(
    client, leader_a, march, django_capture_on_commit_callbacks
):
    client.force_login(leader_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/pods/southeast-us/recompute/",
            {"grain": "month", "period": MARCH, "compare": "previous"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="freshness",
        )
    assert len(callbacks) == 1
    request = RecomputeRequest.objects.get()
    assert request.pod == march and request.requested_by == leader_a
    # The answer is the progress bar, polling the progress partial every second.
    fragment = page_of(response).find(id="freshness")
    assert fragment.attrs["hx-trigger"] == "every 1s"
    assert (
        fragment.attrs["hx-get"]
        == f"/pods/southeast-us/recompute/{request.pk}/?grain=month&period=2025-03-01&compare=previous"
    )
    assert fragment.find("progress").attrs["max"] == "100"

    # The task ran eagerly on commit: the next poll reports success and asks the dashboard to reload.
    request.refresh_from_db()
    assert request.status == RecomputeRequest.Status.SUCCEEDED
    progress = client.get(fragment.attrs["hx-get"], HTTP_HX_REQUEST="true", HTTP_HX_TARGET="freshness")
    assert progress["HX-Trigger"] == "metrics-recomputed"
    done = page_of(progress).find(id="freshness")
    assert "hx-trigger" not in done.attrs and "Recomputed" in done.text()


def test_progress_while_running_keeps_polling(client, leader_a, march):
    request = RecomputeRequest.objects.create(
        pod=march, requested_by=leader_a, status="running", steps_total=8, steps_done=2
    )
    client.force_login(leader_a)
    response = client.get(f"/pods/southeast-us/recompute/{request.pk}/", HTTP_HX_REQUEST="true")
    fragment = page_of(response).find(id="freshness")
    assert fragment.attrs["hx-trigger"] == "every 1s"
    assert fragment.find("progress").attrs["value"] == "25"
    assert "HX-Trigger" not in response
    # And a page opened meanwhile shows the same progress bar.
    page = page_of(dashboard(client, leader_a))
    assert page.find(id="freshness").find("progress").attrs["value"] == "25"


def test_recompute_without_htmx_redirects_back_to_the_same_view(client, leader_a, march):
    client.force_login(leader_a)
    response = client.post("/pods/southeast-us/recompute/", {"grain": "quarter", "period": MARCH})
    assert response.status_code == 302
    assert response["Location"] == "/pods/southeast-us/?grain=quarter&period=2025-01-01&compare=previous"


def test_recompute_is_a_post_and_scoped(client, staff_a, leader_a, march, pod_b):
    client.force_login(staff_a)
    assert client.get("/pods/southeast-us/recompute/").status_code == 405
    assert client.post("/pods/dach/recompute/").status_code == 404
    other = RecomputeRequest.objects.create(pod=pod_b)
    assert client.get(f"/pods/southeast-us/recompute/{other.pk}/").status_code == 404
    assert client.get(f"/pods/dach/recompute/{other.pk}/").status_code == 404
    assert RecomputeRequest.objects.count() == 1


# --- Query counts ----------------------------------------------------------------------------------------------


def add_volume(pod, accounts: int):
    """More of everything: accounts with Learn activities (engaged, no lead), leads, wins and tickets."""
    for n in range(accounts):
        account = AccountFactory(pod=pod)
        for day in (2, 9, 16):
            ActivityFactory(account=account, job="learn", occurred_at=local(pod, f"2025-03-{day:02d} 10:00"))
        LeadFactory(account=AccountFactory(pod=pod), created_at=local(pod, f"2025-03-{1 + n % 28:02d} 10:00"))
        OpportunityFactory(
            account=account,
            created_at=local(pod, "2025-01-02 10:00"),
            status="won",
            closed_at=local(pod, f"2025-03-{1 + n % 28:02d} 15:00"),
        )
        SupportTicketFactory(account=account, opened_at=local(pod, f"2025-03-{1 + n % 28:02d} 08:00"))
    call_command("compute_metrics", "--full")


@pytest.mark.parametrize(
    "path",
    [
        "/pods/southeast-us/?grain=month&period=2025-03-01",
        "/pods/southeast-us/?grain=week&period=2025-03-10&compare=last_year",
        "/pods/southeast-us/drilldown/bookings/?grain=month&period=2025-03-01",
        "/pods/southeast-us/drilldown/maze_index/?grain=quarter&period=2025-01-01",
        "/pods/southeast-us/export.csv?grain=month&period=2025-03-01",
    ],
)
def test_query_count_does_not_grow_with_the_data(client, leader_a, pod_a, django_assert_num_queries, path):
    client.force_login(leader_a)
    add_volume(pod_a, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200

    add_volume(pod_a, 40)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200


# A view of figures already rendered reads only what is never cached: the session, the user, the pod
# scoped to the person with what they may do on it (recompute, set alerts) and its freshness line with
# the version of the data (one statement), the person's roles (the navigation's links) and the bell's
# unread count.  A superuser's roles need no query.  None of these grows with the data, the pod count
# or the person's roles.
VIEW_OF_RENDERED_FIGURES = 5


def coe_member():
    user = UserFactory(username="analyst")
    CenterOfExcellence.objects.get(name="Data & Analytics").members.add(user)  # made by the migrations
    return user


@pytest.mark.parametrize(
    ("person", "queries"),
    [
        ("leader_a", VIEW_OF_RENDERED_FIGURES),
        ("staff_a", VIEW_OF_RENDERED_FIGURES),
        ("group_admin", VIEW_OF_RENDERED_FIGURES),
        ("coe", VIEW_OF_RENDERED_FIGURES),
        ("admin_user", VIEW_OF_RENDERED_FIGURES - 1),
    ],
)
def test_a_view_of_figures_already_rendered_makes_a_fixed_few_queries(
    request, client, march, leader_ab, person, queries, django_assert_num_queries
):
    user = coe_member() if person == "coe" else request.getfixturevalue(person)
    dashboard(client, leader_ab)  # someone else rendered this version's figures
    client.force_login(user)
    with django_assert_num_queries(queries):
        page = page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": MARCH}))
    assert headline(page, "lead_volume").find(cls="headline-value").text() == "3"


def test_new_data_gives_fresh_figures_and_then_the_same_few_queries(client, leader_a, pod_a, django_assert_num_queries):
    def view():
        return page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": MARCH}))

    add_volume(pod_a, 2)
    client.force_login(leader_a)
    view()
    with django_assert_num_queries(VIEW_OF_RENDERED_FIGURES):
        page = view()
    assert headline(page, "lead_volume").find(cls="headline-value").text() == "2"
    assert len(page.find(id="engaged-accounts").find_all(data_engaged_account=True)) == 2

    add_volume(pod_a, 40)  # and a refresh: a new version of the data
    page = view()
    assert headline(page, "lead_volume").find(cls="headline-value").text() == "42"
    assert "Page 1 of 5 · 42 accounts" in page.find(id="engaged-accounts").find(cls="pager").text()
    with django_assert_num_queries(VIEW_OF_RENDERED_FIGURES):
        again = view()
    assert headline(again, "lead_volume").find(cls="headline-value").text() == "42"


def test_what_the_person_may_do_is_not_taken_from_the_cached_page(client, march, leader_a, staff_a):
    def actions(user):
        page = page_of(dashboard(client, user))
        return bool(page.find_all(data_set_alert=True)), bool(page.find(id="freshness").find_all("button"))

    assert actions(leader_a) == (True, True)  # renders the figures
    assert actions(staff_a) == (False, True)  # staff recompute their pod but set no alerts
    assert actions(coe_member()) == (False, False)  # a center of excellence reads, and changes nothing
