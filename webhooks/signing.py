"""The signature of a delivery (Stripe's scheme): ``X-UCE-Signature: t=<unix time>,v1=<hex>``.

``v1`` is HMAC-SHA256, keyed with the endpoint's secret, of ``"<t>.<raw body>"``. Signing the time with
the body lets a receiver refuse a replayed request: docs/WEBHOOKS.md shows the receiver's side.
"""

import hashlib
import hmac

HEADER = "X-UCE-Signature"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_value(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver does (and the tests): the header's time is recent and one of its ``v1`` matches."""
    fields = [item.split("=", 1) for item in header.split(",") if "=" in item]
    times = [value for key, value in fields if key == "t"]
    if len(times) != 1 or not times[0].isdigit() or abs(now - int(times[0])) > window:
        return False
    expected = signature(secret, int(times[0]), body)
    return any(hmac.compare_digest(expected, value) for key, value in fields if key == "v1")
