from pods.scoping import readable_pod

from .models import Notification


def visible_notifications(user):
    """The person's notifications about pods they may read today: moved off a pod, its alerts are gone too."""
    return Notification.objects.filter(readable_pod(user), user=user)
