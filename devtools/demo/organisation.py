"""The demo organisation before any fact: its pods, logins, leaders, staff with their history, accounts and
contacts (the first half of :class:`~devtools.demo.generator.DemoGenerator`'s run).
"""

import datetime as dt
import random
import unicodedata
import zoneinfo
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from pods.choices import BUYING_JOB_ORDER, Persona
from pods.models import Account, Assignment, CenterOfExcellence, Contact, Pod, User
from pods.services import assignment_reassign

from ..vocabulary import ADOPT, BUY, LEARN, SUPPORT
from .story import (
    BATCH_SIZE,
    COMPANY_TRADES,
    COMPANY_WORDS,
    DAY,
    DEMO_PASSWORD,
    DEMO_POD_SLUGS,
    DEMO_PODS,
    DEMO_PREFIX,
    ENTERPRISE,
    FIRST_NAMES,
    LAST_NAMES,
    MID_MARKET,
    POD_LEADERS,
    SMB,
    DemoPod,
)


@dataclass
class DemoAccount:
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
    executive_met: list[dt.datetime] = field(default_factory=list)  # when its executives were reached


class DemoOrganisation:
    """Writes the organisation; mixed into ``DemoGenerator``, whose ``__init__`` sets these attributes."""

    rng: random.Random
    scale: float
    now: dt.datetime
    start: dt.datetime
    today: dt.date
    tz: dict[str, zoneinfo.ZoneInfo]
    pods: dict[str, Pod]
    staffing: dict[tuple[str, str], list[tuple[dt.date, dt.date | None, int]]]
    counts: dict[str, int]
    by_pk: dict[int, DemoAccount]

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
            "analyst": {"full_name": "Dana Kim"},
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
        # The ``analyst`` login serves every pod from Data & Analytics: it reads every dashboard, changes nothing.
        CenterOfExcellence.objects.get(slug="data-analytics").members.add(login_users["analyst"])

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

    def _create_accounts(self) -> list[DemoAccount]:
        rng = self.rng
        names_taken = set(Account.objects.values_list("name", flat=True))
        accounts: list[DemoAccount] = []
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
                    DemoAccount(
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

        contacts: list[tuple[DemoAccount, Contact]] = []
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


def _ascii(text: str) -> str:
    """Drop accents and apostrophes so a name can be used in a username or an email address."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")
