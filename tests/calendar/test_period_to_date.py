"""The month in progress, read at whatever date the clock reads (docs/PERIOD-TO-DATE.md).

``make test`` runs this module at the real date and again at every instant of
``tests/calendar/dates.py`` (``make test-calendar``).  The facts are laid out around "today" in each
pod's own zone — a different number of leads every day, for the month a year ago, the previous
month and this month so far — and every expected figure is counted here, day by day, from the facts
written, with the calendar module: none is read from the code under test.
"""

import calendar
import datetime as dt
import os
import subprocess
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from metrics.to_date import windows_on
from tests.support import oracle
from tests.support.factories import AccountFactory, LeadFactory, TargetFactory
from tests.support.pages import page_of

pytestmark = pytest.mark.django_db


# --- The calendar, counted independently ------------------------------------------------------------------------


def month_days(first: dt.date) -> int:
    return calendar.monthrange(first.year, first.month)[1]


def month_before(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def days_from(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range(count)]


def leads_on(day: dt.date) -> int:
    """1, 2 or 3 leads, changing day by day, so that any two windows of different days differ."""
    return 1 + day.toordinal() % 3


def span(first: dt.date, count: int, *, year: bool = False) -> str:
    """``1–5 Dec``, ``1 Dec`` (one day), ``1–5 Dec 2025`` with the year: how the pages name a window."""
    last = first + dt.timedelta(days=count - 1)
    suffix = f" {last.year}" if year else ""
    if count == 1:
        return f"{last.day} {calendar.month_abbr[last.month]}{suffix}"
    return f"{first.day}–{last.day} {calendar.month_abbr[last.month]}{suffix}"


def percent_change(value: int, before: int) -> str:
    amount = (value - before) / before * 100
    sign = "+" if amount > 0 else ("−" if amount < 0 else "±")
    return f"{sign}{abs(amount):.1f}%"


class MonthToDate:
    """This month so far in ``pod``'s zone, and the windows it is compared with, by counting days."""

    def __init__(self, pod):
        self.today = timezone.now().astimezone(zoneinfo.ZoneInfo(pod.timezone)).date()
        self.first = self.today.replace(day=1)
        self.days = self.today.day
        self.period_days = month_days(self.first)
        self.previous = month_before(self.first)
        self.previous_days = min(self.days, month_days(self.previous))
        self.last_year = self.first.replace(year=self.first.year - 1)
        self.last_year_days = min(self.days, month_days(self.last_year))

    def so_far(self) -> list[dt.date]:
        return days_from(self.first, self.days)

    def previous_window(self) -> list[dt.date]:
        return days_from(self.previous, self.previous_days)

    def last_year_window(self) -> list[dt.date]:
        return days_from(self.last_year, self.last_year_days)

    def every_day_with_facts(self) -> list[dt.date]:
        return [
            *days_from(self.last_year, month_days(self.last_year)),
            *days_from(self.previous, month_days(self.previous)),
            *self.so_far(),
        ]


def lay_out_leads(pod) -> MonthToDate:
    """``leads_on(day)`` leads on every day of the month a year ago, the previous month and this month so
    far: at local noon, and today half-way between local midnight and now (never in the future)."""
    month = MonthToDate(pod)
    zone = zoneinfo.ZoneInfo(pod.timezone)
    account = AccountFactory(pod=pod)
    now = timezone.now()
    for day in month.every_day_with_facts():
        if day == month.today:
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
            moment = midnight + (now - midnight) / 2
        else:
            moment = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
        for _ in range(leads_on(day)):
            LeadFactory(account=account, created_at=moment)
    return month


def total(days: list[dt.date]) -> int:
    return sum(leads_on(day) for day in days)


# --- The clock itself ------------------------------------------------------------------------------------------


def test_the_clock_reads_the_frozen_instant_or_the_real_one():
    frozen = os.environ.get("UCE_TEST_NOW")
    if frozen:
        expected = dt.datetime.fromisoformat(frozen)
    else:  # the real clock, read by another process that time-machine cannot reach
        expected = dt.datetime.fromtimestamp(int(subprocess.check_output(["date", "+%s"])), dt.UTC)
    assert dt.timedelta(0) <= timezone.now() - expected < dt.timedelta(minutes=15)


# --- The windows, for every day of two years -------------------------------------------------------------------


@pytest.mark.parametrize("grain", oracle.GRAINS)
def test_windows_agree_with_days_counted_one_by_one_on_every_day_of_2027_and_2028(grain):
    day = dt.date(2027, 1, 1)
    while day < dt.date(2029, 1, 1):
        windows = windows_on(grain, day)
        counted = oracle.to_date_windows(grain, day)
        got = {
            "current": (windows.current.start, windows.current.days),
            "previous_period": (windows.previous.start, windows.previous.days),
            "same_period_last_year": (windows.last_year.start, windows.last_year.days),
        }
        assert got == counted, f"{grain} on {day}"
        day += dt.timedelta(days=1)


def test_the_label_of_5_december_is_1_5_dec_vs_1_5_nov():
    windows = windows_on("month", dt.date(2026, 12, 5))
    assert (windows.current.label(), windows.previous.label()) == ("1–5 Dec", "1–5 Nov")
    assert windows.last_year.label(year=True) == "1–5 Dec 2025"


# --- The dashboard --------------------------------------------------------------------------------------------


def dashboard(client, user, slug="southeast-us", **params):
    client.force_login(user)
    return page_of(client.get(f"/pods/{slug}/", params))


def test_the_dashboard_marks_the_month_in_progress_and_compares_the_same_days(client, leader_a, pod_a):
    month = lay_out_leads(pod_a)
    # 10 leads a day for the month: pro rata, 10 for each day so far.
    TargetFactory(
        pod=pod_a, metric="lead_volume", grain="month", period_start=month.first, value=10 * month.period_days
    )
    # A rate does not accumulate: it is held to its whole target from the first day.
    TargetFactory(pod=pod_a, metric="lead_acceptance_rate", grain="month", period_start=month.first, value="0.70")
    call_command("compute_metrics", "--full")

    page = dashboard(client, leader_a)
    note = page.find(data_in_progress=True).text()
    assert f"{calendar.month_name[month.first.month]} {month.first.year} is not over" in note
    assert f"{month.days} of its {month.period_days} days so far" in note
    assert "pro rata" in note

    so_far, before = total(month.so_far()), total(month.previous_window())
    card = page.find(data_headline="lead_volume")
    assert card.find(cls="headline-value").text() == f"{so_far:,}"
    compared = card.find(cls="headline-compare").text()
    assert compared.endswith(f"vs {before:,} in {span(month.previous, month.previous_days)}")
    assert percent_change(so_far, before) in compared
    heading = page.find(id="headline-title").parent.find("p").text()
    assert heading == f"{span(month.first, month.days)} vs {span(month.previous, month.previous_days)}"
    target = card.find(cls="target-note").text()
    if month.days < month.period_days:
        assert target == f"Target {10 * month.days:,} so far (of {10 * month.period_days:,} for the period)"
    else:  # its last day: the share is the whole target
        assert target == f"Target {10 * month.period_days:,}"
    assert page.find(data_headline="lead_acceptance_rate").find(cls="target-note").text() == "Target 70.0%"


def test_against_last_year_the_same_days_a_year_earlier(client, leader_a, pod_a):
    month = lay_out_leads(pod_a)
    call_command("compute_metrics", "--full")

    card = dashboard(client, leader_a, compare="last_year").find(data_headline="lead_volume")
    before = total(month.last_year_window())
    assert card.find(cls="headline-value").text() == f"{total(month.so_far()):,}"
    label = span(month.last_year, month.last_year_days, year=True)
    assert card.find(cls="headline-compare").text().endswith(f"vs {before:,} in {label}")


def test_a_complete_month_keeps_its_whole_figures(client, leader_a, pod_a):
    month = lay_out_leads(pod_a)
    TargetFactory(pod=pod_a, metric="lead_volume", grain="month", period_start=month.previous, value=40)
    call_command("compute_metrics", "--full")

    page = dashboard(client, leader_a, grain="month", period=month.previous.isoformat())
    assert not page.find_all(data_in_progress=True)
    card = page.find(data_headline="lead_volume")
    assert card.find(cls="headline-value").text() == f"{total(days_from(month.previous, month_days(month.previous))):,}"
    # No facts the month before: the comparison is the whole of it, 0.
    before = month_before(month.previous)
    assert (
        card.find(cls="headline-compare").text().endswith(f"vs 0 in {calendar.month_name[before.month]} {before.year}")
    )
    assert card.find(cls="target-note").text() == "Target 40"


# --- Home, comparison and API --------------------------------------------------------------------------------


def test_home_cards_say_the_month_is_in_progress_with_the_same_days_compared(client, leader_a, pod_a):
    month = lay_out_leads(pod_a)
    call_command("compute_metrics", "--full")

    client.force_login(leader_a)
    card = page_of(client.get("/")).find(data_pod="southeast-us")
    period = card.find(cls="pod-period").text()
    expected = f"{span(month.first, month.days)} vs {span(month.previous, month.previous_days)}"
    assert period == f"In progress {calendar.month_name[month.first.month]} {month.first.year}: {expected}"
    lead_volume = card.find(data_headline="lead_volume")
    assert lead_volume.find(cls="kpi-value").text() == f"{total(month.so_far()):,}"
    change = percent_change(total(month.so_far()), total(month.previous_window()))
    assert change in lead_volume.find(cls="change").text()


def test_the_comparison_reads_each_pod_in_its_own_zone(client, leader_ab, pod_a, pod_b):
    months = {pod.slug: lay_out_leads(pod) for pod in (pod_a, pod_b)}
    call_command("compute_metrics", "--full")

    client.force_login(leader_ab)
    page = page_of(client.get("/pods/compare/", {"grain": "month"}))
    assert "is not over" in page.find(data_in_progress=True).text()
    shown = max(month.first for month in months.values())  # the newest month of any pod is offered
    for slug, month in months.items():
        row = page.find("tr", data_pod=slug)
        cell = row.find(data_kpi="lead_volume").find(cls="compare-value").text()
        if month.first < shown:  # still the last day of the month before in this pod's zone
            assert "not begun yet" in row.find(data_row_note=True).text()
            assert cell == "0"
        else:
            assert row.find(data_row_note=True).text() == f"{span(month.first, month.days)} so far"
            assert cell == f"{total(month.so_far()):,}"
            change = percent_change(total(month.so_far()), total(month.previous_window()))
            assert change in row.find(data_kpi="lead_volume").find(cls="change").text()


def test_the_api_marks_the_period_in_progress_incomplete_by_default(client, admin_user, pod_a):
    month = lay_out_leads(pod_a)
    call_command("compute_metrics", "--full")

    client.force_login(admin_user)
    periods = client.get("/api/pods/southeast-us/metrics/").json()["periods"]
    assert len(periods) == 12
    *earlier, current = periods
    assert current["start"] == month.first.isoformat() and current["complete"] is False
    assert all(period["complete"] is True and period["to_date"] is None for period in earlier)
    to_date = current["to_date"]
    assert (to_date["through"], to_date["days"]) == (month.today.isoformat(), month.days)
    assert to_date["metrics"]["lead_volume"] == total(month.so_far())
    previous = to_date["previous_period"]
    assert (previous["start"], previous["days"]) == (month.previous.isoformat(), month.previous_days)
    assert previous["metrics"]["lead_volume"] == total(month.previous_window())
    assert to_date["same_period_last_year"]["metrics"]["lead_volume"] == total(month.last_year_window())
    # The whole-period figures of the current month are still there, as before the field was added.
    assert current["metrics"]["lead_volume"] == total(month.so_far())
    assert earlier[-1]["metrics"]["lead_volume"] == total(days_from(month.previous, month_days(month.previous)))


# --- The issue's own example -------------------------------------------------------------------------------------


def test_on_5_december_2026_the_dashboard_compares_1_5_dec_with_1_5_nov(client, leader_a, pod_a):
    with time_machine.travel(dt.datetime(2026, 12, 5, 17, 0, tzinfo=dt.UTC), tick=False):
        month = lay_out_leads(pod_a)
        call_command("compute_metrics", "--full")
        page = dashboard(client, leader_a)
    assert page.find(id="headline-title").parent.find("p").text() == "1–5 Dec vs 1–5 Nov"
    assert "December 2026 is not over: 5 of its 31 days so far" in page.find(data_in_progress=True).text()
    card = page.find(data_headline="lead_volume")
    assert card.find(cls="headline-compare").text().endswith(f"vs {total(month.previous_window())} in 1–5 Nov")
