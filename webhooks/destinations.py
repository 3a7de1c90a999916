"""Where a webhook may be sent: the URL rules, checked when an endpoint is saved and again before every send.

HTTPS only. Plain HTTP is accepted only to a loopback address, and loopback at all only while
``UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK`` is on (DEBUG and tests), so a receiver on the developer's machine
works. Every address the host name resolves to must be public: private, link-local (cloud metadata
at 169.254.169.254), loopback, multicast and reserved ranges are refused, so an admin's endpoint cannot
be used to reach the servers behind the dashboard (SSRF). The send connects to the address that was
checked, not to a second resolution of the name (DNS rebinding).
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


class UnsafeDestination(ValueError):
    pass


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str  # the checked IP address to connect to


def _plain(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address, an IPv4-mapped IPv6 one (``::ffff:10.0.0.1``) as the IPv4 address it is."""
    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, loopback_ok: bool) -> bool:
    if address.is_loopback:
        return loopback_ok
    return address.is_global and not address.is_multicast


def _addresses(host: str) -> list[str]:
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeDestination(f"{host} does not resolve: {error}") from None
    return sorted({info[4][0] for info in infos})


def resolve(url: str) -> Destination:
    """The checked destination of ``url``; raises :class:`UnsafeDestination` with the reason."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise UnsafeDestination("Use an https:// address.")
    if parts.username or parts.password:
        raise UnsafeDestination("Put no credentials in the address; receivers check the signature instead.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeDestination("The port is not a number between 1 and 65535.") from None
    loopback_ok = settings.UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK
    addresses = _addresses(host)
    parsed = [_plain(a) for a in addresses]
    if scheme == "http" and not (loopback_ok and all(a.is_loopback for a in parsed)):
        raise UnsafeDestination("Use an https:// address (plain http is only for a receiver on this machine).")
    refused = [str(a) for a in parsed if not _allowed(a, loopback_ok=loopback_ok)]
    if refused:
        raise UnsafeDestination(
            f"{host} resolves to {', '.join(refused)}: private, loopback, link-local and reserved addresses "
            "are refused."
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def validate_endpoint_url(url: str) -> None:
    """Model field validator: the rules of :func:`resolve`."""
    try:
        resolve(url)
    except UnsafeDestination as error:
        raise ValidationError(str(error), code="unsafe_destination") from None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(destination.host, destination.port, timeout=timeout, context=self._tls)
        self._address = destination.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)  # the certificate of the name


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # at most ``limit`` bytes of it, decoded


def post(destination: Destination, body: bytes, headers: dict[str, str], *, timeout: float, limit: int) -> Answer:
    """POST ``body``; redirects are answers like any other (never followed). Reads at most ``limit`` bytes back."""
    connection_class = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(destination, timeout)
    try:
        connection.request("POST", destination.path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(status=response.status, body=response.read(limit).decode("utf-8", errors="replace"))
    finally:
        connection.close()
