"""The read endpoints of the facts behind the dashboard, and the targets endpoint, scoped per role."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from metrics.models import Target
from tests.support.factories import (
    AccountFactory,
    AdoptionReadingFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    OrderFactory,
    SupportTicketFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

FACT_ENDPOINTS = {
    "leads": LeadFactory,
    "opportunities": OpportunityFactory,
    "orders": OrderFactory,
    "adoption-readings": AdoptionReadingFactory,
    "tickets": SupportTicketFactory,
}
ROLES = ("admin_user", "group_admin", "leader_a", "leader_ab", "staff_a", "staff_b", "outsider")
# The pods each role of tests/conftest.py may see.
VISIBLE = {
    "admin_user": {"a", "b"},
    "group_admin": {"a", "b"},
    "leader_a": {"a"},
    "leader_ab": {"a", "b"},
    "staff_a": {"a"},
    "staff_b": {"b"},
    "outsider": set(),
}


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def listed(client, url, key="id", **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return {row[key] for row in response.json()["results"]}


@pytest.fixture
def accounts(pod_a, pod_b):
    return {
        "a": AccountFactory(pod=pod_a, external_id="SE-1", name="Acme"),
        "b": AccountFactory(pod=pod_b, external_id="DE-1", name="Bosch"),
    }


@pytest.fixture
def users(request):
    return {role: request.getfixturevalue(role) for role in ROLES}


@pytest.mark.parametrize("endpoint", FACT_ENDPOINTS)
def test_each_fact_list_returns_exactly_the_rows_of_the_visible_pods(endpoint, accounts, users):
    rows = {pod: FACT_ENDPOINTS[endpoint](account=account).pk for pod, account in accounts.items()}
    for role, user in users.items():
        expected = {rows[pod] for pod in VISIBLE[role]}
        assert listed(client_for(user), f"/api/{endpoint}/") == expected, role


def test_accounts_and_contacts_are_listed_by_the_pod_the_account_belongs_to(accounts, users):
    ContactFactory(account=accounts["a"], external_id="SE-1-ANN")
    ContactFactory(account=accounts["b"], external_id="DE-1-UWE")
    for role, user in users.items():
        client = client_for(user)
        expected_accounts = {accounts[pod].external_id for pod in VISIBLE[role]}
        expected_contacts = {f"{accounts[pod].external_id}-{'ANN' if pod == 'a' else 'UWE'}" for pod in VISIBLE[role]}
        assert listed(client, "/api/accounts/", key="external_id") == expected_accounts, role
        assert listed(client, "/api/contacts/", key="external_id") == expected_contacts, role


def test_targets_are_listed_for_the_visible_pods(pod_a, pod_b, users):
    rows = {"a": TargetFactory(pod=pod_a).pk, "b": TargetFactory(pod=pod_b).pk}
    for role, user in users.items():
        assert listed(client_for(user), "/api/targets/") == {rows[pod] for pod in VISIBLE[role]}, role


@pytest.mark.parametrize("endpoint", FACT_ENDPOINTS)
def test_a_row_of_another_pod_answers_404_exactly_like_a_missing_one(endpoint, accounts, leader_a):
    mine = FACT_ENDPOINTS[endpoint](account=accounts["a"])
    theirs = FACT_ENDPOINTS[endpoint](account=accounts["b"])
    client = client_for(leader_a)
    assert client.get(f"/api/{endpoint}/{mine.pk}/").json()["account"] == "SE-1"
    hidden = client.get(f"/api/{endpoint}/{theirs.pk}/")
    missing = client.get(f"/api/{endpoint}/{theirs.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_accounts_contacts_and_targets_of_another_pod_answer_404_like_missing_ones(accounts, pod_b, leader_a):
    ContactFactory(account=accounts["b"], external_id="DE-1-UWE")
    target = TargetFactory(pod=pod_b)
    client = client_for(leader_a)
    account = client.get("/api/accounts/SE-1/").json()
    # The fields of INTERCHANGE.md, unchanged; the account page's fields are additive (docs/ACCOUNTS.md).
    assert {key: account[key] for key in ("external_id", "name", "pod", "segment")} == {
        "external_id": "SE-1",
        "name": "Acme",
        "pod": "southeast-us",
        "segment": "",
    }
    for hidden, missing in (
        ("/api/accounts/DE-1/", "/api/accounts/XX-1/"),
        ("/api/contacts/DE-1-UWE/", "/api/contacts/XX-1-UWE/"),
        (f"/api/targets/{target.pk}/", f"/api/targets/{target.pk + 1000}/"),
    ):
        hidden_response, missing_response = client.get(hidden), client.get(missing)
        assert hidden_response.status_code == missing_response.status_code == 404
        assert hidden_response.content == missing_response.content


def test_facts_show_the_fields_of_the_contract(accounts, admin_user):
    lead = LeadFactory(
        account=accounts["a"],
        external_id="L-1",
        created_at=dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC),
        status="rejected",
        decided_at=dt.datetime(2026, 2, 3, 10, tzinfo=dt.UTC),
        rejection_reason="no budget",
    )
    assert client_for(admin_user).get(f"/api/leads/{lead.pk}/").json() == {
        "id": lead.pk,
        "external_id": "L-1",
        "pod": "southeast-us",
        "account": "SE-1",
        "created_at": "2026-02-01T10:00:00Z",
        "channel": "digital",
        "status": "rejected",
        "decided_at": "2026-02-03T10:00:00Z",
        "rejection_reason": "no budget",
    }


def test_fact_lists_filter_by_pod_account_and_time(accounts, admin_user, leader_a):
    feb = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
    old = LeadFactory(account=accounts["a"], created_at=feb, status="accepted", decided_at=feb).pk
    new = LeadFactory(account=accounts["a"], created_at=feb + dt.timedelta(days=30)).pk
    german = LeadFactory(account=accounts["b"], created_at=feb).pk
    admin = client_for(admin_user)
    assert listed(admin, "/api/leads/", pod="dach") == {german}
    assert listed(admin, "/api/leads/", account="SE-1") == {old, new}
    assert listed(admin, "/api/leads/", status="accepted") == {old}
    assert listed(admin, "/api/leads/", since="2026-03-01T00:00:00Z") == {new}
    assert listed(admin, "/api/leads/", until="2026-03-01T00:00:00Z") == {old, german}
    assert listed(client_for(leader_a), "/api/leads/", pod="dach") == set()

    reading = AdoptionReadingFactory(account=accounts["a"], measured_on=dt.date(2026, 2, 1)).pk
    AdoptionReadingFactory(account=accounts["a"], measured_on=dt.date(2026, 4, 1))
    assert listed(admin, "/api/adoption-readings/", until="2026-03-01") == {reading}

    open_ticket = SupportTicketFactory(account=accounts["b"], channel="partner").pk
    SupportTicketFactory(account=accounts["b"], resolved_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert listed(admin, "/api/tickets/", channel="partner") == {open_ticket}
    assert listed(admin, "/api/tickets/", resolved="false") == {open_ticket}

    installed = OrderFactory(account=accounts["a"], installed_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)).pk
    OrderFactory(account=accounts["a"])
    assert listed(admin, "/api/orders/", installed="true") == {installed}

    won = OpportunityFactory(account=accounts["b"], status="won", closed_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)).pk
    OpportunityFactory(account=accounts["b"])
    assert listed(admin, "/api/opportunities/", status="won") == {won}

    assert listed(admin, "/api/accounts/", key="external_id", name="bos") == {"DE-1"}


def add_rows(endpoint, account, rows, first_day=0):
    factory = FACT_ENDPOINTS[endpoint]
    if endpoint == "adoption-readings":  # one reading per account and day
        for day in range(first_day, first_day + rows):
            factory(account=account, measured_on=dt.date(2026, 1, 1) + dt.timedelta(days=day))
    else:
        factory.create_batch(rows, account=account)


def queries_to_list(client, endpoint, expected_count):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/{endpoint}/")
    assert response.json()["count"] == expected_count
    return len(queries)


@pytest.mark.parametrize("endpoint", FACT_ENDPOINTS)
def test_listing_costs_the_same_queries_for_3_and_30_rows(endpoint, pod_a, leader_a):
    account = AccountFactory(pod=pod_a)
    client = client_for(leader_a)
    add_rows(endpoint, account, 3)
    few = queries_to_list(client, endpoint, 3)
    add_rows(endpoint, account, 27, first_day=3)
    assert queries_to_list(client, endpoint, 30) == few


# --- Targets: writable by the pod's leaders and by admins ---


def target_body(pod="southeast-us", **overrides):
    return {
        "pod": pod,
        "metric": "lead_volume",
        "grain": "month",
        "period_start": "2026-04-01",
        "value": "120",
    } | overrides


def test_a_leader_sets_changes_and_deletes_targets_of_their_pod(pod_a, leader_a):
    client = client_for(leader_a)
    created = client.post("/api/targets/", target_body(), format="json")
    assert created.status_code == 201, created.content
    target = Target.objects.get()
    assert (target.pod, target.metric, target.value) == (pod_a, "lead_volume", Decimal("120"))

    changed = client.patch(f"/api/targets/{target.pk}/", {"value": "150.5"}, format="json")
    assert changed.status_code == 200
    target.refresh_from_db()
    assert target.value == Decimal("150.5")

    assert client.delete(f"/api/targets/{target.pk}/").status_code == 204
    assert not Target.objects.exists()


@pytest.mark.parametrize("role", ["admin_user", "group_admin"])
def test_admins_set_targets_of_any_pod(role, request, pod_a, pod_b):
    client = client_for(request.getfixturevalue(role))
    assert client.post("/api/targets/", target_body("dach"), format="json").status_code == 201
    assert client.post("/api/targets/", target_body("southeast-us"), format="json").status_code == 201
    assert set(Target.objects.values_list("pod__slug", flat=True)) == {"dach", "southeast-us"}


def test_staff_see_but_may_not_change_their_pods_targets(pod_a, staff_a):
    target = TargetFactory(pod=pod_a, value=Decimal("100"))
    client = client_for(staff_a)
    assert client.get(f"/api/targets/{target.pk}/").status_code == 200
    assert client.post("/api/targets/", target_body(), format="json").status_code == 403
    assert client.patch(f"/api/targets/{target.pk}/", {"value": "1"}, format="json").status_code == 403
    assert client.delete(f"/api/targets/{target.pk}/").status_code == 403
    target.refresh_from_db()
    assert target.value == Decimal("100")
    assert Target.objects.count() == 1


def test_a_leader_of_another_pod_gets_404_and_cannot_create_there(pod_a, pod_b, leader_a):
    target = TargetFactory(pod=pod_b, value=Decimal("100"))
    client = client_for(leader_a)
    assert client.patch(f"/api/targets/{target.pk}/", {"value": "1"}, format="json").status_code == 404
    assert client.delete(f"/api/targets/{target.pk}/").status_code == 404
    foreign = client.post("/api/targets/", target_body("dach"), format="json")
    unknown = client.post("/api/targets/", target_body("atlantis"), format="json")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.content == unknown.content
    # Nor may a target of their own pod be moved to a pod they do not lead.
    own = TargetFactory(pod=pod_a, period_start=dt.date(2026, 5, 1))
    assert client.patch(f"/api/targets/{own.pk}/", {"pod": "dach"}, format="json").status_code == 400
    own.refresh_from_db()
    assert own.pod == pod_a
    target.refresh_from_db()
    assert target.value == Decimal("100")


def test_a_target_must_start_on_a_period_start_and_be_unique(pod_a, leader_a):
    client = client_for(leader_a)
    misaligned = client.post("/api/targets/", target_body(period_start="2026-04-15"), format="json")
    assert misaligned.status_code == 400
    assert "period_start" in misaligned.json()
    assert (
        client.post("/api/targets/", target_body(grain="week", period_start="2026-04-06"), format="json").status_code
        == 201
    )
    assert client.post("/api/targets/", target_body(), format="json").status_code == 201
    duplicate = client.post("/api/targets/", target_body(), format="json")
    assert duplicate.status_code == 400
    assert Target.objects.count() == 2


def test_targets_filter_by_pod_metric_and_grain(pod_a, pod_b, admin_user):
    monthly = TargetFactory(pod=pod_a, metric="lead_volume", grain="month").pk
    yearly = TargetFactory(pod=pod_a, metric="bookings", grain="year", period_start=dt.date(2026, 1, 1)).pk
    german = TargetFactory(pod=pod_b).pk
    admin = client_for(admin_user)
    assert listed(admin, "/api/targets/", pod="dach") == {german}
    assert listed(admin, "/api/targets/", metric="bookings") == {yearly}
    assert listed(admin, "/api/targets/", grain="month") == {monthly, german}
