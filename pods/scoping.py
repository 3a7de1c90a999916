"""Who may see what: the one place that decides which pods a user may see and change.

Every queryset a request touches starts here (STYLE.md habit 4).  Roles (PRODUCT.md "Access"):
admins (superusers or members of the ``uce-admins`` group) see every pod; a pod leader sees the
pods they lead; staff see the pod of their assignment active today (in that pod's time zone);
members of a center of excellence read every pod's dashboard, comparison and account pages and
change nothing.  Nothing is cached, so a change of assignment takes effect on the very next request.
The scopes are single querysets: a role held through a group or a center of excellence is an
``EXISTS`` inside them rather than a query of its own first, so a page reads its pod, its bell or its
list in one statement whatever the person's roles.

Two scopes, then:
- ``pods_visible_to``: the pods whose dashboards, facts and people a user sees, and acts on
  (recompute, targets, logging: each adds its own rule on top);
- ``pods_readable_by``: those, plus every pod for a CoE member — the read-only pages (dashboard,
  drill-downs, comparison, account pages and their API).
"""

from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Q, Value
from django.utils import timezone

from .models import Assignment, CenterOfExcellence, Pod, User

UCE_ADMINS_GROUP = "uce-admins"


def _signed_in(user) -> bool:
    """A person signed in whose account is active: the only one any scope gives anything."""
    return bool(user and user.is_authenticated and user.is_active)


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
    if not _signed_in(user):
        return False
    return user.is_superuser or user.groups.filter(name=UCE_ADMINS_GROUP).exists()


def is_coe_member(user) -> bool:
    """A member of any center of excellence: reads every pod's dashboard and account pages, changes nothing."""
    if not _signed_in(user):
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
    if not _signed_in(user):
        return Pod.objects.none()
    return Pod.objects.filter(leaders=user)


def _in_admins_group(user) -> Exists:
    return Exists(User.groups.through.objects.filter(user_id=user.pk, group__name=UCE_ADMINS_GROUP))


def _in_a_center_of_excellence(user) -> Exists:
    return Exists(CenterOfExcellence.members.through.objects.filter(user_id=user.pk))


def _led(user) -> Q:
    # A subquery, not a join on the leaders: OR-ed with the EXISTS, a join would repeat a pod per leader.
    return Q(pk__in=Pod.leaders.through.objects.filter(user_id=user.pk).values("pod_id"))


def _led_or_staffed(user) -> Q:
    return _led(user) | Q(pk__in=current_assignments().filter(person=user).values("pod_id"))


def pods_visible_to(user) -> models.QuerySet[Pod]:
    """The pods whose dashboards, facts and people ``user`` may see."""
    if not _signed_in(user):
        return Pod.objects.none()
    if user.is_superuser:
        return Pod.objects.all()
    return Pod.objects.filter(Q(_in_admins_group(user)) | _led_or_staffed(user))


def pods_readable_by(user) -> models.QuerySet[Pod]:
    """The pods whose read-only pages (dashboard, comparison, account pages) ``user`` may open."""
    if not _signed_in(user):
        return Pod.objects.none()
    if user.is_superuser:
        return Pod.objects.all()
    every_pod = Q(_in_admins_group(user)) | Q(_in_a_center_of_excellence(user))
    return Pod.objects.filter(every_pod | _led_or_staffed(user))


def readable_pod(user, field: str = "pod") -> Q:
    """The condition on a row's ``field`` (a pod) for ``user`` to read it, as :func:`pods_readable_by`.

    Nothing to check for a superuser, who reads every pod: no subquery to build or plan."""
    if _signed_in(user) and user.is_superuser:
        return Q()
    return Q(**{f"{field}__in": pods_readable_by(user)})


def may_act_on_pod(user, pod) -> bool:
    """Whether ``user`` may request work on ``pod`` (a recomputation): not a read-only CoE member."""
    return pods_visible_to(user).filter(pk=pod.pk).exists()


def pods_targets_editable_by(user) -> models.QuerySet[Pod]:
    """Pods whose targets ``user`` may set: every pod for admins, the pods they lead for leaders."""
    if not _signed_in(user):
        return Pod.objects.none()
    if user.is_superuser:
        return Pod.objects.all()
    return Pod.objects.filter(Q(_in_admins_group(user)) | _led(user))


def with_permissions(pods: models.QuerySet[Pod], user) -> models.QuerySet[Pod]:
    """``pods`` annotated, in their own query, with what ``user`` may do on each: ``may_act``
    (:func:`may_act_on_pod`: recompute, log) and ``may_set_targets`` (:func:`pods_targets_editable_by`:
    targets and alerts).  A page that reads its pod learns them without a query of their own."""
    if _signed_in(user) and user.is_superuser:
        return pods.annotate(may_act=Value(True), may_set_targets=Value(True))
    return pods.annotate(
        may_act=Exists(pods_visible_to(user).filter(pk=OuterRef("pk"))),
        may_set_targets=Exists(pods_targets_editable_by(user).filter(pk=OuterRef("pk"))),
    )


def may_review_reorganisations(user) -> bool:
    """Whether ``user`` may open reorganisation impact (docs/REORGANISATION.md): admins and CoE members.

    The pods they then see are ``pods_readable_by(user)``; only admins mark or delete reorganisations."""
    return roles_of(user).may_review_reorganisations


@dataclass(frozen=True)
class Roles:
    """What every page's navigation asks about the person: which of its links lead anywhere for them."""

    uce_admin: bool
    may_compare_pods: bool  # admins, CoE members and leaders of several pods (PRODUCT.md)
    may_review_reorganisations: bool  # admins and CoE members


NO_ROLES = Roles(uce_admin=False, may_compare_pods=False, may_review_reorganisations=False)


def roles_of(user) -> Roles:
    """The person's roles in one query (none for a superuser), read afresh on each call."""
    if not _signed_in(user):
        return NO_ROLES
    if user.is_superuser:
        return Roles(uce_admin=True, may_compare_pods=True, may_review_reorganisations=True)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            admin=_in_admins_group(user),
            coe=_in_a_center_of_excellence(user),
            # Whether a second led pod exists: at most two rows read, whatever the number of pods.
            second_led=Exists(Pod.leaders.through.objects.filter(user_id=user.pk).order_by("pod_id")[1:2]),
        )
        .values("admin", "coe", "second_led")
        .first()
    )
    if row is None:
        return NO_ROLES
    return Roles(
        uce_admin=row["admin"],
        may_compare_pods=row["admin"] or row["coe"] or row["second_led"],
        may_review_reorganisations=row["admin"] or row["coe"],
    )
