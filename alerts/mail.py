"""Mail: the digest and alert emails, and the signed one-click unsubscribe links in each (docs/ALERTS.md).

Sent through Django's mail backend, configured from the environment (README "Mail"): a real SMTP server,
or files under ``var/mail/`` for ``make run``.  Every email carries ``List-Unsubscribe`` and
``List-Unsubscribe-Post`` (RFC 8058), so a mail client's own unsubscribe button works in one click.
"""

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .digest import Digest, absolute

UNSUBSCRIBE_SALT = "alerts.unsubscribe"


def unsubscribe_token(user, *, pod=None, rule=None) -> str:
    """A signed token naming the person and what they stop receiving: one pod's digest, or one alert rule."""
    payload = {"u": user.pk}
    if pod is not None:
        payload["p"] = pod.pk
    if rule is not None:
        payload["r"] = rule.pk
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> dict | None:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or "u" not in payload or not ({"p", "r"} & payload.keys()):
        return None
    return payload


def unsubscribe_url(token: str) -> str:
    return absolute(reverse("alerts:unsubscribe", args=[token]))


def _message(*, subject, to, text, html, unsubscribe) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[to],
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(html, "text/html")
    return message


def digest_message(digest: Digest, user) -> EmailMultiAlternatives:
    link = unsubscribe_url(unsubscribe_token(user, pod=digest.pod))
    context = {
        "digest": digest,
        "user": user,
        "unsubscribe_url": link,
        "subscriptions_url": absolute(reverse("alerts:subscriptions")),
    }
    return _message(
        subject=digest.subject,
        to=user.email,
        text=render_to_string("alerts/email/digest.txt", context),
        html=render_to_string("alerts/email/digest.html", context),
        unsubscribe=link,
    )


def send_alert_email(notification_id: int) -> None:
    """The email of an alert notification (after its transaction committed)."""
    from .models import Notification

    notice = Notification.objects.select_related("user", "pod", "event__rule").filter(pk=notification_id).first()
    if notice is None or not notice.user.email:
        return
    rule = notice.event.rule if notice.event else None
    link = unsubscribe_url(unsubscribe_token(notice.user, rule=rule))
    context = {
        "notice": notice,
        "rule": rule,
        "url": absolute(notice.url),
        "unsubscribe_url": link,
        "subscriptions_url": absolute(reverse("alerts:subscriptions")),
    }
    _message(
        subject=notice.title,
        to=notice.user.email,
        text=render_to_string("alerts/email/alert.txt", context),
        html=render_to_string("alerts/email/alert.html", context),
        unsubscribe=link,
    ).send()
