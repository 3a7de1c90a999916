"""Home (each pod's headline KPIs of this month, with a sparkline) and the pod comparison (admins and
multi-pod leaders): figures, access, sorting, links and query counts."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.periods import shift
from tests.support.factories import (
    AccountFactory,
    LeadFactory,
    OpportunityFactory,
    PodFactory,
    SupportTicketFactory,
    TargetFactory,
    UserFactory,
)
from tests.support.pages import Node, local, page_of

pytestmark = pytest.mark.django_db


def this_month(pod) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(pod.timezone)).date().replace(day=1)


def noon(pod, day: dt.date) -> dt.datetime:
    return local(pod, f"{day.isoformat()} 12:00")


def build_current_month(pod, leads: int = 2):
    """``leads`` leads now (one accepted, one rejected), 3 last month; 2,000 booked now vs 1,000 a year ago."""
    month = this_month(pod)
    account = AccountFactory(pod=pod)
    now = timezone.now()
    for n in range(leads):
        status = ("accepted", "rejected")[n % 2] if n < 2 else "open"
        LeadFactory(account=account, created_at=now, status=status, decided_at=now if status != "open" else None)
    for _ in range(3):
        LeadFactory(account=account, created_at=noon(pod, shift("month", month, -1)))
    OpportunityFactory(account=account, amount=Decimal("2000"), created_at=now, status="won", closed_at=now)
    year_ago = noon(pod, shift("month", month, -12))
    OpportunityFactory(account=account, amount=Decimal("1000"), created_at=year_ago, status="won", closed_at=year_ago)
    return month


def home_card(client, user, slug) -> Node:
    client.force_login(user)
    return page_of(client.get("/")).find(data_pod=slug)


# --- Home ------------------------------------------------------------------------------------------------------


def test_home_cards_show_this_months_headline_kpis(client, leader_a, pod_a):
    month = build_current_month(pod_a)
    TargetFactory(pod=pod_a, metric="lead_volume", grain="month", period_start=month, value=2)
    call_command("compute_metrics", "--full")

    card = home_card(client, leader_a, "southeast-us")
    kpis = {node.attrs["data-headline"]: node for node in card.find_all(data_headline=True)}
    assert list(kpis) == ["lead_volume", "lead_acceptance_rate", "bookings_yoy_growth"]
    assert kpis["lead_volume"].find(cls="kpi-value").text() == "2"
    assert kpis["lead_acceptance_rate"].find(cls="kpi-value").text() == "50.0%"
    assert kpis["bookings_yoy_growth"].find(cls="kpi-value").text() == "+100.0%"
    # Against last month's 3 leads, and with the target met — in words, not only colour.
    assert kpis["lead_volume"].find(cls="change").text() == "▼ −33.3%"
    assert kpis["lead_volume"].find(cls="status").text() == "✓ On target"
    # Each figure opens the records behind it for this month.
    link = kpis["lead_volume"].find("a", cls="kpi-value").attrs["href"]
    assert link == f"/pods/southeast-us/drilldown/lead_volume/?grain=month&period={month.isoformat()}&compare=previous"


def test_home_sparkline_is_twelve_months_of_lead_volume_drawn_on_the_server(client, leader_a, pod_a):
    build_current_month(pod_a, leads=4)
    call_command("compute_metrics", "--full")
    sparkline = home_card(client, leader_a, "southeast-us").find("svg", cls="sparkline")
    values = sparkline.attrs["aria-label"].split(": ", 1)[1].split(", ")
    assert values[-2:] == ["3", "4"] and len(values) == 12
    # Drawn without JavaScript: a polyline through the 12 months.
    assert len(sparkline.find("polyline").attrs["points"].split()) == 12


def test_home_card_without_figures_says_so(client, leader_a, pod_a):
    card = home_card(client, leader_a, "southeast-us")
    assert "No figures yet" in card.find(cls="sparkline-slot").text()
    assert card.find(data_headline="lead_volume").find(cls="kpi-value").text() == "0"
    assert card.find(data_headline="lead_acceptance_rate").find(cls="kpi-value").text() == "—"


def test_home_query_count_does_not_grow_with_pods_and_snapshots(client, admin_user, django_assert_num_queries):
    def add_pods(first, last):
        for n in range(first, last):
            pod = PodFactory(slug=f"pod-{n}", name=f"Pod {n}", timezone=("Europe/Berlin", "America/Chicago")[n % 2])
            build_current_month(pod, leads=n % 3 + 1)
            TargetFactory(pod=pod, metric="lead_volume", grain="month", period_start=this_month(pod), value=2)
        call_command("compute_metrics", "--full")

    client.force_login(admin_user)
    add_pods(0, 2)
    with CaptureQueriesContext(connection) as two_pods:
        assert client.get("/").status_code == 200

    add_pods(2, 10)
    with django_assert_num_queries(len(two_pods.captured_queries)):
        page = page_of(client.get("/"))
    assert len(page.find_all("li", cls="pod-card")) == 10


def test_nav_offers_the_comparison_only_to_those_who_may_compare(client, leader_a, leader_ab, staff_a):
    def nav_links(user):
        client.force_login(user)
        return [a.text() for a in page_of(client.get("/")).find("nav", aria_label="Main").find_all("a")]

    assert "Compare pods" in nav_links(leader_ab)
    assert "Compare pods" not in nav_links(leader_a)
    assert "Compare pods" not in nav_links(staff_a)


# --- Comparison ------------------------------------------------------------------------------------------------

MARCH = "2025-03-01"


@pytest.fixture
def three_pods(pod_a, pod_b):
    """Lead volume in March 2025: Southeast US 3, DACH 5, Nordics 1; Nordics decides no lead."""
    nordics = PodFactory(slug="nordics", name="Nordics", timezone="Europe/Stockholm")
    for pod, count in ((pod_a, 3), (pod_b, 5), (nordics, 1)):
        account = AccountFactory(pod=pod)
        for n in range(count):
            decided = pod is not nordics
            LeadFactory(
                account=account,
                created_at=local(pod, f"2025-03-{n + 2:02d} 10:00"),
                status=("accepted" if n % 2 == 0 else "rejected") if decided else "open",
                decided_at=local(pod, f"2025-03-{n + 3:02d} 10:00") if decided else None,
            )
    TargetFactory(pod=pod_b, metric="lead_volume", grain="month", period_start=dt.date(2025, 3, 1), value=6)
    call_command("compute_metrics", "--full")
    return pod_a, pod_b, nordics


def compare(client, user, headers=None, **params):
    client.force_login(user)
    return client.get("/pods/compare/", {"grain": "month", "period": MARCH, **params}, **(headers or {}))


def pod_order(page: Node) -> list[str]:
    return [row.attrs["data-pod"] for row in page.find("table", cls="compare-table").find_all("tr", data_pod=True)]


def cell(page: Node, slug: str, key: str) -> Node:
    return page.find("tr", data_pod=slug).find("td", data_kpi=key)


@pytest.mark.parametrize("role", ["leader_a", "staff_a", "outsider"])
def test_comparison_is_404_for_single_pod_users(request, client, pod_a, pod_b, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/pods/compare/").status_code == 404


def test_comparison_needs_a_login(client):
    response = client.get("/pods/compare/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


@pytest.mark.parametrize(
    ("role", "pods"),
    [
        ("admin_user", ["dach", "nordics", "southeast-us"]),
        ("group_admin", ["dach", "nordics", "southeast-us"]),
        ("leader_ab", ["dach", "southeast-us"]),
    ],
)
def test_comparison_shows_the_pods_in_scope(request, client, three_pods, role, pods):
    page = page_of(compare(client, request.getfixturevalue(role)))
    assert pod_order(page) == pods  # by name unless sorted


def test_kpis_side_by_side_with_status_and_change(client, admin_user, three_pods):
    page = page_of(compare(client, admin_user))
    assert cell(page, "dach", "lead_volume").find(cls="compare-value").text() == "5"
    assert cell(page, "southeast-us", "lead_volume").find(cls="compare-value").text() == "3"
    # DACH decided 5 leads: 3 accepted, 2 rejected.
    assert cell(page, "dach", "lead_acceptance_rate").find(cls="compare-value").text() == "60.0%"
    assert cell(page, "nordics", "lead_acceptance_rate").find(cls="compare-value").text() == "—"
    dot = cell(page, "dach", "lead_volume").find(cls="status-dot")
    assert "status-red" in dot.classes and dot.text(spoken=True) == "Off target"
    # February had nothing: +5 leads.
    assert cell(page, "dach", "lead_volume").find(cls="change").text() == "▲ +5"


def test_sorting_by_a_kpi_column_either_way_with_empty_values_last(client, admin_user, three_pods):
    assert pod_order(page_of(compare(client, admin_user, sort="lead_volume", dir="desc"))) == [
        "dach",
        "southeast-us",
        "nordics",
    ]
    assert pod_order(page_of(compare(client, admin_user, sort="lead_volume", dir="asc"))) == [
        "nordics",
        "southeast-us",
        "dach",
    ]
    # Southeast US accepted 2 of 3 (66.7%), DACH 3 of 5 (60%), Nordics decided none: last both ways.
    assert pod_order(page_of(compare(client, admin_user, sort="lead_acceptance_rate", dir="desc"))) == [
        "southeast-us",
        "dach",
        "nordics",
    ]
    assert pod_order(page_of(compare(client, admin_user, sort="lead_acceptance_rate", dir="asc"))) == [
        "dach",
        "southeast-us",
        "nordics",
    ]
    # An unknown column sorts by pod name (here Z to A).
    assert pod_order(page_of(compare(client, admin_user, sort="password", dir="desc"))) == [
        "southeast-us",
        "nordics",
        "dach",
    ]


def test_column_headers_sort_and_say_how(client, admin_user, three_pods):
    page = page_of(compare(client, admin_user, sort="lead_volume", dir="desc"))
    header = page.find("th", data_column="lead_volume")
    assert header.attrs["aria-sort"] == "descending"
    link = header.find("a")
    # Clicking the sorted column again reverses it; the link is shareable and swaps through htmx.
    assert (
        link.attrs["href"] == "/pods/compare/?grain=month&period=2025-03-01&compare=previous&sort=lead_volume&dir=asc"
    )
    assert link.attrs["hx-get"] == link.attrs["href"] and link.attrs["hx-push-url"] == "true"
    # A new column starts best first: highest lead volume, but shortest resolution time.
    cycle = page.find("th", data_column="median_resolution_hours").find("a").attrs["href"]
    assert cycle.endswith("sort=median_resolution_hours&dir=asc")
    assert "aria-sort" not in page.find("th", data_column="bookings").attrs


def test_moving_to_another_period_keeps_the_sort(client, admin_user, three_pods):
    page = page_of(compare(client, admin_user, sort="lead_volume", dir="desc"))
    previous = page.find("a", rel="prev")
    assert previous.attrs["href"] == (
        "/pods/compare/?grain=month&period=2025-02-01&compare=previous&sort=lead_volume&dir=desc"
    )
    assert previous.attrs["hx-get"] == previous.attrs["href"] and previous.attrs["hx-target"] == "#compare"
    assert (
        page.find("a", rel="next")
        .attrs["href"]
        .endswith("period=2025-04-01&compare=previous&sort=lead_volume&dir=desc")
    )


def test_each_cell_opens_that_pods_dashboard_for_the_period(client, admin_user, three_pods):
    page = page_of(compare(client, admin_user, grain="quarter", period="2025-02-10", compare="last_year"))
    link = cell(page, "dach", "bookings").find("a").attrs["href"]
    assert link == "/pods/dach/?grain=quarter&period=2025-01-01&compare=last_year#kpi-bookings"
    assert page.find("tr", data_pod="dach").find("th").find("a").attrs["href"] == (
        "/pods/dach/?grain=quarter&period=2025-01-01&compare=last_year"
    )


def test_comparison_swaps_through_htmx_and_pushes_the_url(client, admin_user, three_pods):
    response = compare(client, admin_user, sort="lead_volume", dir="desc", headers={"HTTP_HX_REQUEST": "true"})
    assert response.content.decode().lstrip().startswith('<div id="compare"')
    assert response["HX-Push-Url"] == (
        "/pods/compare/?grain=month&period=2025-03-01&compare=previous&sort=lead_volume&dir=desc"
    )
    assert "HX-Request" in response["Vary"]


def test_a_quiet_pod_keeps_its_backlog_in_periods_after_its_data(client, admin_user, pod_a, pod_b):
    # A ticket opened in 2022 and never resolved is still open in March 2025, long after the
    # engine's horizon for that pod ended.
    SupportTicketFactory(account=AccountFactory(pod=pod_b), opened_at=local(pod_b, "2022-05-03 10:00"))
    LeadFactory(account=AccountFactory(pod=pod_a), created_at=local(pod_a, "2025-03-03 10:00"))
    call_command("compute_metrics", "--full")
    page = page_of(compare(client, admin_user))
    assert cell(page, "dach", "open_backlog").find(cls="compare-value").text() == "1"
    assert cell(page, "southeast-us", "open_backlog").find(cls="compare-value").text() == "0"


def test_comparison_query_count_does_not_grow_with_pods(client, admin_user, django_assert_num_queries):
    def add_pods(first, last):
        for n in range(first, last):
            pod = PodFactory(slug=f"pod-{n}", name=f"Pod {n}")
            account = AccountFactory(pod=pod)
            for day in range(1, n + 2):
                LeadFactory(account=account, created_at=local(pod, f"2025-03-{day:02d} 10:00"))
            pod.leaders.add(UserFactory())
        call_command("compute_metrics", "--full")

    client.force_login(admin_user)
    add_pods(0, 2)
    with CaptureQueriesContext(connection) as small:
        assert compare(client, admin_user, sort="lead_volume").status_code == 200
    add_pods(2, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        page = page_of(compare(client, admin_user, sort="lead_volume"))
    assert len(pod_order(page)) == 12
