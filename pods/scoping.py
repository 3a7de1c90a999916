"""Who may see what: the one place that decides which pods a user may see and change.

Every queryset a request touches starts here (STYLE.md habit 4).  Roles (PRODUCT.md "Access"):
admins (superusers or members of the ``uce-admins`` group) see every pod; a pod leader sees the
pods they lead; staff see the pod of their assignment active today (in that pod's time zone);
members of a center of excellence read every pod's dashboard, comparison and account pages and
change nothing.  Nothing is cached, so a change of assignment takes effect on the very next request.

Two scopes, then:
- ``pods_visible_to``: the pods whose dashboards, facts and people a user sees, and acts on
  (recompute, targets, logging: each adds its own rule on top);
- ``pods_readable_by``: those, plus every pod for a CoE member — the read-only pages (dashboard,
  drill-downs, comparison, account pages and their API).
"""

from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from .models import Assignment, Pod

UCE_ADMINS_GROUP = "uce-admins"


class LocalToday(Func):
    """Today's date in the time zone held by the given column: ``(now AT TIME ZONE tz)::date``.

    "Now" is the application's clock (``django.utils.timezone.now``), sent as a parameter rather than
    PostgreSQL's ``now()``: the web process, the worker and the tests (which freeze it) agree on the
    date, and ``now()`` — the start of the transaction — would lag in a long one.
    """

    function = "timezone"
    output_field = models.DateField()

    def __init__(self, timezone_expression, **extra):
        now = Value(timezone.now(), output_field=models.DateTimeField())
        super().__init__(timezone_expression, now, **extra)

    def as_sql(self, compiler, connection, **extra):
        sql, params = super().as_sql(compiler, connection, **extra)
        return f"({sql})::date", params


def is_uce_admin(user) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.groups.filter(name=UCE_ADMINS_GROUP).exists()


def is_coe_member(user) -> bool:
    """A member of any center of excellence: reads every pod's dashboard and account pages, changes nothing."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.centers_of_excellence.exists()


def current_assignments():
    """Assignments active today, where "today" is each assignment's pod's local date."""
    today = LocalToday(F("pod__timezone"))
    return Assignment.objects.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today), started_on__lte=today)


def current_assignment_of(user) -> Assignment | None:
    if not user.is_authenticated:
        return None
    return current_assignments().filter(person=user).select_related("pod").first()


def pods_led_by(user) -> models.QuerySet[Pod]:
    if not (user and user.is_authenticated and user.is_active):
        return Pod.objects.none()
    return Pod.objects.filter(leaders=user)


def pods_visible_to(user) -> models.QuerySet[Pod]:
    """The pods whose dashboards, facts and people ``user`` may see."""
    if not (user and user.is_authenticated and user.is_active):
        return Pod.objects.none()
    if is_uce_admin(user):
        return Pod.objects.all()
    staffed = current_assignments().filter(person=user).values("pod_id")
    return Pod.objects.filter(Q(leaders=user) | Q(pk__in=staffed)).distinct()


def pods_readable_by(user) -> models.QuerySet[Pod]:
    """The pods whose read-only pages (dashboard, comparison, account pages) ``user`` may open."""
    if is_coe_member(user):
        return Pod.objects.all()
    return pods_visible_to(user)


def may_act_on_pod(user, pod) -> bool:
    """Whether ``user`` may request work on ``pod`` (a recomputation): not a read-only CoE member."""
    return pods_visible_to(user).filter(pk=pod.pk).exists()


def pods_targets_editable_by(user) -> models.QuerySet[Pod]:
    """Pods whose targets ``user`` may set: every pod for admins, the pods they lead for leaders."""
    if is_uce_admin(user):
        return Pod.objects.all()
    return pods_led_by(user)


def may_review_reorganisations(user) -> bool:
    """Whether ``user`` may open reorganisation impact (docs/REORGANISATION.md): admins and CoE members.

    The pods they then see are ``pods_readable_by(user)``; only admins mark or delete reorganisations."""
    return is_uce_admin(user) or is_coe_member(user)
