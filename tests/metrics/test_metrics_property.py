"""Property tests: the metrics API agrees with the brute-force oracle of METRICS.md on random organisations.

Hypothesis builds small organisations (pods in several time zones, accounts moved between pods,
facts on local period boundaries and DST days, ties in activity times, reassignments, targets), the
engine computes them with ``compute_metrics`` and every key of every period of every grain the API
answers is compared with ``tests/support/oracle.py``. The second property writes more after a full
computation and checks the incremental recomputation against the oracle and against a full one.

The first property runs each example inside a savepoint that is rolled back; the second one lets every
command commit, as in production, and deletes the previous example's organisation first.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from metrics.models import Target
from pods.models import Account, Assignment, Contact, Pod, User
from tests.support import oracle

TIMEZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC", "America/Los_Angeles"]
FIRST_DAY = dt.date(2025, 1, 1)
LAST_DAY = dt.date(2027, 3, 31)
# What the API is asked for: one empty period before the data, and more than a year after it, so that
# year-over-year growth and the carried-forward figures (open_backlog, staff_by_job) of empty periods count.
RANGE_START = {
    "week": dt.date(2024, 12, 1),
    "month": dt.date(2024, 11, 1),
    "quarter": dt.date(2024, 7, 1),
    "year": dt.date(2023, 1, 1),
}
RANGE_END = dt.date(2028, 12, 31)
HOUR = 3600
# Reasons as people type them: blanks and surrounding spaces count as "unspecified" / the same reason.
REJECTION_REASONS = ["no budget", "no budget", " no budget ", "not a fit", "", "  ", "Timing"]
DAY = 86400
NINETY_DAYS = 90 * DAY

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _dst_days(timezone: str) -> list[dt.date]:
    """Local days on which the zone changes its UTC offset (e.g. 2026-03-08 in New York)."""
    zone = ZoneInfo(timezone)

    def offset(day):
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).utcoffset()

    days = _days(dt.date(2024, 12, 1), dt.date(2027, 6, 1))
    return [day for day in days if offset(day) != offset(day + dt.timedelta(days=1))]


# Local midnights that start a period of some grain: every 1st of a month (so every quarter and Jan 1) and
# every Monday; plus, per zone, the DST days and the day after (a Monday after a Sunday switch).
PERIOD_STARTS = [day for day in _days(dt.date(2024, 12, 1), dt.date(2027, 4, 1)) if day.day == 1 or day.weekday() == 0]
DST_DAYS = {tz: sorted({d for day in _dst_days(tz) for d in (day, day + dt.timedelta(days=1))}) for tz in TIMEZONES}
ANY_DST_DAY = sorted({day for days in DST_DAYS.values() for day in days})


# --- Drawing an organisation ---------------------------------------------------------------------------------------


def draw_moment(draw, timezone: str) -> dt.datetime:
    """A UTC instant near a local period boundary of ``timezone``, on a DST day, or anywhere in the data range."""
    kind = draw(st.sampled_from(["boundary", "dst", "random"]))
    if kind == "random":
        start = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=dt.UTC)
        span = int((dt.datetime.combine(LAST_DAY, dt.time(23, 59), tzinfo=dt.UTC) - start).total_seconds())
        return start + dt.timedelta(seconds=draw(st.integers(0, span)))
    if kind == "boundary":
        day = draw(st.sampled_from(PERIOD_STARTS))
        offset = draw(st.one_of(st.sampled_from([0, -1, 1, -HOUR, HOUR]), st.integers(-HOUR, HOUR)))
    else:
        day = draw(st.sampled_from(DST_DAYS.get(timezone) or ANY_DST_DAY))
        offset = draw(st.integers(-HOUR, DAY + HOUR))
    return oracle.local_midnight(timezone, day) + dt.timedelta(seconds=offset)


def draw_later(draw, first: dt.datetime, timezone: str) -> dt.datetime:
    """An instant at or after ``first``: the same one, shortly after, months after, or on a later boundary.

    "edge" lands on (or a second either side of) the end ``e`` of a period containing ``first``, where
    "in [s, e)" and "resolved_at >= e" (open_backlog) are decided.
    """
    kind = draw(st.sampled_from(["short", "same", "long", "boundary", "edge"]))
    if kind == "same":
        return first
    if kind == "short":
        return first + dt.timedelta(seconds=draw(st.integers(1, 3 * DAY)))
    if kind == "long":
        return first + dt.timedelta(seconds=draw(st.integers(1, 200 * DAY)))
    if kind == "edge":
        grain = draw(st.sampled_from(oracle.GRAINS))
        start = oracle.period_start_of(grain, first.astimezone(ZoneInfo(timezone)).date())
        end = oracle.local_midnight(timezone, oracle.next_period_start(grain, start))
        return max(first, end + dt.timedelta(seconds=draw(st.sampled_from([0, 0, -1, 1]))))
    return max(first, draw_moment(draw, timezone))


def draw_day(draw, timezone: str) -> dt.date:
    """A local date: a period's first or last day, a DST day, or any day of the data range."""
    kind = draw(st.sampled_from(["boundary", "random", "dst"]))
    if kind == "boundary":
        return draw(st.sampled_from(PERIOD_STARTS)) + dt.timedelta(days=draw(st.sampled_from([0, -1, 1])))
    if kind == "dst":
        return draw(st.sampled_from(DST_DAYS.get(timezone) or ANY_DST_DAY))
    return FIRST_DAY + dt.timedelta(days=draw(st.integers(0, (LAST_DAY - FIRST_DAY).days)))


def draw_amount(draw) -> Decimal:
    # 9 000 cents is 90.00: exactly 10% short of a 100.00 target.
    cents = draw(st.one_of(st.sampled_from([0, 1, 9_000, 10_000, 250_050]), st.integers(0, 10_000_000)))
    return Decimal(cents).scaleb(-2)


@dataclass
class Plan:
    """A drawn organisation, as plain tuples (printed by Hypothesis when an example fails).

    Facts name their account and the pod they are stored under by index; the pod is usually the
    account's, but an account may have "moved", leaving facts under another pod.
    """

    timezones: list[str]
    accounts: list[int] = field(default_factory=list)  # account index -> current pod index
    activities: list[tuple] = field(default_factory=list)  # (account, pod, occurred_at, job, channel, persona)
    # (account, pod, created_at, status, decided_at, reason, channel)
    leads: list[tuple] = field(default_factory=list)
    opportunities: list[tuple] = field(default_factory=list)  # (account, pod, amount, created_at, status, closed_at)
    orders: list[tuple] = field(default_factory=list)  # (account, pod, ordered_at, installed_at)
    readings: list[tuple] = field(default_factory=list)  # (account, pod, measured_on, licensed, active)
    tickets: list[tuple] = field(default_factory=list)  # (account, pod, opened_at, resolved_at, csat)
    assignments: list[tuple] = field(default_factory=list)  # (person, pod, job, started_on, ended_on)


@st.composite
def organisations(draw) -> Plan:
    plan = Plan(timezones=draw(st.lists(st.sampled_from(TIMEZONES), min_size=1, max_size=3)))
    pod_count = len(plan.timezones)
    for pod in range(pod_count):
        plan.accounts += [pod] * draw(st.integers(1, 4))
    accounts = range(len(plan.accounts))

    def account_and_pod():
        account = draw(st.sampled_from(accounts))
        moved = pod_count > 1 and draw(st.integers(0, 4)) == 0
        pod = draw(st.sampled_from(range(pod_count))) if moved else plan.accounts[account]
        return account, pod, plan.timezones[pod]

    for _ in range(draw(st.integers(0, 24))):
        if plan.activities and draw(st.integers(0, 4)) == 0:
            # A tie: another activity of the same account at the very same instant, created later.
            account, pod, occurred_at, *_ = draw(st.sampled_from(plan.activities))
            if draw(st.booleans()):
                pod = draw(st.sampled_from(range(pod_count)))
        else:
            account, pod, timezone = account_and_pod()
            occurred_at = draw_moment(draw, timezone)
        job, channel = draw(st.sampled_from(oracle.JOBS)), draw(st.sampled_from(oracle.CHANNELS))
        persona = draw(st.sampled_from([None, *oracle.PERSONAS]))  # the persona of its contact, if any
        plan.activities.append((account, pod, occurred_at, job, channel, persona))

    for _ in range(draw(st.integers(0, 8))):
        account, pod, timezone = account_and_pod()
        created_at = draw_moment(draw, timezone)
        status = draw(st.sampled_from(["open", "accepted", "rejected"]))
        decided_at = None if status == "open" else draw_later(draw, created_at, timezone)
        reason = draw(st.sampled_from(REJECTION_REASONS)) if status == "rejected" else ""
        channel = draw(st.sampled_from(oracle.CHANNELS))
        plan.leads.append((account, pod, created_at, status, decided_at, reason, channel))

    rep_activities = [a for a in plan.activities if a[4] in ("in_person", "partner")]
    for _ in range(draw(st.integers(0, 8))):
        account, pod, timezone = account_and_pod()
        status = draw(st.sampled_from(["won", "won", "lost", "open"]))
        if status == "won" and rep_activities and draw(st.integers(0, 2)):
            # Closed around 90 days after an in-person/partner activity of the account, under any pod; the
            # window [closed_at - 90 days, closed_at] is closed at both ends, so its edges are drawn often.
            account, _pod, occurred_at, *_ = draw(st.sampled_from(rep_activities))
            edges = [NINETY_DAYS, NINETY_DAYS, 0, NINETY_DAYS + 1, -1, NINETY_DAYS - 1, 1]
            offset = draw(st.one_of(st.sampled_from(edges), st.integers(-10 * DAY, 100 * DAY)))
            closed_at = occurred_at + dt.timedelta(seconds=offset)
            created_at = closed_at - dt.timedelta(seconds=draw(st.integers(0, 120 * DAY)))
        else:
            created_at = draw_moment(draw, timezone)
            closed_at = None if status == "open" else draw_later(draw, created_at, timezone)
        plan.opportunities.append((account, pod, draw_amount(draw), created_at, status, closed_at))

    for _ in range(draw(st.integers(0, 5))):
        account, pod, timezone = account_and_pod()
        ordered_at = draw_moment(draw, timezone)
        installed_at = draw_later(draw, ordered_at, timezone) if draw(st.booleans()) else None
        plan.orders.append((account, pod, ordered_at, installed_at))

    taken = set()
    for _ in range(draw(st.integers(0, 10))):
        account, pod, timezone = account_and_pod()
        day = draw_day(draw, timezone)
        if (account, day) in taken:  # one reading per account and day
            continue
        taken.add((account, day))
        licensed = draw(st.one_of(st.just(0), st.integers(0, 60)))
        plan.readings.append((account, pod, day, licensed, draw(st.integers(0, 60))))

    for _ in range(draw(st.integers(0, 8))):
        account, pod, timezone = account_and_pod()
        opened_at = draw_moment(draw, timezone)
        resolved_at = draw_later(draw, opened_at, timezone) if draw(st.integers(0, 3)) else None
        csat = draw(st.one_of(st.none(), st.integers(1, 5))) if resolved_at else None
        plan.tickets.append((account, pod, opened_at, resolved_at, csat))

    for person in range(draw(st.integers(0, 4))):
        pod = draw(st.sampled_from(range(pod_count)))
        started_on = draw_day(draw, plan.timezones[pod])
        for segment in range(draw(st.integers(1, 3))):
            ended_on = None
            if segment < 2 and draw(st.booleans()):
                ended_on = started_on + dt.timedelta(days=draw(st.one_of(st.just(0), st.integers(0, 400))))
            plan.assignments.append((person, pod, draw(st.sampled_from(oracle.JOBS)), started_on, ended_on))
            if ended_on is None:
                break
            # A reassignment starts the new assignment the day the old one ends (or after a gap).
            pod = draw(st.sampled_from(range(pod_count)))
            started_on = ended_on + dt.timedelta(days=draw(st.sampled_from([0, 0, 1, 30])))
    return plan


# --- Writing it and reading it back --------------------------------------------------------------------------------


def build(plan: Plan) -> tuple[list[Pod], list[Account]]:
    """Store the plan with the ORM, facts in plan order (so ties are broken by the order drawn)."""
    pods = [
        Pod.objects.create(slug=f"pod-{n}", name=f"Pod {n}", timezone=timezone)
        for n, timezone in enumerate(plan.timezones)
    ]
    accounts = [
        Account.objects.create(external_id=f"acc-{n}", name=f"Account {n}", pod=pods[pod])
        for n, pod in enumerate(plan.accounts)
    ]
    contacts = {}  # one contact per (account, persona), made when an activity first names it

    def contact(account, persona):
        if persona is None:
            return None
        if (account, persona) not in contacts:
            contacts[account, persona] = Contact.objects.create(
                external_id=f"con-{account}-{persona}", account=accounts[account], persona=persona
            )
        return contacts[account, persona]

    for account, pod, occurred_at, job, channel, persona in plan.activities:
        Activity.objects.create(
            account=accounts[account],
            pod=pods[pod],
            occurred_at=occurred_at,
            job=job,
            channel=channel,
            kind="call",
            contact=contact(account, persona),
        )
    Lead.objects.bulk_create(
        Lead(
            account=accounts[a],
            pod=pods[p],
            created_at=created,
            channel=channel,
            status=status,
            decided_at=decided,
            rejection_reason=reason,
        )
        for a, p, created, status, decided, reason, channel in plan.leads
    )
    Opportunity.objects.bulk_create(
        Opportunity(
            account=accounts[a], pod=pods[p], amount=amount, created_at=created, status=status, closed_at=closed
        )
        for a, p, amount, created, status, closed in plan.opportunities
    )
    Order.objects.bulk_create(
        Order(account=accounts[a], pod=pods[p], ordered_at=ordered, installed_at=installed)
        for a, p, ordered, installed in plan.orders
    )
    AdoptionReading.objects.bulk_create(
        AdoptionReading(account=accounts[a], pod=pods[p], measured_on=day, licensed_seats=lic, active_seats=act)
        for a, p, day, lic, act in plan.readings
    )
    SupportTicket.objects.bulk_create(
        SupportTicket(
            account=accounts[a], pod=pods[p], opened_at=opened, resolved_at=resolved, csat=csat, channel="digital"
        )
        for a, p, opened, resolved, csat in plan.tickets
    )
    people = {}
    for person, pod, job, started_on, ended_on in plan.assignments:
        if person not in people:
            people[person] = User.objects.create(username=f"person-{person}")
        Assignment.objects.create(
            person=people[person], pod=pods[pod], job=job, started_on=started_on, ended_on=ended_on
        )
    return pods, accounts


def load_world() -> oracle.World:
    """Everything the oracle needs, read back with plain ORM reads (ids included: they break ties)."""

    def rows(model, record, *fields):
        return [record(**row) for row in model.objects.order_by("id").values("id", *fields)]

    fact = ("pod_id", "account_id")
    return oracle.World(
        pods=rows(Pod, oracle.Pod, "slug", "timezone"),
        activities=[
            oracle.Activity(**row)
            for row in Activity.objects.order_by("id").values(
                "id", *fact, "occurred_at", "job", "channel", persona=F("contact__persona")
            )
        ],
        leads=rows(Lead, oracle.Lead, *fact, "created_at", "status", "decided_at", "rejection_reason", "channel"),
        opportunities=rows(Opportunity, oracle.Opportunity, *fact, "amount", "created_at", "status", "closed_at"),
        orders=rows(Order, oracle.Order, *fact, "ordered_at", "installed_at"),
        readings=rows(AdoptionReading, oracle.AdoptionReading, *fact, "measured_on", "licensed_seats", "active_seats"),
        tickets=rows(SupportTicket, oracle.SupportTicket, *fact, "opened_at", "resolved_at", "csat"),
        assignments=rows(Assignment, oracle.Assignment, "person_id", "pod_id", "job", "started_on", "ended_on"),
        targets=[
            oracle.Target(**row)
            for row in Target.objects.order_by("id").values("pod_id", "metric", "grain", "period_start", "value")
        ],
    )


def _four_places(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def _representable(value: Fraction) -> bool:
    """Whether a target (4 decimal places) can hold ``value`` exactly."""
    return (value * 10_000).denominator == 1 and value >= 0


def _amber_edge(metric: str, figure) -> Fraction:
    """The target that ``figure`` misses by exactly 10% of it (METRICS.md: still amber)."""
    return Fraction(figure) * (Fraction(10, 11) if metric in oracle.LOWER_IS_BETTER else Fraction(10, 9))


def draw_targets(data, world: oracle.World) -> None:
    """A few targets on periods that hold data, valued on and around the oracle's figure.

    The exact edges are drawn often: the figure itself (just green) and the target the figure misses
    by exactly 10% (just amber), whenever four decimal places can hold it.
    """
    moments = [a.occurred_at for a in world.activities] + [t.opened_at for t in world.tickets]
    moments += [o.closed_at for o in world.opportunities if o.closed_at] + [lead.created_at for lead in world.leads]
    for _ in range(data.draw(st.integers(0, 8), label="target count")):
        pod = data.draw(st.sampled_from(world.pods), label="target pod")
        grain = data.draw(st.sampled_from(oracle.GRAINS), label="target grain")
        day = FIRST_DAY
        if moments:
            day = data.draw(st.sampled_from(moments), label="target moment").astimezone(ZoneInfo(pod.timezone)).date()
        start = oracle.period_start_of(grain, day)
        figures = oracle.period_metrics(world, pod, grain, start, oracle.next_period_start(grain, start))
        known = [key for key in oracle.SCALAR_KEYS if figures[key] is not None and figures[key] >= 0]
        on_edge = [key for key in known if figures[key] > 0 and _representable(_amber_edge(key, figures[key]))]
        keys = data.draw(
            st.sampled_from([choice for choice in (on_edge, on_edge, known, oracle.SCALAR_KEYS) if choice]),
            label="target metrics",
        )
        metric = data.draw(st.sampled_from(keys), label="target metric")
        figure = figures[metric]
        candidates = [Decimal(0), Decimal("0.5"), Decimal(1), Decimal(10)]
        if figure is not None and figure >= 0:
            exact = Fraction(figure)
            edge = _amber_edge(metric, exact)
            candidates += [_four_places(exact * f) for f in (Fraction(9, 10), Fraction(11, 10), Fraction(1, 2), 2)]
            candidates += [_four_places(exact), _four_places(edge)]
            candidates += [_four_places(value) for value in (exact, edge, edge) if _representable(value)] * 2
        value = data.draw(st.sampled_from(candidates), label=f"target {metric} (figure {figure})")
        Target.objects.update_or_create(
            pod_id=pod.id, metric=metric, grain=grain, period_start=start, defaults={"value": value}
        )


# --- Comparing the API with the oracle -----------------------------------------------------------------------------


def fetch(client, slug: str, grain: str) -> dict:
    response = client.get(
        f"/api/pods/{slug}/metrics/",
        {"grain": grain, "start": RANGE_START[grain].isoformat(), "end": RANGE_END.isoformat()},
    )
    assert response.status_code == 200, (slug, grain, response.status_code, response.content[:500])
    return response.json()


def _close(got, expected) -> bool:
    if expected is None or got is None:
        return got is None and expected is None
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def differences(world: oracle.World, slug: str, grain: str, answer: dict) -> list[str]:
    """Every way ``answer`` differs from the oracle, one line each: where, which key, oracle vs API."""
    pod = world.pod(slug)
    found = []
    if (answer.get("pod"), answer.get("timezone"), answer.get("grain")) != (slug, pod.timezone, grain):
        found.append(f"{slug} {grain}: header {answer.get('pod')!r} {answer.get('timezone')!r} {answer.get('grain')!r}")
    expected = oracle.expected_periods(world, slug, grain, RANGE_START[grain], RANGE_END)
    got_periods = answer.get("periods", [])
    expected_bounds = [(p["start"], p["end"]) for p in expected]
    got_bounds = [(p.get("start"), p.get("end")) for p in got_periods]
    if got_bounds != expected_bounds:
        found.append(f"{slug} {grain}: periods {got_bounds[:3]}..{got_bounds[-2:]} != {expected_bounds[:3]}..")
        return found
    for want, got in zip(expected, got_periods, strict=True):
        where = f"{slug} ({pod.timezone}) {grain} {want['start']}"
        metrics = got.get("metrics", {})
        for key in oracle.METRIC_KEYS:
            value, wanted = metrics.get(key, "<missing>"), want["metrics"][key]
            if key in oracle.COUNT_KEYS:
                same = type(value) is int and value == wanted
            elif key == "persona_coverage":
                same = isinstance(value, dict) and set(value) == set(wanted)
                same = same and all(
                    isinstance(value[job], dict)
                    and set(value[job]) == set(wanted[job])
                    and all(_close(value[job][p], wanted[job][p]) for p in wanted[job])
                    for job in wanted
                )
            elif key in oracle.OBJECT_KEYS:
                same = value == wanted
            else:
                same = _close(value, wanted)
            if not same:
                found.append(f"{where}: {key}: oracle={wanted!r} api={value!r}")
        got_targets = got.get("targets", "<missing>")
        want_targets = want["targets"]
        if not isinstance(got_targets, dict) or set(got_targets) != set(want_targets):
            found.append(f"{where}: targets: oracle={want_targets!r} api={got_targets!r}")
            continue
        for metric, target in want_targets.items():
            given_target = got_targets[metric]
            if not _close(given_target.get("value"), target["value"]) or given_target.get("status") != target["status"]:
                figure = want["exact"][metric]
                found.append(
                    f"{where}: target {metric}: oracle={target!r} api={given_target!r} "
                    f"(oracle figure {float(figure) if figure is not None else None!r})"
                )
    return found


def api_answers(client, world: oracle.World) -> dict:
    answers = {}
    for pod in world.pods:
        for grain in oracle.GRAINS:
            answer = fetch(client, pod.slug, grain)
            answer.pop("computed_at", None)
            answers[pod.slug, grain] = answer
    return answers


def assert_matches_oracle(world: oracle.World, answers: dict, context: str) -> None:
    found = [line for (slug, grain), answer in answers.items() for line in differences(world, slug, grain, answer)]
    assert not found, f"{context}: {len(found)} differences from the oracle:\n" + "\n".join(found[:40])


class _Rollback(Exception):
    """Raised at the end of every example so its savepoint is rolled back."""


# --- Property 1: a full computation equals the oracle --------------------------------------------------------------


@pytest.mark.timeout(900)
@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(plan=organisations(), data=st.data())
def test_full_computation_matches_the_oracle(client, admin_user, plan, data):
    try:
        with transaction.atomic():
            build(plan)
            draw_targets(data, load_world())
            world = load_world()
            call_command("compute_metrics", "--full")
            client.force_login(admin_user)
            assert_matches_oracle(world, api_answers(client, world), "after compute_metrics --full")
            raise _Rollback
    except _Rollback:
        pass


# --- Property 2: an incremental computation after more writes equals the oracle and a full one ---------------------


def _pick(data, queryset, label):
    ids = list(queryset.order_by("id").values_list("id", flat=True))
    return queryset.model.objects.get(id=data.draw(st.sampled_from(ids), label=label)) if ids else None


def _timezone_of(pod_id: int) -> str:
    return Pod.objects.get(id=pod_id).timezone


def apply_write(data, pods: list[Pod], accounts: list[Account]) -> str:
    """One random write through the ORM; returns what it did (shown by Hypothesis on failure)."""
    draw = data.draw
    kind = draw(
        st.sampled_from(
            [
                "add activity",
                "change activity",
                "delete activity",
                "rep activity for a win under another pod",
                "add lead",
                "decide lead",
                "delete lead",
                "add opportunity",
                "close opportunity",
                "delete opportunity",
                "add order",
                "install order",
                "add reading",
                "change reading",
                "delete reading",
                "add ticket",
                "change ticket resolved_at",
                "delete ticket",
                "reassign",
                "move account",
                "set target",
                "change contact persona",
                "name a contact on an activity",
            ]
        ),
        label="write",
    )
    account = draw(st.sampled_from(accounts), label="account")
    pod = draw(st.sampled_from([account.pod, *pods]), label="pod")
    timezone = pod.timezone

    def moment():
        return st.composite(lambda d: draw_moment(d, timezone))()

    def later(first, tz=timezone):
        return draw(st.composite(lambda d: draw_later(d, first, tz))())

    if kind == "add activity":
        Activity.objects.create(
            account=account,
            pod=pod,
            occurred_at=draw(moment()),
            job=draw(st.sampled_from(oracle.JOBS)),
            channel=draw(st.sampled_from(oracle.CHANNELS)),
            kind="call",
        )
    elif kind == "change activity" and (activity := _pick(data, Activity.objects.all(), "activity")):
        tz = _timezone_of(activity.pod_id)
        Activity.objects.filter(id=activity.id).update(
            occurred_at=draw(st.composite(lambda d: draw_moment(d, tz))()),
            job=draw(st.sampled_from(oracle.JOBS)),
            channel=draw(st.sampled_from(oracle.CHANNELS)),
        )
    elif kind == "delete activity" and (activity := _pick(data, Activity.objects.all(), "activity")):
        activity.delete()
    elif kind == "rep activity for a win under another pod" and (
        won := _pick(data, Opportunity.objects.filter(status="won"), "won opportunity")
    ):
        others = [p for p in pods if p.id != won.pod_id] or pods
        before = draw(st.sampled_from([0, 1, DAY, 45 * DAY, NINETY_DAYS, NINETY_DAYS + 1]), label="seconds before")
        Activity.objects.create(
            account_id=won.account_id,
            pod=draw(st.sampled_from(others)),
            occurred_at=won.closed_at - dt.timedelta(seconds=before),
            job="buy",
            channel=draw(st.sampled_from(["in_person", "partner"])),
            kind="meeting",
        )
    elif kind == "add lead":
        created_at = draw(moment())
        status = draw(st.sampled_from(["open", "accepted", "rejected"]))
        decided_at = None if status == "open" else later(created_at)
        channel = draw(st.sampled_from(oracle.CHANNELS))
        Lead.objects.create(
            account=account, pod=pod, created_at=created_at, channel=channel, status=status, decided_at=decided_at
        )
    elif kind == "decide lead" and (lead := _pick(data, Lead.objects.all(), "lead")):
        status = draw(st.sampled_from(["open", "accepted", "rejected"]))
        decided_at = None if status == "open" else later(lead.created_at, _timezone_of(lead.pod_id))
        reason = draw(st.sampled_from(REJECTION_REASONS)) if status == "rejected" else ""
        Lead.objects.filter(id=lead.id).update(status=status, decided_at=decided_at, rejection_reason=reason)
    elif kind == "delete lead" and (lead := _pick(data, Lead.objects.all(), "lead")):
        lead.delete()
    elif kind == "add opportunity":
        created_at = draw(moment())
        status = draw(st.sampled_from(["open", "won", "lost"]))
        Opportunity.objects.create(
            account=account,
            pod=pod,
            amount=draw(st.composite(draw_amount)()),
            created_at=created_at,
            status=status,
            closed_at=None if status == "open" else later(created_at),
        )
    elif kind == "close opportunity" and (opportunity := _pick(data, Opportunity.objects.all(), "opportunity")):
        status = draw(st.sampled_from(["open", "won", "lost"]))
        closed_at = None if status == "open" else later(opportunity.created_at, _timezone_of(opportunity.pod_id))
        Opportunity.objects.filter(id=opportunity.id).update(
            status=status, closed_at=closed_at, amount=draw(st.composite(draw_amount)())
        )
    elif kind == "delete opportunity" and (opportunity := _pick(data, Opportunity.objects.all(), "opportunity")):
        opportunity.delete()
    elif kind == "add order":
        ordered_at = draw(moment())
        Order.objects.create(account=account, pod=pod, ordered_at=ordered_at, installed_at=later(ordered_at))
    elif kind == "install order" and (order := _pick(data, Order.objects.all(), "order")):
        installed_at = later(order.ordered_at, _timezone_of(order.pod_id)) if draw(st.booleans()) else None
        Order.objects.filter(id=order.id).update(installed_at=installed_at)
    elif kind == "add reading":
        day = draw(st.composite(lambda d: draw_day(d, timezone))())
        if not AdoptionReading.objects.filter(account=account, measured_on=day).exists():
            AdoptionReading.objects.create(
                account=account,
                pod=pod,
                measured_on=day,
                licensed_seats=draw(st.integers(0, 60)),
                active_seats=draw(st.integers(0, 60)),
            )
    elif kind == "change reading" and (reading := _pick(data, AdoptionReading.objects.all(), "reading")):
        day = reading.measured_on + dt.timedelta(days=draw(st.sampled_from([0, 1, -1, 40])))
        if (
            day != reading.measured_on
            and AdoptionReading.objects.filter(account_id=reading.account_id, measured_on=day).exists()
        ):
            day = reading.measured_on
        AdoptionReading.objects.filter(id=reading.id).update(
            measured_on=day, licensed_seats=draw(st.integers(0, 60)), active_seats=draw(st.integers(0, 60))
        )
    elif kind == "delete reading" and (reading := _pick(data, AdoptionReading.objects.all(), "reading")):
        reading.delete()
    elif kind == "add ticket":
        opened_at = draw(moment())
        resolved_at = later(opened_at) if draw(st.booleans()) else None
        SupportTicket.objects.create(
            account=account,
            pod=pod,
            opened_at=opened_at,
            resolved_at=resolved_at,
            csat=draw(st.one_of(st.none(), st.integers(1, 5))),
            channel="digital",
        )
    elif kind == "change ticket resolved_at" and (ticket := _pick(data, SupportTicket.objects.all(), "ticket")):
        resolved_at = later(ticket.opened_at, _timezone_of(ticket.pod_id)) if draw(st.integers(0, 3)) else None
        SupportTicket.objects.filter(id=ticket.id).update(resolved_at=resolved_at)
    elif kind == "delete ticket" and (ticket := _pick(data, SupportTicket.objects.all(), "ticket")):
        ticket.delete()
    elif kind == "reassign":
        person = _pick(data, User.objects.filter(username__startswith="person-"), "person")
        job = draw(st.sampled_from(oracle.JOBS))
        if person is None or draw(st.integers(0, 3)) == 0:
            person = User.objects.create(username=f"person-new-{User.objects.count()}")
            started_on = draw(st.composite(lambda d: draw_day(d, timezone))())
        else:
            latest = person.assignments.order_by("-started_on", "-id").first()
            if latest.ended_on is None:
                # PRODUCT.md: a reassignment on day D ends the old assignment on D and starts the new one on D.
                started_on = latest.started_on + dt.timedelta(days=draw(st.integers(0, 400)))
                Assignment.objects.filter(id=latest.id).update(ended_on=started_on)
            else:
                started_on = latest.ended_on + dt.timedelta(days=draw(st.sampled_from([0, 1, 15])))
        Assignment.objects.create(person=person, pod=pod, job=job, started_on=started_on)
    elif kind == "move account":
        # Facts keep the pod they were created under; only the account's current pod changes.
        Account.objects.filter(id=account.id).update(pod=draw(st.sampled_from(pods)))
    elif kind == "set target":
        grain = draw(st.sampled_from(oracle.GRAINS))
        day = draw(st.composite(lambda d: draw_day(d, timezone))())
        Target.objects.update_or_create(
            pod=pod,
            metric=draw(st.sampled_from(oracle.SCALAR_KEYS)),
            grain=grain,
            period_start=oracle.period_start_of(grain, day),
            defaults={"value": draw(st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal(3)]))},
        )
    elif kind == "change contact persona" and (contact := _pick(data, Contact.objects.all(), "contact")):
        # No fact changes: the contact's trigger must mark its activities' days (metrics/dirty_marks.py).
        persona = draw(st.sampled_from([p for p in oracle.PERSONAS if p != contact.persona]))
        Contact.objects.filter(id=contact.id).update(persona=persona)
    elif kind == "name a contact on an activity" and (activity := _pick(data, Activity.objects.all(), "activity")):
        persona = draw(st.sampled_from([None, *oracle.PERSONAS]))
        contact = None
        if persona is not None:
            contact, _ = Contact.objects.get_or_create(
                external_id=f"con-{activity.account_id}-{persona}-named",
                defaults={"account_id": activity.account_id, "persona": persona},
            )
        Activity.objects.filter(id=activity.id).update(contact=contact)
    else:
        return f"{kind}: nothing to change"
    return kind


def clear_organisation(keep: User) -> None:
    """Delete every pod and what hangs off it (the engine's snapshots go with their pod), keeping ``keep``."""
    for model in (Target, Activity, Lead, Opportunity, Order, AdoptionReading, SupportTicket, Assignment):
        model.objects.all().delete()
    Account.objects.all().delete()
    Pod.objects.all().delete()
    User.objects.exclude(id=keep.id).delete()


# Each compute_metrics runs in its own transaction here, as it does from the command line and the worker:
# examples are separated by deleting everything at their start instead of by a savepoint.
@pytest.mark.timeout(900)
@pytest.mark.django_db(transaction=True)
@PROPERTY_SETTINGS
@given(plan=organisations(), data=st.data())
def test_incremental_computation_after_writes_matches_the_oracle_and_a_full_one(client, admin_user, plan, data):
    clear_organisation(keep=admin_user)
    pods, accounts = build(plan)
    draw_targets(data, load_world())
    call_command("compute_metrics", "--full")
    for _ in range(data.draw(st.integers(1, 6), label="write count")):
        apply_write(data, pods, accounts)
    world = load_world()
    call_command("compute_metrics")
    client.force_login(admin_user)
    incremental = api_answers(client, world)
    assert_matches_oracle(world, incremental, "after writes and an incremental compute_metrics")
    call_command("compute_metrics", "--full")
    full = api_answers(client, world)
    unequal = [key for key in full if full[key] != incremental[key]]
    assert not unequal, f"incremental and full computations differ for {unequal}"
