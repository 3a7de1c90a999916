"""Hand-worked checks of the metric oracle itself, so a property-test mismatch can be trusted.

Every expected figure below is worked out by hand from METRICS.md in the comments next to it.
"""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from tests.support import oracle
from tests.support.oracle import (
    AdoptionReading,
    Assignment,
    Opportunity,
    Order,
    Pod,
    SupportTicket,
    Target,
    World,
)

NEW_YORK = Pod(id=1, slug="southeast-us", timezone="America/New_York")
BERLIN = Pod(id=2, slug="dach", timezone="Europe/Berlin")
SYDNEY = Pod(id=3, slug="anz", timezone="Australia/Sydney")


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def ids():
    counter = iter(range(1, 10_000))
    return lambda: next(counter)


def activity(next_id, pod, account, when, job, channel="digital"):
    return oracle.Activity(next_id(), pod.id, account, when, job, channel)


def metrics(world, pod, grain, start):
    return oracle.period_metrics(world, pod, grain, start, oracle.next_period_start(grain, start))


def test_periods_enumerate_every_start_in_range():
    # ISO weeks start on Mondays: 2026-03-01 is a Sunday, so the first Monday in range is 03-02;
    # 2026-03-30 is a Monday and lies in range, 04-06 does not.
    weeks = oracle.periods("week", dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert [start for start, _ in weeks] == [dt.date(2026, 3, d) for d in (2, 9, 16, 23, 30)]
    assert weeks[-1][1] == dt.date(2026, 4, 6)
    # Quarters whose start lies in [2025-02-15, 2026-01-01]: Apr, Jul, Oct 2025 and Jan 2026.
    quarters = oracle.periods("quarter", dt.date(2025, 2, 15), dt.date(2026, 1, 1))
    assert quarters == [
        (dt.date(2025, 4, 1), dt.date(2025, 7, 1)),
        (dt.date(2025, 7, 1), dt.date(2025, 10, 1)),
        (dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
        (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
    ]
    years = oracle.periods("year", dt.date(2026, 1, 2), dt.date(2027, 1, 1))
    assert years == [(dt.date(2027, 1, 1), dt.date(2028, 1, 1))]


def test_dst_week_in_new_york():
    # New York springs forward on Sunday 2026-03-08 at 02:00. The week Mon 03-02 .. Mon 03-09 starts at
    # 00:00 EST = 05:00Z and ends at 00:00 EDT = 04:00Z: it lasts 7 days minus one hour.
    s, e = oracle.instant_bounds("America/New_York", dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    assert s == utc(2026, 3, 2, 5)
    assert e == utc(2026, 3, 9, 4)
    next_id = ids()
    world = World(
        pods=[NEW_YORK],
        activities=[
            activity(next_id, NEW_YORK, 1, utc(2026, 3, 2, 4, 59, 59), "learn"),  # Sun 03-01 23:59:59 EST: week before
            activity(next_id, NEW_YORK, 1, utc(2026, 3, 2, 5), "learn"),  # Mon 00:00 EST: first instant of the week
            activity(next_id, NEW_YORK, 1, utc(2026, 3, 9, 3, 59, 59), "buy"),  # Sun 23:59:59 EDT: last second
            activity(next_id, NEW_YORK, 1, utc(2026, 3, 9, 4), "buy"),  # Mon 03-09 00:00 EDT: next week
            # 04:30Z is still Sunday in EST but already Monday 00:30 in EDT: next week too.
            activity(next_id, NEW_YORK, 1, utc(2026, 3, 9, 4, 30), "buy"),
        ],
        assignments=[
            # The week's last_day is Sunday 03-08 (a 23-hour day): active from that day on counts...
            Assignment(1, 101, NEW_YORK.id, "adopt", dt.date(2026, 3, 8), None),
            # ...ending on 03-08 means inactive on 03-08 ([started_on, ended_on) is half-open)...
            Assignment(2, 102, NEW_YORK.id, "support", dt.date(2026, 1, 1), dt.date(2026, 3, 8)),
            # ...and 86 400 s before e (Saturday 23:00 EST) is not the last day: starting Monday is out.
            Assignment(3, 103, NEW_YORK.id, "learn", dt.date(2026, 3, 9), None),
        ],
    )
    week = metrics(world, NEW_YORK, "week", dt.date(2026, 3, 2))
    assert week["activity_total"] == 2
    assert week["activities"]["learn"]["digital"] == 1 and week["activities"]["buy"]["digital"] == 1
    assert week["staff_by_job"] == {"learn": 0, "buy": 0, "order_install": 0, "adopt": 1, "support": 0}
    assert week["staffed_job_coverage"] == Fraction(1, 5)
    # The following week holds the two Monday-morning activities; 101 and 103 are active on its last day.
    following = metrics(world, NEW_YORK, "week", dt.date(2026, 3, 9))
    assert following["activity_total"] == 2
    assert following["staff_by_job"] == {"learn": 1, "buy": 0, "order_install": 0, "adopt": 1, "support": 0}


def test_dst_autumn_berlin_month_and_sydney_quarter():
    # Berlin falls back on 2026-10-25; November starts at 00:00 CET = 2026-10-31 23:00Z and October at
    # 00:00 CEST = 2026-09-30 22:00Z. Sydney's Q2 2026 starts 2026-04-01 00:00 AEDT = 2026-03-31 13:00Z
    # (DST ends 04-05) and ends 2026-07-01 00:00 AEST = 2026-06-30 14:00Z.
    assert oracle.instant_bounds("Europe/Berlin", dt.date(2026, 10, 1), dt.date(2026, 11, 1)) == (
        utc(2026, 9, 30, 22),
        utc(2026, 10, 31, 23),
    )
    assert oracle.instant_bounds("Australia/Sydney", dt.date(2026, 4, 1), dt.date(2026, 7, 1)) == (
        utc(2026, 3, 31, 13),
        utc(2026, 6, 30, 14),
    )


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    # Won opportunities closed in March 2026 (UTC pod) after 1, 2, 4 and 10 days: median (2 + 4) / 2 = 3 days.
    # The lost one and the one won in April do not count; durations are exact (12 h = 0.5 day).
    pod = Pod(id=9, slug="utc", timezone="UTC")
    created = utc(2026, 3, 1, 12)

    def opportunity(next_id, days, status="won", amount="100.00"):
        closed = created + dt.timedelta(days=days)
        return Opportunity(next_id, pod.id, 1, Decimal(amount), created, status, closed)

    world = World(
        pods=[pod],
        opportunities=[
            opportunity(1, 1),
            opportunity(2, 2),
            opportunity(3, 4, amount="250.50"),
            opportunity(4, 10),
            opportunity(5, 3, status="lost"),
            opportunity(6, 40),  # closes 04-10
        ],
    )
    march = metrics(world, pod, "month", dt.date(2026, 3, 1))
    assert march["median_sales_cycle_days"] == 3
    assert march["bookings"] == Decimal("550.50")  # 100 + 100 + 250.50 + 100
    assert march["pipeline_created"] == Decimal("750.50")  # all six were created in March: 5 x 100 + 250.50
    assert march["win_rate"] == Fraction(4, 5)
    # An odd count: orders installed after 0.5, 1 and 7 days; median 1 day. A 36-hour one gives 1.5 (even: 1, 1.5).
    orders = [
        Order(1, pod.id, 1, created, created + dt.timedelta(hours=12)),
        Order(2, pod.id, 1, created, created + dt.timedelta(days=1)),
        Order(3, pod.id, 1, created, created + dt.timedelta(days=7)),
    ]
    assert metrics(World(pods=[pod], orders=orders), pod, "month", dt.date(2026, 3, 1))["median_days_to_install"] == 1
    orders.append(Order(4, pod.id, 1, created, created + dt.timedelta(hours=36)))
    assert metrics(World(pods=[pod], orders=orders), pod, "month", dt.date(2026, 3, 1))["median_days_to_install"] == (
        Fraction(5, 4)
    )  # (1 + 1.5) / 2


def test_loopbacks_and_maze_index_follow_each_account_journey():
    pod = NEW_YORK
    next_id = ids()
    t = utc(2026, 5, 4, 15)  # Monday 2026-05-04 11:00 EDT
    hour = dt.timedelta(hours=1)
    world = World(
        pods=[pod],
        activities=[
            # Account 1: learn, buy, buy, learn, support, adopt
            #   -> learn>buy, buy>learn (loop), learn>support, support>adopt (loop): 4 transitions, 2 loopbacks.
            activity(next_id, pod, 1, t, "learn"),
            activity(next_id, pod, 1, t + hour, "buy"),
            activity(next_id, pod, 1, t + 2 * hour, "buy", "in_person"),
            activity(next_id, pod, 1, t + 3 * hour, "learn"),
            activity(next_id, pod, 1, t + 4 * hour, "support"),
            activity(next_id, pod, 1, t + 5 * hour, "adopt"),
            # Account 2: learn then buy: one transition, no loop.
            activity(next_id, pod, 2, t, "learn"),
            activity(next_id, pod, 2, t + hour, "buy", "partner"),
            # Account 3: a single activity, no transition at all: not in the maze index's denominator.
            activity(next_id, pod, 3, t, "support"),
            # Account 4: adopt and learn at the same instant; the adopt one was created first (lower id), so the
            # journey is adopt, learn, buy -> adopt>learn (loop), learn>buy.
            activity(next_id, pod, 4, t + hour, "adopt"),
            activity(next_id, pod, 4, t + hour, "learn"),
            activity(next_id, pod, 4, t + 2 * hour, "buy"),
            # Account 5: buy before the week and learn in it: the pair straddles the period, so no transition.
            activity(next_id, pod, 5, utc(2026, 5, 4, 3, 59), "buy"),  # Sunday 23:59 EDT
            activity(next_id, pod, 5, t, "learn"),
            # Account 6: same job twice is not a transition.
            activity(next_id, pod, 6, t, "adopt"),
            activity(next_id, pod, 6, t + hour, "adopt"),
        ],
    )
    week = metrics(world, pod, "week", dt.date(2026, 5, 4))
    transitions = week["journey_transitions"]
    assert transitions["learn"]["buy"] == 3  # accounts 1, 2, 4
    assert transitions["buy"]["learn"] == 1
    assert transitions["learn"]["support"] == 1
    assert transitions["support"]["adopt"] == 1
    assert transitions["adopt"]["learn"] == 1
    assert sum(sum(row.values()) for row in transitions.values()) == 7
    assert week["loopbacks"] == 3  # buy>learn, support>adopt, adopt>learn
    assert week["maze_index"] == Fraction(2, 3)  # accounts 1 and 4 loop, out of 1, 2 and 4 that move
    # Accounts 1, 2, 4 and 5 did something of job learn this week.
    assert week["engaged_accounts"] == 4
    assert week["activity_total"] == 15
    assert week["digital_share"] == Fraction(13, 15)  # one in_person and one partner


def test_rep_free_win_share_with_an_in_person_activity_exactly_90_days_before():
    # Five opportunities won by the New York pod on 2026-06-30 12:00Z, each for its own account.
    closed = utc(2026, 6, 30, 12)
    exactly_90_days = utc(2026, 4, 1, 12)  # April 1 + 90 days = June 30 (29 + 31 + 30 days)
    assert closed - exactly_90_days == dt.timedelta(days=90)
    next_id = ids()
    won = [Opportunity(n, NEW_YORK.id, n, Decimal("10.00"), utc(2026, 1, 5), "won", closed) for n in (1, 2, 3, 4, 5)]
    world = World(
        pods=[NEW_YORK, BERLIN],
        opportunities=won,
        activities=[
            # 1: in person exactly 90 days before: inside the closed window, so not rep-free.
            activity(next_id, NEW_YORK, 1, exactly_90_days, "buy", "in_person"),
            # 2: in person one second too early: rep-free.
            activity(next_id, NEW_YORK, 2, exactly_90_days - dt.timedelta(seconds=1), "buy", "in_person"),
            # 3: only digital: rep-free.
            activity(next_id, NEW_YORK, 3, closed - dt.timedelta(days=1), "buy", "digital"),
            # 4: a partner activity logged under another pod (the account moved) at the very instant of closing.
            activity(next_id, BERLIN, 4, closed, "buy", "partner"),
            # 5: in person one second after closing: rep-free.
            activity(next_id, NEW_YORK, 5, closed + dt.timedelta(seconds=1), "adopt", "in_person"),
        ],
    )
    june = metrics(world, NEW_YORK, "month", dt.date(2026, 6, 1))
    assert june["rep_free_win_share"] == Fraction(3, 5)  # accounts 2, 3 and 5
    assert metrics(world, NEW_YORK, "month", dt.date(2026, 7, 1))["rep_free_win_share"] is None


def test_adoption_takes_each_account_latest_reading_in_the_period():
    pod = BERLIN
    world = World(
        pods=[pod],
        readings=[
            # January: account 1 latest is 01-31 (30 of 100); account 2 has only 01-15 with 0 licensed.
            AdoptionReading(1, pod.id, 1, dt.date(2026, 1, 5), 100, 90),
            AdoptionReading(2, pod.id, 1, dt.date(2026, 1, 31), 100, 30),
            AdoptionReading(3, pod.id, 2, dt.date(2026, 1, 15), 0, 0),
            # February: account 2 only, 0 licensed: nothing to divide.
            AdoptionReading(4, pod.id, 2, dt.date(2026, 2, 1), 0, 0),
            # March: account 1 20/50 and account 2 10/30 -> (20 + 10) / (50 + 30) = 3/8, not the mean of ratios.
            AdoptionReading(5, pod.id, 1, dt.date(2026, 3, 31), 50, 20),
            AdoptionReading(6, pod.id, 2, dt.date(2026, 3, 1), 30, 10),
            # Stored under another pod: ignored here.
            AdoptionReading(7, 99, 3, dt.date(2026, 3, 10), 10, 10),
        ],
    )
    assert metrics(world, pod, "month", dt.date(2026, 1, 1))["adoption_rate"] == Fraction(30, 100)
    assert metrics(world, pod, "month", dt.date(2026, 2, 1))["adoption_rate"] is None
    assert metrics(world, pod, "month", dt.date(2026, 3, 1))["adoption_rate"] == Fraction(3, 8)
    # Q1: latest per account over the quarter: account 1 on 03-31 (20/50), account 2 on 03-01 (10/30).
    assert metrics(world, pod, "quarter", dt.date(2026, 1, 1))["adoption_rate"] == Fraction(3, 8)
    assert metrics(world, pod, "month", dt.date(2026, 4, 1))["adoption_rate"] is None


def test_support_figures_and_open_backlog_carry_forward():
    pod = SYDNEY
    opened = utc(2026, 1, 10)
    world = World(
        pods=[pod],
        tickets=[
            SupportTicket(1, pod.id, 1, opened, opened + dt.timedelta(hours=3), 5),
            SupportTicket(2, pod.id, 1, opened, opened + dt.timedelta(hours=6), None),
            SupportTicket(3, pod.id, 1, opened, opened + dt.timedelta(hours=10), 2),
            SupportTicket(4, pod.id, 1, opened, None, None),  # never resolved
            # Resolved at the very instant February starts in Sydney (2026-01-31 13:00Z): still open at e of January.
            SupportTicket(5, pod.id, 1, opened, utc(2026, 1, 31, 13), 4),
        ],
    )
    january = metrics(world, pod, "month", dt.date(2026, 1, 1))
    assert january["tickets_opened"] == 5
    assert january["tickets_resolved"] == 3
    assert january["median_resolution_hours"] == 6
    assert january["csat"] == Fraction(7, 2)  # (5 + 2) / 2; the unrated one is left out
    assert january["open_backlog"] == 2  # tickets 4 and 5
    february = metrics(world, pod, "month", dt.date(2026, 2, 1))
    assert february["tickets_resolved"] == 1 and february["csat"] == 4
    assert february["open_backlog"] == 1
    # Years later, with nothing happening, the unresolved ticket is still in the backlog.
    assert metrics(world, pod, "month", dt.date(2028, 6, 1))["open_backlog"] == 1
    assert metrics(world, pod, "month", dt.date(2028, 6, 1))["tickets_opened"] == 0


def test_bookings_yoy_growth_compares_with_52_weeks_or_a_year_earlier():
    pod = Pod(id=9, slug="utc", timezone="UTC")

    def won(n, amount, when):
        return Opportunity(n, pod.id, 1, Decimal(amount), when - dt.timedelta(days=3), "won", when)

    world = World(
        pods=[pod],
        opportunities=[
            won(1, "200.00", utc(2025, 3, 4, 9)),  # Tue 2025-03-04, ISO week starting Mon 2025-03-03
            won(2, "300.00", utc(2026, 3, 3, 9)),  # Tue 2026-03-03, week starting Mon 2026-03-02 = 03-03-2025 + 52 w
            won(3, "100.00", utc(2026, 3, 20)),
        ],
    )
    assert oracle.year_earlier_start("week", dt.date(2026, 3, 2)) == dt.date(2025, 3, 3)
    assert metrics(world, pod, "week", dt.date(2026, 3, 2))["bookings_yoy_growth"] == Fraction(1, 2)  # (300-200)/200
    # March: 400 against 200 a year earlier: +100%.
    assert metrics(world, pod, "month", dt.date(2026, 3, 1))["bookings_yoy_growth"] == 1
    # March 2025 had nothing a year before it: null, not infinity.
    assert metrics(world, pod, "month", dt.date(2025, 3, 1))["bookings_yoy_growth"] is None
    # March 2027 has no bookings against 400: -100%.
    assert metrics(world, pod, "month", dt.date(2027, 3, 1))["bookings_yoy_growth"] == -1


def test_reassignment_on_the_same_day_moves_the_person_on_that_day():
    pod = Pod(id=9, slug="utc", timezone="UTC")
    world = World(
        pods=[pod],
        assignments=[
            Assignment(1, 7, pod.id, "learn", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
            Assignment(2, 7, pod.id, "buy", dt.date(2026, 3, 31), None),
            # Reassigned twice on one day: an empty [d, d) range is never active.
            Assignment(3, 8, pod.id, "adopt", dt.date(2026, 2, 28), dt.date(2026, 2, 28)),
            Assignment(4, 8, pod.id, "support", dt.date(2026, 2, 28), None),
        ],
    )
    # February's last day is 02-28: person 7 in learn, person 8 in support.
    february = metrics(world, pod, "month", dt.date(2026, 2, 1))
    assert february["staff_by_job"] == {"learn": 1, "buy": 0, "order_install": 0, "adopt": 0, "support": 1}
    # March's last day is 03-31: person 7 moved to buy that very day.
    march = metrics(world, pod, "month", dt.date(2026, 3, 1))
    assert march["staff_by_job"] == {"learn": 0, "buy": 1, "order_install": 0, "adopt": 0, "support": 1}
    assert march["staffed_job_coverage"] == Fraction(2, 5)
    # Before anyone started, coverage is 0 (a share of 5 jobs, never null).
    assert metrics(world, pod, "month", dt.date(2025, 12, 1))["staffed_job_coverage"] == 0


@pytest.mark.parametrize(
    ("metric", "value", "target", "status"),
    [
        ("lead_volume", 10, Decimal("10"), "green"),  # meets it
        ("lead_volume", 9, Decimal("10"), "amber"),  # misses by 1 = exactly 10% of 10
        ("lead_volume", 8, Decimal("10"), "red"),  # misses by 2 > 1
        ("lead_acceptance_rate", Fraction(9, 20), Decimal("0.5"), "amber"),  # 0.45 vs 0.5: misses by 0.05 = 10%
        ("lead_acceptance_rate", Fraction(4, 9), Decimal("0.5"), "red"),  # 0.444..: misses by more than 0.05
        ("lead_volume", 0, Decimal("0"), "green"),
        ("bookings", Decimal("0.00"), Decimal("0.01"), "red"),
        ("open_backlog", 11, Decimal("10"), "amber"),  # lower is better: 1 over = 10%
        ("open_backlog", 12, Decimal("10"), "red"),
        ("open_backlog", 3, Decimal("10"), "green"),
        ("median_resolution_hours", Fraction(11, 2), Decimal("5"), "amber"),  # 5.5 h vs 5 h
        ("median_sales_cycle_days", Fraction(111, 10), Decimal("10"), "red"),  # 11.1 > 11
        ("median_days_to_install", None, Decimal("10"), None),  # no value, no status
    ],
)
def test_target_status(metric, value, target, status):
    assert oracle.target_status(metric, value, target) == status


def test_expected_periods_shape_and_targets():
    pod = NEW_YORK
    world = World(
        pods=[pod],
        tickets=[SupportTicket(1, pod.id, 1, utc(2026, 2, 10), None, None)],
        targets=[
            Target(pod.id, "open_backlog", "month", dt.date(2026, 3, 1), Decimal("0.9")),  # 1 vs 0.9: 0.1 over > 0.09
            Target(pod.id, "csat", "month", dt.date(2026, 3, 1), Decimal("4")),  # csat is null: no status
            Target(pod.id, "csat", "quarter", dt.date(2026, 1, 1), Decimal("4")),  # another grain: not shown
        ],
    )
    answer = oracle.expected_periods(world, pod.slug, "month", dt.date(2026, 2, 15), dt.date(2026, 4, 1))
    assert [(p["start"], p["end"]) for p in answer] == [("2026-03-01", "2026-04-01"), ("2026-04-01", "2026-05-01")]
    march = answer[0]
    assert set(march["metrics"]) == set(oracle.METRIC_KEYS)
    assert march["metrics"]["open_backlog"] == 1 and march["metrics"]["csat"] is None
    assert march["metrics"]["bookings"] == 0.0 and isinstance(march["metrics"]["bookings"], float)
    assert march["targets"] == {"open_backlog": {"value": 0.9, "status": "red"}, "csat": {"value": 4.0, "status": None}}
    assert answer[1]["targets"] == {}
