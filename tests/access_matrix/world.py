"""The world the matrix runs against, and who may see and change what in it.

The scope tables below are written out by hand from PRODUCT.md "Access" for the people of this
world; they deliberately do not call ``pods.scoping`` or any selector, so the matrix checks the
application against the spec rather than against itself.

Three pods: A ("southeast-us") and B ("dach") have staff and leaders; C is seen by admins only (and
read, like every pod, by the center-of-excellence member).
Every object carries a marker (an external id, a pod slug or name) so that a response can be
searched for data of a pod the caller may not see.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from alerts.models import AlertRule, DigestSubscription, Notification
from metrics.models import RecomputeRequest
from tests.support.factories import (
    AccountFactory,
    ActivityFactory,
    AdoptionReadingFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportTicketFactory,
    TargetFactory,
)

try:  # The import job arrived with the CSV import; the matrix covers it whenever the model exists.
    from jobs.models import ImportJob, SavedMapping
except ImportError:  # pragma: no cover - only before the import feature existed
    ImportJob = SavedMapping = None

PODS = ("A", "B", "C")

# anonymous: not logged in; outsider: logged in, no pod, no group ("anyone else" of PRODUCT.md);
# staff_a2: a second member of pod A (sees staff_a's activities, may not change them);
# moved_ab: was staff of A, reassigned to B ten days ago (logged an activity in A before that);
# coe: member of a center of excellence, no pod assignment, leads no pod.
ROLES = (
    "anonymous",
    "outsider",
    "coe",
    "staff_a",
    "staff_a2",
    "staff_b",
    "moved_ab",
    "leader_a",
    "leader_ab",
    "admin",
    "group_admin",
)
ADMINS = frozenset({"admin", "group_admin"})
ALL = frozenset(PODS)

# Pods whose dashboards and facts each role sees (PRODUCT.md "Access": admins everything, leaders the
# pods they lead, staff their *current* pod, anyone else nothing). A center-of-excellence member sees
# no pod's facts or people: they only read the pages of ``READS``.
SEES: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    "outsider": frozenset(),
    "coe": frozenset(),
    "staff_a": frozenset("A"),
    "staff_a2": frozenset("A"),
    "staff_b": frozenset("B"),
    "moved_ab": frozenset("B"),
    "leader_a": frozenset("A"),
    "leader_ab": frozenset("AB"),
    "admin": ALL,
    "group_admin": ALL,
}
# Pods whose read-only pages each role may open: the dashboard and its drill-downs, CSV export and
# recompute progress, the comparison, the home page, the account pages and their API (pods, a pod's
# metrics, accounts). PRODUCT.md "Access": a center-of-excellence member reads "every pod's dashboard,
# comparison and account pages, read-only" and changes "nothing"; everyone else reads what they see.
READS: dict[str, frozenset[str]] = SEES | {"coe": ALL}
# Pods whose accounts each role may log activities for: staff their current pod, leaders ("their own
# activities") the pods they lead, admins every pod.
LOGS_FOR: dict[str, frozenset[str]] = dict(SEES)
# Pods whose targets each role may set: leaders their pods, admins all.
SETS_TARGETS: dict[str, frozenset[str]] = {role: frozenset() for role in ROLES} | {
    "leader_a": frozenset("A"),
    "leader_ab": frozenset("AB"),
    "admin": ALL,
    "group_admin": ALL,
}
# The pod comparison is for admins, leaders of several pods (PRODUCT.md screen 3) and the center of
# excellence (it reads every pod).
COMPARES = ADMINS | {"leader_ab", "coe"}

# (pod, logged by) of every activity of the world; None: imported without a staff member.
ACTIVITIES = (
    ("A", "staff_a"),
    ("A", "leader_a"),
    ("A", "moved_ab"),
    ("B", "staff_b"),
    ("B", "leader_ab"),
    ("C", "admin"),
    ("C", None),
)

# Alerts (alerts/): (pod, owner, paused) of every alert rule. Rules are set by those who may set the
# pod's targets (``SETS_TARGETS``); every owner still reads the rule's pod.
ALERT_RULES = (
    ("A", "leader_a", False),
    ("A", "leader_ab", True),
    ("B", "leader_ab", False),
    ("C", "admin", False),
    ("B", "group_admin", False),
)
# (pod, owner, already read) of every in-app notification: "only the caller's own" is checked for
# people of every kind, each notified about a pod they read.
NOTIFICATIONS = (
    ("A", "staff_a", False),
    ("A", "leader_a", False),
    ("A", "leader_ab", False),
    ("B", "leader_ab", False),
    ("B", "moved_ab", False),
    ("C", "coe", True),
    ("C", "admin", False),
    ("B", "group_admin", False),
)
# (pod, person, status) of the digest choices already made (without one, a pod's leaders get its digest).
DIGEST_CHOICES = (
    ("A", "staff_a", "subscribed"),
    ("B", "leader_ab", "paused"),
    ("C", "coe", "subscribed"),
)

MISSING_PK = 987_654_321
MISSING_SLUG = "no-such-pod"
MISSING_EXTERNAL_ID = "mx-missing"
IMPORT_MARKER = "mx-import-file"


@dataclass
class World:
    users: dict  # role -> User (anonymous: None)
    pods: dict  # "A" -> Pod
    accounts: dict = field(default_factory=dict)
    contacts: dict = field(default_factory=dict)
    leads: dict = field(default_factory=dict)
    opportunities: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    adoption_readings: dict = field(default_factory=dict)
    tickets: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    recomputes: dict = field(default_factory=dict)
    activities: list = field(default_factory=list)  # [(activity, pod letter, logged-by role)]
    imports: list = field(default_factory=list)
    mappings: list = field(default_factory=list)
    reorganisations: list = field(
        default_factory=list
    )  # marked reorganisations (admins and CoE read them)  # saved CRM mappings (admins' alone, no pod)
    alert_rules: list = field(default_factory=list)  # [(rule, pod letter, owner role)]
    notifications: list = field(default_factory=list)  # [(notification, pod letter, owner role)]

    def __repr__(self):  # pytest prints the fixtures of a failing test; the rows would drown the message
        return f"World(pods={sorted(self.pods)}, activities={len(self.activities)}, imports={len(self.imports)})"

    def markers(self) -> dict[str, set[str]]:
        """Strings that only a response about pod P (or about imports, key "imports") may contain."""
        found = {key: {pod.slug, pod.name} for key, pod in self.pods.items()}
        for rows in (self.accounts, self.contacts, self.leads, self.opportunities, self.orders, self.tickets):
            for key, row in rows.items():
                found[key].add(row.external_id)
        for key, account in self.accounts.items():
            found[key].add(account.name)
        for activity, key, _ in self.activities:
            found[key].add(activity.external_id)
        found["imports"] = {IMPORT_MARKER} if self.imports else set()
        return found


def build_world(users: dict, pods: dict) -> World:
    """One account, contact and fact of each kind per pod, a target and a recomputation per pod,
    the activities of ``ACTIVITIES``, the alert rules, notifications and digest choices of
    ``ALERT_RULES``, ``NOTIFICATIONS`` and ``DIGEST_CHOICES`` and, when the model exists, one import."""
    world = World(users=users, pods=pods)
    now = timezone.now()
    for key, pod in pods.items():
        low = key.lower()
        account = AccountFactory(pod=pod, external_id=f"mx-acc-{low}", name=f"Matrix account {key}")
        world.accounts[key] = account
        world.contacts[key] = ContactFactory(account=account, external_id=f"mx-con-{low}", name=f"Contact {key}")
        world.leads[key] = LeadFactory(account=account, external_id=f"mx-lead-{low}", created_at=now)
        world.opportunities[key] = OpportunityFactory(account=account, external_id=f"mx-opp-{low}", created_at=now)
        world.orders[key] = OrderFactory(account=account, external_id=f"mx-ord-{low}", ordered_at=now)
        world.adoption_readings[key] = AdoptionReadingFactory(account=account, external_id=f"mx-ado-{low}")
        world.tickets[key] = SupportTicketFactory(account=account, external_id=f"mx-tkt-{low}", opened_at=now)
        world.targets[key] = TargetFactory(
            pod=pod, metric="lead_volume", grain="month", period_start=dt.date(2026, 1, 1), value=Decimal("40")
        )
        world.recomputes[key] = RecomputeRequest.objects.create(pod=pod, requested_by=users["admin"])
    for number, (key, role) in enumerate(ACTIVITIES):
        activity = ActivityFactory(
            account=world.accounts[key],
            staff=users[role] if role else None,
            external_id=f"mx-act-{key.lower()}-{number}",
            occurred_at=now - dt.timedelta(hours=number + 1),
        )
        world.activities.append((activity, key, role))
    for key, role, paused in ALERT_RULES:
        if role not in users:  # a world of fewer roles (the API fuzzing's)
            continue
        rule = AlertRule.objects.create(
            owner=users[role], pod=pods[key], metric="lead_volume", grain="month", condition="off_target", paused=paused
        )
        world.alert_rules.append((rule, key, role))
    for number, (key, role, read) in enumerate(NOTIFICATIONS):
        if role not in users:  # a world of fewer roles (the API fuzzing's)
            continue
        notice = Notification.objects.create(
            user=users[role],
            pod=pods[key],
            kind="alert_fired",
            title=f"{pods[key].name}: matrix alert {number}",
            url=f"/pods/{pods[key].slug}/",
            read_at=now if read else None,
        )
        world.notifications.append((notice, key, role))
    for key, role, status in DIGEST_CHOICES:
        if role not in users:  # a world of fewer roles (the API fuzzing's)
            continue
        DigestSubscription.objects.create(user=users[role], pod=pods[key], status=status)
    if ImportJob is not None:
        world.imports.append(
            ImportJob.objects.create(
                kind="accounts", file=f"2026/01/01/{IMPORT_MARKER}.csv", created_by=users["admin"], status="failed"
            )
        )
        # A preview checked and waiting for the admin's confirmation.
        world.imports.append(
            ImportJob.objects.create(
                kind="accounts",
                file=f"2026/01/02/{IMPORT_MARKER}.csv",
                created_by=users["admin"],
                status="checked",
                preview=True,
            )
        )
        world.mappings.append(
            SavedMapping.objects.create(
                name="matrix-opportunity", based_on="salesforce-opportunity", definition={"identifying": ["Id"]}
            )
        )
    from metrics.models import Reorganisation

    world.reorganisations.append(Reorganisation.objects.create(name="Matrix reorg", effective_on=dt.date(2026, 1, 1)))
    return world
