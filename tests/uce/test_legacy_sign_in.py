"""Sign-in moved to /auth/ when /accounts/ became the customer accounts; its first address still works."""

import pytest

from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_signing_in_at_the_first_address_still_works(client, pod_a):
    leader = UserFactory(username="lee")
    leader.set_password("demo-password-1")
    leader.save()
    pod_a.leaders.add(leader)
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post("/accounts/login/", {"username": "lee", "password": "demo-password-1"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/api/pods/").status_code == 200


def test_a_wrong_password_there_is_refused(client):
    UserFactory(username="lee")
    response = client.post("/accounts/login/", {"username": "lee", "password": "wrong"})
    assert response.status_code == 200 and b"Please enter a correct" in response.content
    assert client.get("/api/pods/").status_code in {401, 403}
