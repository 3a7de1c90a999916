"""The engagement score of an account (docs/ACCOUNTS.md), against a brute force written from the definition.

The oracle weighs each activity in Python — job, channel and persona weights typed here from the
documentation, not imported — and halves it every 30 days of real time; the clock is frozen, including
at a daylight-saving change and at the edge of the 90-day window.
"""

import csv
import datetime as dt
import io
import random
from collections import defaultdict

import pytest
import time_machine
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.factories import AccountFactory, ActivityFactory, ContactFactory
from tests.support.pages import page_of

pytestmark = pytest.mark.django_db

# docs/ACCOUNTS.md, "Engagement score".
JOB = {"learn": 1.0, "buy": 2.0, "order_install": 1.5, "adopt": 1.0, "support": 0.5}
CHANNEL = {"digital": 1.0, "in_person": 1.5, "partner": 1.25}
PERSONA = {"end_user": 1.0, "champion": 1.5, "executive": 2.0, "none": 0.75}
WINDOW = dt.timedelta(days=90)


def brute_force(activities, now):
    factors = defaultdict(lambda: [0, 0.0])
    for job, channel, persona, occurred_at in activities:
        if now - WINDOW < occurred_at <= now:
            age_days = (now - occurred_at).total_seconds() / 86400
            cell = factors[(job, persona or "none")]
            cell[0] += 1
            cell[1] += JOB[job] * CHANNEL[channel] * PERSONA[persona or "none"] * 0.5 ** (age_days / 30)
    return sum(c for _, c in factors.values()), {key: tuple(v) for key, v in factors.items()}


NOWS = [
    dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC),  # 02:30 New York: the hour DST skips
    dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC),
]


@given(seed=st.integers(0, 10_000), count=st.integers(0, 40), now=st.sampled_from(NOWS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_score_and_factors_equal_the_brute_force(client, leader_a, pod_a, pod_b, seed, count, now):
    rng = random.Random(seed)
    account, other = AccountFactory(pod=pod_a), AccountFactory(pod=pod_a)
    contacts = [None] + [ContactFactory(account=account, persona=p) for p in ("end_user", "champion", "executive")]
    written = []
    for _ in range(count):
        # Up to 120 days back, on whole days now and then: the 90-day edge itself is drawn too.
        back = dt.timedelta(days=rng.randrange(121)) if rng.random() < 0.3 else dt.timedelta(hours=rng.randrange(2900))
        occurred_at = now - back
        job, channel, contact = rng.choice(list(JOB)), rng.choice(list(CHANNEL)), rng.choice(contacts)
        pod = rng.choice([pod_a, pod_b])  # logged under another pod: still the account's activity
        ActivityFactory(account=account, pod=pod, occurred_at=occurred_at, job=job, channel=channel, contact=contact)
        written.append((job, channel, contact.persona if contact else None, occurred_at))
    ActivityFactory(account=other, occurred_at=now - dt.timedelta(hours=1), job="buy")  # not this account's
    ActivityFactory(account=account, occurred_at=now + dt.timedelta(hours=1))  # in the future: not yet

    score, factors = brute_force(written, now)
    with time_machine.travel(now, tick=False):
        client.force_login(leader_a)  # signed in at that time: a session of today would have expired
        data = client.get(f"/api/accounts/{account.external_id}/").json()["engagement"]
    assert data["score"] == pytest.approx(score, abs=1e-3)
    got = {(f["job"], f["persona"]): (f["activities"], f["contribution"]) for f in data["factors"]}
    assert got.keys() == factors.keys()
    for key, (n, contribution) in factors.items():
        assert got[key][0] == n and got[key][1] == pytest.approx(contribution, abs=1e-3)
    contributions = [f["contribution"] for f in data["factors"]]
    assert contributions == sorted(contributions, reverse=True)
    assert dt.datetime.fromisoformat(data["as_of"].replace("Z", "+00:00")) == now


def test_the_page_explains_the_score_by_job_and_persona(client, leader_a, pod_a):
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    account = AccountFactory(pod=pod_a, external_id="ACME-1")
    boss = ContactFactory(account=account, persona="executive")
    # A Buy meeting with the executive today (2 × 1.5 × 2 = 6) and a Learn page view 30 days ago (1 × 1 × 0.75 ÷ 2).
    ActivityFactory(account=account, occurred_at=now, job="buy", channel="in_person", contact=boss)
    ActivityFactory(account=account, occurred_at=now - dt.timedelta(days=30), job="learn", channel="digital")
    ActivityFactory(account=account, occurred_at=now - dt.timedelta(days=91), job="buy", channel="in_person")
    with time_machine.travel(now, tick=False):
        client.force_login(leader_a)
        page = page_of(client.get("/accounts/ACME-1/"))
    assert page.find(data_engagement_score=True).text() == "6.4"  # 6 + 0.375
    rows = page.find("table", data_engagement_factors=True).find("tbody").find_all("tr")
    assert [row.attrs["data-factor"] for row in rows] == ["buy.executive", "learn.none"]
    assert [td.text() for td in rows[0].find_all("td")] == ["1", "6.00", "94%"]
    assert "Persona: End user 1.0, Champion 1.5, Executive 2.0, No contact named 0.75" in page.text()


def test_an_account_quiet_for_ninety_days_scores_zero(client, leader_a, pod_a):
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    account = AccountFactory(pod=pod_a, external_id="QUIET")
    ActivityFactory(account=account, occurred_at=now - WINDOW)  # exactly 90 days: outside (the window is open there)
    with time_machine.travel(now, tick=False):
        client.force_login(leader_a)
        page = page_of(client.get("/accounts/QUIET/"))
        data = client.get("/api/accounts/QUIET/").json()["engagement"]
    assert page.find(data_engagement_score=True).text() == "0.0"
    assert "No activity in the last 90 days" in page.text()
    assert data["score"] == 0 and data["factors"] == []


def test_accounts_to_call_show_their_engagement_and_sort_by_it(client, leader_a, pod_a):
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    rng = random.Random(7)
    written = {}
    for name in ("Acme", "Hooli", "Initech", "Umbrella"):
        account = AccountFactory(pod=pod_a, name=name, external_id=name.upper())
        contact = ContactFactory(account=account, persona=rng.choice(list(PERSONA)[:3]))
        written[name] = []
        for _ in range(rng.randrange(2, 7)):  # at least two Learn activities in December: engaged
            when = now - dt.timedelta(hours=rng.randrange(1, 140))
            channel = rng.choice(list(CHANNEL))
            ActivityFactory(account=account, occurred_at=when, job="learn", channel=channel, contact=contact)
            written[name].append(("learn", channel, contact.persona, when))
        when = now - dt.timedelta(days=rng.randrange(10, 100))  # an older Buy meeting, maybe outside the window
        ActivityFactory(account=account, occurred_at=when, job="buy", channel="in_person")
        written[name].append(("buy", "in_person", None, when))
    expected = {name: brute_force(rows, now)[0] for name, rows in written.items()}
    with time_machine.travel(now, tick=False):
        call_command("compute_metrics", "--full")
        client.force_login(leader_a)
        page = page_of(
            client.get("/pods/southeast-us/", {"grain": "month", "period": "2026-12-01", "engaged_sort": "engagement"})
        )
    rows = page.find(id="engaged-accounts").find("tbody").find_all("tr")
    names = [row.find("a").text() for row in rows]
    assert names == sorted(expected, key=lambda n: -expected[n])
    for row, name in zip(rows, names, strict=True):
        assert row.find(data_engagement=True).text() == f"{expected[name]:.1f}"
    header = page.find(id="engaged-accounts").find("th", aria_sort="descending")
    assert header.text().startswith("Engagement")


def test_accounts_to_call_export_every_row_in_the_lists_order(client, leader_a, pod_a):
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    for i, name in enumerate(["=HYPERLINK(1)", "Busy", "Quiet"]):
        account = AccountFactory(pod=pod_a, name=name, external_id=f"A{i}")
        for hours in range(2 + 3 * (name == "Busy")):
            ActivityFactory(
                account=account, occurred_at=now - dt.timedelta(hours=1 + hours * (10 + 30 * i)), job="learn"
            )
    with time_machine.travel(now, tick=False):
        call_command("compute_metrics", "--full")
        client.force_login(leader_a)
        response = client.get(
            "/pods/southeast-us/accounts-to-call.csv",
            {"grain": "month", "period": "2026-12-01", "engaged_sort": "engagement"},
        )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][:3] == ["Pod", "Account", "External id"]
    assert [line[1] for line in lines[1:]] == ["Busy", "'=HYPERLINK(1)", "Quiet"]  # a formula is neutralised
    scores = [float(line[6]) for line in lines[1:]]
    assert scores == sorted(scores, reverse=True)
    assert all(line[7] == "2026-12-07T15:00:00Z" for line in lines[1:])
