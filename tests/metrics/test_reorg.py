"""Reorganisation impact (docs/REORGANISATION.md) against a brute-force oracle written here.

Random facts are spread over two pods in different zones (New York, Sydney) across the windows' edges; the
oracle reads every row in Python, places it in a window by its pod's local date, and computes each figure
from the definitions; the product's SQL must agree exactly.
"""

import datetime as dt
import random
import statistics
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from metrics.models import Reorganisation
from metrics.reorg import add_months, impact, windows_for
from pods.models import Assignment
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AssignmentFactory,
    LeadFactory,
    OpportunityFactory,
    PodFactory,
    SupportTicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 12, 7)


def test_windows_are_equal_calendar_spans_and_cut_like_with_like():
    w = windows_for(dt.date(2025, 8, 31), 6, TODAY)
    assert (w.before.start, w.before.end) == (dt.date(2025, 2, 28), dt.date(2025, 8, 31))  # 31 Feb clamps
    assert (w.after.start, w.after.end) == (dt.date(2025, 8, 31), dt.date(2026, 2, 28))
    assert (w.year_earlier.start, w.year_earlier.end) == (dt.date(2024, 8, 31), dt.date(2025, 2, 28))
    assert not w.in_progress
    cut = windows_for(D, 12, TODAY)  # 1 Mar 2026 + 12 months is after today: cut, before of equal days
    assert cut.in_progress and cut.after.end == TODAY and cut.before.days == cut.after.days == (TODAY - D).days
    long = windows_for(dt.date(2025, 6, 7), 18, TODAY)
    assert long.year_earlier.end <= long.after.start  # 18 months: moved two whole years, entirely before
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    with pytest.raises(ValueError):
        windows_for(TODAY, 6, TODAY)


def _in(window, when, zone):
    day = when.astimezone(zone).date() if isinstance(when, dt.datetime) else when
    return window.start <= day < window.end


def test_figures_match_an_independent_computation():
    rng = random.Random(7)
    pods = [PodFactory(timezone="America/New_York"), PodFactory(timezone="Australia/Sydney")]
    accounts = {pod.pk: [AccountFactory(pod=pod) for _ in range(4)] for pod in pods}
    w = windows_for(D, 6, TODAY)
    span_start = dt.datetime.combine(w.year_earlier.start - dt.timedelta(days=3), dt.time(), dt.UTC)
    span_hours = int(
        (dt.datetime.combine(w.after.end + dt.timedelta(days=3), dt.time(), dt.UTC) - span_start)
        / dt.timedelta(hours=1)
    )

    def when():
        return span_start + dt.timedelta(hours=rng.randrange(span_hours), minutes=rng.randrange(60))

    # Rows near the edges too: midnight at the reorganisation in each zone, an hour either side.
    for pod in pods:
        zone = zoneinfo.ZoneInfo(pod.timezone)
        midnight = dt.datetime.combine(D, dt.time(), zone)
        for offset in (-1, 0, 1):
            LeadFactory(account=accounts[pod.pk][0], created_at=midnight + dt.timedelta(hours=offset, minutes=-1))
    for _ in range(160):
        pod = rng.choice(pods)
        account = rng.choice(accounts[pod.pk])
        created = when()
        status = rng.choice(["open", "accepted", "rejected"])
        LeadFactory(
            account=account,
            created_at=created,
            status=status,
            decided_at=None if status == "open" else created + dt.timedelta(hours=rng.randrange(1, 2000)),
        )
        o_status = rng.choice(["open", "won", "lost"])
        OpportunityFactory(
            account=account,
            created_at=created,
            amount=Decimal(rng.randrange(100, 90000)) / 100,
            status=o_status,
            closed_at=None if o_status == "open" else created + dt.timedelta(hours=rng.randrange(1, 3000)),
        )
        opened = when()
        SupportTicketFactory(
            account=account,
            opened_at=opened,
            resolved_at=None if rng.random() < 0.2 else opened + dt.timedelta(hours=rng.randrange(1, 500)),
        )
        ActivityFactory(account=account, occurred_at=when(), job=rng.choice(["learn", "buy", "support"]))
    for pod in pods:
        for job, start, end in (("learn", w.before.start, None), ("buy", w.before.start + dt.timedelta(days=40), D)):
            AssignmentFactory(person=UserFactory(), pod=pod, job=job, started_on=start, ended_on=end)
        AssignmentFactory(person=UserFactory(), pod=pod, job="buy", started_on=D + dt.timedelta(days=10))

    result = impact(pods, D, 6, today=TODAY)
    zones = {pod.pk: zoneinfo.ZoneInfo(pod.timezone) for pod in pods}
    from jobs.models import Activity, Lead, Opportunity, SupportTicket

    leads = list(Lead.objects.all())
    opps = list(Opportunity.objects.all())
    tickets = list(SupportTicket.objects.all())
    activities = list(Activity.objects.all())

    def expected(window) -> dict:
        z = lambda row: zones[row.pod_id]  # noqa: E731
        volume = sum(_in(window, x.created_at, z(x)) for x in leads)
        accepted = sum(x.status == "accepted" and _in(window, x.decided_at, z(x)) for x in leads)
        rejected = sum(x.status == "rejected" and _in(window, x.decided_at, z(x)) for x in leads)
        won = [x for x in opps if x.status == "won" and _in(window, x.closed_at, z(x))]
        lost = [x for x in opps if x.status == "lost" and _in(window, x.closed_at, z(x))]
        resolved = [x for x in tickets if x.resolved_at and _in(window, x.resolved_at, z(x))]
        end = {pk: dt.datetime.combine(window.end, dt.time(), zone) for pk, zone in zones.items()}
        return {
            "lead_volume": volume,
            "lead_acceptance_rate": Decimal(accepted) / (accepted + rejected) if accepted + rejected else None,
            "pipeline_created": sum((x.amount for x in opps if _in(window, x.created_at, z(x))), Decimal(0)),
            "bookings": sum((x.amount for x in won), Decimal(0)),
            "win_rate": Decimal(len(won)) / (len(won) + len(lost)) if won or lost else None,
            "activity_total": sum(_in(window, x.occurred_at, z(x)) for x in activities),
            "median_resolution_hours": statistics.median(
                (x.resolved_at - x.opened_at).total_seconds() / 3600 for x in resolved
            )
            if resolved
            else None,
            "open_backlog": sum(
                x.opened_at < end[x.pod_id] and (x.resolved_at is None or x.resolved_at >= end[x.pod_id])
                for x in tickets
            ),
        }

    def staff(window, job) -> Decimal:
        days = 0
        for a in Assignment.objects.filter(pod__in=pods, job=job):
            for n in range(window.days):
                day = window.start + dt.timedelta(days=n)
                days += a.started_on <= day and (a.ended_on is None or day < a.ended_on)
        return Decimal(days) / window.days

    figures = {c.figure.key: c for c in result.headline}
    figures.update({c.figure.key: c for c in result.jobs["support"]})
    for window in (w.before, w.after, w.year_earlier):
        want = expected(window)
        for key, value in want.items():
            got = getattr(figures[key], window.name)
            if key == "median_resolution_hours" and value is not None:
                assert float(got) == pytest.approx(value, abs=1e-9), (window.name, key)
            else:
                assert got == value, (window.name, key, got, value)
        for job in ("learn", "buy"):
            average = next(c for c in result.staffing[job] if c.figure.key == "average_staff")
            assert getattr(average, window.name) == staff(window, job), (window.name, job)
    # Change and relative change follow from the windows.
    lead = figures["lead_volume"]
    assert lead.change == lead.after - lead.before
    if lead.before:
        assert lead.relative_change == (Decimal(lead.after) - lead.before) / lead.before


def test_a_window_before_anything_was_recorded_has_no_figures():
    pod = PodFactory(timezone="Europe/Berlin")
    LeadFactory(account=AccountFactory(pod=pod), created_at=dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC))
    result = impact([pod], D, 6, today=TODAY)
    lead = next(c for c in result.headline if c.figure.key == "lead_volume")
    assert (lead.year_earlier, lead.year_change) == (None, None)  # 2025: nothing recorded, not "0"
    assert result.unrecorded == ["year_earlier"]
    assert [x.name for x in result.short_history()] == ["before"]  # Sept 2025 - Mar 2026 starts before the data
    assert lead.before == 1


def test_the_page_dates_the_first_recorded_day_as_it_dates_the_windows(client, admin_user):
    pod = PodFactory(timezone="Europe/Berlin")
    LeadFactory(account=AccountFactory(pod=pod), created_at=dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC))
    reorganisation = Reorganisation.objects.create(name="Pods", effective_on=D, created_by=admin_user)
    client.force_login(admin_user)
    with time_machine.travel(dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC), tick=False):
        page = client.get(f"/reorganisations/{reorganisation.pk}/?months=6").content.decode()
    assert "1 Sep 2025 – 1 Mar 2026" in page  # the "before" window, as the page writes dates
    assert "Data is recorded from 5 Jan 2026:" in page  # not "05 Jan 2026"


def test_marking_a_reorganisation_dates_it_as_the_pages_do(client, admin_user):
    client.force_login(admin_user)
    with time_machine.travel(dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC), tick=False):
        marked = client.post("/reorganisations/", {"name": "Next year", "effective_on": "2027-02-01"}, follow=True)
    page = marked.content.decode()
    assert "Marked Next year (1 Feb 2027)." in page
    assert "No day after 1 Feb 2027 is over yet" in page
