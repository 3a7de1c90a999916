"""Property test: the periods to date of the metrics API agree with the brute-force oracle.

The organisations of ``test_metrics_property`` (several zones, facts on period boundaries and DST
days, targets), computed with the clock frozen at a drawn instant — often a period boundary — and
the ``to_date`` block of every grain's period in progress compared with ``oracle.expected_to_date``,
which counts the days of each window one by one (docs/PERIOD-TO-DATE.md).  Every period before it
must say ``"complete": true`` and keep its whole-period figures.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from tests.support import oracle

from .test_metrics_property import PROPERTY_SETTINGS, _close, _Rollback, build, draw_targets, load_world, organisations

# Days where a window is easy to get wrong: period starts and ends, a leap year's February, DST changes.
BOUNDARY_DAYS = [
    dt.date(2025, 1, 1), dt.date(2025, 3, 9), dt.date(2025, 3, 31), dt.date(2025, 4, 6), dt.date(2025, 6, 30),
    dt.date(2025, 10, 5), dt.date(2025, 11, 2), dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 2, 28),
    dt.date(2026, 3, 1), dt.date(2026, 3, 29), dt.date(2026, 9, 30), dt.date(2026, 12, 7), dt.date(2027, 1, 4),
    dt.date(2027, 3, 1), dt.date(2027, 3, 14),
]  # fmt: skip


@st.composite
def instants(draw) -> dt.datetime:
    if draw(st.booleans(), label="boundary day?"):
        day = draw(st.sampled_from(BOUNDARY_DAYS), label="boundary day")
    else:
        day = draw(st.dates(dt.date(2025, 1, 1), dt.date(2027, 4, 30)), label="day")
    minute = draw(st.sampled_from([0, 30, 60 * 12, 60 * 23 + 59]) | st.integers(0, 24 * 60 - 1), label="minute")
    zone = draw(st.sampled_from(["UTC", "America/New_York", "Australia/Sydney"]), label="zone of the clock")
    return (dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone)) + dt.timedelta(minutes=minute)).astimezone(
        dt.UTC
    )


def _same(key: str, got, wanted) -> bool:
    if key in oracle.COUNT_KEYS:
        return type(got) is int and got == wanted
    if key in oracle.OBJECT_KEYS:
        return got == wanted
    return _close(got, wanted)


def to_date_differences(world: oracle.World, client, now: dt.datetime) -> list[str]:
    found = []
    for pod in world.pods:
        today = oracle.local_today(pod, now)
        for grain in oracle.GRAINS:
            where = f"{pod.slug} ({pod.timezone}) {grain} at {now.isoformat()} (local {today})"
            start = oracle.previous_period_start(grain, oracle.period_start_of(grain, today))
            answer = client.get(
                f"/api/pods/{pod.slug}/metrics/", {"grain": grain, "start": start.isoformat(), "end": today.isoformat()}
            ).json()
            previous, current = answer["periods"]
            if previous["complete"] is not True or current["complete"] is not False:
                found.append(f"{where}: complete flags {previous['complete']!r}, {current['complete']!r}")
            want = oracle.expected_to_date(world, pod.slug, grain, now)
            got = current.get("to_date")
            if got is None:
                found.append(f"{where}: no to_date")
                continue
            for field in ("through", "days"):
                if got[field] != want[field]:
                    found.append(f"{where}: {field}: oracle={want[field]!r} api={got[field]!r}")
            for block in ("previous_period", "same_period_last_year"):
                for field in ("start", "end", "days"):
                    if got[block][field] != want[block][field]:
                        found.append(
                            f"{where}: {block}.{field}: oracle={want[block][field]!r} api={got[block][field]!r}"
                        )
            for label, got_metrics, want_metrics in (
                ("to date", got["metrics"], want["metrics"]),
                ("previous period to date", got["previous_period"]["metrics"], want["previous_period"]["metrics"]),
                (
                    "last year to date",
                    got["same_period_last_year"]["metrics"],
                    want["same_period_last_year"]["metrics"],
                ),
            ):
                for key in oracle.METRIC_KEYS:
                    if not _same(key, got_metrics.get(key, "<missing>"), want_metrics[key]):
                        found.append(
                            f"{where}: {label}: {key}: oracle={want_metrics[key]!r} api={got_metrics.get(key)!r}"
                        )
            if set(got["targets"]) != set(want["targets"]):
                found.append(f"{where}: targets: oracle={want['targets']!r} api={got['targets']!r}")
            for metric, target in want["targets"].items():
                given_target = got["targets"].get(metric, {})
                if (
                    not _close(given_target.get("value"), target["value"])
                    or given_target.get("status") != target["status"]
                ):
                    found.append(f"{where}: target {metric} to date: oracle={target!r} api={given_target!r}")
    return found


@pytest.mark.timeout(900)
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(plan=organisations(), now=instants(), data=st.data())
def test_periods_to_date_match_the_oracle(client, admin_user, plan, now, data):
    try:
        with transaction.atomic(), time_machine.travel(now, tick=False):
            build(plan)
            draw_targets(data, load_world())
            world = load_world()
            call_command("compute_metrics", "--full")
            client.force_login(admin_user)
            found = to_date_differences(world, client, now)
            assert not found, f"{len(found)} differences from the oracle:\n" + "\n".join(found[:40])
            raise _Rollback
    except _Rollback:
        pass
