"""The demo organisation behind ``manage.py seed_demo``: eight pods, their people and two years of facts.

Everything comes from one ``random.Random(seed)`` and is dated relative to now, so a seed always tells
the same story and it always ends today.  The story, per account: buying cycles (Learn, leads, Buy,
Order/Install) that loop back when stakeholders join or a deal is lost, then adoption and support for
customers, with expansion cycles that start again at Learn.  Around it: seasonality (August and the
turn of the year are quiet; in ANZ the summer break is January), growth in most pods and decline in
DACH, partner-heavy pods, digital-only buyers (rep-free wins), accounts engaged online without a lead,
and one deliberate staffing gap: nobody works Adopt in ANZ.

Demo rows are recognisable: pods come from ``DEMO_PODS`` and every external id starts with ``DEMO-``.
"""

import datetime as dt
import math
import random
import statistics
import unicodedata
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from jobs.choices import Channel, LeadStatus, OpportunityStatus
from jobs.models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket
from pods.choices import BUYING_JOB_ORDER, Persona
from pods.models import Account, Assignment, CenterOfExcellence, Contact, Pod, User
from pods.services import assignment_reassign

from .models import Target

DEMO_PREFIX = "DEMO-"
DEMO_PASSWORD = "demo"  # noqa: S105  (documented demo logins)
DEMO_LOGINS = ("admin", "leader", "staff")
DEMO_WINDOW_DAYS = 730

UTC = dt.UTC
DAY = dt.timedelta(days=1)
LEARN, BUY, ORDER_INSTALL, ADOPT, SUPPORT = BUYING_JOB_ORDER
DIGITAL, IN_PERSON, PARTNER = Channel.DIGITAL.value, Channel.IN_PERSON.value, Channel.PARTNER.value
SMB, MID_MARKET, ENTERPRISE = "SMB", "Mid-market", "Enterprise"


@dataclass(frozen=True)
class DemoPod:
    """One pod of the demo and the few knobs that give it its own character."""

    slug: str
    name: str
    timezone: str
    territory: str
    accounts: int  # at scale 1
    growth: float  # yearly multiplier of demand and of trailing-year bookings: > 1 grows, < 1 declines
    acceptance: float  # share of decided leads that are accepted
    win_rate: float
    partner: float  # share of hands-on work that goes through partners
    team: tuple[int, int]  # people per buying job (min, max)
    company_suffixes: tuple[str, ...]
    summer_break_month: int = 8
    summer_factor: float = 0.7  # share of the usual activity left during the summer break
    unstaffed_jobs: tuple[str, ...] = ()


DEMO_PODS: tuple[DemoPod, ...] = (
    DemoPod(
        "southeast-us", "Southeast US", "America/New_York", "US-FL US-GA US-AL US-SC US-NC US-TN US-MS",
        55, 1.5, 0.66, 0.42, 0.05, (2, 4), ("", "Inc.", "LLC"),
    ),
    DemoPod(
        "northeast-us", "Northeast US", "America/New_York", "US-NY US-NJ US-PA US-MA US-CT US-RI US-VT US-NH US-ME",
        52, 1.3, 0.6, 0.38, 0.05, (2, 4), ("", "Inc.", "LLC"),
    ),
    DemoPod(
        "midwest-us", "Midwest US", "America/Chicago", "US-IL US-OH US-MI US-IN US-WI US-MN US-IA US-MO",
        45, 1.2, 0.57, 0.36, 0.08, (2, 3), ("", "Inc.", "Co."),
    ),
    DemoPod(
        "west-us", "West US", "America/Los_Angeles", "US-CA US-WA US-OR US-NV US-AZ US-UT US-CO",
        50, 1.35, 0.63, 0.4, 0.06, (2, 4), ("", "Inc.", "Labs"),
    ),
    DemoPod(
        "canada", "Canada", "America/Toronto", "CA-ON CA-QC CA-BC CA-AB CA-MB CA-SK CA-NS",
        35, 1.25, 0.6, 0.37, 0.2, (2, 3), ("", "Inc.", "Ltd."),
    ),
    DemoPod(
        "uk-ireland", "UK & Ireland", "Europe/London", "GB-ENG GB-SCT GB-WLS GB-NIR IE",
        40, 1.25, 0.59, 0.38, 0.12, (2, 3), ("Ltd", "plc", "Group"), summer_factor=0.55,
    ),
    DemoPod(
        "dach", "DACH", "Europe/Berlin", "DE AT CH LI",
        40, 0.7, 0.55, 0.33, 0.25, (2, 3), ("GmbH", "AG", "GmbH & Co. KG"), summer_factor=0.5,
    ),
    DemoPod(
        "anz", "ANZ", "Australia/Sydney", "AU-NSW AU-VIC AU-QLD AU-WA AU-SA AU-TAS AU-ACT NZ",
        30, 1.4, 0.62, 0.39, 0.3, (2, 3), ("Pty Ltd", "Ltd", "Group"), summer_break_month=1,
        summer_factor=0.6, unstaffed_jobs=(ADOPT,),
    ),
)  # fmt: skip
DEMO_POD_SLUGS: tuple[str, ...] = tuple(pod.slug for pod in DEMO_PODS)

# Leaders of the pods that the ``leader`` login does not lead.
POD_LEADERS = {
    "midwest-us": ("dana.kowalski", "Dana Kowalski"),
    "west-us": ("marcus.chen", "Marcus Chen"),
    "canada": ("genevieve.tremblay", "Geneviève Tremblay"),
    "uk-ireland": ("fiona.gallagher", "Fiona Gallagher"),
    "dach": ("katrin.bauer", "Katrin Bauer"),
    "anz": ("liam.oconnor", "Liam O'Connor"),
}

# fmt: off
FIRST_NAMES = (
    "Aisha", "Alex", "Amelia", "Andre", "Ben", "Carlos", "Chloe", "Daniel", "Diego", "Elena", "Emma", "Ethan",
    "Grace", "Hannah", "Isaac", "Jada", "Jane", "Jasmine", "Javier", "Jordan", "Julia", "Kevin", "Laura", "Leah",
    "Lucas", "Maya", "Mei", "Nadia", "Noah", "Olivia", "Omar", "Priya", "Rachel", "Ravi", "Riley", "Rosa", "Ryan",
    "Samir", "Sofia", "Tariq", "Tessa", "Victor", "Wei", "Yusuf", "Zoe", "Harper", "Owen", "Nora", "Felix",
    "Ingrid",
)
LAST_NAMES = (
    "Adams", "Alvarez", "Bennett", "Brooks", "Campbell", "Carter", "Castillo", "Doe", "Edwards", "Fischer",
    "Foster", "Garcia", "Hayes", "Hughes", "Iyer", "Jensen", "Khan", "Kim", "Lambert", "Lopez", "Mendez",
    "Mitchell", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Patel", "Quinn", "Ramos", "Reyes", "Richter",
    "Rossi", "Schmidt", "Shah", "Silva", "Stewart", "Sullivan", "Tanaka", "Thompson", "Walsh", "Weber", "Wright",
    "Young",
)
COMPANY_WORDS = (
    "Harbor", "Summit", "Cedar", "Lakeside", "Northwind", "Ironwood", "Granite", "Keystone", "Bluewater", "Redwood",
    "Meridian", "Pioneer", "Silverline", "Oakridge", "Brightstone", "Evergreen", "Clearwater", "Highland",
    "Riverbend", "Sterling", "Crescent", "Horizon", "Beacon", "Copperfield", "Falcon", "Maple", "Stonebridge",
    "Westfield", "Anchor", "Juniper", "Aurora", "Vantage", "Lighthouse", "Fairway", "Pinecrest", "Trident",
    "Canyon", "Cobalt", "Orchard", "Prairie",
)
COMPANY_TRADES = (
    "Logistics", "Health", "Manufacturing", "Foods", "Engineering", "Credit Union", "Analytics", "Energy",
    "Retail Group", "Biotech", "Freight", "Hospitality", "Insurance", "Construction", "Dental Partners", "Software",
    "Packaging", "Medical Devices", "Utilities", "Supply", "Financial", "Robotics", "Pharmacy", "Logistik",
    "Textiles", "Water Systems", "Aerospace", "Agritech", "Education", "Media",
)
# fmt: on
PRODUCTS = ("Platform licence", "Analytics add-on", "Multi-site rollout", "Service upgrade", "Starter bundle")
EXPANSIONS = ("Seat expansion", "Second site", "Premium support", "Analytics add-on", "Upgrade to Enterprise")
REJECTION_REASONS = (
    ("no budget", 30),
    ("not a fit", 25),
    ("competitor incumbent", 16),
    ("no decision-maker engaged", 10),
    ("timing: next fiscal year", 9),
    ("duplicate", 6),
    ("student or job seeker", 4),
)

# Channel weights (digital, in_person, partner) per job before the pod's partner share is applied:
# Learn is mostly digital, Buy leans on people, support is mostly self-serve.
CHANNEL_MIX = {
    LEARN: (0.78, 0.16, 0.06),
    BUY: (0.3, 0.6, 0.1),
    ORDER_INSTALL: (0.3, 0.5, 0.2),
    ADOPT: (0.55, 0.37, 0.08),
    SUPPORT: (0.68, 0.26, 0.06),
}
KINDS = {
    (LEARN, DIGITAL): ("website_visit", "content_download", "webinar", "email"),
    (LEARN, IN_PERSON): ("call", "event", "meeting"),
    (LEARN, PARTNER): ("event", "meeting"),
    (BUY, DIGITAL): ("email", "demo", "proposal"),
    (BUY, IN_PERSON): ("meeting", "demo", "call", "proposal", "negotiation"),
    (BUY, PARTNER): ("meeting", "proposal"),
    (ORDER_INSTALL, DIGITAL): ("email", "onboarding"),
    (ORDER_INSTALL, IN_PERSON): ("installation", "onboarding", "meeting"),
    (ORDER_INSTALL, PARTNER): ("installation", "onboarding"),
    (ADOPT, DIGITAL): ("training", "email", "webinar"),
    (ADOPT, IN_PERSON): ("training", "meeting"),
    (ADOPT, PARTNER): ("training",),
    (SUPPORT, DIGITAL): ("ticket", "email"),
    (SUPPORT, IN_PERSON): ("health_check", "call"),
    (SUPPORT, PARTNER): ("health_check",),
}
MINUTES = {
    "website_visit": None,
    "content_download": None,
    "email": (5, 20),
    "webinar": (30, 60),
    "event": (60, 240),
    "call": (15, 45),
    "meeting": (30, 90),
    "demo": (45, 90),
    "proposal": (60, 180),
    "negotiation": (30, 120),
    "onboarding": (45, 120),
    "installation": (120, 480),
    "training": (45, 180),
    "ticket": (10, 60),
    "health_check": (30, 90),
}
NOTES = {
    LEARN: ("New stakeholder from finance joined the thread", "Asked for the ROI calculator", "Came via partner event"),
    BUY: ("Procurement wants a security review", "Comparing us with the incumbent", "Budget confirmed for Q-end"),
    ORDER_INSTALL: ("Second site scheduled", "Waiting on customer IT for access", "Go-live date agreed"),
    ADOPT: ("Usage dipped after re-org", "Asked for admin training", "Happy to be a reference"),
    SUPPORT: ("Recurring sync issue", "Quarterly health check", "Escalated to product team"),
}
PERSONA_BY_JOB = {
    LEARN: ((Persona.END_USER, 5), (Persona.CHAMPION, 4), (Persona.EXECUTIVE, 1)),
    BUY: ((Persona.CHAMPION, 5), (Persona.EXECUTIVE, 4), (Persona.END_USER, 1)),
    ORDER_INSTALL: ((Persona.CHAMPION, 5), (Persona.END_USER, 5)),
    ADOPT: ((Persona.END_USER, 7), (Persona.CHAMPION, 3)),
    SUPPORT: ((Persona.END_USER, 9), (Persona.CHAMPION, 1)),
}
# Per segment: activity multiplier, seats bought, deal size, sales cycle and install days (min, max, mode).
SIZE = {SMB: 1.0, MID_MARKET: 1.3, ENTERPRISE: 1.7}
SEATS = {SMB: (10, 60), MID_MARKET: (50, 300), ENTERPRISE: (300, 1500)}
AMOUNTS = {SMB: (5e3, 20e3), MID_MARKET: (20e3, 60e3), ENTERPRISE: (60e3, 160e3)}
CYCLE_DAYS = {SMB: (20, 55, 30), MID_MARKET: (30, 95, 55), ENTERPRISE: (55, 120, 90)}
INSTALL_DAYS = {SMB: (5, 20, 9), MID_MARKET: (10, 32, 18), ENTERPRISE: (18, 45, 30)}
# Targets set per pod per month: (metric, lower is better, decimal places; None rounds money to thousands).
TARGET_METRICS = (
    ("lead_volume", False, 0),
    ("lead_acceptance_rate", False, 2),
    ("engaged_accounts", False, 0),
    ("bookings", False, None),
    ("win_rate", False, 2),
    ("median_sales_cycle_days", True, 1),
    ("median_days_to_install", True, 1),
    ("median_resolution_hours", True, 1),
    ("csat", False, 2),
)
BATCH_SIZE = 2000


def demo_data_present() -> bool:
    """True when an earlier ``seed_demo`` left its accounts in the demo pods."""
    return Account.objects.filter(external_id__startswith=DEMO_PREFIX, pod__slug__in=DEMO_POD_SLUGS).exists()


def non_demo_data() -> list[str]:
    """Describe what the database holds that the demo did not write (empty when nothing)."""
    found = []
    other_pods = list(Pod.objects.exclude(slug__in=DEMO_POD_SLUGS).values_list("slug", flat=True)[:6])
    if other_pods:
        found.append(f"pods outside the demo ({', '.join(other_pods[:5])}{', ...' if len(other_pods) > 5 else ''})")
    for model in (Account, Contact, Activity, Lead, Opportunity, Order, AdoptionReading, SupportTicket):
        # exclude() keeps rows without an external id: they are not the demo's either.
        if model.objects.exclude(external_id__startswith=DEMO_PREFIX).exists():
            found.append(f"{model._meta.verbose_name_plural} without the {DEMO_PREFIX} prefix")
    return found


@transaction.atomic
def seed_demo(*, seed: int = 42, scale: float = 1.0, now: dt.datetime | None = None) -> dict[str, int]:
    """Write the demo organisation and two years of facts ending at ``now``; return the counts written.

    The caller decides whether seeding is appropriate (``demo_data_present``, ``non_demo_data``).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    return _DemoGenerator(seed=seed, scale=scale, now=now or timezone.now()).run()


@dataclass
class _Account:
    """An account while its story is generated: the row plus what the story needs to remember."""

    row: Account
    pod: DemoPod
    tz: zoneinfo.ZoneInfo
    segment: str
    digital_only: bool  # buys without a rep: every touch is digital
    lurker: bool  # reads everything, never raises a hand
    researcher: bool  # reads a lot online (newsletters, site, webinars); most accounts read little
    reading_day: int
    contacts: dict[str, list[int]] = field(default_factory=dict)
    installs: list[tuple[dt.datetime, int]] = field(default_factory=list)
    reps: dict[str, int] = field(default_factory=dict)


class _DemoGenerator:
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
        self.by_pk: dict[int, _Account] = {}

    def run(self) -> dict[str, int]:
        self._create_pods()
        self._create_people()
        accounts = self._create_accounts()
        for account in accounts:
            self._simulate(account)
        self._calibrate_bookings()
        self._write_facts()
        self._create_targets()
        return self.counts

    # --- organisation -------------------------------------------------------------------------

    def _create_pods(self):
        for profile in DEMO_PODS:
            pod, _ = Pod.objects.get_or_create(
                slug=profile.slug,
                defaults={"name": profile.name, "timezone": profile.timezone, "territory": profile.territory},
            )
            self.pods[profile.slug] = pod
        self.counts["pods"] = len(self.pods)

    def _create_people(self):
        """Logins, leaders, center-of-excellence members and 2-4 people per pod and job, with some history."""
        rng = self.rng
        password = make_password(DEMO_PASSWORD)  # one hash for everyone: hashing ~100 times is slow
        taken = set(User.objects.values_list("username", flat=True))

        def new_user(username=None, full_name=None, **flags) -> User:
            while username is None or username in taken:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                username, full_name = f"{first}.{last}".lower(), f"{first} {last}"
            taken.add(username)
            first, _, last = full_name.partition(" ")
            return User(
                username=username,
                full_name=full_name,
                first_name=first,
                last_name=last,
                email=f"{_ascii(username)}@demo.example",
                password=password,
                **flags,
            )

        logins = {
            "admin": {"full_name": "Demo Administrator", "is_superuser": True, "is_staff": True},
            "leader": {"full_name": "Lee Morgan"},
            "staff": {"full_name": "Sam Rivera"},
        }
        login_users = {}
        for username, fields in logins.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = new_user(username, **fields)
                user.save()
            else:  # the demo promises these logins, so an existing account gets the demo password
                user.password = password
                for name, value in fields.items():
                    if name != "full_name":
                        setattr(user, name, value)
                user.save()
            login_users[username] = user
        self.pods["southeast-us"].leaders.add(login_users["leader"])
        self.pods["northeast-us"].leaders.add(login_users["leader"])

        leaders = {slug: new_user(username, full_name) for slug, (username, full_name) in POD_LEADERS.items()}
        centers = list(CenterOfExcellence.objects.order_by("slug"))
        members = {center.slug: [new_user() for _ in range(rng.randint(2, 4))] for center in centers}

        # (user, pod slug, job, started_on): the people working in each pod today.  A ``staff`` login that
        # already has a history is moved to Southeast US / Learn through the service instead.
        staff_login = login_users["staff"]
        staff_has_history = Assignment.objects.filter(person=staff_login).exists()
        current: list[tuple[User, str, str, dt.date]] = []
        for profile in DEMO_PODS:
            for job in BUYING_JOB_ORDER:
                if job in profile.unstaffed_jobs:
                    continue
                for position in range(rng.randint(*profile.team)):
                    if profile.slug == "southeast-us" and job == LEARN and position == 0 and not staff_has_history:
                        user = staff_login
                    else:
                        user = new_user()
                    # The first person of each job is a veteran; others may have joined during the two years.
                    if position > 0 and rng.random() < 0.2:
                        started = self.start.date() + rng.randint(30, 650) * DAY
                    else:
                        started = self.start.date() - rng.randint(30, 1500) * DAY
                    current.append((user, profile.slug, job, started))

        # Former staff: their assignment ended during the two years and they left.
        leavers = [
            (new_user(), slug, job) for slug, job in (("northeast-us", BUY), ("west-us", LEARN), ("dach", SUPPORT))
        ]
        # The ANZ adopt specialist moved to support; the pod has had nobody in Adopt since.
        anz_mover = new_user()
        anz_move_on = self.today - rng.randint(200, 300) * DAY

        User.objects.bulk_create(
            [*leaders.values(), *(u for group in members.values() for u in group)]
            + [u for u, *_ in current if u.pk is None]
            + [u for u, *_ in leavers]
            + [anz_mover]
        )
        for slug, user in leaders.items():
            self.pods[slug].leaders.add(user)
        for center in centers:
            center.members.add(*members[center.slug])

        assignments = []
        moves = []  # (user, pod slug, job, effective_on): reassignments made through the service
        veterans = [row for row in current if row[3] < self.start.date() and row[0].username != "staff"]
        movers = {id(row[0]) for row in rng.sample(veterans, 6)}
        for user, slug, job, started in current:
            if id(user) in movers:
                # Promoted to another job in the pod, or relocated from another pod in the same job.
                if rng.random() < 0.5:
                    old_slug, old_job = slug, rng.choice([j for j in BUYING_JOB_ORDER if j != job])
                else:
                    old_slug, old_job = rng.choice([p.slug for p in DEMO_PODS if p.slug != slug]), job
                assignments.append(Assignment(person=user, pod=self.pods[old_slug], job=old_job, started_on=started))
                moves.append((user, slug, job, self.start.date() + rng.randint(90, 600) * DAY))
            else:
                assignments.append(Assignment(person=user, pod=self.pods[slug], job=job, started_on=started))
        for user, slug, job in leavers:
            started = self.start.date() - rng.randint(100, 900) * DAY
            ended = self.start.date() + rng.randint(60, 500) * DAY
            assignments.append(
                Assignment(person=user, pod=self.pods[slug], job=job, started_on=started, ended_on=ended)
            )
        assignments.append(
            Assignment(person=anz_mover, pod=self.pods["anz"], job=ADOPT, started_on=self.start.date() - 400 * DAY)
        )
        moves.append((anz_mover, "anz", SUPPORT, anz_move_on))
        Assignment.objects.bulk_create(assignments)
        if staff_has_history:
            local_today = self.now.astimezone(self.tz["southeast-us"]).date()
            moves.append((staff_login, "southeast-us", LEARN, local_today))
        for user, slug, job, effective_on in moves:
            assignment_reassign(person=user, pod=self.pods[slug], job=job, effective_on=effective_on)

        demo_people = {u.pk for u in [*login_users.values(), *leaders.values(), anz_mover]}
        demo_people |= {u.pk for u, *_ in current} | {u.pk for u, *_ in leavers}
        demo_people |= {u.pk for group in members.values() for u in group}
        rows = Assignment.objects.filter(person_id__in=demo_people, pod__slug__in=DEMO_POD_SLUGS)
        for slug, job, started, ended, person_id in rows.order_by("person_id", "started_on").values_list(
            "pod__slug", "job", "started_on", "ended_on", "person_id"
        ):
            self.staffing[(slug, job)].append((started, ended, person_id))
        self.counts["people"] = len(demo_people)
        self.counts["assignments"] = rows.count()

    def _create_accounts(self) -> list["_Account"]:
        rng = self.rng
        names_taken = set(Account.objects.values_list("name", flat=True))
        accounts: list[_Account] = []
        rows: list[Account] = []
        for profile in DEMO_PODS:
            for _ in range(max(3, round(profile.accounts * self.scale))):
                name = None
                while name is None or name in names_taken:
                    suffix = rng.choice(profile.company_suffixes)
                    name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_TRADES)} {suffix}".strip()
                names_taken.add(name)
                segment = rng.choices((SMB, MID_MARKET, ENTERPRISE), (50, 35, 15))[0]
                digital_only = rng.random() < {SMB: 0.25, MID_MARKET: 0.1, ENTERPRISE: 0.0}[segment]
                lurker = rng.random() < 0.07
                row = Account(
                    external_id=f"{DEMO_PREFIX}ACC-{len(rows) + 1:05d}",
                    name=name,
                    pod=self.pods[profile.slug],
                    segment=segment,
                )
                rows.append(row)
                accounts.append(
                    _Account(
                        row=row,
                        pod=profile,
                        tz=self.tz[profile.slug],
                        segment=segment,
                        digital_only=digital_only,
                        lurker=not digital_only and lurker,
                        researcher=digital_only or lurker or rng.random() < 0.22,
                        reading_day=rng.randint(1, 28),
                    )
                )
        Account.objects.bulk_create(rows, batch_size=BATCH_SIZE)

        contacts: list[tuple[_Account, Contact]] = []
        for account in accounts:
            domain = _ascii(account.row.name.lower()).replace("&", "and").replace(".", "").replace(" ", "-")
            size = {SMB: (2, 3), MID_MARKET: (3, 5), ENTERPRISE: (5, 8)}[account.segment]
            # Every account has a champion and an executive; bigger ones have more end users.
            personas = [Persona.CHAMPION, Persona.EXECUTIVE, Persona.END_USER]
            personas += rng.choices([Persona.END_USER, Persona.CHAMPION, Persona.EXECUTIVE], (6, 2, 1), k=size[1] - 3)
            for persona in personas[: rng.randint(*size)]:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                contact = Contact(
                    external_id=f"{DEMO_PREFIX}CON-{len(contacts) + 1:06d}",
                    account=account.row,
                    name=f"{first} {last}",
                    email=f"{first}.{last}@{domain}.example".lower(),
                    persona=persona,
                )
                contacts.append((account, contact))
        Contact.objects.bulk_create([contact for _, contact in contacts], batch_size=BATCH_SIZE)
        for account, contact in contacts:
            account.contacts.setdefault(contact.persona, []).append(contact.pk)
        self.by_pk = {account.row.pk: account for account in accounts}
        self.counts["accounts"] = len(rows)
        self.counts["contacts"] = len(contacts)
        return accounts

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

    def _working_time(self, instant: dt.datetime, account: _Account, channel: str) -> dt.datetime:
        """The same local day at a believable hour; people (not websites) also skip the weekend."""
        rng = self.rng
        day = instant.astimezone(account.tz).date()
        if day.weekday() >= 5 and (channel != DIGITAL or rng.random() < 0.7):
            day += (7 - day.weekday()) * DAY
        hour = rng.uniform(7, 23) if channel == DIGITAL else rng.triangular(8, 18, 11)
        local = dt.datetime.combine(day, dt.time(int(hour), int(hour % 1 * 60), rng.randint(0, 59)), account.tz)
        return local.astimezone(UTC)

    def _later(self, base: dt.datetime, days: tuple[float, float], account: _Account, channel: str) -> dt.datetime:
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

    def _simulate(self, account: _Account):
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

    def _buying_cycle(self, account: _Account, start: dt.datetime, *, expansion: bool) -> tuple[str, dt.datetime]:
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

    def _add_on(self, account: _Account, start: dt.datetime) -> tuple[str, dt.datetime]:
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
        won = rng.random() < win_rate
        opportunity.status = OpportunityStatus.WON if won else OpportunityStatus.LOST
        opportunity.closed_at = closed
        return won, closed

    def _fulfil(
        self, account: _Account, closed: dt.datetime, seats_total: int, phases: int | None = None
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

    def _customer_life(self, account: _Account):
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

    def _channel(self, account: _Account, job: str) -> str:
        if account.digital_only:
            return DIGITAL
        digital, in_person, partner = CHANNEL_MIX[job]
        moved = (in_person + partner) * account.pod.partner
        return self.rng.choices((DIGITAL, IN_PERSON, PARTNER), (digital, in_person - moved, partner + moved))[0]

    def _activity(self, account, moment, job, *, channel=None, kind=None, exact=False) -> tuple | None:
        """Record one activity unless it falls outside the window or into a quiet spell; return (time, channel)."""
        rng = self.rng
        channel = channel or self._channel(account, job)
        occurred = moment if exact else self._working_time(moment, account, channel)
        if not self._in_window(occurred):
            return None
        if not exact and rng.random() > self._season(account.pod, occurred):
            return None
        kind = kind or rng.choice(KINDS[(job, channel)])
        staff_id = None
        if channel != DIGITAL or rng.random() < 0.35:  # emails and webinars are often sent by a system
            staff_id = self._staff(account, job, occurred.astimezone(account.tz).date())
        persona_weights = PERSONA_BY_JOB[job]
        contact_id = None
        if rng.random() < 0.7:
            persona = rng.choices([p for p, _ in persona_weights], [w for _, w in persona_weights])[0]
            pool = account.contacts.get(persona) or account.contacts.get(Persona.CHAMPION)
            contact_id = rng.choice(pool) if pool else None
        span = MINUTES.get(kind)
        minutes = rng.randint(*span) if span else None
        notes = rng.choice(NOTES[job]) if rng.random() < 0.08 else ""
        self.activities.append((occurred, account, job, channel, kind, staff_id, contact_id, minutes, notes))
        return occurred, channel

    def _staff(self, account: _Account, job: str, day: dt.date) -> int | None:
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

    def _create_targets(self):
        """Monthly targets for the last 12 months, set near what each pod actually does.

        Each pod has its own ambition per metric, so the dashboard shows a mix of green, amber and red.
        """
        rng = self.rng
        monthly: dict[tuple[str, str, dt.date], list] = defaultdict(list)

        def add(metric, account, instant, value):
            # Bucketed by the pod's local month, as the dashboard does.
            month = instant.astimezone(account.tz).date().replace(day=1)
            monthly[(account.pod.slug, metric, month)].append(value)

        for occurred, account, job, *_ in self.activities:
            if job == LEARN:
                add("engaged_accounts", account, occurred, account.row.pk)
        by_pk = self.by_pk
        for lead in self.leads:
            add("lead_volume", by_pk[lead.account_id], lead.created_at, 1)
            if lead.decided_at:
                add("lead_acceptance_rate", by_pk[lead.account_id], lead.decided_at, lead.status == LeadStatus.ACCEPTED)
        for opp in self.opportunities:
            if opp.closed_at:
                account = by_pk[opp.account_id]
                won = opp.status == OpportunityStatus.WON
                add("win_rate", account, opp.closed_at, won)
                add("bookings", account, opp.closed_at, float(opp.amount) if won else 0.0)
                if won:
                    add(
                        "median_sales_cycle_days",
                        account,
                        opp.closed_at,
                        (opp.closed_at - opp.created_at).total_seconds() / 86400,
                    )
        for order in self.orders:
            if order.installed_at:
                days = (order.installed_at - order.ordered_at).total_seconds() / 86400
                add("median_days_to_install", by_pk[order.account_id], order.installed_at, days)
        for ticket in self.tickets:
            if ticket.resolved_at:
                account = by_pk[ticket.account_id]
                add(
                    "median_resolution_hours",
                    account,
                    ticket.resolved_at,
                    (ticket.resolved_at - ticket.opened_at).total_seconds() / 3600,
                )
                if ticket.csat:
                    add("csat", account, ticket.resolved_at, ticket.csat)

        summarise = {
            "lead_volume": len,
            "engaged_accounts": lambda values: len(set(values)),
            "lead_acceptance_rate": statistics.fmean,
            "win_rate": statistics.fmean,
            "bookings": sum,
            "median_sales_cycle_days": statistics.median,
            "median_days_to_install": statistics.median,
            "median_resolution_hours": statistics.median,
            "csat": statistics.fmean,
        }
        targets = []
        for profile in DEMO_PODS:
            this_month = self.now.astimezone(self.tz[profile.slug]).date().replace(day=1)
            months = [this_month]
            while len(months) < 12:
                months.append((months[-1] - DAY).replace(day=1))
            months.reverse()
            for metric, lower_is_better, places in TARGET_METRICS:
                actual = [
                    summarise[metric](monthly[(profile.slug, metric, m)])
                    for m in months
                    if monthly.get((profile.slug, metric, m))
                ]
                if not actual:
                    continue
                typical = statistics.fmean(actual)
                ambition = rng.choice((0.85, 0.93, 1.0, 1.05, 1.15))
                for index, month in enumerate(months):
                    ramp = 0.94 + 0.12 * index / 11  # plans ask for a little more every month
                    value = typical / ambition / ramp if lower_is_better else typical * ambition * ramp
                    if metric.endswith("_rate"):
                        value = min(value, 0.95)
                    if metric == "csat":
                        value = min(value, 4.9)
                    value = Decimal(round(value, -3)) if places is None else Decimal(str(round(value, places)))
                    targets.append(
                        Target(
                            pod=self.pods[profile.slug], metric=metric, grain="month", period_start=month, value=value
                        )
                    )
        Target.objects.bulk_create(targets, batch_size=BATCH_SIZE)
        self.counts["targets"] = len(targets)


def _ascii(text: str) -> str:
    """Drop accents and apostrophes so a name can be used in a username or an email address."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")


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
