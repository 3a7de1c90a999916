"""The benchmark's organisation: how large it is (:class:`Size`) and its CSV files, written a row at a time
in the formats of INTERCHANGE.md so that they go through the real import path.
"""

import bisect
import csv
import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pods.choices import BUYING_JOB_ORDER, Persona

from ..vocabulary import (
    ACTIVITY_KINDS,
    ADOPT,
    BUY,
    CHANNEL_MIX,
    CHANNELS,
    DIGITAL,
    LEARN,
    MINUTES,
    ORDER_INSTALL,
    SUPPORT,
)


@dataclass(frozen=True)
class Size:
    """How large the organisation is, and how many dashboard requests are timed."""

    activities: int = 10_000_000
    pods: int = 200
    accounts: int = 100_000
    months: int = 36
    requests: int = 20
    seed: int = 1

    @property
    def command(self) -> str:
        """The command that reproduces this run."""
        default = Size()
        parts = ["python manage.py benchmark"]
        for name in ("activities", "pods", "accounts", "months", "requests", "seed"):
            value = getattr(self, name)
            if value != getattr(default, name) or name in ("activities", "pods", "accounts", "months"):
                parts.append(f"--{name} {value}")
        return " ".join(parts)


# Other facts, as a share of the activities: enough that every metric family has real work to do.
FACT_SHARES = {"leads": 0.05, "opportunities": 0.05, "tickets": 0.05, "orders": 0.01, "adoption": 0.01}
STAFF_PER_POD_AND_JOB = 2
CONTACT_SHARE = 0.3  # activities naming the account's contact
MEMORY_CHECK_DIVISOR = 10  # "import memory flat": N / 10 rows against N rows

# (IANA zone, region) of the pods, cycled.
REGIONS = (
    ("America/New_York", "Southeast US"),
    ("America/Chicago", "Central US"),
    ("America/Denver", "Mountain US"),
    ("America/Los_Angeles", "West US"),
    ("America/Sao_Paulo", "Brazil"),
    ("Europe/London", "UK & Ireland"),
    ("Europe/Berlin", "DACH"),
    ("Europe/Paris", "France"),
    ("Asia/Kolkata", "India"),
    ("Asia/Singapore", "Southeast Asia"),
    ("Asia/Tokyo", "Japan"),
    ("Australia/Sydney", "ANZ"),
)
SEGMENTS = ("enterprise", "mid-market", "smb")
PERSONAS = tuple(Persona.values)
# Learn is the busiest job; buy and support follow (shares of all activities).  Channels and kinds per job:
# devtools/vocabulary.py, as in the demo.
JOB_WEIGHTS = {LEARN: 0.38, BUY: 0.2, ORDER_INSTALL: 0.1, ADOPT: 0.16, SUPPORT: 0.16}
NOTES = (
    "New stakeholder from finance joined the thread",
    "Asked for pricing, ROI calculator and references",
    'Wants a "quick win" before the renewal',
    "Came back after the partner event",
)
REJECTION_REASONS = ("no budget", "no decision-maker engaged", "timing: next fiscal year", "duplicate")

HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def _offset_text(zone: str, day: dt.date) -> str:
    """The zone's UTC offset on ``day`` as ISO 8601 (``-05:00``): CRM exports write local time with an offset."""
    offset = zoneinfo.ZoneInfo(zone).utcoffset(dt.datetime(day.year, day.month, day.day))
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Organisation:
    """Writes the CSV files of one organisation, a row at a time (nothing large is held in memory).

    Account ``i`` belongs to pod ``i % pods``; a fifth of all facts go to the busiest 5% of the
    accounts.  Timestamps fall over ``months`` months before today (mostly in business hours),
    written as local wall-clock time with the pod's UTC offset.
    """

    def __init__(self, size: Size, directory: Path, today: dt.date):
        self.size, self.directory = size, directory
        self.rng = random.Random(size.seed)
        self.first_day = today - dt.timedelta(days=round(size.months * 365.25 / 12))
        # Wall-clock days before yesterday: whatever the offset, no instant lies in the future.
        self.days = max(1, (today - self.first_day).days - 1)
        self.day_text = [(self.first_day + dt.timedelta(days=d)).isoformat() for d in range(self.days)]
        self.pods = []
        for index in range(size.pods):
            zone, region = REGIONS[index % len(REGIONS)]
            slug = f"pod-{index + 1:03d}"
            self.pods.append((slug, f"{region} {index // len(REGIONS) + 1}", zone, _offset_text(zone, self.first_day)))
        self.hot_accounts = max(1, size.accounts // 20)

    # --- building blocks ---

    def _account(self) -> int:
        rng = self.rng
        return rng.randrange(self.hot_accounts) if rng.random() < 0.2 else rng.randrange(self.size.accounts)

    def _moment(self) -> int:
        """Seconds after the first day's local midnight: 80% in business hours (08:00-18:00)."""
        rng = self.rng
        second = 28_800 + rng.randrange(36_000) if rng.random() < 0.8 else rng.randrange(86_400)
        return rng.randrange(self.days) * 86_400 + second

    def _instant(self, moment: int, pod: int) -> str:
        day, second = divmod(moment, 86_400)
        return f"{self.day_text[day]}T{HMS[second]}{self.pods[pod][3]}"

    def _in_window(self, moment: int) -> bool:
        return moment < self.days * 86_400

    def _writer(self, name: str, header: list[str]):
        handle = open(self.directory / f"{name}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
        writer = csv.writer(handle)
        writer.writerow(header)
        return handle, writer

    def _count(self, kind: str) -> int:
        return max(1, int(self.size.activities * FACT_SHARES[kind]))

    # --- files ---

    def write(self) -> dict[str, dict[str, Any]]:
        """Write every file; ``{kind: {"path", "rows"}}``."""
        files = {}
        for kind, writer in (
            ("pods", self.write_pods),
            ("staff", self.write_staff),
            ("accounts", self.write_accounts),
            ("contacts", self.write_contacts),
            ("leads", self.write_leads),
            ("opportunities", self.write_opportunities),
            ("orders", self.write_orders),
            ("adoption", self.write_adoption),
            ("tickets", self.write_tickets),
            ("activities", self.write_activities),
        ):
            rows = writer()
            files[kind] = {"path": str(self.directory / f"{kind}.csv"), "rows": rows}
        small = self.size.activities // MEMORY_CHECK_DIVISOR
        files["activities_small"] = {"path": str(self.directory / "activities_small.csv"), "rows": small}
        half = (self.size.activities + 1) // 2
        files["activities_half"] = {"path": str(self.directory / "activities_half.csv"), "rows": half}
        return files

    def write_pods(self) -> int:
        handle, writer = self._writer("pods", ["slug", "name", "timezone", "territory", "leaders"])
        with handle:
            for slug, name, zone, _ in self.pods:
                writer.writerow([slug, name, zone, f"{zone.split('/')[-1].replace('_', ' ')} area", f"lead-{slug}"])
        return len(self.pods)

    def write_staff(self) -> int:
        started_on = (self.first_day - dt.timedelta(days=30)).isoformat()
        handle, writer = self._writer("staff", ["username", "full_name", "email", "pod", "job", "started_on"])
        rows = 0
        with handle:
            for slug, *_ in self.pods:
                for job in BUYING_JOB_ORDER:
                    for number in range(1, STAFF_PER_POD_AND_JOB + 1):
                        username = f"{slug}.{job}.{number}"
                        full_name = f"{job.replace('_', ' ').title()} {number} of {slug}"
                        writer.writerow([username, full_name, f"{username}@example.com", slug, job, started_on])
                        rows += 1
        return rows

    def write_accounts(self) -> int:
        handle, writer = self._writer("accounts", ["external_id", "name", "pod", "segment"])
        with handle:
            for index in range(self.size.accounts):
                pod = self.pods[index % self.size.pods][0]
                writer.writerow([f"ACC-{index:07d}", f"Customer {index:07d} Inc.", pod, SEGMENTS[index % 3]])
        return self.size.accounts

    def write_contacts(self) -> int:
        handle, writer = self._writer("contacts", ["external_id", "account", "name", "email", "persona"])
        with handle:
            for index in range(self.size.accounts):
                writer.writerow([f"CON-{index:07d}", f"ACC-{index:07d}", f"Contact {index}", "", PERSONAS[index % 3]])
        return self.size.accounts

    def write_leads(self) -> int:
        rng, count = self.rng, self._count("leads")
        header = ["external_id", "account", "created_at", "channel", "status", "decided_at", "rejection_reason"]
        handle, writer = self._writer("leads", header)
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                created = self._moment()
                decided = created + rng.randrange(3_600, 21 * 86_400)
                roll = rng.random()
                status = "accepted" if roll < 0.7 else "rejected"
                if roll < 0.15 or not self._in_window(decided):
                    status = "open"
                writer.writerow(
                    [
                        f"LEAD-{number:08d}",
                        f"ACC-{account:07d}",
                        self._instant(created, pod),
                        rng.choices(CHANNELS, (0.6, 0.25, 0.15))[0],
                        status,
                        "" if status == "open" else self._instant(decided, pod),
                        rng.choice(REJECTION_REASONS) if status == "rejected" else "",
                    ]
                )
        return count

    def write_opportunities(self) -> int:
        rng, count = self.rng, self._count("opportunities")
        header = ["external_id", "account", "name", "amount", "created_at", "status", "closed_at"]
        handle, writer = self._writer("opportunities", header)
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                created = self._moment()
                closed = created + rng.randrange(7 * 86_400, 150 * 86_400)
                roll = rng.random()
                status = "open" if roll < 0.25 or not self._in_window(closed) else "won" if roll < 0.6 else "lost"
                writer.writerow(
                    [
                        f"OPP-{number:08d}",
                        f"ACC-{account:07d}",
                        f"Deal {number}",
                        f"{rng.randrange(100_000, 25_000_000) / 100:.2f}",
                        self._instant(created, pod),
                        status,
                        "" if status == "open" else self._instant(closed, pod),
                    ]
                )
        return count

    def write_orders(self) -> int:
        rng, count = self.rng, self._count("orders")
        handle, writer = self._writer("orders", ["external_id", "account", "ordered_at", "installed_at", "seats"])
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                ordered = self._moment()
                installed = ordered + rng.randrange(86_400, 45 * 86_400)
                writer.writerow(
                    [
                        f"ORD-{number:08d}",
                        f"ACC-{account:07d}",
                        self._instant(ordered, pod),
                        self._instant(installed, pod) if self._in_window(installed) else "",
                        rng.randrange(5, 500),
                    ]
                )
        return count

    def write_adoption(self) -> int:
        """One reading per account and month at most (the file's key is account and day)."""
        rng = self.rng
        months = max(1, (self.days - 28) // 30)
        count = min(self._count("adoption"), self.size.accounts * months)
        handle, writer = self._writer("adoption", ["account", "measured_on", "licensed_seats", "active_seats"])
        with handle:
            for number in range(count):
                account, month = number % self.size.accounts, number // self.size.accounts
                licensed = rng.randrange(10, 500)
                day = self.day_text[month * 30 + account % 28]
                writer.writerow([f"ACC-{account:07d}", day, licensed, rng.randrange(0, licensed + 1)])
        return count

    def write_tickets(self) -> int:
        rng, count = self.rng, self._count("tickets")
        header = ["external_id", "account", "opened_at", "resolved_at", "csat", "channel"]
        handle, writer = self._writer("tickets", header)
        with handle:
            for number in range(count):
                account = self._account()
                pod = account % self.size.pods
                opened = self._moment()
                resolved = opened + rng.randrange(600, 240 * 3_600)
                is_resolved = rng.random() < 0.85 and self._in_window(resolved)
                csat = rng.choices((1, 2, 3, 4, 5), (0.05, 0.07, 0.18, 0.4, 0.3))[0] if rng.random() < 0.6 else ""
                writer.writerow(
                    [
                        f"TCK-{number:08d}",
                        f"ACC-{account:07d}",
                        self._instant(opened, pod),
                        self._instant(resolved, pod) if is_resolved else "",
                        csat if is_resolved else "",
                        rng.choices(CHANNELS, (0.7, 0.2, 0.1))[0],
                    ]
                )
        return count

    def write_activities(self) -> int:
        """The large file; its first tenth again as the small file of the memory check, and every other row of
        it as the half file of the history check (the same months and pods, half the activities in each).

        The one loop of the benchmark that runs per row in Python: one ``random()`` per decision and
        precomputed strings keep it at a few microseconds a row.
        """
        size = self.size
        header = ["external_id", "occurred_at", "account", "job", "channel", "kind", "staff", "contact", "minutes"]
        header.append("notes")
        handle, writer = self._writer("activities", header)
        small_handle, small_writer = self._writer("activities_small", header)
        half_handle, half_writer = self._writer("activities_half", header)
        # Every (job, channel, kind) with its probability, picked with one random number.
        combinations, cumulative, total = [], [], 0.0
        for job, job_weight in JOB_WEIGHTS.items():
            for channel, channel_weight in zip(CHANNELS, CHANNEL_MIX[job], strict=True):
                kinds = ACTIVITY_KINDS[(job, channel)]
                for kind in kinds:
                    span = MINUTES.get(kind) if channel != DIGITAL else None
                    minutes = (span[0], span[1] - span[0] + 1) if span else None
                    combinations.append((job, channel, kind, minutes))
                    total += job_weight * channel_weight / len(kinds)
                    cumulative.append(total)
        cumulative[-1] = float("inf")
        random_, pods, accounts, hot = self.rng.random, size.pods, size.accounts, self.hot_accounts
        day_text, days, offsets = self.day_text, self.days, [pod[3] for pod in self.pods]
        slugs = [pod[0] for pod in self.pods]
        small_rows = size.activities // MEMORY_CHECK_DIVISOR
        with handle, small_handle, half_handle:
            for number in range(size.activities):
                account = int(random_() * hot) if random_() < 0.2 else int(random_() * accounts)
                pod = account % pods
                job, channel, kind, minutes = combinations[bisect.bisect(cumulative, random_() * total)]
                second = 28_800 + int(random_() * 36_000) if random_() < 0.8 else int(random_() * 86_400)
                row = (
                    f"ACT-{number:09d}",
                    f"{day_text[int(random_() * days)]}T{HMS[second]}{offsets[pod]}",
                    f"ACC-{account:07d}",
                    job,
                    channel,
                    kind,
                    f"{slugs[pod]}.{job}.{1 + int(random_() * STAFF_PER_POD_AND_JOB)}" if random_() < 0.85 else "",
                    f"CON-{account:07d}" if random_() < CONTACT_SHARE else "",
                    minutes[0] + int(random_() * minutes[1]) if minutes else "",
                    NOTES[int(random_() * len(NOTES))] if random_() < 0.1 else "",
                )
                writer.writerow(row)
                if number < small_rows:
                    small_writer.writerow(row)
                if number % 2 == 0:
                    half_writer.writerow(row)
        return size.activities
