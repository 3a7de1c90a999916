from pods.scoping import pods_readable_by

from .models import Notification


def visible_notifications(user):
    """The person's notifications about pods they may read today: moved off a pod, its alerts are gone too."""
    return Notification.objects.filter(user=user, pod__in=pods_readable_by(user))
