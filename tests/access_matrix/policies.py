"""What each route may answer to whom: the expected-outcome table of the access matrix.

One entry per route (``TABLE``); a route without an entry fails ``test_every_route_has_a_policy``.
An entry states the methods the route answers, the objects it is about (own / other / missing are
derived per role from the scope tables of ``world``), who may read it, which rows a list must
return, and who may write through it. Anonymous callers are refused everywhere: pages redirect to
the login page, the API answers 401/403. The one exception is a route whose credential is in its URL
(``Policy.public``: the signed one-click unsubscribe link of the alerts' emails), where anonymous
callers are judged by the same rules as everyone else.

Refusals of an object the caller may not see must be indistinguishable from a missing object
(PRODUCT.md: "An object outside the caller's scope answers 404, exactly like an object that does not
exist"); the runner compares their status and body byte for byte. Two refusals are 403 instead, as
the contract says: an object the caller *sees* but may not change (an activity someone else logged,
a target of a pod they are staff of, a pod a center-of-excellence member reads but may not
recompute), and a whole route a role may never use (imports for non-admins, target writes for
people who lead no pod) — the latter answers the same 403 whether the object exists or not, so it
reveals nothing either.

Read-only pages and their API (dashboards, comparison, account pages) follow ``READS``; facts,
people and every write follow ``SEES`` and the tables built on it. A policy's ``scope`` says which
of the two a permitted answer may show markers of.
"""

import copy
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from alerts.mail import UNSUBSCRIBE_SALT, unsubscribe_token
from alerts.models import AlertRule, DigestSubscription, Notification
from jobs.models import Activity
from metrics.models import RecomputeRequest, Reorganisation
from metrics.models import Target as PodTarget

from .world import (
    ADMINS,
    ALL,
    COMPARES,
    LOGS_FOR,
    MISSING_EXTERNAL_ID,
    MISSING_PK,
    MISSING_SLUG,
    PODS,
    READS,
    ROLES,
    SEES,
    SETS_TARGETS,
    ImportJob,
    SavedMapping,
    World,
)

GET, POST, PUT, PATCH, DELETE = "GET", "POST", "PUT", "PATCH", "DELETE"


@dataclass(frozen=True)
class Target:
    """An object a URL is about: its URL kwargs (and query), the pod whose scope governs it."""

    label: str
    kwargs: dict = field(default_factory=dict)
    pod: str | None = None  # "A"/"B"/"C"; None when no pod governs it (imports) or it is missing
    obj: object = None
    query: dict = field(default_factory=dict)
    missing: bool = False
    logged_by: str | None = None  # activities: the role that logged it
    owner: str | None = None  # alert rules, notifications, unsubscribe tokens: the role they belong to


@dataclass(frozen=True)
class Rows:
    """A list's rows: how to read them from a response, and the set the role must get.

    ``expected(world, role, pod)`` computes the rows from the world and the scope tables; ``pod`` is the
    pod letter the list is filtered to (``pod_param``), or None for the unfiltered list.
    """

    read: Callable  # (matrix, role, url) -> list of identifiers (pagination followed)
    expected: Callable[[World, str, str | None], set]
    pod_param: str | None = None


@dataclass(frozen=True)
class Read:
    """Who may GET the route (or each of its objects), and what a permitted answer must hold."""

    may: Callable[[str, Target | None], bool]
    ok: int = 200
    refused: int = 404  # routes without objects: the answer to a role that may not open it
    missing: frozenset[int] = frozenset({404})
    query: dict = field(default_factory=dict)
    rows: Rows | None = None
    check: Callable | None = None  # (world, role, target, response, body) -> problem or None
    sees: Callable[[str, Target], bool] | None = None  # seen but not openable -> 403 (else as missing)
    fingerprint: Callable | None = None  # how refusals are compared with the missing answer


@dataclass(frozen=True)
class Write:
    """A writing method of the route: who may, what it changes, how a refusal reads."""

    method: str
    may: Callable[[str, Target | None], bool]
    ok: int
    state: Callable[[World, Target | None], object]  # what the write changes, compared before/after
    payload: Callable[[World, str, Target | None], dict] = lambda world, role, target: {}
    encoding: str = "json"  # "json" or "form" (multipart, as a browser or curl -F sends)
    references: Callable[[World], list[Target]] | None = None  # creates: the objects the payload names
    sees: Callable[[str, Target], bool] | None = None  # seen but not changeable -> 403 (else as missing)
    refused: int = 403  # routes without objects: the answer to a role that may not write
    missing: Callable[[str], frozenset[int]] = lambda role: frozenset({404})
    fingerprint: Callable | None = None  # how refusals are compared with the missing answer
    check: Callable | None = None  # (world, role, target, response) -> problem or None, on success
    # (world, role, target, state before, state after) -> problem or None: exactly what a permitted write
    # must change (None: anything; a permitted write that changes nothing is then a problem).
    outcome: Callable | None = None


@dataclass(frozen=True)
class Policy:
    api: bool
    methods: frozenset[str]
    targets: Callable[[World], list[Target]] | None = None
    read: Read | None = None
    writes: tuple[Write, ...] = ()
    # Methods a page without objects answers exactly as GET (it writes nothing): checked with the read rules.
    answers_like_get: frozenset[str] = frozenset()
    # The pods whose markers a 2xx answer to each role may contain (the leak check): ``SEES``, or
    # ``READS`` for the read-only pages and endpoints.
    scope: dict = field(default_factory=lambda: SEES, hash=False, compare=False)
    # A route that needs no login (its credential is in the URL): anonymous callers are judged by the
    # ``may`` rules like everyone else instead of being sent to the login page.
    public: bool = False


# --- who ---------------------------------------------------------------------------------------


def authenticated(role, target=None) -> bool:
    return role != "anonymous"


def admin_only(role, target=None) -> bool:
    return role in ADMINS


def sees_pod(role, target) -> bool:
    return target.pod in SEES[role]


def reads_pod(role, target) -> bool:
    """The read-only pages of the pod: whoever sees it, and the center of excellence (every pod)."""
    return target.pod in READS[role]


def logs_for_pod(role, target) -> bool:
    return target.pod in LOGS_FOR[role]


def sets_targets_of_pod(role, target) -> bool:
    return target.pod in SETS_TARGETS[role]


def logged_it(role, target) -> bool:
    """Staff and leaders change the activities they logged, for accounts of a pod they may still log for."""
    return target.logged_by == role and target.pod in LOGS_FOR[role]


def changes_activity(role, target) -> bool:
    # PRODUCT.md "Access": an admin may change "everything, via admin, import and API".
    return logged_it(role, target) or (role in ADMINS and target.pod in SEES[role])


def compares(role, target=None) -> bool:
    return role in COMPARES


def target_writers_only(role) -> frozenset[int]:
    # People who may set no target at all are refused the route itself (403) before any lookup.
    return frozenset({404}) if SETS_TARGETS[role] else frozenset({403})


# --- objects -----------------------------------------------------------------------------------


def pod_targets(world: World) -> list[Target]:
    return [Target(f"pod {key}", {"slug": pod.slug}, pod=key, obj=pod) for key, pod in world.pods.items()] + [
        Target("missing pod", {"slug": MISSING_SLUG}, missing=True)
    ]


def pk_targets(attr: str, noun: str) -> Callable[[World], list[Target]]:
    def targets(world: World) -> list[Target]:
        rows = getattr(world, attr)
        return [Target(f"{noun} of {key}", {"pk": row.pk}, pod=key, obj=row) for key, row in rows.items()] + [
            Target(f"missing {noun}", {"pk": MISSING_PK}, missing=True)
        ]

    return targets


def external_id_targets(attr: str, noun: str) -> Callable[[World], list[Target]]:
    def targets(world: World) -> list[Target]:
        rows = getattr(world, attr)
        return [
            Target(f"{noun} of {key}", {"external_id": row.external_id}, pod=key, obj=row) for key, row in rows.items()
        ] + [Target(f"missing {noun}", {"external_id": MISSING_EXTERNAL_ID}, missing=True)]

    return targets


def activity_targets(world: World) -> list[Target]:
    return [
        Target(f"activity of {role or 'nobody'} in {key}", {"pk": activity.pk}, pod=key, obj=activity, logged_by=role)
        for activity, key, role in world.activities
    ] + [Target("missing activity", {"pk": MISSING_PK}, missing=True)]


def import_targets(world: World) -> list[Target]:
    return [Target(f"import {job.pk}", {"pk": job.pk}, obj=job) for job in world.imports] + [
        Target("missing import", {"pk": MISSING_PK}, missing=True)
    ]


def confirm_targets(world: World) -> list[Target]:
    """The previews waiting for confirmation (another import answers "cannot be confirmed" and changes nothing)."""
    return [Target(f"import {job.pk}", {"pk": job.pk}, obj=job) for job in world.imports if job.status == "checked"] + [
        Target("missing import", {"pk": MISSING_PK}, missing=True)
    ]


def reviews_reorganisations(role, target=None) -> bool:
    return role in ADMINS or role == "coe"


def reorganisation_targets(world: World) -> list[Target]:
    return [Target(f"reorganisation {r.pk}", {"pk": r.pk}, obj=r) for r in world.reorganisations] + [
        Target("missing reorganisation", {"pk": MISSING_PK}, missing=True)
    ]


def reorganisation_form(world, role, target):
    return {"name": f"Reorg by {role}", "effective_on": "2026-02-01"}


def mapping_targets(world: World) -> list[Target]:
    return [Target(f"mapping {m.name}", {"name": m.name}, obj=m) for m in world.mappings] + [
        Target("missing mapping", {"name": "no-such-mapping"}, missing=True)
    ]


def mapping_copy_targets(world: World) -> list[Target]:
    return [
        Target("copy of salesforce-opportunity", {}, query={"from": "salesforce-opportunity"}),
        Target("copy of a missing mapping", {}, query={"from": "no-such-mapping"}, missing=True),
    ]


def drilldown_targets(world: World) -> list[Target]:
    return [
        Target(f"pod {key}", {"slug": pod.slug, "metric": "lead_volume"}, pod=key, obj=pod)
        for key, pod in world.pods.items()
    ] + [
        Target("missing pod", {"slug": MISSING_SLUG, "metric": "lead_volume"}, missing=True),
        Target("missing figure", {"slug": world.pods["A"].slug, "metric": "no-such-figure"}, missing=True),
    ]


def recompute_progress_targets(world: World) -> list[Target]:
    own = [
        Target(f"recomputation of {key}", {"slug": world.pods[key].slug, "pk": request.pk}, pod=key, obj=request)
        for key, request in world.recomputes.items()
    ]
    # A pod the caller may see with the id of another pod's recomputation: nobody may follow that one.
    crossed = [
        Target(f"pod {a}'s URL, {b}'s recomputation", {"slug": world.pods[a].slug, "pk": world.recomputes[b].pk})
        for a, b in (("A", "B"), ("A", "C"), ("B", "C"))
    ]
    missing = [
        Target("missing pod", {"slug": MISSING_SLUG, "pk": MISSING_PK}, missing=True),
        Target("missing recomputation", {"slug": world.pods["A"].slug, "pk": MISSING_PK}, missing=True),
    ]
    return own + crossed + missing


def contact_option_targets(world: World) -> list[Target]:
    return [
        Target(f"account of {key}", query={"account": account.pk}, pod=key, obj=account)
        for key, account in world.accounts.items()
    ] + [Target("missing account", query={"account": MISSING_PK}, missing=True)]


def account_references(world: World) -> list[Target]:
    return [Target(f"account of {key}", pod=key, obj=account) for key, account in world.accounts.items()] + [
        Target("unknown account", missing=True)
    ]


def pod_references(world: World) -> list[Target]:
    return [Target(f"pod {key}", pod=key, obj=pod) for key, pod in world.pods.items()] + [
        Target("unknown pod", missing=True)
    ]


# --- rows ----------------------------------------------------------------------------------------


def api_rows(id_field: str) -> Callable:
    """Read a paginated API list to the end: every row's ``id_field``, in order."""

    def read(matrix, role, url):
        found, count = [], None
        while url:
            response = matrix.get(role, url)
            if response.status_code != 200:
                raise AssertionError(f"{url}: {response.status_code} {response.content[:300]!r}")
            page = response.json()
            count = page["count"] if count is None else count
            found += [row[id_field] for row in page["results"]]
            url = page["next"]
        if count != len(found):
            raise AssertionError(f"count says {count}, the pages held {len(found)}")
        return found

    return read


def page_rows(pattern: str) -> Callable:
    """Identifiers a page shows, found with ``pattern`` (one group)."""

    def read(matrix, role, url):
        response = matrix.get(role, url)
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code}")
        return re.findall(pattern, matrix.body(response))

    return read


def csv_rows(column: str) -> Callable:
    def read(matrix, role, url):
        response = matrix.get(role, url)
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code}")
        return [row[column] for row in csv.DictReader(io.StringIO(matrix.body(response)))]

    return read


def in_pods(attr: str, ident: Callable, scope: dict = SEES) -> Callable:
    """The ``ident`` of every object of ``world.<attr>`` in a pod the role has in ``scope``."""

    def expected(world, role, pod):
        return {ident(row) for key, row in getattr(world, attr).items() if key in scope[role] and pod in (None, key)}

    return expected


def activities_expected(ident: Callable, only_logged_by_caller: bool = False) -> Callable:
    def expected(world, role, pod):
        return {
            ident(activity)
            for activity, key, logged_by in world.activities
            if key in SEES[role] and pod in (None, key) and (not only_logged_by_caller or logged_by == role)
        }

    return expected


def pods_expected(world, role, pod):
    return {p.slug for key, p in world.pods.items() if key in READS[role] and pod in (None, key)}


def imports_expected(world, role, pod):
    return {job.pk for job in world.imports} if role in ADMINS else set()


def _pk(row):
    return row.pk


def _external_id(row):
    return row.external_id


def _str_pk(row):
    return str(row.pk)


# --- checks on permitted answers ----------------------------------------------------------------


def metrics_of_the_pod(world, role, target, response, body):
    got = response.json()
    if got.get("pod") != target.obj.slug or not got.get("periods"):
        return f"expected the series of {target.obj.slug}, got pod={got.get('pod')!r}"
    return None


def drilldown_lists_the_pods_leads(world, role, target, response, body):
    shown = set(re.findall(r"mx-lead-[a-c]", body))
    if shown != {world.leads[target.pod].external_id}:
        return f"lists leads {sorted(shown)}, expected only {world.leads[target.pod].external_id}"
    return None


def contact_options_of_the_account(world, role, target, response, body):
    shown = set(re.findall(r'<option value="(\d+)"', body))
    if shown != {str(world.contacts[target.pod].pk)}:
        return f"offers contacts {sorted(shown)}, expected only {world.contacts[target.pod].pk}"
    return None


def logged_for_the_caller_under_the_accounts_pod(world, role, target, response):
    got = response.json()
    expected = (target.obj.pod.slug, world.users[role].username)
    if (got.get("pod"), got.get("staff")) != expected:
        return f"stored pod/staff {(got.get('pod'), got.get('staff'))}, expected {expected}"
    return None


# --- writes: payloads and what they change --------------------------------------------------------


def count_of(model) -> Callable:
    return lambda world, target: model.objects.count()


def row_of(model) -> Callable:
    return lambda world, target: list(model.objects.filter(pk=target.obj.pk).values()) if target.obj else None


def activity_json(world, role, target):
    return {
        "occurred_at": "2026-03-02T09:30:00-05:00",
        "account": target.obj.external_id if target.obj else MISSING_EXTERNAL_ID,
        "job": "learn",
        "channel": "digital",
        "kind": "call",
    }


def activity_form(world, role, target):
    """What the log-activity form posts (the account by primary key, chosen from the search)."""
    return {
        "account": target.obj.pk if target.obj else MISSING_PK,
        "account_search": "",
        "job": "learn",
        "channel": "digital",
        "kind": "call",
        "occurred_at": "2026-03-02T09:30",
    }


def activity_edit_form(world, role, target):
    activity = target.obj
    return {
        "account": activity.account_id if activity else world.accounts["A"].pk,
        "account_search": "",
        "job": "learn",
        "channel": "digital",
        "kind": "call",
        "occurred_at": "2026-03-02T09:30",
        "notes": "changed by the access matrix",
    }


def target_json(world, role, target):
    return {
        "pod": target.obj.slug if target.obj else MISSING_SLUG,
        "metric": "lead_volume",
        "grain": "month",
        "period_start": "2027-02-01",
        "value": "12",
    }


def target_put_json(world, role, target):
    slug = target.obj.pod.slug if target.obj else world.pods["A"].slug
    return {"pod": slug, "metric": "lead_volume", "grain": "month", "period_start": "2026-01-01", "value": "98"}


def csv_upload(world, role, target):
    # A fresh file object per request: a request reads it to the end.
    return {"kind": "accounts", "file": SimpleUploadedFile("matrix.csv", b"external_id,name,pod\n", "text/csv")}


def mapping_form(world, role, target):
    """A valid mapping form: the built-in's own values under a name of the caller's."""
    from tests.support.mapping_forms import mapping_form_data

    based_on = target.obj.based_on if target is not None and target.obj is not None else "salesforce-opportunity"
    return mapping_form_data(based_on, f"{role}-mapping")


def form_errors(response):
    """Refusals of a form are compared by status and errors (the page around them holds a fresh CSRF token)."""
    context = response.context
    form = context["form"] if context is not None and "form" in context else None
    return response.status_code, json.dumps(form.errors.get_json_data() if form is not None else None, sort_keys=True)


# --- alerts: who, objects, what a write must change --------------------------------------------------
# Alerts and digests are the caller's own: their notifications, their alert rules, their digest choice
# of each pod they read. Someone else's notification or rule answers 404 like a missing one.


def anyone(role, target=None) -> bool:
    return True


def owns_it(role, target) -> bool:
    return target.owner == role


def alert_rule_targets(world: World) -> list[Target]:
    return [
        Target(f"alert rule of {role} in {key}", {"pk": rule.pk}, pod=key, obj=rule, owner=role)
        for rule, key, role in world.alert_rules
    ] + [Target("missing alert rule", {"pk": MISSING_PK}, missing=True)]


def notification_targets(world: World) -> list[Target]:
    return [
        Target(f"notification of {role} in {key}", {"pk": notice.pk}, pod=key, obj=notice, owner=role)
        for notice, key, role in world.notifications
    ] + [Target("missing notification", {"pk": MISSING_PK}, missing=True)]


def unsubscribe_targets(world: World) -> list[Target]:
    """Signed unsubscribe links (``alerts.mail.unsubscribe_token``): the token is the credential, whoever
    sends it; a link that does not verify, or names nothing that is its person's, answers 400."""
    users = world.users
    digests = [
        Target(
            f"digest link of {role} for {key}",
            {"token": unsubscribe_token(users[role], pod=world.pods[key])},
            pod=key,
            obj=world.pods[key],
            owner=role,
        )
        for key, role in (("A", "staff_a"), ("A", "leader_a"), ("C", "coe"))  # subscribed by choice, by leading
    ]
    rules = [
        Target(
            f"alert link of {role} for its rule in {key}",
            {"token": unsubscribe_token(users[role], rule=rule)},
            pod=key,
            obj=rule,
            owner=role,
        )
        for rule, key, role in world.alert_rules
        if role in ("leader_a", "admin")
    ]
    others_rule = next(rule for rule, _, role in world.alert_rules if role == "admin")
    leader = users["leader_a"]
    bad = {
        "not a token": "not-a-token",
        "token signed with another salt": signing.dumps({"u": leader.pk, "p": world.pods["A"].pk}, salt="other"),
        "token naming neither digest nor rule": signing.dumps({"u": leader.pk}, salt=UNSUBSCRIBE_SALT, compress=True),
        "token of a missing rule": unsubscribe_token(leader, rule=SimpleNamespace(pk=MISSING_PK)),
        "token of a missing pod": unsubscribe_token(leader, pod=SimpleNamespace(pk=MISSING_PK)),
        "token naming someone else's rule": unsubscribe_token(leader, rule=others_rule),
        "token of a missing person": signing.dumps(
            {"u": MISSING_PK, "p": world.pods["A"].pk}, salt=UNSUBSCRIBE_SALT, compress=True
        ),
    }
    return digests + rules + [Target(label, {"token": token}, missing=True) for label, token in bad.items()]


def alerts_state(world: World, target: Target | None) -> dict:
    """Everything an alerts page may write: digest choices, alert rules, which notifications are read."""
    rule_fields = ("id", "owner_id", "pod_id", "metric", "grain", "condition", "email", "paused")
    return {
        "digests": {(row.user_id, row.pod_id): row.status for row in DigestSubscription.objects.all()},
        "rules": {row["id"]: row for row in AlertRule.objects.values(*rule_fields)},
        "read": {notice.pk: notice.read_at is not None for notice in Notification.objects.all()},
    }


def leaves(change: Callable) -> Callable:
    """An outcome: the state before with ``change(world, role, target, state)`` applied, and nothing else."""

    def outcome(world, role, target, before, after):
        expected = copy.deepcopy(before)
        change(world, role, target, expected)
        wrong = [
            f"{part} {key}: expected {expected[part].get(key, '(none)')}, got {after[part].get(key, '(none)')}"
            for part in expected
            for key in sorted(expected[part].keys() | after[part].keys(), key=str)
            if expected[part].get(key) != after[part].get(key)
        ]
        return "wrote other than asked: " + "; ".join(wrong) if wrong else None

    return outcome


def marks_the_callers_notifications_read(world, role, target, state):
    for notice, _, owner in world.notifications:
        if owner == role:
            state["read"][notice.pk] = True


def marks_the_notification_read(world, role, target, state):
    state["read"][target.obj.pk] = True


def sets_the_callers_digest(status: str) -> Callable:
    def change(world, role, target, state):
        state["digests"][(world.users[role].pk, target.obj.pk)] = status

    return change


def sets_the_rule(**values) -> Callable:
    def change(world, role, target, state):
        state["rules"][target.obj.pk].update(values)

    return change


def deletes_the_rule(world, role, target, state):
    del state["rules"][target.obj.pk]


def stops_what_the_token_names(world, role, target, state):
    """The token's person (not the caller) stops receiving the pod's digest, or the rule's emails."""
    if isinstance(target.obj, AlertRule):
        state["rules"][target.obj.pk]["email"] = False
    else:
        state["digests"][(world.users[target.owner].pk, target.obj.pk)] = "unsubscribed"


def creates_the_callers_rule(world, role, target, before, after):
    new = [row for pk, row in after["rules"].items() if pk not in before["rules"]]
    kept = {pk: row for pk, row in after["rules"].items() if pk in before["rules"]}
    if kept != before["rules"] or after["digests"] != before["digests"] or after["read"] != before["read"]:
        return "changed rows other than the new rule"
    expected = (world.users[role].pk, target.obj.pk, "lead_volume")
    if [(row["owner_id"], row["pod_id"], row["metric"]) for row in new] != [expected]:
        return f"created {new}, expected one rule (owner, pod, metric) = {expected}"
    return None


def rule_form(world, role, target):
    return {"metric": "lead_volume", "grain": "month", "condition": "off_target", "min_events": "0", "email": "on"}


def notifications_expected(world, role, pod):
    return {str(notice.pk) for notice, _, owner in world.notifications if owner == role}


def shows_the_callers_rules_and_rule_pods(world, role, target, response, body):
    """My alerts: the caller's own rules (of pods they read); "new alert on" the pods whose targets they set."""
    rules = set(re.findall(r'data-rule="(\d+)"', body))
    expected = {str(rule.pk) for rule, key, owner in world.alert_rules if owner == role and key in READS[role]}
    if rules != expected:
        return f"lists rules {sorted(rules)}, expected {sorted(expected)}"
    offered = set(re.findall(r'data-new-rule-on="([^"]+)"', body))
    expected = {world.pods[key].slug for key in SETS_TARGETS[role]}
    if offered != expected:
        return f"offers new alerts on {sorted(offered)}, expected {sorted(expected)}"
    return None


def names_only_the_tokens_pod(world, role, target, response, body):
    markers = world.markers()
    if world.pods[target.pod].name not in body:
        return f"does not say which pod's digest or alert stops ({world.pods[target.pod].name})"
    for pod in sorted(set(PODS) - {target.pod}):
        shown = sorted(marker for marker in markers[pod] if marker in body)
        if shown:
            return f"shows data of pod {pod}: {shown}"
    return None


CSRF_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")


def page_without_csrf(response):
    """Pages extending base.html carry a fresh masked CSRF token each time: compared without it."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, response.get("Content-Type", ""), CSRF_TOKEN.sub("<csrf>", body.decode())


# --- the table --------------------------------------------------------------------------------------


def api_list(attr: str, id_field: str, ident: Callable, pod_param: str | None = "pod", scope: dict = SEES) -> Policy:
    return Policy(
        api=True,
        methods=frozenset({GET}),
        read=Read(may=authenticated, rows=Rows(api_rows(id_field), in_pods(attr, ident, scope), pod_param)),
        scope=scope,
    )


def api_detail(targets: Callable) -> Policy:
    return Policy(api=True, methods=frozenset({GET}), targets=targets, read=Read(may=sees_pod))


def read_only_api_detail(targets: Callable) -> Policy:
    return Policy(api=True, methods=frozenset({GET}), targets=targets, read=Read(may=reads_pod), scope=READS)


def page_of_pod(targets: Callable = pod_targets, check: Callable | None = None) -> Policy:
    """A read-only page of a pod (``READS``)."""
    return Policy(
        api=False, methods=frozenset({GET}), targets=targets, read=Read(may=reads_pod, check=check), scope=READS
    )


def recompute(api: bool, ok: int) -> Policy:
    """Recomputing changes no data (it rebuilds snapshots from the facts), so whoever sees a pod may ask
    for it: the dashboard shows them the button. A center-of-excellence member reads the pod but changes
    nothing: 403, as for anything seen but not changeable; a pod the caller may not read answers as a missing one."""
    encoding = "json" if api else "form"
    return Policy(
        api=api,
        methods=frozenset({POST}),
        targets=pod_targets,
        writes=(Write(POST, may=sees_pod, ok=ok, state=count_of(RecomputeRequest), encoding=encoding, sees=reads_pod),),
    )


TABLE: dict[str, Policy] = {
    # ---------------- API ----------------
    # The browsable root lists the endpoints, no data: any logged-in user.
    "api-root": Policy(api=True, methods=frozenset({GET}), read=Read(may=authenticated)),
    # Pods, a pod's metrics and accounts are what the read-only pages show: ``READS``.
    "pod-list": api_list("pods", "slug", lambda pod: pod.slug, pod_param="slug", scope=READS),
    "pod-detail": read_only_api_detail(pod_targets),
    "api-pod-metrics": Policy(
        api=True,
        methods=frozenset({GET}),
        targets=pod_targets,
        read=Read(
            may=reads_pod,
            query={"grain": "month", "start": "2026-01-01", "end": "2026-03-31"},
            check=metrics_of_the_pod,
        ),
        scope=READS,
    ),
    "api-pod-recompute": recompute(api=True, ok=202),
    "recompute-list": Policy(
        api=True,
        methods=frozenset({GET}),
        read=Read(may=authenticated, rows=Rows(api_rows("id"), in_pods("recomputes", _pk), pod_param=None)),
    ),
    "recompute-detail": api_detail(pk_targets("recomputes", "recomputation")),
    "account-list": api_list("accounts", "external_id", _external_id, scope=READS),
    "account-detail": read_only_api_detail(external_id_targets("accounts", "account")),
    "contact-list": api_list("contacts", "external_id", _external_id),
    "contact-detail": api_detail(external_id_targets("contacts", "contact")),
    "lead-list": api_list("leads", "id", _pk),
    "lead-detail": api_detail(pk_targets("leads", "lead")),
    "opportunity-list": api_list("opportunities", "id", _pk),
    "opportunity-detail": api_detail(pk_targets("opportunities", "opportunity")),
    "order-list": api_list("orders", "id", _pk),
    "order-detail": api_detail(pk_targets("orders", "order")),
    "adoption-reading-list": api_list("adoption_readings", "id", _pk),
    "adoption-reading-detail": api_detail(pk_targets("adoption_readings", "adoption reading")),
    "ticket-list": api_list("tickets", "id", _pk),
    "ticket-detail": api_detail(pk_targets("tickets", "ticket")),
    "activity-list": Policy(
        api=True,
        methods=frozenset({GET, POST}),
        read=Read(may=authenticated, rows=Rows(api_rows("id"), activities_expected(_pk), "pod")),
        writes=(
            # INTERCHANGE.md: an account the caller may not log for answers exactly like an unknown one.
            Write(
                POST,
                may=logs_for_pod,
                ok=201,
                state=count_of(Activity),
                payload=activity_json,
                references=account_references,
                missing=lambda role: frozenset({400}),
                check=logged_for_the_caller_under_the_accounts_pod,
            ),
        ),
    ),
    "activity-detail": Policy(
        api=True,
        methods=frozenset({GET, PATCH, DELETE}),
        targets=activity_targets,
        read=Read(may=sees_pod),
        writes=(
            Write(
                PATCH,
                may=changes_activity,
                ok=200,
                state=row_of(Activity),
                payload=lambda world, role, target: {"notes": "changed by the access matrix"},
                sees=sees_pod,
            ),
            Write(DELETE, may=changes_activity, ok=204, state=row_of(Activity), sees=sees_pod),
        ),
    ),
    "target-list": Policy(
        api=True,
        methods=frozenset({GET, POST}),
        read=Read(may=authenticated, rows=Rows(api_rows("id"), in_pods("targets", _pk), "pod")),
        writes=(
            Write(
                POST,
                may=sets_targets_of_pod,
                ok=201,
                state=count_of(PodTarget),
                payload=target_json,
                references=pod_references,
                missing=lambda role: frozenset({400}) if SETS_TARGETS[role] else frozenset({403}),
            ),
        ),
    ),
    "target-detail": Policy(
        api=True,
        methods=frozenset({GET, PUT, PATCH, DELETE}),
        targets=pk_targets("targets", "target"),
        read=Read(may=sees_pod),
        writes=(
            Write(
                PATCH,
                may=sets_targets_of_pod,
                ok=200,
                state=row_of(PodTarget),
                payload=lambda world, role, target: {"value": "77"},
                sees=sees_pod,
                missing=target_writers_only,
            ),
            Write(
                PUT,
                may=sets_targets_of_pod,
                ok=200,
                state=row_of(PodTarget),
                payload=target_put_json,
                sees=sees_pod,
                missing=target_writers_only,
            ),
            Write(
                DELETE,
                may=sets_targets_of_pod,
                ok=204,
                state=row_of(PodTarget),
                sees=sees_pod,
                missing=target_writers_only,
            ),
        ),
    ),
    # Imports are for admins: others list none, follow none (404) and may upload none (403).
    "import-list": Policy(
        api=True,
        methods=frozenset({GET, POST}),
        read=Read(may=authenticated, rows=Rows(api_rows("id"), imports_expected)),
        writes=(Write(POST, may=admin_only, ok=202, state=count_of(ImportJob), payload=csv_upload, encoding="form"),),
    ),
    "import-detail": Policy(api=True, methods=frozenset({GET}), targets=import_targets, read=Read(may=admin_only)),
    "import-confirm": Policy(
        api=True,
        methods=frozenset({POST}),
        targets=confirm_targets,
        writes=(Write(POST, may=admin_only, ok=202, state=row_of(ImportJob)),),
    ),
    # ---------------- pages ----------------
    "home": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(may=authenticated, rows=Rows(page_rows(r'data-pod="([^"]+)"'), pods_expected)),
        scope=READS,
    ),
    "pod-compare": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(may=compares, refused=404, rows=Rows(page_rows(r'<tr data-pod="([^"]+)"'), pods_expected)),
        scope=READS,
    ),
    "pod-dashboard": page_of_pod(),
    "pod-drilldown": page_of_pod(drilldown_targets, check=drilldown_lists_the_pods_leads),
    "pod-export": page_of_pod(),
    "pod-accounts-to-call": page_of_pod(),
    "pod-recompute": recompute(api=False, ok=302),
    "pod-recompute-progress": page_of_pod(recompute_progress_targets),
    # The account pages follow GET /api/accounts/: the search list shows the accounts the caller reads,
    # an account outside them answers 404 like a missing one.
    "account-index": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(
            may=authenticated,
            rows=Rows(page_rows(r'data-account="([^"]+)"'), in_pods("accounts", _external_id, scope=READS)),
        ),
        scope=READS,
    ),
    "account-page": page_of_pod(external_id_targets("accounts", "account")),
    "account-export": page_of_pod(external_id_targets("accounts", "account")),
    "activity-log": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        # "My recent activities": what the caller logged, among what they may still see.
        read=Read(
            may=authenticated,
            rows=Rows(page_rows(r'data-activity="(\d+)"'), activities_expected(_str_pk, True), "pod"),
        ),
        writes=(
            Write(
                POST,
                may=logs_for_pod,
                ok=302,
                state=count_of(Activity),
                payload=activity_form,
                encoding="form",
                references=account_references,
                missing=lambda role: frozenset({200}),
                fingerprint=form_errors,
            ),
        ),
    ),
    "activity-account-search": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(
            may=authenticated,
            query={"account_search": "Matrix account"},
            rows=Rows(page_rows(r'data-value="(\d+)"'), in_pods("accounts", _str_pk, LOGS_FOR), "pod"),
        ),
    ),
    # A fragment: an account the caller may not log for gets the same empty picker as an unknown one.
    "activity-contact-options": Policy(
        api=False,
        methods=frozenset({GET}),
        targets=contact_option_targets,
        read=Read(may=logs_for_pod, missing=frozenset({200}), check=contact_options_of_the_account),
    ),
    "activity-export": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(may=authenticated, rows=Rows(csv_rows("external_id"), activities_expected(_external_id), "pod")),
    ),
    # Pages and API agree: the person who logged it, or an admin (someone else gets "not found").
    "activity-edit": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=activity_targets,
        read=Read(may=changes_activity),
        writes=(
            Write(
                POST, may=changes_activity, ok=302, state=row_of(Activity), payload=activity_edit_form, encoding="form"
            ),
        ),
    ),
    "activity-delete": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=activity_targets,
        read=Read(may=changes_activity),
        writes=(Write(POST, may=changes_activity, ok=302, state=row_of(Activity), encoding="form"),),
    ),
    "imports:upload": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        read=Read(may=admin_only, refused=403, rows=Rows(page_rows(r'href="/imports/(\d+)/"'), imports_expected)),
        writes=(Write(POST, may=admin_only, ok=302, state=count_of(ImportJob), payload=csv_upload, encoding="form"),),
    ),
    "propensity-calibration": Policy(api=False, methods=frozenset({GET}), read=Read(may=admin_only, refused=403)),
    "imports:detail": Policy(api=False, methods=frozenset({GET}), targets=import_targets, read=Read(may=admin_only)),
    "imports:progress": Policy(api=False, methods=frozenset({GET}), targets=import_targets, read=Read(may=admin_only)),
    # Confirming a preview: the admin's go-ahead (a preview not waiting for it is refused with a message, no change).
    "imports:confirm": Policy(
        api=False,
        methods=frozenset({POST}),
        targets=confirm_targets,
        writes=(Write(POST, may=admin_only, ok=302, state=row_of(ImportJob)),),
    ),
    "reorganisations": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        read=Read(may=reviews_reorganisations),
        scope=READS,
        writes=(
            Write(
                POST,
                may=admin_only,
                ok=302,
                state=count_of(Reorganisation),
                payload=reorganisation_form,
                encoding="form",
                refused=404,
            ),
        ),
    ),
    "reorganisation-page": Policy(
        api=False,
        methods=frozenset({GET}),
        targets=reorganisation_targets,
        read=Read(may=reviews_reorganisations),
        scope=READS,
    ),
    "reorganisation-csv": Policy(
        api=False,
        methods=frozenset({GET}),
        targets=reorganisation_targets,
        read=Read(may=reviews_reorganisations),
        scope=READS,
    ),
    "reorganisation-delete": Policy(
        api=False,
        methods=frozenset({POST}),
        targets=reorganisation_targets,
        writes=(Write(POST, may=admin_only, ok=302, state=count_of(Reorganisation)),),
    ),
    "reorganisation-list": Policy(api=True, methods=frozenset({GET}), read=Read(may=authenticated)),
    "reorganisation-detail": Policy(
        api=True,
        methods=frozenset({GET}),
        targets=reorganisation_targets,
        read=Read(may=reviews_reorganisations),
        scope=READS,
    ),
    "reorganisation-impact": Policy(
        api=True,
        methods=frozenset({GET}),
        targets=reorganisation_targets,
        read=Read(may=reviews_reorganisations),
        scope=READS,
    ),
    "imports:mappings": Policy(api=False, methods=frozenset({GET}), read=Read(may=admin_only, refused=403)),
    "imports:mapping-new": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=mapping_copy_targets,
        read=Read(may=admin_only),
        writes=(
            Write(POST, may=admin_only, ok=302, state=count_of(SavedMapping), payload=mapping_form, encoding="form"),
        ),
    ),
    "imports:mapping-edit": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=mapping_targets,
        read=Read(may=admin_only),
        writes=(
            Write(POST, may=admin_only, ok=302, state=row_of(SavedMapping), payload=mapping_form, encoding="form"),
        ),
    ),
    "imports:mapping-delete": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=mapping_targets,
        read=Read(may=admin_only),
        writes=(Write(POST, may=admin_only, ok=302, state=count_of(SavedMapping)),),
    ),
    # ---------------- alerts ----------------
    # The caller's own notifications, whichever their role; none of anyone else's.
    "alerts:notifications": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(may=authenticated, rows=Rows(page_rows(r'data-notification="(\d+)"'), notifications_expected)),
        scope=READS,
    ),
    "alerts:notifications-read": Policy(
        api=False,
        methods=frozenset({POST}),
        writes=(
            Write(
                POST,
                may=authenticated,
                ok=302,
                state=alerts_state,
                encoding="form",
                outcome=leaves(marks_the_callers_notifications_read),
            ),
        ),
    ),
    "alerts:notification-open": Policy(
        api=False,
        methods=frozenset({POST}),
        targets=notification_targets,
        writes=(
            Write(
                POST,
                may=owns_it,
                ok=302,
                state=alerts_state,
                encoding="form",
                outcome=leaves(marks_the_notification_read),
            ),
        ),
    ),
    # Digests of the pods the caller reads (pods_readable_by), and the caller's own rules.
    "alerts:subscriptions": Policy(
        api=False,
        methods=frozenset({GET}),
        read=Read(
            may=authenticated,
            rows=Rows(page_rows(r'data-digest="([^"]+)"'), pods_expected),
            check=shows_the_callers_rules_and_rule_pods,
        ),
        scope=READS,
    ),
    # One's own digest choice is not a change to the pod: whoever reads a pod (CoE members and staff
    # included) chooses; a pod they do not read answers as a missing one.
    "alerts:digest-choice": Policy(
        api=False,
        methods=frozenset({POST}),
        targets=pod_targets,
        writes=tuple(
            Write(
                POST,
                may=reads_pod,
                ok=302,
                state=alerts_state,
                payload=lambda world, role, target, status=status: {"status": status},
                encoding="form",
                outcome=leaves(sets_the_callers_digest(status)),
            )
            for status in ("subscribed", "paused", "unsubscribed")
        ),
    ),
    # Alerts are set by those who set the pod's targets (pods_targets_editable_by: admins every pod,
    # leaders the pods they lead); a pod read but not theirs to set answers 403, one not read 404.
    "alerts:rule-new": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=pod_targets,
        read=Read(may=sets_targets_of_pod, sees=reads_pod),
        writes=(
            Write(
                POST,
                may=sets_targets_of_pod,
                ok=302,
                state=alerts_state,
                payload=rule_form,
                encoding="form",
                sees=reads_pod,
                outcome=creates_the_callers_rule,
            ),
        ),
    ),
    "alerts:rule-action": Policy(
        api=False,
        methods=frozenset({POST}),
        targets=alert_rule_targets,
        writes=tuple(
            Write(
                POST,
                may=owns_it,
                ok=302,
                state=alerts_state,
                payload=lambda world, role, target, action=action: {"action": action},
                encoding="form",
                outcome=leaves(outcome),
            )
            for action, outcome in (
                ("pause", sets_the_rule(paused=True)),
                ("resume", sets_the_rule(paused=False)),
                ("delete", deletes_the_rule),
            )
        ),
    ),
    # One click from an email, no sign-in: the signed token is the credential, so anyone holding it
    # (anonymous included) sees what stops (GET) and stops it (POST) for the token's person; a bad token
    # answers 400. The page names the token's pod, whatever the caller reads (``scope``: the check
    # below holds it to that one pod instead).
    "alerts:unsubscribe": Policy(
        api=False,
        methods=frozenset({GET, POST}),
        targets=unsubscribe_targets,
        read=Read(may=anyone, missing=frozenset({400}), check=names_only_the_tokens_pod, fingerprint=page_without_csrf),
        writes=(
            Write(
                POST,
                may=anyone,
                ok=200,
                state=alerts_state,
                encoding="form",
                missing=lambda role: frozenset({400}),
                fingerprint=page_without_csrf,
                outcome=leaves(stops_what_the_token_names),
            ),
        ),
        scope=dict.fromkeys(ROLES, ALL),
        public=True,
    ),
}
