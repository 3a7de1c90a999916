"""POST/GET/PATCH/DELETE /api/activities/ (INTERCHANGE.md "HTTP API"), scoped per role."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from jobs.models import Activity
from pods.services import assignment_reassign
from tests.support.factories import AccountFactory, ActivityFactory, AssignmentFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/activities/"


def yesterday_in(*pods):
    """Yesterday in every one of ``pods``' zones: a move effective then has begun in each of them."""
    return min(pod.local_today() for pod in pods) - dt.timedelta(days=1)


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def payload(account, **overrides):
    body = {
        "occurred_at": "2026-03-02T09:30:00-05:00",
        "account": account.external_id,
        "job": "learn",
        "channel": "digital",
        "kind": "webinar",
    }
    return body | overrides


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def acme(pod_a):
    return AccountFactory(pod=pod_a, name="Acme", external_id="SE-ACME")


@pytest.fixture
def bosch(pod_b):
    return AccountFactory(pod=pod_b, name="Bosch", external_id="DE-BOSCH")


def test_posting_an_activity_stores_it_for_the_caller_under_the_accounts_pod(staff_a, acme):
    contact = ContactFactory(account=acme, external_id="SE-ACME-ANN")
    body = payload(acme, contact="SE-ACME-ANN", minutes=45, notes="Asked for pricing", external_id="CRM-1")

    response = client_for(staff_a).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    stored = Activity.objects.get()
    assert response.json() == {
        "id": stored.pk,
        "external_id": "CRM-1",
        "pod": "southeast-us",
        "account": "SE-ACME",
        "occurred_at": "2026-03-02T14:30:00Z",
        "job": "learn",
        "channel": "digital",
        "kind": "webinar",
        "staff": "staff-a",
        "contact": "SE-ACME-ANN",
        "minutes": 45,
        "notes": "Asked for pricing",
        "created_at": response.json()["created_at"],
    }
    assert (stored.pod.slug, stored.staff, stored.contact) == ("southeast-us", staff_a, contact)
    assert stored.occurred_at == dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC)


def test_pod_staff_and_created_at_sent_by_the_client_are_ignored(staff_a, staff_b, acme):
    body = payload(acme, pod="dach", staff="staff-b", created_at="2001-01-01T00:00:00Z")
    response = client_for(staff_a).post(URL, body, format="json")
    assert response.status_code == 201
    stored = Activity.objects.get()
    assert (stored.pod.slug, stored.staff.username) == ("southeast-us", "staff-a")
    assert stored.created_at.year != 2001
    assert response.json()["pod"] == "southeast-us"

    patch = client_for(staff_a).patch(f"{URL}{stored.pk}/", {"pod": "dach", "staff": "staff-b"}, format="json")
    assert patch.status_code == 200
    stored.refresh_from_db()
    assert (stored.pod.slug, stored.staff.username) == ("southeast-us", "staff-a")


def test_a_foreign_account_is_answered_exactly_like_an_unknown_one(staff_a, bosch):
    client = client_for(staff_a)
    foreign = client.post(URL, payload(bosch), format="json")
    unknown = client.post(URL, payload(bosch) | {"account": "NO-SUCH-ACCOUNT"}, format="json")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.content == unknown.content
    assert set(foreign.json()) == {"account"}
    assert not Activity.objects.exists()


def test_a_contact_of_another_account_is_refused(staff_a, acme, pod_a):
    ContactFactory(account=AccountFactory(pod=pod_a), external_id="OTHER-CONTACT")
    response = client_for(staff_a).post(URL, payload(acme, contact="OTHER-CONTACT"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"contact"}
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"job": "sell"}, "job"),
        ({"channel": "fax"}, "channel"),
        ({"minutes": -5}, "minutes"),
        ({"occurred_at": "2026-03-02T09:30:00"}, "occurred_at"),  # no offset: ambiguous
    ],
)
def test_invalid_fields_answer_400_on_that_field(staff_a, acme, overrides, field):
    response = client_for(staff_a).post(URL, payload(acme, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Activity.objects.exists()


def test_a_duplicate_external_id_is_refused(staff_a, acme):
    client = client_for(staff_a)
    assert client.post(URL, payload(acme, external_id="CRM-9"), format="json").status_code == 201
    second = client.post(URL, payload(acme, external_id="CRM-9"), format="json")
    assert second.status_code == 400
    assert "external_id" in second.json()
    assert Activity.objects.count() == 1


def test_a_token_caller_may_log(staff_a, acme):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_a)
    client = APIClient()
    response = client.post(URL, payload(acme), format="json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201
    assert response.json()["staff"] == "staff-a"


def test_anonymous_callers_may_not_log(acme):
    response = APIClient().post(URL, payload(acme), format="json")
    assert response.status_code in (401, 403)
    assert not Activity.objects.exists()


def test_who_may_log_for_which_account(acme, bosch, admin_user, group_admin, leader_a, leader_ab, staff_a, staff_b):
    expected = {
        admin_user: {"SE-ACME", "DE-BOSCH"},
        group_admin: {"SE-ACME", "DE-BOSCH"},
        leader_a: {"SE-ACME"},
        leader_ab: {"SE-ACME", "DE-BOSCH"},
        staff_a: {"SE-ACME"},
        staff_b: {"DE-BOSCH"},
    }
    for user, allowed in expected.items():
        client = client_for(user)
        for account in (acme, bosch):
            response = client.post(URL, payload(account), format="json")
            assert response.status_code == (201 if account.external_id in allowed else 400), (user, account)


def test_a_reassigned_staff_member_logs_for_the_new_pod_on_the_next_request(staff_a, acme, bosch, pod_b):
    client = client_for(staff_a)
    assert client.post(URL, payload(acme), format="json").status_code == 201

    assignment_reassign(person=staff_a, pod=pod_b, job="buy", effective_on=yesterday_in(acme.pod, pod_b))

    assert client.post(URL, payload(acme), format="json").status_code == 400
    moved = client.post(URL, payload(bosch), format="json")
    assert moved.status_code == 201
    assert moved.json()["pod"] == "dach"
    # The first activity was logged in the old pod: out of sight now, like anything of that pod.
    assert {row["pod"] for row in client.get(URL).json()["results"]} == {"dach"}


def test_each_role_lists_exactly_the_activities_of_its_pods(
    acme, bosch, admin_user, group_admin, leader_a, leader_ab, staff_a, staff_b, outsider
):
    in_a = ActivityFactory(account=acme).pk
    in_b = ActivityFactory(account=bosch).pk
    assert ids(client_for(admin_user).get(URL)) == {in_a, in_b}
    assert ids(client_for(group_admin).get(URL)) == {in_a, in_b}
    assert ids(client_for(leader_a).get(URL)) == {in_a}
    assert ids(client_for(leader_ab).get(URL)) == {in_a, in_b}
    assert ids(client_for(staff_a).get(URL)) == {in_a}
    assert ids(client_for(staff_b).get(URL)) == {in_b}
    assert ids(client_for(outsider).get(URL)) == set()


def test_an_activity_keeps_the_pod_it_was_logged_under_when_its_account_moves(acme, pod_b, leader_a, staff_b):
    activity = ActivityFactory(account=acme).pk
    acme.pod = pod_b
    acme.save()
    assert ids(client_for(leader_a).get(URL)) == {activity}
    assert ids(client_for(staff_b).get(URL)) == set()


def test_filters_narrow_the_list(acme, bosch, admin_user, leader_a, pod_a):
    other = AccountFactory(pod=pod_a, external_id="SE-OTHER")
    march = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    first = ActivityFactory(account=acme, job="learn", channel="digital", occurred_at=march).pk
    second = ActivityFactory(
        account=other, job="buy", channel="in_person", occurred_at=march + dt.timedelta(days=20)
    ).pk
    german = ActivityFactory(account=bosch, job="buy", channel="partner", occurred_at=march).pk
    admin = client_for(admin_user)

    assert ids(admin.get(URL, {"pod": "dach"})) == {german}
    assert ids(admin.get(URL, {"account": "SE-ACME"})) == {first}
    assert ids(admin.get(URL, {"job": "buy"})) == {second, german}
    assert ids(admin.get(URL, {"channel": "in_person"})) == {second}
    assert ids(admin.get(URL, {"since": "2026-03-15T00:00:00Z"})) == {second}
    assert ids(admin.get(URL, {"until": "2026-03-15T00:00:00Z"})) == {first, german}
    assert ids(admin.get(URL, {"since": "2026-03-10T12:00:00Z", "until": "2026-03-10T12:00:00Z"})) == {first, german}
    assert ids(admin.get(URL, {"pod": "southeast-us", "job": "buy"})) == {second}
    # A filter never widens the scope.
    assert ids(client_for(leader_a).get(URL, {"pod": "dach"})) == set()
    assert admin.get(URL, {"job": "sell"}).status_code == 400


def test_the_list_is_paginated_newest_first(staff_a, acme):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for hour in range(55):
        ActivityFactory(account=acme, occurred_at=base + dt.timedelta(hours=hour))
    body = client_for(staff_a).get(URL).json()
    assert body["count"] == 55
    assert len(body["results"]) == 50
    assert body["results"][0]["occurred_at"] == "2026-01-03T06:00:00Z"
    assert body["next"]


def test_retrieve_in_scope_and_404_out_of_scope_identical_to_missing(staff_a, acme, bosch):
    mine = ActivityFactory(account=acme, kind="demo")
    theirs = ActivityFactory(account=bosch)
    client = client_for(staff_a)
    assert client.get(f"{URL}{mine.pk}/").json()["kind"] == "demo"
    hidden = client.get(f"{URL}{theirs.pk}/")
    missing = client.get(f"{URL}{theirs.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_the_staff_who_logged_an_activity_may_patch_it(staff_a, acme):
    activity = ActivityFactory(account=acme, staff=staff_a, kind="call", minutes=10)
    response = client_for(staff_a).patch(f"{URL}{activity.pk}/", {"kind": "demo", "minutes": 40}, format="json")
    assert response.status_code == 200
    assert (response.json()["kind"], response.json()["minutes"]) == ("demo", 40)
    activity.refresh_from_db()
    assert (activity.kind, activity.minutes) == ("demo", 40)


def test_patch_may_not_move_an_activity_to_an_account_of_another_pod(leader_ab, acme, bosch):
    activity = ActivityFactory(account=acme, staff=leader_ab)
    response = client_for(leader_ab).patch(f"{URL}{activity.pk}/", {"account": "DE-BOSCH"}, format="json")
    assert response.status_code == 400
    assert "account" in response.json()
    activity.refresh_from_db()
    assert activity.account == acme


def test_put_is_not_offered(staff_a, acme):
    activity = ActivityFactory(account=acme, staff=staff_a)
    response = client_for(staff_a).put(f"{URL}{activity.pk}/", payload(acme), format="json")
    assert response.status_code == 405


def test_the_staff_who_logged_an_activity_may_delete_it(staff_a, acme):
    activity = ActivityFactory(account=acme, staff=staff_a)
    assert client_for(staff_a).delete(f"{URL}{activity.pk}/").status_code == 204
    assert not Activity.objects.exists()


def test_others_get_403_when_they_see_the_activity_and_404_when_they_do_not(pod_a, acme, staff_a, leader_a, staff_b):
    colleague = AssignmentFactory(person=UserFactory(username="colleague"), pod=pod_a).person
    activity = ActivityFactory(account=acme, staff=staff_a, kind="call")
    url = f"{URL}{activity.pk}/"
    for visible_but_not_theirs in (colleague, leader_a):
        client = client_for(visible_but_not_theirs)
        assert client.patch(url, {"kind": "hacked"}, format="json").status_code == 403
        assert client.delete(url).status_code == 403
    outside = client_for(staff_b)
    assert outside.patch(url, {"kind": "hacked"}, format="json").status_code == 404
    assert outside.delete(url).status_code == 404
    assert outside.delete(url).content == outside.delete(f"{URL}{activity.pk + 1000}/").content
    activity.refresh_from_db()
    assert activity.kind == "call"


def test_a_reassigned_staff_member_can_no_longer_change_activities_of_the_old_pod(staff_a, acme, pod_b):
    activity = ActivityFactory(account=acme, staff=staff_a)
    assignment_reassign(person=staff_a, pod=pod_b, job="buy", effective_on=yesterday_in(acme.pod, pod_b))
    assert client_for(staff_a).delete(f"{URL}{activity.pk}/").status_code == 404
    assert Activity.objects.filter(pk=activity.pk).exists()


def queries_to_list(client, expected_count):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.json()["count"] == expected_count
    return len(queries)


def test_listing_costs_the_same_queries_for_3_and_30_activities(staff_a, acme):
    def add(rows):
        for _ in range(rows):
            ActivityFactory(account=acme, staff=staff_a, contact=ContactFactory(account=acme))

    client = client_for(staff_a)
    add(3)
    few = queries_to_list(client, 3)
    add(27)
    assert queries_to_list(client, 30) == few
