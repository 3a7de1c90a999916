"""The account page and ``GET /api/accounts/{external_id}/``, read against a brute-force oracle.

The oracle (``expected_profile``) reads the rows this module wrote, in Python: it sorts the account's
activities by (occurred_at, creation order), cuts them into runs of one job, counts moves to an
earlier job, and tallies channels, personas and staff — docs/ACCOUNTS.md, not the SQL.
Hypothesis draws the histories, ties in time included.
"""

import csv
import datetime as dt
import io
import random
import zoneinfo
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.models import Activity
from pods.models import CenterOfExcellence
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AdoptionReadingFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportTicketFactory,
    UserFactory,
)
from tests.support.pages import page_of

pytestmark = pytest.mark.django_db

JOBS = ["learn", "buy", "order_install", "adopt", "support"]
CHANNELS = ["digital", "in_person", "partner"]
PERSONAS = ["end_user", "champion", "executive"]
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def expected_profile(account):
    """Everything the account page shows, from the rows themselves (docs/ACCOUNTS.md)."""
    rows = sorted(Activity.objects.filter(account=account), key=lambda a: (a.occurred_at, a.pk))
    runs = []
    for activity in rows:
        if runs and runs[-1]["job"] == activity.job:
            runs[-1]["rows"].append(activity)
        else:
            runs.append({"job": activity.job, "rows": [activity]})
    steps = []
    for number, run in enumerate(runs, start=1):
        came_from = runs[number - 2]["job"] if number > 1 else None
        steps.append(
            {
                "number": number,
                "job": run["job"],
                "came_from": came_from,
                "loopback": came_from is not None and JOBS.index(run["job"]) < JOBS.index(came_from),
                "activities": len(run["rows"]),
                "first_at": min(a.occurred_at for a in run["rows"]),
                "last_at": max(a.occurred_at for a in run["rows"]),
                "channels": sorted({a.channel for a in run["rows"]}),
            }
        )
    personas = {job: {p: {"contacts": set(), "activities": 0, "last_at": None} for p in PERSONAS} for job in JOBS}
    for activity in rows:
        if activity.contact_id:
            cell = personas[activity.job][activity.contact.persona]
            cell["contacts"].add(activity.contact_id)
            cell["activities"] += 1
            cell["last_at"] = max(filter(None, [cell["last_at"], activity.occurred_at]))
    staff = defaultdict(list)
    for activity in rows:
        if activity.staff_id:
            staff[activity.staff.username].append(activity)
    return {
        "steps": list(reversed(steps)),
        "loopbacks": sum(step["loopback"] for step in steps),
        "channels": {channel: sum(a.channel == channel for a in rows) for channel in CHANNELS},
        "personas": {
            job: {p: {**cell, "contacts": len(cell["contacts"])} for p, cell in row.items()}
            for job, row in personas.items()
        },
        "staff": {
            username: {
                "activities": len(done),
                "jobs": [job for job in JOBS if any(a.job == job for a in done)],
                "last_at": max(a.occurred_at for a in done),
            }
            for username, done in staff.items()
        },
        "activity_count": len(rows),
    }


def iso(value):
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def assert_api_matches_oracle(data, expected):
    assert data["activity_count"] == expected["activity_count"]
    assert data["journey"]["step_count"] == len(expected["steps"])
    assert data["journey"]["loopbacks"] == expected["loopbacks"]
    shown = expected["steps"][:40]
    assert [
        (s["number"], s["job"], s["came_from"], s["loopback"], s["activities"], s["channels"])
        for s in data["journey"]["steps"]
    ] == [(s["number"], s["job"], s["came_from"], s["loopback"], s["activities"], s["channels"]) for s in shown]
    assert [(s["first_at"], s["last_at"]) for s in data["journey"]["steps"]] == [
        (iso(s["first_at"]), iso(s["last_at"])) for s in shown
    ]
    assert data["channels"] == expected["channels"]
    assert data["personas"] == {
        job: {p: {**cell, "last_at": iso(cell["last_at"])} for p, cell in row.items()}
        for job, row in expected["personas"].items()
    }
    assert {row["username"]: {k: row[k] for k in ("activities", "jobs")} for row in data["staff"]} == {
        name: {"activities": v["activities"], "jobs": v["jobs"]} for name, v in expected["staff"].items()
    }


def build_history(account, rng: random.Random, count: int, *, staff=(), contacts=()):
    """``count`` activities over a year, some sharing an instant (ties are ordered by creation)."""
    when = START
    for _ in range(count):
        if rng.random() > 0.2:  # one in five shares the previous activity's instant
            when += dt.timedelta(hours=rng.randint(1, 200))
        ActivityFactory(
            account=account,
            occurred_at=when,
            job=rng.choice(JOBS),
            channel=rng.choice(CHANNELS),
            staff=rng.choice([None, *staff]),
            contact=rng.choice([None, *contacts]),
        )


@pytest.fixture
def account(pod_a):
    return AccountFactory(pod=pod_a, external_id="ACME-1", name="Acme Tools")


@given(seed=st.integers(0, 10_000), count=st.integers(0, 60))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_profile_equals_the_brute_force_oracle(client, leader_a, pod_a, seed, count):
    account = AccountFactory(pod=pod_a)
    rng = random.Random(seed)
    staff = [UserFactory() for _ in range(3)]
    contacts = [ContactFactory(account=account, persona=rng.choice(PERSONAS)) for _ in range(4)]
    build_history(account, rng, count, staff=staff, contacts=contacts)
    client.force_login(leader_a)
    response = client.get(f"/api/accounts/{account.external_id}/")
    assert response.status_code == 200
    assert_api_matches_oracle(response.json(), expected_profile(account))


def test_a_long_history_shows_its_latest_forty_steps_and_counts_every_loopback(client, leader_a, account):
    # Alternating jobs: 101 steps, each after the first a change; learn after buy is a loopback (50 of them).
    for step in range(101):
        ActivityFactory(account=account, occurred_at=START + dt.timedelta(days=step), job=JOBS[step % 2])
    client.force_login(leader_a)
    data = client.get(f"/api/accounts/{account.external_id}/").json()
    expected = expected_profile(account)
    assert data["journey"]["step_count"] == 101 and expected["loopbacks"] == 50
    assert_api_matches_oracle(data, expected)
    page = page_of(client.get(f"/accounts/{account.external_id}/"))
    steps = page.find_all(data_journey=True)[0].find_all("li")
    assert len(steps) == 40
    assert "Showing the latest 40 of 101 steps" in page.text()
    assert page.find_all(data_total="loopbacks")[0].text() == "50"


def test_the_page_tells_the_journey_with_its_loops_in_the_pods_time_zone(client, leader_a, account, pod_a):
    ny = zoneinfo.ZoneInfo(pod_a.timezone)
    # 02:30 UTC on 10 March is still 9 March in New York.
    ActivityFactory(account=account, occurred_at=dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC), job="learn")
    ActivityFactory(account=account, occurred_at=dt.datetime(2026, 3, 12, 15, tzinfo=ny), job="buy")
    ActivityFactory(account=account, occurred_at=dt.datetime(2026, 3, 20, 15, tzinfo=ny), job="learn")
    client.force_login(leader_a)
    page = page_of(client.get(f"/accounts/{account.external_id}/"))
    steps = page.find_all(data_journey=True)[0].find_all("li")
    assert [step.attrs["data-job"] for step in steps] == ["learn", "buy", "learn"]  # newest first
    assert "loopback from Buy" in steps[0].text()
    assert "loopback" not in steps[1].text() and "loopback" not in steps[2].text()
    assert "9 Mar 2026" in steps[2].text()


def test_personas_reached_per_job_and_a_buy_without_an_executive_is_flagged(client, leader_a, account):
    champion = ContactFactory(account=account, persona="champion")
    executive = ContactFactory(account=account, persona="executive")
    other_champion = ContactFactory(account=account, persona="champion")
    ActivityFactory(account=account, job="buy", contact=champion)
    ActivityFactory(account=account, job="buy", contact=other_champion)
    ActivityFactory(account=account, job="buy", contact=champion)
    ActivityFactory(account=account, job="learn", contact=executive)
    client.force_login(leader_a)
    page = page_of(client.get(f"/accounts/{account.external_id}/"))
    buy = page.find_all(data_personas=True)[0].find_all(data_job="buy")[0]
    champion_cell = buy.find_all(data_persona="champion")[0]
    assert champion_cell.text().startswith("2 contacts")
    assert "3 act." in champion_cell.text()
    assert buy.find_all(data_no_executive=True), "Buy reached no executive: flagged"
    learn = page.find(data_personas=True).find(data_job="learn")
    assert learn.find_all(data_persona="executive")[0].text().startswith("1 contact")


def test_open_work_and_latest_adoption(client, leader_a, account):
    earlier, later = dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 9, tzinfo=dt.UTC)
    LeadFactory(account=account, external_id="L-open", status="open")
    LeadFactory(account=account, external_id="L-done", status="accepted", created_at=earlier, decided_at=later)
    OpportunityFactory(account=account, external_id="O-open", name="Big deal", status="open")
    OpportunityFactory(account=account, external_id="O-won", status="won", created_at=earlier, closed_at=later)
    OrderFactory(account=account, external_id="R-waiting", installed_at=None)
    OrderFactory(account=account, external_id="R-done", ordered_at=earlier, installed_at=later)
    SupportTicketFactory(account=account, external_id="T-open", resolved_at=None)
    AdoptionReadingFactory(account=account, measured_on=dt.date(2026, 1, 1), licensed_seats=50, active_seats=10)
    AdoptionReadingFactory(account=account, measured_on=dt.date(2026, 2, 1), licensed_seats=50, active_seats=30)
    client.force_login(leader_a)
    data = client.get(f"/api/accounts/{account.external_id}/").json()
    assert [row["external_id"] for row in data["open"]["leads"]] == ["L-open"]
    assert [row["external_id"] for row in data["open"]["opportunities"]] == ["O-open"]
    assert [row["external_id"] for row in data["open"]["orders"]] == ["R-waiting"]
    assert [row["external_id"] for row in data["open"]["tickets"]] == ["T-open"]
    assert data["latest_adoption"] == {"measured_on": "2026-02-01", "licensed_seats": 50, "active_seats": 30}
    text = page_of(client.get(f"/accounts/{account.external_id}/")).text()
    assert "30 of 50 seats active on 1 Feb 2026" in text
    assert "Big deal" in text and "L-open" in text and "L-done" not in text


def test_an_account_without_activities_has_an_empty_state(client, leader_a, account):
    client.force_login(leader_a)
    page = page_of(client.get(f"/accounts/{account.external_id}/"))
    assert page.find_all(data_empty_account=True)
    assert client.get(f"/api/accounts/{account.external_id}/").json()["journey"] == {
        "steps": [],
        "step_count": 0,
        "loopbacks": 0,
    }


def test_the_list_keeps_the_contract_fields(client, leader_a, account):
    client.force_login(leader_a)
    rows = client.get("/api/accounts/").json()["results"]
    assert rows == [{"external_id": "ACME-1", "name": "Acme Tools", "pod": "southeast-us", "segment": ""}]


def test_out_of_scope_answers_404_like_a_missing_account(client, leader_a, pod_b):
    AccountFactory(pod=pod_b, external_id="DACH-1")
    client.force_login(leader_a)
    for url in ("/accounts/{}/", "/api/accounts/{}/"):
        other, missing = client.get(url.format("DACH-1")), client.get(url.format("NOPE-1"))
        assert other.status_code == missing.status_code == 404
        assert other.content == missing.content


def test_a_coe_member_reads_every_pods_account_and_loses_it_when_removed(client, pod_a, pod_b):
    AccountFactory(pod=pod_b, external_id="DACH-1")
    member = UserFactory(username="coe-analyst")
    coe = CenterOfExcellence.objects.get(name="Data & Analytics")  # one of the three the migrations create
    coe.members.add(member)
    client.force_login(member)
    assert client.get("/accounts/DACH-1/").status_code == 200
    assert client.get("/api/accounts/DACH-1/").status_code == 200
    coe.members.remove(member)
    assert client.get("/accounts/DACH-1/").status_code == 404


def test_search_by_name_or_external_id_within_scope(client, leader_a, pod_a, pod_b):
    AccountFactory(pod=pod_a, external_id="SE-100", name="Harbour Freight")
    AccountFactory(pod=pod_a, external_id="SE-FREIGHT-2", name="Blue Lines")
    AccountFactory(pod=pod_a, external_id="SE-300", name="Quiet Mills")
    AccountFactory(pod=pod_b, external_id="DACH-9", name="Freight GmbH")
    client.force_login(leader_a)
    page = page_of(client.get("/accounts/", {"q": "freight"}))
    assert sorted(node.attrs["data-account"] for node in page.find_all(data_account=True)) == [
        "SE-100",
        "SE-FREIGHT-2",
    ]
    empty = page_of(client.get("/accounts/", {"q": "zzz"}))
    assert "No account you can see matches" in empty.text()


def test_the_page_reads_in_a_constant_number_of_queries(client, leader_a, pod_a):
    small, large = AccountFactory(pod=pod_a), AccountFactory(pod=pod_a)
    rng = random.Random(7)
    staff = [UserFactory() for _ in range(5)]
    build_history(small, rng, 3, staff=staff[:1], contacts=[ContactFactory(account=small)])
    build_history(large, rng, 150, staff=staff, contacts=[ContactFactory(account=large) for _ in range(6)])
    for account in (small, large):
        LeadFactory(account=account)
        SupportTicketFactory(account=account)
    client.force_login(leader_a)
    counts = []
    for account in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/accounts/{account.external_id}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_drilldown_rows_and_engaged_accounts_link_to_the_account_page(client, leader_a, account, pod_a):
    now = dt.datetime.now(dt.UTC)
    for minutes in (1, 2):  # this week in the pod's zone (no calendar instant is 2 minutes after a week starts)
        ActivityFactory(account=account, job="learn", occurred_at=now - dt.timedelta(minutes=minutes))
    call_command("compute_metrics", "--full")  # the dashboard lists engaged accounts once it has figures
    client.force_login(leader_a)
    link = f'href="/accounts/{account.external_id}/"'
    drilldown = client.get(f"/pods/{pod_a.slug}/drilldown/engaged_accounts/", {"grain": "week"})
    assert link in drilldown.content.decode()
    engaged = page_of(client.get(f"/pods/{pod_a.slug}/", {"grain": "week"})).find(data_engaged_account="ACME-1")
    assert engaged.find("a").attrs["href"] == f"/accounts/{account.external_id}/"


def test_a_new_activity_shows_at_once_although_the_page_was_rendered_before(client, leader_a, account):
    ActivityFactory(account=account, job="learn")
    client.force_login(leader_a)
    url = f"/accounts/{account.external_id}/"
    assert page_of(client.get(url)).find(data_total="activities").text() == "1"
    assert page_of(client.get(url)).find(data_total="activities").text() == "1"  # served from the cache
    ActivityFactory(account=account, job="buy")
    page = page_of(client.get(url))
    assert page.find(data_total="activities").text() == "2"
    assert [step.attrs["data-job"] for step in page.find(data_journey=True).find_all("li")] == ["buy", "learn"]


def csv_values(response):
    """The account export as {key: value}, after checking its header and that every line names the account."""
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Account", "External id", "Section", "Key", "Value"]
    keys = [row[3] for row in rows[1:]]
    assert len(keys) == len(set(keys)), "every value once"
    return {row[3]: row for row in rows[1:]}


def test_the_csv_export_holds_every_figure_of_the_page_against_the_oracle(client, leader_a, pod_a):
    account = AccountFactory(pod=pod_a, external_id="CSV-1", name='=HYPERLINK("http://x")')
    rng = random.Random(11)
    staff = [UserFactory() for _ in range(3)]
    contacts = [ContactFactory(account=account, persona=persona) for persona in PERSONAS]
    build_history(account, rng, 45, staff=staff, contacts=contacts)
    LeadFactory(account=account, external_id="L-open", status="open")
    AdoptionReadingFactory(account=account, measured_on=dt.date(2026, 2, 1), licensed_seats=40, active_seats=12)
    expected = expected_profile(account)
    client.force_login(leader_a)
    response = client.get(f"/accounts/{account.external_id}/export.csv")
    assert response["Content-Disposition"] == 'attachment; filename="account-CSV-1.csv"'
    rows = csv_values(response)
    value = {key: row[4] for key, row in rows.items()}

    assert {row[0] for row in rows.values()} == {'\'=HYPERLINK("http://x")'}, "no formula reaches the sheet"
    assert value["activity_count"] == str(expected["activity_count"])
    assert value["journey.step_count"] == str(len(expected["steps"]))
    assert value["journey.loopbacks"] == str(expected["loopbacks"])
    for position, step in enumerate(expected["steps"][:40], start=1):
        prefix = f"journey.steps.{position}"
        assert rows[f"{prefix}.job"][2] == "Journey"
        assert value[f"{prefix}.number"] == str(step["number"])
        assert value[f"{prefix}.job"] == step["job"]
        assert value[f"{prefix}.came_from"] == (step["came_from"] or "")
        assert value[f"{prefix}.loopback"] == ("true" if step["loopback"] else "false")
        assert value[f"{prefix}.activities"] == str(step["activities"])
        assert value[f"{prefix}.first_at"] == iso(step["first_at"])
        assert value[f"{prefix}.channels"] == "; ".join(step["channels"])
    assert f"journey.steps.{min(40, len(expected['steps'])) + 1}.job" not in value
    for channel in CHANNELS:
        assert value[f"channels.{channel}"] == str(expected["channels"][channel])
    for job in JOBS:
        for persona in PERSONAS:
            cell = expected["personas"][job][persona]
            assert value[f"personas.{job}.{persona}.contacts"] == str(cell["contacts"])
            assert value[f"personas.{job}.{persona}.last_at"] == (iso(cell["last_at"]) or "")
    staffed = {
        value[f"staff.{n}.username"]: value[f"staff.{n}.activities"] for n in range(1, len(expected["staff"]) + 1)
    }
    assert staffed == {name: str(row["activities"]) for name, row in expected["staff"].items()}
    assert value["open.leads.1.external_id"] == "L-open" and "open.leads.2.external_id" not in value
    assert value["latest_adoption.active_seats"] == "12"
    assert value["propensity"] == ""  # no fit yet: the API's null
    # The engagement factors sum to the score, negative numbers are not escaped as formulas.
    factors = [float(v) for k, v in value.items() if k.startswith("engagement.factors.") and k.endswith("contribution")]
    assert abs(sum(factors) - float(value["engagement.score"])) < 1e-3 * max(1, len(factors))


def test_the_export_is_scoped_linked_from_the_page_and_reads_in_constant_queries(client, leader_a, pod_a, pod_b):
    AccountFactory(pod=pod_b, external_id="DACH-1")
    small, large = AccountFactory(pod=pod_a), AccountFactory(pod=pod_a)
    rng = random.Random(3)
    build_history(small, rng, 2, staff=[UserFactory()])
    build_history(large, rng, 120, staff=[UserFactory() for _ in range(4)], contacts=[ContactFactory(account=large)])
    client.force_login(leader_a)
    other, missing = client.get("/accounts/DACH-1/export.csv"), client.get("/accounts/NOPE-1/export.csv")
    assert other.status_code == missing.status_code == 404 and other.content == missing.content
    link = page_of(client.get(f"/accounts/{small.external_id}/")).find(data_account_export=True)
    assert link.attrs["href"] == f"/accounts/{small.external_id}/export.csv"
    counts = []
    for account in (small, large):
        with CaptureQueriesContext(connection) as queries:
            csv_values(client.get(f"/accounts/{account.external_id}/export.csv"))
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
