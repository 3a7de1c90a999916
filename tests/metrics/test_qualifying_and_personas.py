"""The dashboard's "Qualifying in and out" and "Persona coverage" panels, against hand counts and a brute force.

Expected figures are counted here from the facts the test writes, never read back from the engine.
"""

import datetime as dt
import random
import statistics
import zoneinfo

import pytest
from django.core.management import call_command

from metrics.dashboard.drilldowns import bounds_of
from metrics.dashboard.qualifying import rejected_accounts_since
from tests.support.factories import AccountFactory, ActivityFactory, ContactFactory, LeadFactory, OpportunityFactory
from tests.support.pages import local, page_of

pytestmark = pytest.mark.django_db

MARCH = "2025-03-01"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def elapsed(pod, start: str, end: str) -> dt.timedelta:
    """Real time between two wall-clock times of the pod (Python subtracts same-zone times naively)."""
    return local(pod, end).astimezone(dt.UTC) - local(pod, start).astimezone(dt.UTC)


def dashboard(client, user):
    client.force_login(user)
    return page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": MARCH}))


def rows_of(table):
    return [
        [cell.text() for cell in row.find_all() if cell.tag in {"th", "td"}]
        for row in table.find("tbody").find_all("tr")
    ]


# --- Qualifying in and out ----------------------------------------------------------------------------------------


@pytest.fixture
def decisions(pod_a):
    """Leads decided in March 2025 (New York) through each channel, with reasons typed carelessly."""
    acme = AccountFactory(pod=pod_a, name="Acme", external_id="ACME")
    plan = [
        # channel, created, decided, status, reason
        ("digital", "2025-02-20 10:00", "2025-03-01 00:00", "accepted", ""),  # decided at the first instant
        ("digital", "2025-03-02 09:00", "2025-03-04 09:00", "rejected", "No budget"),
        ("digital", "2025-03-05 09:00", "2025-03-06 21:00", "rejected", "  No budget "),
        ("in_person", "2025-03-08 12:00", "2025-03-10 12:00", "rejected", "Wrong segment"),  # across the DST change
        ("partner", "2025-03-10 08:00", "2025-03-31 23:30", "rejected", "   "),  # 03:30 UTC on 1 April
        ("partner", "2025-03-12 08:00", "2025-03-20 08:00", "accepted", ""),
        ("digital", "2025-03-25 08:00", "2025-04-01 00:00", "accepted", ""),  # April: not decided in March
        ("digital", "2025-03-26 08:00", None, "open", ""),
    ]
    for i, (channel, created, decided, status, reason) in enumerate(plan):
        LeadFactory(
            account=acme,
            external_id=f"L{i}",
            channel=channel,
            created_at=local(pod_a, created),
            decided_at=local(pod_a, decided) if decided else None,
            status=status,
            rejection_reason=reason,
        )
    call_command("compute_metrics", "--full")
    return [p for p in plan if p[2] and p[2] < "2025-04-01"]


def test_leads_decided_by_channel_and_the_reasons_they_were_rejected(client, leader_a, decisions):
    page = dashboard(client, leader_a)
    panel = page.find(data_qualifying=True)
    expected = []
    for channel, label in (("digital", "Digital"), ("in_person", "In person"), ("partner", "Partner")):
        accepted = sum(1 for p in decisions if p[0] == channel and p[3] == "accepted")
        rejected = sum(1 for p in decisions if p[0] == channel and p[3] == "rejected")
        rate = f"{100 * accepted / (accepted + rejected):.1f}%" if accepted + rejected else "—"
        expected.append([label, str(accepted), str(rejected), rate])
    assert rows_of(panel.find("table", data_decided_by_channel=True)) == expected
    # Reasons are trimmed before they are counted; a blank one is "No reason given"; most frequent first.
    assert rows_of(panel.find("table", data_rejected_by_reason=True)) == [
        ["No budget", "2"],
        ["No reason given", "1"],
        ["Wrong segment", "1"],
    ]


def test_median_time_to_decision_counts_real_elapsed_time(client, leader_a, pod_a, decisions):
    days = sorted(elapsed(pod_a, created, decided).total_seconds() / 86400 for _, created, decided, _, _ in decisions)
    page = dashboard(client, leader_a)
    assert page.find(data_decision_median=True).find("a").text() == f"{statistics.median(days):.1f} days"
    # Its records: the decided leads, quickest first.
    client.force_login(leader_a)
    drill = page_of(
        client.get("/pods/southeast-us/drilldown/median_days_to_lead_decision/", {"grain": "month", "period": MARCH})
    )
    listed = [row.find("td").text() for row in drill.find("table", data_drilldown=True).find("tbody").find_all("tr")]
    by_speed = sorted(
        (elapsed(pod_a, p[1], p[2]), f"L{i}")
        for i, p in enumerate(decisions)  # the fixture's first seven leads keep their index
    )
    assert listed == [name for _, name in by_speed]


def test_a_month_without_decisions_says_so(client, leader_a, pod_a):
    ActivityFactory(account=AccountFactory(pod=pod_a), occurred_at=local(pod_a, "2025-03-03 10:00"))
    call_command("compute_metrics", "--full")
    panel = dashboard(client, leader_a).find(data_qualifying=True)
    assert "No lead was accepted or rejected in March 2025." in panel.text()
    assert "No account had a lead rejected in March 2025." in panel.text()


def brute_force_rejected_since(leads, opportunities, pod, start, end):
    """Accounts of ``pod`` with a lead rejected in [start, end), and those with a later lead or win."""
    first_rejection = {}
    for lead in leads:
        if lead["pod"] == pod and lead["status"] == "rejected" and start <= lead["decided_at"] < end:
            account = lead["account"]
            first_rejection[account] = min(first_rejection.get(account, lead["decided_at"]), lead["decided_at"])
    came_back = {
        a
        for a, r in first_rejection.items()
        if any(x["pod"] == pod and x["account"] == a and x["created_at"] > r for x in leads)
    }
    bought = {
        a
        for a, r in first_rejection.items()
        if any(
            o["pod"] == pod and o["account"] == a and o["status"] == "won" and o["closed_at"] > r for o in opportunities
        )
    }
    return len(first_rejection), len(came_back), len(bought)


@pytest.mark.parametrize("seed", range(6))
def test_rejected_accounts_later_behaviour_matches_a_brute_force(pod_a, pod_b, seed):
    rng = random.Random(seed)
    base = dt.datetime(2025, 2, 20, tzinfo=dt.UTC)
    accounts = [(AccountFactory(pod=pod), pod) for pod in (pod_a, pod_b) for _ in range(4)]

    def instant():
        # 20 Feb to 20 Apr in 45-minute steps: crosses both month ends and the DST change of 9 March.
        return base + dt.timedelta(minutes=45 * rng.randrange(60 * 24 * 60 // 45))

    leads, opportunities = [], []
    for i in range(rng.randrange(10, 40)):
        account, _ = rng.choice(accounts)
        pod = rng.choice([account.pod, pod_a, pod_b])  # an account's facts may sit under another pod
        created = instant()
        status = rng.choice(["open", "accepted", "rejected", "rejected"])
        decided = None if status == "open" else created + dt.timedelta(hours=rng.randrange(0, 24 * 20))
        LeadFactory(
            account=account, pod=pod, external_id=f"L{i}", created_at=created, status=status, decided_at=decided
        )
        leads.append(
            {"pod": pod.pk, "account": account.pk, "status": status, "created_at": created, "decided_at": decided}
        )
    for i in range(rng.randrange(0, 15)):
        account, _ = rng.choice(accounts)
        pod = rng.choice([account.pod, pod_a, pod_b])
        created = instant()
        status = rng.choice(["open", "won", "lost"])
        closed = None if status == "open" else created + dt.timedelta(hours=rng.randrange(1, 24 * 30))
        OpportunityFactory(
            account=account, pod=pod, external_id=f"O{i}", created_at=created, status=status, closed_at=closed
        )
        opportunities.append({"pod": pod.pk, "account": account.pk, "status": status, "closed_at": closed})

    for pod in (pod_a, pod_b):
        zone = zoneinfo.ZoneInfo(pod.timezone)
        for month in (dt.date(2025, 2, 1), dt.date(2025, 3, 1), dt.date(2025, 4, 1)):
            next_month = dt.date(month.year, month.month + 1, 1)
            start = dt.datetime.combine(month, dt.time(), zone)
            end = dt.datetime.combine(next_month, dt.time(), zone)
            found = rejected_accounts_since(pod, bounds_of(pod, "month", month))
            assert (found.accounts, found.came_back, found.bought) == brute_force_rejected_since(
                leads, opportunities, pod.pk, start, end
            ), (pod.slug, month)


def test_the_panel_shows_who_came_back_and_who_bought(client, leader_a, pod_a):
    back, bought, gone = (AccountFactory(pod=pod_a, external_id=x) for x in ("BACK", "BOUGHT", "GONE"))
    for account, day in ((back, "03"), (bought, "05"), (gone, "07")):
        LeadFactory(
            account=account,
            created_at=local(pod_a, f"2025-03-{day} 09:00"),
            status="rejected",
            decided_at=local(pod_a, f"2025-03-{day} 17:00"),
        )
    LeadFactory(account=back, created_at=local(pod_a, "2025-05-02 09:00"))  # came back in May
    OpportunityFactory(
        account=bought,
        created_at=local(pod_a, "2025-01-10 09:00"),
        status="won",
        closed_at=local(pod_a, "2025-04-01 10:00"),
    )
    # Won before its rejection: not "bought since".
    OpportunityFactory(
        account=gone,
        created_at=local(pod_a, "2025-01-10 09:00"),
        status="won",
        closed_at=local(pod_a, "2025-03-07 16:00"),
    )
    call_command("compute_metrics", "--full")
    panel = dashboard(client, leader_a).find(data_rejected_since=True)
    assert panel.find(data_rejected_accounts=True).text() == "3"
    assert panel.find(data_came_back=True).text() == "1"
    assert panel.find(data_bought=True).text() == "1"
    assert "(33.3%)" in panel.text()


# --- Persona coverage ---------------------------------------------------------------------------------------------


@pytest.fixture
def personas(pod_a):
    """Activities in March 2025 naming contacts of each persona; the expected shares are counted by hand below."""
    accounts = {
        name: AccountFactory(pod=pod_a, name=name, external_id=name.upper()) for name in ("Acme", "Hooli", "Initech")
    }

    def touch(account, job, persona, when):
        contact = ContactFactory(account=accounts[account], persona=persona) if persona else None
        ActivityFactory(account=accounts[account], job=job, contact=contact, occurred_at=local(pod_a, when))

    touch("Acme", "buy", "executive", "2025-03-03 10:00")
    touch("Acme", "buy", "champion", "2025-03-04 10:00")
    touch("Hooli", "buy", "champion", "2025-03-05 10:00")
    touch("Hooli", "buy", "end_user", "2025-03-31 23:30")
    touch("Initech", "buy", None, "2025-03-06 10:00")  # nobody named
    touch("Initech", "buy", "executive", "2025-02-28 23:30")  # February in New York: not this month
    touch("Acme", "learn", "end_user", "2025-03-07 10:00")
    call_command("compute_metrics", "--full")


def test_persona_coverage_per_job_flags_buy_accounts_without_an_executive(client, leader_a, personas):
    page = dashboard(client, leader_a)
    table = page.find(data_persona_coverage=True).find("table")
    rows = {
        row.attrs["data-persona-job"]: [td.text() for td in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    }
    # Buy: Acme, Hooli and Initech active; end user Hooli (1/3), champion Acme and Hooli (2/3), executive Acme (1/3).
    assert rows["buy"] == ["33.3%", "66.7%", "33.3%"]
    assert rows["learn"] == ["100.0%", "0.0%", "0.0%"]
    assert rows["support"] == ["—", "—", "—"]  # nobody active: nothing to divide
    note = page.find(data_without_executive=True)
    assert "2 accounts" in note.text()
    client.force_login(leader_a)
    drill = page_of(client.get(note.find("a").attrs["href"]))
    listed = [row.find("td").text() for row in drill.find("table", data_drilldown=True).find("tbody").find_all("tr")]
    assert sorted(listed) == ["Hooli", "Initech"]
    assert drill.find(data_figure=True).text() == "2"
