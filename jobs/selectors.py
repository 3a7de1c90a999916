"""Reads of the jobs app: querysets of accounts and facts, always starting from the caller's scope.

Two scopes matter here (PRODUCT.md "Access"): what a user may *see* (``pods_visible_to``) and the
pods a user may *log activities for* (``pods_loggable_by``): staff for the pod of their current
assignment, leaders for the pods they lead, admins for every pod.  A change of assignment takes
effect on the very next request because nothing is cached.
"""

from django.db.models import Q, QuerySet

from pods.models import Account, Contact, Pod
from pods.scoping import current_assignments, is_uce_admin, pods_readable_by, pods_visible_to

from .models import Activity, AdoptionReading, Lead, Opportunity, Order, SupportTicket


def pods_loggable_by(user) -> QuerySet[Pod]:
    """The pods whose accounts ``user`` may log activities for."""
    if not (user and user.is_authenticated and user.is_active):
        return Pod.objects.none()
    if is_uce_admin(user):
        return Pod.objects.all()
    staffed = current_assignments().filter(person=user).values("pod_id")
    led = Pod.leaders.through.objects.filter(user=user).values("pod_id")
    # Two subqueries rather than a join on leaders: no duplicate rows, no DISTINCT needed.
    return Pod.objects.filter(Q(pk__in=staffed) | Q(pk__in=led))


def accounts_loggable_by(user, *, search: str = "") -> QuerySet[Account]:
    """Accounts of the pods ``user`` may log for; ``search`` matches name or external id (any case)."""
    accounts = Account.objects.filter(pod__in=pods_loggable_by(user)).select_related("pod")
    search = search.strip()
    if search:
        accounts = accounts.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    return accounts.order_by("name", "external_id")


def contacts_loggable_by(user) -> QuerySet[Contact]:
    """Contacts of the accounts ``user`` may log for."""
    return Contact.objects.filter(account__pod__in=pods_loggable_by(user))


def accounts_visible_to(user) -> QuerySet[Account]:
    """Accounts whose pages ``user`` may read: of the pods they see, of every pod for a CoE member
    (``pods_readable_by``); an account is scoped by the pod it belongs to now."""
    return Account.objects.filter(pod__in=pods_readable_by(user)).select_related("pod").order_by("name", "external_id")


def contacts_visible_to(user) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(account__pod__in=pods_visible_to(user))
        .select_related("account")
        .order_by("account__name", "name", "external_id")
    )


def facts_visible_to(user, model) -> QuerySet:
    """Rows of the fact ``model`` created under a pod ``user`` may see, with what their lists show."""
    return model.objects.filter(pod__in=pods_visible_to(user)).select_related("pod", "account")


def activities_visible_to(user) -> QuerySet[Activity]:
    return facts_visible_to(user, Activity).select_related("staff", "contact")


def activities_logged_by(user) -> QuerySet[Activity]:
    """The activities ``user`` logged, among those they may still see ("My recent activities")."""
    return activities_visible_to(user).filter(staff=user)


def activities_editable_by(user) -> QuerySet[Activity]:
    """Activities ``user`` may change or delete: admins every one (PRODUCT.md "Access"); anyone else
    the ones they logged, in a pod they may still log for."""
    activities = Activity.objects.select_related("pod", "account", "contact", "staff")
    if is_uce_admin(user):
        return activities
    return activities.filter(staff=user, pod__in=pods_loggable_by(user))


def leads_visible_to(user) -> QuerySet[Lead]:
    return facts_visible_to(user, Lead)


def opportunities_visible_to(user) -> QuerySet[Opportunity]:
    return facts_visible_to(user, Opportunity)


def orders_visible_to(user) -> QuerySet[Order]:
    return facts_visible_to(user, Order)


def adoption_readings_visible_to(user) -> QuerySet[AdoptionReading]:
    return facts_visible_to(user, AdoptionReading)


def tickets_visible_to(user) -> QuerySet[SupportTicket]:
    return facts_visible_to(user, SupportTicket)
