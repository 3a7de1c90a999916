"""The pods API: /api/pods/ is scoped, paginated, filterable, cheap, and reachable by session or token."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.support.factories import PodFactory, UserFactory

pytestmark = pytest.mark.django_db

PODS_URL = "/api/pods/"


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


def listed_slugs(user, url=PODS_URL):
    response = client_for(user).get(url)
    assert response.status_code == 200
    return {pod["slug"] for pod in response.json()["results"]}


def test_each_role_lists_exactly_its_pods(
    pod_a, pod_b, admin_user, group_admin, leader_a, leader_ab, staff_a, staff_b, outsider
):
    assert listed_slugs(admin_user) == {"southeast-us", "dach"}
    assert listed_slugs(group_admin) == {"southeast-us", "dach"}
    assert listed_slugs(leader_a) == {"southeast-us"}
    assert listed_slugs(leader_ab) == {"southeast-us", "dach"}
    assert listed_slugs(staff_a) == {"southeast-us"}
    assert listed_slugs(staff_b) == {"dach"}
    assert listed_slugs(outsider) == set()


def test_a_pod_is_listed_with_the_fields_of_the_contract(pod_a, leader_a, leader_ab):
    pod_a.territory = "US-FL US-GA US-AL"
    pod_a.save()
    body = client_for(leader_a).get(PODS_URL).json()
    assert body["count"] == 1
    assert body["next"] is None
    assert body["previous"] is None
    assert body["results"] == [
        {
            "slug": "southeast-us",
            "name": "Southeast US",
            "timezone": "America/New_York",
            "territory": "US-FL US-GA US-AL",
            "is_active": True,
            "leaders": ["leader-a", "leader-ab"],
        }
    ]


def test_retrieve_by_slug(pod_a, staff_a):
    response = client_for(staff_a).get(f"{PODS_URL}southeast-us/")
    assert response.status_code == 200
    assert response.json()["name"] == "Southeast US"


def test_a_pod_out_of_scope_answers_exactly_like_a_missing_one(pod_a, pod_b, leader_a):
    client = client_for(leader_a)
    hidden = client.get(f"{PODS_URL}dach/")
    missing = client.get(f"{PODS_URL}no-such-pod/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_sixty_pods_come_in_pages_of_fifty(admin_user):
    PodFactory.create_batch(60)
    client = client_for(admin_user)
    first = client.get(PODS_URL).json()
    assert first["count"] == 60
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 10
    assert second["next"] is None
    assert second["previous"]
    slugs = [pod["slug"] for pod in first["results"] + second["results"]]
    assert len(set(slugs)) == 60


def test_filters_narrow_the_list_but_never_widen_the_scope(pod_a, pod_b, admin_user, leader_a):
    PodFactory(slug="old-south", name="Old South", timezone="America/Chicago", is_active=False)
    assert listed_slugs(admin_user, f"{PODS_URL}?name=SOUTH") == {"southeast-us", "old-south"}
    assert listed_slugs(admin_user, f"{PODS_URL}?is_active=false") == {"old-south"}
    assert listed_slugs(admin_user, f"{PODS_URL}?timezone=Europe/Berlin") == {"dach"}
    assert listed_slugs(admin_user, f"{PODS_URL}?slug=dach") == {"dach"}
    assert listed_slugs(leader_a, f"{PODS_URL}?slug=dach") == set()


def queries_to_list_pods(leader, number_of_pods):
    for _ in range(number_of_pods):
        pod = PodFactory()
        pod.leaders.add(leader, UserFactory())
    client = client_for(leader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PODS_URL)
    assert response.json()["count"] == number_of_pods
    return len(queries)


def test_listing_costs_the_same_queries_for_3_and_30_pods():
    few = queries_to_list_pods(UserFactory(username="leads-three"), 3)
    many = queries_to_list_pods(UserFactory(username="leads-thirty"), 30)
    assert few == many


def test_a_token_from_drf_create_token_authenticates(pod_a, staff_a):
    out = io.StringIO()
    call_command("drf_create_token", "staff-a", stdout=out)
    # DRF prints "Generated token <key> for user staff-a".
    key = out.getvalue().split()[2]
    client = APIClient()
    response = client.get(PODS_URL, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert [pod["slug"] for pod in response.json()["results"]] == ["southeast-us"]
    assert client.get(PODS_URL, HTTP_AUTHORIZATION="Token not-a-real-key").status_code in (401, 403)


def test_anonymous_callers_are_refused(pod_a):
    client = APIClient()
    for url in (PODS_URL, f"{PODS_URL}southeast-us/"):
        response = client.get(url)
        assert response.status_code in (401, 403)
        assert "southeast-us" not in response.content.decode()


def test_schema_describes_the_pods_endpoints(staff_a):
    response = client_for(staff_a).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert "/api/pods/" in schema["paths"]
    assert "/api/pods/{slug}/" in schema["paths"]
    pod = schema["components"]["schemas"]["Pod"]["properties"]
    assert {"slug", "name", "timezone", "territory", "is_active", "leaders"} <= set(pod)
    assert pod["leaders"]["type"] == "array"
    page = schema["components"]["schemas"]["PaginatedPodList"]["properties"]
    assert {"count", "next", "previous", "results"} <= set(page)


def test_interactive_docs_are_served(staff_a):
    client = client_for(staff_a)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    # Swagger UI starts from a script file (no inline script, for the CSP), which loads the schema.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"/api/schema/" in script.content
