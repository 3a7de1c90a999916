"""The signature (checked against an HMAC computed here) and the rules an endpoint's address must follow."""

import hashlib
import hmac

import pytest
from django.core.exceptions import ValidationError

from webhooks import signing
from webhooks.destinations import UnsafeDestination, resolve
from webhooks.models import Endpoint

SECRET = "whsec_test-secret"
BODY = b'{"id":"e1","type":"alert.fired","data":{"value":1.5}}'


def test_the_header_is_the_hmac_sha256_of_time_dot_body():
    expected = hmac.new(b"whsec_test-secret", b"1765000000." + BODY, hashlib.sha256).hexdigest()
    assert signing.header_value(SECRET, 1765000000, BODY) == f"t=1765000000,v1={expected}"


def test_verification_refuses_another_body_another_secret_and_an_old_time():
    header = signing.header_value(SECRET, 1765000000, BODY)
    assert signing.verify(SECRET, header, BODY, now=1765000000 + 299)
    assert not signing.verify(SECRET, header, BODY + b" ", now=1765000000)
    assert not signing.verify("whsec_other", header, BODY, now=1765000000)
    assert not signing.verify(SECRET, header, BODY, now=1765000000 + 301), "outside the 5-minute replay window"
    assert not signing.verify(SECRET, header.replace("t=1765000000", "t=1765000001"), BODY, now=1765000000)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://93.184.215.14/hook", "https://"),
        ("ftp://93.184.215.14/hook", "https://"),
        ("https://10.1.2.3/hook", "10.1.2.3"),
        ("https://192.168.0.10/hook", "192.168.0.10"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),  # cloud metadata: link-local
        ("https://[fd00::1]/hook", "fd00::1"),
        ("https://[::ffff:10.0.0.1]/hook", "10.0.0.1"),
        ("https://0.0.0.0/hook", "0.0.0.0"),  # noqa: S104 (refused, not bound)
        ("https://user:pw@93.184.215.14/hook", "credentials"),
    ],
)
def test_unsafe_addresses_are_refused(settings, url, reason):
    settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    with pytest.raises(UnsafeDestination, match=reason.replace("[", r"\[")):
        resolve(url)


def test_loopback_only_while_the_setting_allows_it(settings):
    settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    for url in ("http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://localhost/hook"):
        with pytest.raises(UnsafeDestination):
            resolve(url)
    settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    destination = resolve("http://127.0.0.1:8080/hook?x=1")
    assert (destination.scheme, destination.address, destination.port, destination.path) == (
        "http",
        "127.0.0.1",
        8080,
        "/hook?x=1",
    )


def test_a_public_https_address_is_accepted(settings):
    settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    destination = resolve("https://93.184.215.14/hooks")
    assert (destination.host, destination.port, destination.path) == ("93.184.215.14", 443, "/hooks")


@pytest.mark.django_db
def test_the_model_refuses_an_unsafe_address_and_gets_a_secret(settings):
    settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    endpoint = Endpoint(url="http://127.0.0.1:9/hook", events=["alert.fired"])
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert "https://" in str(refused.value.message_dict["url"])
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert Endpoint(url="https://x", events=["x"]).secret != endpoint.secret
