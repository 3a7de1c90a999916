"""The admin: an endpoint's secret shown whole once (on creation, on regeneration), the delivery log read-only
with its responses, and "resend"."""

import pytest

from webhooks import services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def test_creating_an_endpoint_shows_its_secret_once(client, admin_user, receiver):
    client.force_login(admin_user)
    response = client.post(
        "/admin/webhooks/endpoint/add/",
        {"url": receiver.url, "description": "BI", "events": ["alert.fired", "import.finished"], "active": "on"},
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert endpoint.secret in response.content.decode()
    assert (endpoint.events, endpoint.created_by) == (["alert.fired", "import.finished"], admin_user)
    page = client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page and endpoint.secret[-4:] in page


def test_an_unsafe_address_is_refused_on_the_form(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/webhooks/endpoint/add/", {"url": "https://10.0.0.8/hook", "events": ["alert.fired"]})
    assert response.status_code == 200 and "10.0.0.8" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_regenerating_replaces_the_secret_and_shows_the_new_one(client, admin_user, endpoint):
    old = endpoint.secret
    client.force_login(admin_user)
    response = client.post(
        "/admin/webhooks/endpoint/", {"action": "regenerate_secret", "_selected_action": [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()


def test_the_log_shows_the_answer_and_resend_sends_again(client, admin_user, endpoint, receiver):
    receiver.answers = [(500, {}, b"receiver says no"), (200, {}, b"fine")]
    [delivery] = services.emit("alert.fired", {"rule_id": 3})
    services.attempt_delivery(delivery.pk)
    client.force_login(admin_user)
    page = client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "receiver says no" in page and "The endpoint answered 500." in page
    assert client.post(f"/admin/webhooks/delivery/{delivery.pk}/change/", {"status": "succeeded"}).status_code == 403

    response = client.post(
        "/admin/webhooks/delivery/", {"action": "resend", "_selected_action": [delivery.pk]}, follow=True
    )
    assert "1 delivery sent again." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status) == (0, "pending")  # sent once the admin's request commits
    services.attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_body) == ("succeeded", 1, "fine")
    assert receiver.requests[0].headers["x-uce-event-id"] == receiver.requests[1].headers["x-uce-event-id"]


def test_staff_who_are_not_admins_see_no_webhooks(client, staff_a):
    staff_a.is_staff = True
    staff_a.save()
    client.force_login(staff_a)
    assert client.get("/admin/webhooks/endpoint/").status_code == 403
