"""Sign-in throttling (django-axes; OWASP ASVS 2.2.1): per account and per address, then a cool-off.

Five failed sign-ins for one username, from anywhere, pause sign-in for that username; five from one
address, whatever the usernames, pause sign-in from that address. While paused, even the right
password is refused with a page that says why and for how long; fifteen minutes later it works.
"""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/auth/login/"
PAUSED = "Too many sign-in attempts"


def sign_in(client, username, password, address="198.51.100.7", path=LOGIN, **headers):
    return client.post(path, {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=address, **headers)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def maria(db):
    return UserFactory(username="maria")


def test_six_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused(client, maria):
    for attempt in range(1, 5):
        response = sign_in(client, "maria", f"guess-{attempt}")
        assert response.status_code == 200, attempt
        assert "Please enter a correct username and password" in response.content.decode()
    for attempt in (5, 6):
        response = sign_in(client, "maria", f"guess-{attempt}")
        assert response.status_code == 429, attempt

    response = sign_in(client, "maria", "demo")
    page = response.content.decode()
    assert response.status_code == 429
    assert PAUSED in page
    assert "after 5 failed attempts" in page and "Try again in 15 minutes" in page
    assert not signed_in(client)


def test_a_locked_account_is_refused_from_every_other_address_too(client, maria):
    for attempt in range(6):
        sign_in(client, "maria", f"guess-{attempt}", address="198.51.100.7")
    response = sign_in(client, "maria", "demo", address="203.0.113.50")
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    assert not signed_in(client)


def test_an_address_that_tries_many_usernames_is_paused_for_every_username(client, maria):
    for number in range(5):
        sign_in(client, f"someone-{number}", "password", address="192.0.2.66")
    response = sign_in(client, "maria", "demo", address="192.0.2.66")
    assert response.status_code == 429
    assert not signed_in(client)
    # Maria herself, from her own address, is not affected by what that address did.
    response = sign_in(client, "maria", "demo", address="198.51.100.7")
    assert response.status_code == 302 and signed_in(client)


def test_other_accounts_sign_in_while_one_is_locked(client, maria):
    UserFactory(username="dev")
    for attempt in range(6):
        sign_in(client, "maria", f"guess-{attempt}", address="198.51.100.7")
    response = sign_in(client, "dev", "demo", address="203.0.113.8")
    assert response.status_code == 302 and signed_in(client)


def test_the_right_password_works_again_after_the_cool_off(client, maria):
    for attempt in range(6):
        sign_in(client, "maria", f"guess-{attempt}")
    assert sign_in(client, "maria", "demo").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    response = sign_in(client, "maria", "demo")
    assert response.status_code == 302 and signed_in(client)


def test_the_admin_login_counts_and_refuses_the_same_way(client, admin_user):
    for attempt in range(5):
        sign_in(client, "admin", f"guess-{attempt}", path="/admin/login/")
    response = sign_in(client, "admin", "demo", path="/admin/login/")
    assert response.status_code == 429
    assert PAUSED in response.content.decode()
    assert sign_in(client, "admin", "demo", path=LOGIN, address="203.0.113.9").status_code == 429


def test_behind_the_proxy_a_forged_forwarded_for_does_not_buy_more_tries(client, maria, settings):
    """The proxy appends the address it saw; what the client wrote before it is not trusted."""
    settings.UCE_BEHIND_PROXY = True
    for number in range(5):
        forged = f"10.9.8.{number}, 203.0.113.77"  # a fresh "client" each time, then the proxy's entry
        sign_in(client, f"someone-{number}", "password", address="10.0.0.1", HTTP_X_FORWARDED_FOR=forged)
    response = sign_in(client, "maria", "demo", address="10.0.0.1", HTTP_X_FORWARDED_FOR="10.9.8.200, 203.0.113.77")
    assert response.status_code == 429
    # Another client behind the same proxy is a different address.
    response = sign_in(client, "maria", "demo", address="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert response.status_code == 302
