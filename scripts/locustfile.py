"""Locust users of the load test (run by ``scripts/loadtest.py``, which starts the server they talk to).

- ``Leader``: signs in and reads dashboards of the pods they lead — whole pages, grain changes as
  htmx swaps, the metrics API and the home page.
- ``Staff``: logs activities through ``POST /api/activities/`` with a token, as a CRM integration would.
- ``LagProbe`` (one): logs an activity in a week nobody else writes to, then polls the metrics API until
  that week's ``activity_total`` has grown by one — the lag from an activity logged to the dashboard
  showing it.  Its polls are reported under their own name, apart from the leaders' API reads.

The plan (users, tokens, pods, accounts) comes from ``LOADTEST_PLAN``; the lag samples go to
``LOADTEST_LAG_OUT``.  Every loop is bounded: locust stops the run after ``--run-time``.
"""

import datetime as dt
import itertools
import json
import os
import random
import time
import zoneinfo

from locust import HttpUser, between, constant, events, task

PLAN = json.loads(open(os.environ["LOADTEST_PLAN"]).read())  # noqa: SIM115
LAG_OUT = os.environ["LOADTEST_LAG_OUT"]
LAG_TIMEOUT = float(os.environ.get("LOADTEST_LAG_TIMEOUT", "90"))
GRAINS = ("week", "month", "quarter", "year")
JOBS = ("learn", "buy", "order_install", "adopt", "support")
CHANNELS = ("digital", "in_person", "partner")

_leaders = itertools.cycle(PLAN["leaders"])
_staff = itertools.cycle(PLAN["staff"])
LAG_SAMPLES: list[dict] = []


class Leader(HttpUser):
    fixed_count = int(os.environ.get("LOADTEST_LEADERS", "8"))
    wait_time = between(1, 3)

    def on_start(self):
        self.person = next(_leaders)
        self.client.get("/auth/login/", name="sign in (form)")
        token = self.client.cookies.get("csrftoken", "")
        response = self.client.post(
            "/auth/login/",
            {"username": self.person["username"], "password": PLAN["password"], "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/auth/login/"},
            name="sign in",
        )
        if "/auth/login/" in response.url:
            raise RuntimeError(f"{self.person['username']} could not sign in")

    def _dashboard(self, pod: str, grain: str, htmx: bool):
        headers = {"HX-Request": "true", "HX-Target": "dashboard-body"} if htmx else {}
        name = "dashboard grain change (htmx)" if htmx else "dashboard page"
        with self.client.get(f"/pods/{pod}/", params={"grain": grain}, headers=headers, name=name,
                             catch_response=True) as response:  # fmt: skip
            if response.status_code == 200 and 'id="dashboard-body"' not in response.text:
                response.failure("no dashboard in the answer")

    @task(3)
    def dashboard_page(self):
        self._dashboard(random.choice(self.person["pods"]), random.choice(GRAINS), htmx=False)

    @task(4)
    def change_grain(self):
        self._dashboard(random.choice(self.person["pods"]), random.choice(GRAINS), htmx=True)

    @task(2)
    def metrics_api(self):
        pod = random.choice(self.person["pods"])
        self.client.get(f"/api/pods/{pod}/metrics/", params={"grain": random.choice(GRAINS)}, name="metrics API")

    @task(1)
    def home(self):
        self.client.get("/", name="home page")


def activity(account: str, occurred_at: dt.datetime, note: str) -> dict:
    return {
        "account": account,
        "occurred_at": occurred_at.isoformat(),
        "job": random.choice(JOBS),
        "channel": random.choice(CHANNELS),
        "kind": "call",
        "notes": note,
    }


class Staff(HttpUser):
    fixed_count = int(os.environ.get("LOADTEST_STAFF", "4"))
    wait_time = between(1, 2)

    def on_start(self):
        self.person = next(_staff)
        self.client.headers["Authorization"] = f"Token {self.person['token']}"

    @task(5)
    def log_activity(self):
        occurred_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=random.randint(1, 600))
        body = activity(random.choice(self.person["accounts"]), occurred_at, "load test")
        with self.client.post("/api/activities/", json=body, name="log activity (API)",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def own_activities(self):
        self.client.get("/api/activities/", name="list activities (API)")


class LagProbe(HttpUser):
    """Logs one activity at a time in its own week and waits until the metrics API counts it."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self):
        self.person = PLAN["probe"]
        self.client.headers["Authorization"] = f"Token {self.person['token']}"
        self.zone = zoneinfo.ZoneInfo(self.person["timezone"])
        # Weeks from two to a hundred back: the load's own activities are all within the last day.
        self.weeks_back = itertools.count(2)

    def _week_total(self, week: dt.date) -> int | None:
        response = self.client.get(
            f"/api/pods/{self.person['pod']}/metrics/",
            params={"grain": "week", "start": week.isoformat(), "end": week.isoformat()},
            name="lag probe: metrics API poll",
        )
        if response.status_code != 200:
            return None
        return response.json()["periods"][0]["metrics"]["activity_total"]

    @task
    def probe(self):
        back = next(self.weeks_back)
        if back > 100:
            return
        today = dt.datetime.now(self.zone).date()
        week = today - dt.timedelta(days=today.weekday(), weeks=back)
        before = self._week_total(week)
        if before is None:
            return
        occurred_at = dt.datetime.combine(week + dt.timedelta(days=2), dt.time(12), tzinfo=self.zone)
        response = self.client.post(
            "/api/activities/",
            json=activity(self.person["accounts"][0], occurred_at, "lag probe"),
            name="lag probe: log activity",
        )
        if response.status_code != 201:
            return
        logged = time.monotonic()
        while time.monotonic() - logged < LAG_TIMEOUT:
            if self._week_total(week) == before + 1:
                LAG_SAMPLES.append({"week": week.isoformat(), "lag_seconds": round(time.monotonic() - logged, 3)})
                return
            time.sleep(0.2)
        LAG_SAMPLES.append({"week": week.isoformat(), "lag_seconds": None})  # not shown within the timeout


@events.quitting.add_listener
def _write_lag_samples(environment, **_kwargs):
    with open(LAG_OUT, "w") as out:
        json.dump(LAG_SAMPLES, out)
