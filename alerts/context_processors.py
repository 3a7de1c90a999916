from django.utils.functional import SimpleLazyObject


def notifications(request):
    """``unread_notifications``: the bell's count, read only when a page shows the bell (one indexed query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count():
        from .selectors import visible_notifications

        return visible_notifications(user).filter(read_at__isnull=True).count()

    return {"unread_notifications": SimpleLazyObject(count)}
