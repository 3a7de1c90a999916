"""``manage.py seed_demo``: the demo organisation a newcomer logs into, and the command's safety rules.

The demo is seeded once for the class below (it takes a few seconds) and rolled back afterwards;
the refusal tests at the bottom run against an empty database of their own.
"""

import datetime as dt
import io
import zoneinfo
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Avg, F, Max, Min, Q, Sum
from django.utils import timezone

from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from metrics.models import Target
from pods.models import Account, Assignment, CenterOfExcellence, Contact, Pod, User
from pods.scoping import pods_visible_to
from tests.support.factories import AccountFactory, PodFactory

JOBS = ["learn", "buy", "order_install", "adopt", "support"]
FACT_MODELS = [Activity, Lead, Opportunity, Order, AdoptionReading, SupportTicket]


def table_counts() -> dict[str, int]:
    """Row count of every table of the project's apps (and people)."""
    models = [m for label in ("pods", "jobs", "metrics") for m in apps.get_app_config(label).get_models()]
    return {model._meta.label: model.objects.count() for model in models}


def local_today(pod: Pod) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(pod.timezone)).date()


def active_assignments(pod: Pod, day: dt.date):
    return Assignment.objects.filter(pod=pod, started_on__lte=day).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=day)
    )


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Seed the full-size demo once for the class; roll it back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        # Check the deferred foreign keys now, once; otherwise every test's rollback would queue them again.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded")
@pytest.mark.django_db
class TestSeededOrganisation:
    def test_every_pod_is_staffed_in_every_job_except_adopt_in_anz(self):
        for pod in Pod.objects.all():
            per_job = Counter(active_assignments(pod, local_today(pod)).values_list("job", flat=True))
            expected_jobs = [job for job in JOBS if not (pod.slug == "anz" and job == "adopt")]
            assert sorted(per_job) == sorted(expected_jobs), pod.slug
            assert all(2 <= per_job[job] <= 4 for job in expected_jobs), (pod.slug, per_job)

    def test_staffing_has_history(self):
        # Some people were moved: one assignment ended on the day the next began, and nobody overlaps.
        moved = 0
        for person in User.objects.filter(assignments__isnull=False).distinct():
            rows = list(person.assignments.order_by("started_on"))
            for earlier, later in zip(rows, rows[1:], strict=False):
                assert earlier.ended_on is not None and earlier.ended_on <= later.started_on
                moved += earlier.ended_on == later.started_on
        assert moved >= 3
        # Someone left, and ANZ once had an adopt specialist.
        assert Assignment.objects.filter(ended_on__isnull=False).exclude(person__assignments__ended_on=None).exists()
        assert Assignment.objects.filter(pod__slug="anz", job="adopt").exists()

    def test_organisation_shape(self):
        pods = Pod.objects.all()
        assert pods.count() >= 8
        assert len(set(pods.values_list("timezone", flat=True))) >= 3
        assert set(pods.values_list("slug", flat=True)) >= {
            "southeast-us", "northeast-us", "midwest-us", "west-us", "canada", "uk-ireland", "dach", "anz",
        }  # fmt: skip
        assert all(pod.territory for pod in pods)
        centers = CenterOfExcellence.objects.all()
        assert centers.count() == 3
        assert all(center.members.exists() for center in centers)
        assert 300 <= Account.objects.count() <= 400
        assert set(Account.objects.values_list("segment", flat=True)) == {"SMB", "Mid-market", "Enterprise"}
        assert set(Contact.objects.values_list("persona", flat=True)) == {"end_user", "champion", "executive"}
        assert 40_000 <= Activity.objects.count() <= 80_000

    def test_facts_cover_the_last_two_years_up_to_today(self):
        now = timezone.now()
        span = Activity.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
        assert now - dt.timedelta(days=731) <= span["first"] <= now - dt.timedelta(days=700)
        assert now - dt.timedelta(days=3) <= span["last"] <= now
        for model, field in [(Lead, "created_at"), (Opportunity, "created_at"), (SupportTicket, "opened_at")]:
            first = model.objects.aggregate(first=Min(field))["first"]
            assert first <= now - dt.timedelta(days=680), model
        readings = AdoptionReading.objects.aggregate(first=Min("measured_on"), last=Max("measured_on"))
        assert readings["first"] <= (now - dt.timedelta(days=700)).date()
        assert readings["last"] >= (now - dt.timedelta(days=31)).date()

    def test_demo_logins(self):
        admin = authenticate(username="admin", password="demo")
        leader = authenticate(username="leader", password="demo")
        staff = authenticate(username="staff", password="demo")
        assert admin is not None and admin.is_superuser and admin.is_staff
        assert leader is not None and staff is not None
        assert set(leader.led_pods.values_list("slug", flat=True)) == {"southeast-us", "northeast-us"}
        assert set(pods_visible_to(leader).values_list("slug", flat=True)) == {"southeast-us", "northeast-us"}
        assert list(pods_visible_to(staff).values_list("slug", flat=True)) == ["southeast-us"]
        se = Pod.objects.get(slug="southeast-us")
        assert active_assignments(se, local_today(se)).filter(person=staff, job="learn").exists()
        assert authenticate(username="staff", password="wrong") is None
        # Staff have readable names and log activities themselves.
        assert Activity.objects.filter(staff=staff).exists()
        assert all(person.full_name for person in User.objects.filter(assignments__isnull=False))

    def test_activities_are_logged_by_staff_of_that_pod_and_job_on_that_day(self):
        assignments = defaultdict(list)
        for person_id, pod_id, job, started, ended in Assignment.objects.values_list(
            "person_id", "pod_id", "job", "started_on", "ended_on"
        ):
            assignments[(person_id, pod_id, job)].append((started, ended))
        zones = {pod.pk: zoneinfo.ZoneInfo(pod.timezone) for pod in Pod.objects.all()}
        logged = Activity.objects.exclude(staff=None).values_list("staff_id", "pod_id", "job", "occurred_at")
        assert logged.count() > 10_000
        for staff_id, pod_id, job, occurred_at in logged:
            day = occurred_at.astimezone(zones[pod_id]).date()
            spans = assignments[(staff_id, pod_id, job)]
            assert any(start <= day and (end is None or day < end) for start, end in spans)
        # Nobody works Adopt in ANZ today, so recent adopt work there carries no name.
        anz = Pod.objects.get(slug="anz")
        recent = timezone.now() - dt.timedelta(days=60)
        assert not Activity.objects.filter(pod=anz, job="adopt", occurred_at__gte=recent, staff__isnull=False).exists()

    def test_facts_are_stored_under_their_accounts_pod(self):
        for model in FACT_MODELS:
            assert model.objects.exists(), model
            assert not model.objects.exclude(pod_id=F("account__pod_id")).exists(), model

    def test_buyers_loop_back_between_jobs(self):
        rank = {job: index for index, job in enumerate(JOBS)}
        sequences = defaultdict(list)
        for account_id, job in Activity.objects.order_by("occurred_at", "id").values_list("account_id", "job"):
            sequences[account_id].append(job)
        looping = 0
        back_to_learn = 0
        for jobs in sequences.values():
            pairs = [(a, b) for a, b in zip(jobs, jobs[1:], strict=False) if a != b]
            looping += any(rank[b] < rank[a] for a, b in pairs)
            back_to_learn += ("buy", "learn") in pairs
        assert looping >= len(sequences) // 4
        assert back_to_learn >= 20

    def test_bookings_grew_in_most_pods_and_fell_in_dach(self):
        now = timezone.now()
        year_ago, two_years_ago = now - dt.timedelta(days=365), now - dt.timedelta(days=730)
        growth = {}
        for pod in Pod.objects.all():
            won = Opportunity.objects.filter(pod=pod, status="won")
            last_year = won.filter(closed_at__gte=year_ago).aggregate(total=Sum("amount"))["total"]
            year_before = won.filter(closed_at__gte=two_years_ago, closed_at__lt=year_ago).aggregate(
                total=Sum("amount")
            )["total"]
            growth[pod.slug] = last_year / year_before - 1
        assert growth["dach"] < 0
        assert sum(value > 0 for value in growth.values()) >= 6, growth

    def test_funnel_figures_are_believable(self):
        decided = Lead.objects.exclude(status="open")
        acceptance = decided.filter(status="accepted").count() / decided.count()
        assert 0.55 <= acceptance <= 0.7
        reasons = set(Lead.objects.filter(status="rejected").values_list("rejection_reason", flat=True))
        assert {"no budget", "not a fit", "competitor incumbent"} <= reasons
        for opportunity in Opportunity.objects.filter(status="won"):
            assert 20 <= (opportunity.closed_at - opportunity.created_at).days <= 120
        for order in Order.objects.exclude(installed_at=None):
            assert dt.timedelta(days=5) <= order.installed_at - order.ordered_at <= dt.timedelta(days=45)
        resolved = SupportTicket.objects.exclude(resolved_at=None)
        for ticket in resolved:
            assert dt.timedelta(hours=1) <= ticket.resolved_at - ticket.opened_at <= dt.timedelta(hours=120)
        scores = Counter(resolved.exclude(csat=None).values_list("csat", flat=True))
        assert scores[4] + scores[5] > 0.7 * sum(scores.values())
        assert not AdoptionReading.objects.filter(active_seats__gt=F("licensed_seats")).exists()

    def test_channel_mix_differs_by_job(self):
        def share(job, channel):
            jobs = Activity.objects.filter(job=job)
            return jobs.filter(channel=channel).count() / jobs.count()

        assert share("learn", "digital") > 0.7
        assert share("buy", "in_person") > 2 * share("learn", "in_person")
        # Of the hands-on work, partners do far more in ANZ than in Southeast US. The story's knobs (partner 0.30
        # against 0.05, diluted by in-person health checks) make it about 2x; the demo is dated relative to now and
        # ANZ has only 30 accounts, so the ratio wanders between about 1.75 and 2.3 with the seeding time
        # (measured at 18 instants over two years). 1.5 keeps the claim and leaves the noise out.
        partner = {}
        for pod in Pod.objects.all():
            hands_on = Counter(
                Activity.objects.filter(pod=pod).exclude(channel="digital").values_list("channel", flat=True)
            )
            partner[pod.slug] = hands_on["partner"] / (hands_on["partner"] + hands_on["in_person"])
        assert partner["anz"] > 1.5 * partner["southeast-us"], partner

    def test_quiet_august(self):
        now = timezone.now()
        year = now.year if now.date() >= dt.date(now.year, 10, 1) else now.year - 1

        def month(number):
            start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
            end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=dt.UTC)
            return Activity.objects.filter(occurred_at__gte=start, occurred_at__lt=end).count()

        assert month(8) < 0.85 * (month(7) + month(9)) / 2

    def test_rep_free_wins_and_engaged_accounts_without_a_lead(self):
        rep_free = 0
        for opportunity in Opportunity.objects.filter(status="won"):
            touched = Activity.objects.filter(
                account_id=opportunity.account_id,
                channel__in=["in_person", "partner"],
                occurred_at__gte=opportunity.closed_at - dt.timedelta(days=90),
                occurred_at__lte=opportunity.closed_at,
            )
            rep_free += not touched.exists()
        assert rep_free >= 10

        since = timezone.now() - dt.timedelta(days=90)
        learn_counts = Counter(
            Activity.objects.filter(job="learn", occurred_at__gte=since).values_list("account_id", flat=True)
        )
        with_lead = set(Lead.objects.filter(created_at__gte=since).values_list("account_id", flat=True))
        engaged_without_lead = [a for a, n in learn_counts.items() if n >= 3 and a not in with_lead]
        assert len(engaged_without_lead) >= 10

    def test_monthly_targets_for_the_last_year_mix_green_amber_and_red(self):
        targets = Target.objects.filter(grain="month")
        for pod in Pod.objects.all():
            months = set(targets.filter(pod=pod).values_list("period_start", flat=True))
            this_month = local_today(pod).replace(day=1)
            assert len(months) == 12 and max(months) == this_month and all(m.day == 1 for m in months)
            assert {"lead_volume", "lead_acceptance_rate", "bookings", "win_rate", "csat"} <= set(
                targets.filter(pod=pod).values_list("metric", flat=True)
            )
        # Status of lead volume and CSAT in each complete month, from the facts themselves (higher is better).
        statuses = Counter()
        for target in targets.filter(metric__in=["lead_volume", "csat"]).select_related("pod"):
            zone = zoneinfo.ZoneInfo(target.pod.timezone)
            start = dt.datetime.combine(target.period_start, dt.time(), zone)
            end = dt.datetime.combine((target.period_start + dt.timedelta(days=32)).replace(day=1), dt.time(), zone)
            if end > timezone.now():
                continue
            if target.metric == "lead_volume":
                actual = Lead.objects.filter(pod=target.pod, created_at__gte=start, created_at__lt=end).count()
            else:
                resolved = SupportTicket.objects.filter(pod=target.pod, resolved_at__gte=start, resolved_at__lt=end)
                actual = resolved.exclude(csat=None).aggregate(mean=Avg("csat"))["mean"]
                if actual is None:
                    continue
            if actual >= target.value:
                statuses["green"] += 1
            elif actual >= target.value * Decimal("0.9"):
                statuses["amber"] += 1
            else:
                statuses["red"] += 1
        assert statuses["green"] and statuses["amber"] and statuses["red"], statuses

    def test_summary_names_the_counts_and_logins(self, seeded):
        assert "8 pods" in seeded and "activities" in seeded and "tickets" in seeded
        assert "admin / leader / staff" in seeded and "'demo'" in seeded

    def test_a_second_run_changes_nothing(self):
        before = table_counts()
        users = User.objects.count()
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        assert "already present" in out.getvalue()
        assert table_counts() == before
        assert User.objects.count() == users


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_other_data",
    [
        pytest.param(lambda: PodFactory(slug="acme-north", name="Acme North"), id="non-demo pod"),
        pytest.param(
            lambda: AccountFactory(
                external_id="CRM-0001", pod=PodFactory(slug="southeast-us", timezone="America/New_York")
            ),
            id="non-demo account in a demo pod",
        ),
    ],
)
def test_refuses_a_database_with_other_data_unless_forced(make_other_data):
    make_other_data()
    before = table_counts()
    users = User.objects.count()

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", "--scale", "0.1", stdout=io.StringIO())
    assert table_counts() == before
    assert User.objects.count() == users

    call_command("seed_demo", "--scale", "0.1", "--force", stdout=io.StringIO())
    assert Pod.objects.count() >= 8
    assert Account.objects.filter(external_id__startswith="DEMO-").exists()
    assert Activity.objects.exists()
    assert authenticate(username="staff", password="demo") is not None


@pytest.mark.django_db
def test_forced_seed_leaves_the_other_pod_alone():
    other = PodFactory(slug="acme-north", name="Acme North", timezone="Europe/Paris", territory="FR-IDF")
    call_command("seed_demo", "--scale", "0.1", "--force", stdout=io.StringIO())
    other.refresh_from_db()
    assert (other.name, other.timezone, other.territory) == ("Acme North", "Europe/Paris", "FR-IDF")
    assert not other.accounts.exists()
    assert not Activity.objects.filter(pod=other).exists()
    assert not other.leaders.exists()
