"""The access matrix: every URL pattern and API route × every role × own / other / missing object.

PRODUCT.md "Access": admins see and change everything; a pod leader sees the pods they lead and
changes their targets and their own activities; a center-of-excellence member reads every pod's
dashboard, comparison and account pages and changes nothing; staff see their current pod and change
the activities they logged; anyone else sees the login page. An object outside the caller's scope
answers 404, exactly like one that does not exist.

The expected outcome of every route is written down in ``tests/access_matrix/policies.py``; adding a
route without an entry there fails ``test_every_route_has_a_policy``. Anonymous callers are sent to the
login page everywhere but on the routes of ``routes.PUBLIC`` (a signed unsubscribe link). Run with ``-s`` to see the
totals (cells checked, unauthorised 2xx found).
"""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination

from metrics.models import RecomputeRequest
from pods.models import CenterOfExcellence
from pods.scoping import UCE_ADMINS_GROUP
from pods.services import assignment_reassign
from tests.access_matrix import routes
from tests.access_matrix.policies import TABLE
from tests.access_matrix.runner import LEDGER, Matrix
from tests.access_matrix.world import READS, ROLES, SEES, build_world
from tests.support.factories import AssignmentFactory, PodFactory, UserFactory

pytestmark = pytest.mark.django_db

DISCOVERED = routes.discover()
COVERED = sorted({route.key for route in DISCOVERED if not routes.is_excluded(route)})
WITH_FORMAT_SUFFIX = {route.key for route in DISCOVERED if "format" in route.pattern}


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    print(f"\n{LEDGER.summary()}")


@pytest.fixture
def pod_c(db):
    """A pod nobody but the admins sees: no staff, no leaders."""
    return PodFactory(slug="nordics-mx", name="Nordics MX", timezone="Europe/Stockholm")


@pytest.fixture
def staff_a2(pod_a):
    return AssignmentFactory(person=UserFactory(username="staff-a2"), pod=pod_a, job="buy").person


@pytest.fixture
def moved_ab(pod_a, pod_b):
    """Staff of A until ten days ago, of B since: a reassignment ends one assignment the day the next starts."""
    person = UserFactory(username="moved-ab")
    today = min(pod_a.local_today(), pod_b.local_today())  # the move has begun in both pods' zones
    AssignmentFactory(
        person=person,
        pod=pod_a,
        job="learn",
        started_on=today - dt.timedelta(days=90),
        ended_on=today - dt.timedelta(days=10),
    )
    AssignmentFactory(person=person, pod=pod_b, job="learn", started_on=today - dt.timedelta(days=10))
    return person


@pytest.fixture
def coe_member(db):
    """A member of a center of excellence: no pod assignment, leads no pod, in no group."""
    person = UserFactory(username="coe-member")
    CenterOfExcellence.objects.create(slug="mx-coe", name="Matrix CoE").members.add(person)
    return person


@pytest.fixture
def users(outsider, coe_member, staff_a, staff_a2, staff_b, moved_ab, leader_a, leader_ab, admin_user, group_admin):
    return {
        "anonymous": None,
        "outsider": outsider,
        "coe": coe_member,
        "staff_a": staff_a,
        "staff_a2": staff_a2,
        "staff_b": staff_b,
        "moved_ab": moved_ab,
        "leader_a": leader_a,
        "leader_ab": leader_ab,
        "admin": admin_user,
        "group_admin": group_admin,
    }


@pytest.fixture
def world(users, pod_a, pod_b, pod_c, settings, tmp_path, monkeypatch):
    # Uploads land in a temporary folder; API lists hold two rows a page, so every list is read
    # across several pages (DRF reads PAGE_SIZE once, at import, hence the class attribute).
    settings.VAR_DIR = tmp_path / "var"
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    return build_world(users, {"A": pod_a, "B": pod_b, "C": pod_c})


@pytest.fixture
def clients(users):
    clients = {}
    for role in ROLES:
        clients[role] = Client()
        if users[role] is not None:
            clients[role].force_login(users[role])
    return clients


def test_every_route_has_a_policy():
    """A route added without an entry in the table fails here, with its name."""
    unlisted = sorted(set(COVERED) - set(TABLE))
    stale = sorted(set(TABLE) - set(COVERED))
    assert not unlisted, f"routes without an access policy in tests/access_matrix/policies.py: {unlisted}"
    assert not stale, f"policies for routes that no longer exist: {stale}"
    names = {route.key for route in DISCOVERED}
    assert set(routes.EXCLUDED) <= names, f"stale exclusions: {sorted(set(routes.EXCLUDED) - names)}"
    public = sorted(key for key, policy in TABLE.items() if policy.public)
    assert public == sorted(routes.PUBLIC), f"routes open without login must be listed in routes.PUBLIC: {public}"


def test_api_views_answer_exactly_the_methods_of_their_policy():
    """A viewset that gains an action (say, a ReadOnlyModelViewSet turned ModelViewSet) needs a new policy."""
    found = {}
    for route in DISCOVERED:
        if route.methods is not None and route.key in TABLE:
            found[route.key] = found.get(route.key, frozenset()) | route.methods
    mismatched = {key: (sorted(methods), sorted(TABLE[key].methods)) for key, methods in found.items()}
    mismatched = {key: pair for key, pair in mismatched.items() if pair[0] != pair[1]}
    assert not mismatched, f"route: (methods the view answers, methods the policy covers): {mismatched}"


@pytest.mark.parametrize("key", sorted(TABLE))
def test_route_access(key, world, clients):
    matrix = Matrix(key=key, policy=TABLE[key], world=world, clients=clients, format_suffix=key in WITH_FORMAT_SUFFIX)
    problems = matrix.run()
    assert not problems, f"{len(problems)} wrong cells of {key}:\n" + "\n".join(problems)


def listed_ids(client, url) -> list:
    found = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        found += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
    return found


def test_token_callers_get_the_scope_of_their_user(world, users):
    """INTERCHANGE.md: session or ``Authorization: Token``; both give the same rows."""
    for role, user in users.items():
        if user is None:
            continue
        client = Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})
        expected = {activity.pk for activity, pod, _ in world.activities if pod in SEES[role]}
        assert sorted(listed_ids(client, "/api/activities/")) == sorted(expected), role
    # 403 rather than 401: DRF answers 401 only when the first authentication class (session) names a scheme.
    assert Client(headers={"Authorization": "Token not-a-token"}).get("/api/activities/").status_code in (401, 403)


def test_a_reassignment_takes_effect_on_the_very_next_request(world, clients, users):
    """PRODUCT.md "Access": staff moved from A to B lose A (dashboard, facts, their activities there) at once."""
    client = clients["staff_a"]
    logged_in_a = next(activity for activity, _, role in world.activities if role == "staff_a")
    assert client.get("/pods/southeast-us/").status_code == 200
    assert client.get(f"/api/activities/{logged_in_a.pk}/").status_code == 200

    # Effective today, by the earlier of the two pods' local dates: the move has then begun in both zones.
    today = min(world.pods["A"].local_today(), world.pods["B"].local_today())
    assignment_reassign(person=users["staff_a"], pod=world.pods["B"], job="buy", effective_on=today)

    assert client.get("/pods/southeast-us/").status_code == 404
    assert client.get("/pods/dach/").status_code == 200
    response = client.patch(f"/api/activities/{logged_in_a.pk}/", '{"notes": "x"}', content_type="application/json")
    assert response.status_code == 404
    in_b = {activity.pk for activity, pod, _ in world.activities if pod == "B"}
    assert set(listed_ids(client, "/api/activities/")) == in_b


def test_leaving_the_center_of_excellence_takes_effect_on_the_very_next_request(world, clients, users):
    """PRODUCT.md "Access": a CoE member reads every pod; removed from the CoE, they read none at once."""
    client = clients["coe"]
    account_c = world.accounts["C"]
    assert client.get("/pods/nordics-mx/").status_code == 200
    assert client.get(f"/accounts/{account_c.external_id}/").status_code == 200
    search = client.get("/accounts/", {"q": "MATRIX account"})
    assert set(re.findall(r'data-account="([^"]+)"', search.content.decode())) == {
        account.external_id for key, account in world.accounts.items() if key in READS["coe"]
    }

    users["coe"].centers_of_excellence.clear()

    assert client.get("/pods/nordics-mx/").status_code == 404
    assert client.get("/pods/southeast-us/").status_code == 404
    assert client.get(f"/accounts/{account_c.external_id}/").status_code == 404
    assert client.get("/pods/compare/").status_code == 404
    assert client.get("/api/pods/").json()["count"] == 0
    assert 'data-account="' not in client.get("/accounts/", {"q": "MATRIX account"}).content.decode()


def test_the_dashboard_offers_recompute_only_to_those_who_may(world, clients):
    """A CoE member reads the dashboard without its recompute button (a running one hides it for all)."""
    RecomputeRequest.objects.update(status=RecomputeRequest.Status.SUCCEEDED)
    form = 'action="/pods/southeast-us/recompute/"'
    for role, offered in (("coe", False), ("staff_a", True), ("leader_a", True), ("admin", True)):
        response = clients[role].get("/pods/southeast-us/")
        assert response.status_code == 200, role
        assert (form in response.content.decode()) is offered, role


def test_account_search_keeps_to_the_callers_scope(world, clients):
    """``?q=`` narrows the accounts the caller reads; it never widens them."""
    for role in ("staff_a", "leader_ab", "coe", "outsider"):
        for query, keys in (("matrix ACCOUNT", "ABC"), ("mx-acc-b", "B"), ("no such account", "")):
            response = clients[role].get("/accounts/", {"q": query})
            assert response.status_code == 200, (role, query)
            shown = set(re.findall(r'data-account="([^"]+)"', response.content.decode()))
            expected = {world.accounts[key].external_id for key in keys if key in READS[role]}
            assert shown == expected, (role, query)


def test_the_coe_member_has_no_pod(coe_member):
    """The matrix's CoE role is what PRODUCT.md calls one: a member of a CoE, neither staff nor leader."""
    assert coe_member.centers_of_excellence.exists()
    assert not coe_member.assignments.exists() and not coe_member.led_pods.exists()
    assert not coe_member.is_staff and not coe_member.is_superuser and not coe_member.groups.exists()


def test_django_admin_gate(client, staff_a, admin_user):
    """The admin keeps its own gate: non-staff go to its login page, staff without permissions get 403."""
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/").headers["Location"].startswith("/admin/login/")

    client.force_login(staff_a)  # is_staff is false for pod staff
    response = client.get("/admin/pods/pod/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login/")

    clerk = UserFactory(username="clerk", is_staff=True)  # may enter the admin, holds no permission
    client.force_login(clerk)
    assert client.get("/admin/pods/pod/").status_code == 403
    assert client.get("/admin/jobs/activity/").status_code == 403

    client.force_login(admin_user)
    assert client.get("/admin/pods/pod/").status_code == 200


def test_openapi_schema_and_docs(client, staff_a):
    """Anyone else sees the login page only (PRODUCT.md), so the API's description is for logged-in users."""
    for url in ("/api/schema/", "/api/docs/"):
        response = client.get(url)
        assert response.status_code in (401, 403), f"anonymous {url}: {response.status_code}"
    client.force_login(staff_a)
    for url in ("/api/schema/", "/api/docs/"):
        assert client.get(url).status_code == 200, url


def test_favicon_and_login_page_are_public(client):
    assert client.get("/favicon.ico").status_code == 200
    assert client.get("/auth/login/").status_code == 200


def test_group_admins_are_admins(group_admin):
    """The group role of the matrix is what PRODUCT.md calls an admin: member of ``uce-admins``."""
    assert group_admin.groups.filter(name=UCE_ADMINS_GROUP).exists() and not group_admin.is_superuser
    assert Group.objects.filter(name=UCE_ADMINS_GROUP).count() == 1
