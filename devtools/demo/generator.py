"""The demo's facts: every account's story, told from one ``random.Random(seed)`` and dated relative to now.

The story, per account: buying cycles (Learn, leads, Buy, Order/Install) that loop back when stakeholders
join or a deal is lost, then adoption and support for customers, with expansion cycles that start again at
Learn.  Around it: seasonality (August and the turn of the year are quiet; in ANZ the summer break is
January), growth in most pods and decline in DACH, partner-heavy pods, digital-only buyers (rep-free wins),
accounts engaged online without a lead, and one deliberate staffing gap: nobody works Adopt in ANZ.
"""

import datetime as dt
import math
import random
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from jobs.choices import LeadStatus, OpportunityStatus
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from pods.choices import Persona
from pods.models import Pod

from ..vocabulary import (
    ACTIVITY_KINDS,
    ADOPT,
    BUY,
    CHANNEL_MIX,
    CHANNELS,
    DIGITAL,
    IN_PERSON,
    LEARN,
    MINUTES,
    ORDER_INSTALL,
    SUPPORT,
)
from .alerts import create_alert_rules
from .organisation import DemoAccount, DemoOrganisation
from .story import (
    AMOUNTS,
    BATCH_SIZE,
    CYCLE_DAYS,
    DAY,
    DEMO_PODS,
    DEMO_PREFIX,
    DEMO_WINDOW_DAYS,
    ENTERPRISE,
    EXPANSIONS,
    INSTALL_DAYS,
    MID_MARKET,
    NOTES,
    PERSONA_BY_JOB,
    PRODUCTS,
    REJECTION_REASONS,
    SEATS,
    SIZE,
    SMB,
    UTC,
    DemoPod,
)
from .targets import DemoTargets


class DemoGenerator(DemoOrganisation, DemoTargets):
    """The organisation (``DemoOrganisation``), every account's facts, then the targets (``DemoTargets``)."""

    def __init__(self, *, seed: int, scale: float, now: dt.datetime):
        self.rng = random.Random(seed)
        self.scale = scale
        self.now = now.astimezone(UTC)
        self.start = self.now - DEMO_WINDOW_DAYS * DAY
        self.today = self.now.date()
        self.tz = {pod.slug: zoneinfo.ZoneInfo(pod.timezone) for pod in DEMO_PODS}
        self.pods: dict[str, Pod] = {}
        self.staffing: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, int]]] = defaultdict(list)
        self.activities: list[tuple] = []
        self.leads: list[Lead] = []
        self.opportunities: list[Opportunity] = []
        self.orders: list[Order] = []
        self.readings: list[AdoptionReading] = []
        self.tickets: list[SupportTicket] = []
        self.counts: dict[str, int] = {}
        self.by_pk: dict[int, DemoAccount] = {}

    def run(self) -> dict[str, int]:
        self._create_pods()
        self._create_people()
        accounts = self._create_accounts()
        for account in accounts:
            self._simulate(account)
        self._calibrate_bookings()
        self._write_facts()
        self._create_targets()
        self.counts["alert rules"] = create_alert_rules()
        return self.counts

    # --- calendar -----------------------------------------------------------------------------

    def _season(self, pod: DemoPod, instant: dt.datetime) -> float:
        """Share of the usual activity that happens at ``instant``: quiet at the turn of the year and in summer."""
        day = instant.astimezone(self.tz[pod.slug]).date()
        if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 3):
            return 0.35
        if day.month == pod.summer_break_month:
            return pod.summer_factor
        return 1.0

    def _growth(self, pod: DemoPod, instant: dt.datetime) -> float:
        """Demand relative to the middle of the window; it changes by a factor ``growth`` a year."""
        return pod.growth ** ((instant - self.start).total_seconds() / (365 * 86400) - 1)

    def _working_time(self, instant: dt.datetime, account: DemoAccount, channel: str) -> dt.datetime:
        """The same local day at a believable hour; people (not websites) also skip the weekend."""
        rng = self.rng
        day = instant.astimezone(account.tz).date()
        if day.weekday() >= 5 and (channel != DIGITAL or rng.random() < 0.7):
            day += (7 - day.weekday()) * DAY
        hour = rng.uniform(7, 23) if channel == DIGITAL else rng.triangular(8, 18, 11)
        local = dt.datetime.combine(day, dt.time(int(hour), int(hour % 1 * 60), rng.randint(0, 59)), account.tz)
        return local.astimezone(UTC)

    def _later(self, base: dt.datetime, days: tuple[float, float], account: DemoAccount, channel: str) -> dt.datetime:
        """A working time ``days`` after ``base``, never before it."""
        moment = self._working_time(base + self.rng.uniform(*days) * DAY, account, channel)
        if moment <= base:
            moment = base + dt.timedelta(minutes=self.rng.randint(15, 240))
        return moment

    def _after_break(self, instant: dt.datetime, pod: DemoPod) -> dt.datetime:
        """Decisions taken during a break often wait until people are back."""
        if self.rng.random() < self._season(pod, instant):
            return instant
        for _ in range(12):
            instant += 3 * DAY
            if self._season(pod, instant) == 1.0:
                break
        return instant

    def _in_window(self, instant: dt.datetime) -> bool:
        return self.start <= instant <= self.now

    # --- one account's story ------------------------------------------------------------------

    def _simulate(self, account: DemoAccount):
        rng = self.rng
        pod = account.pod
        if rng.random() < 0.4:  # a customer since before the window
            since = self.start - rng.uniform(60, 700) * DAY
            account.installs.append((since, rng.randint(*SEATS[account.segment])))
        # A run-in year before the window, so the window opens on a business already running.
        candidate = self.start - rng.uniform(0, 365) * DAY
        while candidate < self.now:
            if rng.random() > self._season(pod, candidate):
                candidate += rng.uniform(7, 21) * DAY  # nobody starts a project over the holidays
                continue
            is_customer = any(installed <= candidate for installed, _ in account.installs)
            if is_customer and rng.random() < 0.6:
                outcome, ended = self._add_on(account, candidate)
            else:
                outcome, ended = self._buying_cycle(account, candidate, expansion=is_customer)
            gap = {
                "won": (90, 300),
                "lost": (45, 150),
                "rejected": (40, 150),
                "quiet": (30, 120),
                "open": (0, 0),
            }[outcome]
            # The pod's fortunes set how soon an account starts its next cycle.
            candidate = ended + rng.uniform(*gap) / self._growth(pod, ended) ** 2 * DAY
        # Newsletters, website visits and webinars: the background hum of Learn, project or not.
        for moment in self._poisson(pod, self.start, 3.5 if account.researcher else 0.4):
            self._activity(account, moment, LEARN, channel=DIGITAL)
        if account.lurker:
            # Engaged online recently, still no lead: the list the dashboard shows pod leaders.
            for _ in range(rng.randint(3, 6)):
                self._activity(account, self.now - rng.uniform(1, 45) * DAY, LEARN, channel=DIGITAL)
        self._customer_life(account)

    def _buying_cycle(self, account: DemoAccount, start: dt.datetime, *, expansion: bool) -> tuple[str, dt.datetime]:
        """Learn, leads and possibly Buy and Order/Install; returns the outcome and when the cycle ended."""
        rng = self.rng
        pod = account.pod
        size = SIZE[account.segment]
        # Learn: research, mostly online.
        touches = round(rng.randint(4, 10) * size * (0.6 if expansion else 1))
        span = rng.uniform(14, 60)
        learn = sorted(start + rng.uniform(0, span) * DAY for _ in range(max(2, touches)))
        learn_touches = [touch for touch in (self._activity(account, moment, LEARN) for moment in learn) if touch]
        last = learn[-1]
        if account.lurker or not learn_touches or rng.random() < 0.12:
            return "quiet", last

        # Leads: one per interested contact (more when demand is up); qualifying out is part of the job.
        years = (start - self.start).total_seconds() / (365 * 86400)
        acceptance = pod.acceptance * (0.85 + 0.15 * years) if pod.growth > 1.15 else pod.acceptance
        wanted = 1 + sum(rng.random() < 0.45 * self._growth(pod, start) for _ in range(3))
        accepted_at = None
        for moment, channel in rng.sample(learn_touches, min(len(learn_touches), wanted)):
            created = self._after_break(self._later(moment, (0.02, 2), account, channel), pod)
            if created > self.now:
                continue
            decided = self._after_break(self._later(created, (0.1, 10), account, IN_PERSON), pod)
            lead = Lead(account=account.row, pod=self.pods[pod.slug], created_at=created, channel=channel)
            bonus = 0.06 if channel != DIGITAL else 0.0
            if decided > self.now:
                lead.status = LeadStatus.OPEN
            elif rng.random() < acceptance + bonus:
                lead.status, lead.decided_at = LeadStatus.ACCEPTED, decided
                accepted_at = decided if accepted_at is None else min(accepted_at, decided)
            else:
                reasons, weights = zip(*REJECTION_REASONS, strict=True)
                lead.status, lead.decided_at = LeadStatus.REJECTED, decided
                lead.rejection_reason = rng.choices(reasons, weights)[0]
            if created >= self.start:
                self.leads.append(lead)
            last = max(last, decided)
        if accepted_at is None or accepted_at > self.now:
            return ("rejected" if accepted_at is None else "open"), last
        if rng.random() < 0.2:
            return "quiet", last  # accepted, then nothing came of it

        # Buy: an opportunity, meetings and proposals; new stakeholders send the buyer back to Learn.
        created = self._later(accepted_at, (0, 8), account, IN_PERSON)
        cycle_days = rng.triangular(*CYCLE_DAYS[account.segment])
        amount = rng.uniform(*AMOUNTS[account.segment]) * (0.6 if expansion else 1)
        name = rng.choice(EXPANSIONS if expansion else PRODUCTS)
        meetings = round(rng.randint(5, 10) * size)
        loop_back = rng.random() < (0.5 if account.segment == ENTERPRISE else 0.3)
        won, closed = self._opportunity(account, created, cycle_days, amount, name, meetings, loop_back=loop_back)
        if won is None:
            return "open", closed
        if not won:
            return "lost", closed
        return "won", self._fulfil(account, closed, rng.randint(*SEATS[account.segment]))

    def _add_on(self, account: DemoAccount, start: dt.datetime) -> tuple[str, dt.datetime]:
        """A customer buys more (seats, a module) from the pod directly: no lead, a short Buy, usually won."""
        rng = self.rng
        created = self._working_time(start, account, IN_PERSON)
        amount = rng.uniform(*AMOUNTS[account.segment]) * rng.uniform(0.2, 0.45)
        meetings = rng.randint(2, 5)
        won, closed = self._opportunity(
            account, created, rng.triangular(20, 50, 28), amount, rng.choice(EXPANSIONS), meetings, win_bonus=0.3
        )
        if won is None:
            return "open", closed
        if not won:
            return "lost", closed
        seats = max(5, round(rng.randint(*SEATS[account.segment]) * rng.uniform(0.1, 0.3)))
        return "won", self._fulfil(account, closed, seats, phases=1)

    def _opportunity(
        self, account, created, cycle_days, amount, name, meetings, *, loop_back=False, win_bonus=0.0
    ) -> tuple[bool | None, dt.datetime]:
        """One opportunity and the Buy work around it; returns (won, or None while open; when it closes)."""
        rng = self.rng
        pod = account.pod
        closed = self._after_break(created + cycle_days * DAY, pod)
        closed = min(closed, created + 120 * DAY)
        opportunity = Opportunity(
            account=account.row,
            pod=self.pods[pod.slug],
            name=f"{account.row.name} — {name}",
            amount=amount,  # a float until the deal-size trend is calibrated (_calibrate_bookings)
            created_at=created,
        )
        moments = sorted(created + rng.uniform(0, cycle_days) * DAY for _ in range(meetings))
        for index, moment in enumerate(moments):
            self._activity(account, moment, BUY)
            if loop_back and index == len(moments) // 2:
                for _ in range(rng.randint(1, 3)):
                    self._activity(account, moment + rng.uniform(0.5, 6) * DAY, LEARN)
        if created >= self.start:
            self.opportunities.append(opportunity)
        if closed > self.now:
            return None, closed
        win_rate = pod.win_rate + win_bonus + (0.06 if account.digital_only else 0)
        win_rate -= 0.05 if account.segment == ENTERPRISE else 0
        # Deals whose executive was met in the quarter before they opened close more often (propensity's story).
        win_rate += 0.2 if any(created - 90 * DAY < met <= created for met in account.executive_met) else -0.1
        won = rng.random() < win_rate
        opportunity.status = OpportunityStatus.WON if won else OpportunityStatus.LOST
        opportunity.closed_at = closed
        return won, closed

    def _fulfil(
        self, account: DemoAccount, closed: dt.datetime, seats_total: int, phases: int | None = None
    ) -> dt.datetime:
        """Order/Install after a win; enterprise deals arrive in two phases.  Returns when installing ended."""
        rng = self.rng
        pod = account.pod
        phases = phases or (2 if account.segment == ENTERPRISE else 1)
        ordered = self._later(closed, (1, 10), account, DIGITAL)
        last = ordered
        for phase in range(phases):
            if phase:
                ordered = self._later(ordered, (20, 60), account, DIGITAL)
            if ordered > self.now:
                break
            installed = ordered + rng.triangular(*INSTALL_DAYS[account.segment]) * DAY
            seats = seats_total // phases
            order = Order(account=account.row, pod=self.pods[pod.slug], ordered_at=ordered, seats=seats)
            if installed <= self.now:
                order.installed_at = installed
                account.installs.append((installed, seats))
            if ordered >= self.start:
                self.orders.append(order)
            end = min(installed, self.now)
            for _ in range(rng.randint(2, 5)):
                self._activity(account, ordered + rng.uniform(0, 1) * (end - ordered), ORDER_INSTALL)
            last = installed
        return last

    def _customer_life(self, account: DemoAccount):
        """Monthly adoption readings, training, tickets and health checks once the first install is done."""
        if not account.installs:
            return
        rng = self.rng
        pod = account.pod
        installs = sorted(account.installs)
        since = max(installs[0][0], self.start)

        def licensed_on(instant):
            return sum(seats for installed, seats in installs if installed <= instant)

        # Nobody in the pod's Adopt job since the specialist moved: fewer trainings, adoption stalls.
        gap_since = None
        if ADOPT in pod.unstaffed_jobs:
            gap_since = max((ended for _, ended, _ in self.staffing[(pod.slug, ADOPT)] if ended), default=None)
        ceiling = rng.uniform(0.8, 0.95)
        active = None
        month = dt.date(since.year, since.month, 1)
        while month <= self.today:
            day = month.replace(day=account.reading_day)
            month = (month + 32 * DAY).replace(day=1)
            moment = dt.datetime.combine(day, dt.time(12), UTC)
            if not (since <= moment <= self.now):
                continue
            licensed = licensed_on(moment)
            if licensed == 0:
                continue
            stalled = gap_since is not None and day >= gap_since
            goal = licensed * (ceiling - (0.25 if stalled else 0))
            if active is None:
                active = licensed * rng.uniform(0.35, 0.6)
            active += (goal - active) * rng.uniform(0.08, 0.25) + rng.gauss(0, 0.02 * licensed)
            active = min(max(active, 0), licensed)
            self.readings.append(
                AdoptionReading(
                    account=account.row,
                    pod=self.pods[pod.slug],
                    measured_on=day,
                    licensed_seats=licensed,
                    active_seats=round(active),
                )
            )

        size = {SMB: 1.0, MID_MARKET: 1.8, ENTERPRISE: 3.0}[account.segment]
        for moment in self._poisson(pod, since, size * 1.4):
            stalled = gap_since is not None and moment.date() >= gap_since
            if not stalled or rng.random() < 0.35:
                self._activity(account, moment, ADOPT)
        if account.segment != SMB and not account.digital_only:
            for moment in self._poisson(pod, since, 0.35):
                self._activity(account, moment, SUPPORT, channel=IN_PERSON, kind="health_check")

        moment = since
        while True:
            rate = min(0.4 + licensed_on(moment) / 200, 4.0)  # tickets a month grow with seats in use
            moment += rng.expovariate(rate / 30.44) * DAY
            if moment > self.now:
                break
            if licensed_on(moment) == 0 or rng.random() > self._season(pod, moment) + 0.2:
                continue
            channel = self._channel(account, SUPPORT)
            opened = self._working_time(moment, account, channel)
            if not self._in_window(opened):
                continue
            hours = min(max(rng.lognormvariate(2.4, 1.0), 1.0), 120.0)
            ticket = SupportTicket(account=account.row, pod=self.pods[pod.slug], opened_at=opened, channel=channel)
            resolved = opened + dt.timedelta(hours=hours)
            if resolved <= self.now:
                ticket.resolved_at = resolved
                if rng.random() < 0.75:
                    weights = (
                        (2, 4, 9, 35, 50) if hours < 24 else (4, 8, 18, 40, 30) if hours < 72 else (12, 16, 30, 28, 14)
                    )
                    ticket.csat = rng.choices((1, 2, 3, 4, 5), weights)[0]
            self.tickets.append(ticket)
            self._activity(
                account,
                opened + dt.timedelta(minutes=rng.randint(1, 30)),
                SUPPORT,
                channel=channel,
                kind="ticket",
                exact=True,
            )
            if rng.random() < 0.3:
                self._activity(
                    account, opened + rng.uniform(0.1, 1) * hours * dt.timedelta(hours=1), SUPPORT, exact=True
                )

    def _poisson(self, pod: DemoPod, since: dt.datetime, per_month: float):
        """Instants of a Poisson process from ``since`` to now (``_activity`` thins them by the season)."""
        moment = since
        while True:
            moment += self.rng.expovariate(per_month / 30.44) * DAY
            if moment > self.now:
                return
            yield moment

    # --- single facts -------------------------------------------------------------------------

    def _channel(self, account: DemoAccount, job: str) -> str:
        if account.digital_only:
            return DIGITAL
        digital, in_person, partner = CHANNEL_MIX[job]
        moved = (in_person + partner) * account.pod.partner
        return self.rng.choices(CHANNELS, (digital, in_person - moved, partner + moved))[0]

    def _activity(self, account, moment, job, *, channel=None, kind=None, exact=False) -> tuple | None:
        """Record one activity unless it falls outside the window or into a quiet spell; return (time, channel)."""
        rng = self.rng
        channel = channel or self._channel(account, job)
        occurred = moment if exact else self._working_time(moment, account, channel)
        if not self._in_window(occurred):
            return None
        if not exact and rng.random() > self._season(account.pod, occurred):
            return None
        kind = kind or rng.choice(ACTIVITY_KINDS[(job, channel)])
        staff_id = None
        if channel != DIGITAL or rng.random() < 0.35:  # emails and webinars are often sent by a system
            staff_id = self._staff(account, job, occurred.astimezone(account.tz).date())
        persona_weights = PERSONA_BY_JOB[job]
        contact_id = None
        if rng.random() < 0.7:
            persona = rng.choices([p for p, _ in persona_weights], [w for _, w in persona_weights])[0]
            pool = account.contacts.get(persona) or account.contacts.get(Persona.CHAMPION)
            contact_id = rng.choice(pool) if pool else None
            if contact_id is not None and persona == Persona.EXECUTIVE and account.contacts.get(persona):
                account.executive_met.append(occurred)
        span = MINUTES.get(kind)
        minutes = rng.randint(*span) if span else None
        notes = rng.choice(NOTES[job]) if rng.random() < 0.08 else ""
        self.activities.append((occurred, account, job, channel, kind, staff_id, contact_id, minutes, notes))
        return occurred, channel

    def _staff(self, account: DemoAccount, job: str, day: dt.date) -> int | None:
        """A person of the account's pod working that job on ``day``; accounts keep their rep when possible."""
        people = [
            pid
            for started, ended, pid in self.staffing[(account.pod.slug, job)]
            if started <= day and (ended is None or day < ended)
        ]
        if not people:
            return None
        rep = account.reps.get(job)
        if rep in people and self.rng.random() < 0.85:
            return rep
        account.reps[job] = self.rng.choice(people)
        return account.reps[job]

    def _calibrate_bookings(self):
        """Give each pod one smooth deal-size trend so that its trailing-year bookings change by ``growth``.

        A pod wins a few dozen deals a year, so their count alone makes year-over-year growth a coin
        toss; the trend (amount x e^(alpha x years), alpha found by bisection) makes each pod's designed
        fortunes visible while months keep their noise.
        """
        year_ago = self.now - 365 * DAY  # also the middle of the window, where the trend is 1

        def years(opportunity):
            return (opportunity.created_at - year_ago).total_seconds() / (365 * 86400)

        by_pod = defaultdict(list)
        for opportunity in self.opportunities:
            by_pod[opportunity.pod.slug].append(opportunity)
        for profile in DEMO_PODS:
            opportunities = by_pod[profile.slug]
            won = [o for o in opportunities if o.status == OpportunityStatus.WON]
            last_year = [(o.amount, years(o)) for o in won if o.closed_at >= year_ago]
            year_before = [(o.amount, years(o)) for o in won if o.closed_at < year_ago]
            alpha = _trend(last_year, year_before, profile.growth) if last_year and year_before else 0.0
            for opportunity in opportunities:
                amount = opportunity.amount * math.exp(alpha * years(opportunity))
                opportunity.amount = Decimal(max(100, round(amount / 100) * 100))

    # --- writing ------------------------------------------------------------------------------

    def _write_facts(self):
        # Chronological ids: "creation order" breaks ties in the journey metrics, as in a live system.
        self.activities.sort(key=lambda row: row[0])
        activities = [
            Activity(
                external_id=f"{DEMO_PREFIX}ACT-{number:06d}",
                account=account.row,
                pod=self.pods[account.pod.slug],
                occurred_at=occurred,
                job=job,
                channel=channel,
                kind=kind,
                staff_id=staff_id,
                contact_id=contact_id,
                minutes=minutes,
                notes=notes,
            )
            for number, (occurred, account, job, channel, kind, staff_id, contact_id, minutes, notes) in enumerate(
                self.activities, start=1
            )
        ]
        for label, model, prefix, rows, key in (
            ("leads", Lead, "LEAD", self.leads, "created_at"),
            ("opportunities", Opportunity, "OPP", self.opportunities, "created_at"),
            ("orders", Order, "ORD", self.orders, "ordered_at"),
            ("adoption readings", AdoptionReading, "ADO", self.readings, "measured_on"),
            ("tickets", SupportTicket, "TKT", self.tickets, "opened_at"),
        ):
            rows.sort(key=lambda row, key=key: (getattr(row, key), row.account_id))
            for number, row in enumerate(rows, start=1):
                row.external_id = f"{DEMO_PREFIX}{prefix}-{number:06d}"
            model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
            self.counts[label] = len(rows)
        Activity.objects.bulk_create(activities, batch_size=BATCH_SIZE)
        self.counts["activities"] = len(activities)


def _trend(last_year: list[tuple[float, float]], year_before: list[tuple[float, float]], growth: float) -> float:
    """The alpha for which sum(amount x e^(alpha x years)) grows by ``growth`` from ``year_before`` to ``last_year``.

    The ratio rises with alpha, so bisection finds it; alpha is bounded to keep deal sizes plausible.
    """

    def ratio(alpha):
        booked = sum(amount * math.exp(alpha * years) for amount, years in last_year)
        return booked / sum(amount * math.exp(alpha * years) for amount, years in year_before)

    low, high = -1.2, 1.2
    for _ in range(40):
        alpha = (low + high) / 2
        low, high = (alpha, high) if ratio(alpha) < growth else (low, alpha)
    return (low + high) / 2
