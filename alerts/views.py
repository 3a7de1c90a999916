"""Pages of alerts and digests: notifications, subscriptions, alert rules and one-click unsubscribe.

Scoped through ``pods.scoping`` like every page: a pod the caller may not read answers 404; a pod they
read but may not set alerts on (staff, center-of-excellence members) answers 403 for a new rule.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from pods.models import Pod
from pods.scoping import pods_readable_by, pods_targets_editable_by

from . import mail, services
from .choices import DigestStatus
from .forms import AlertRuleForm, DigestChoiceForm
from .models import AlertRule, Notification
from .selectors import visible_notifications

NOTIFICATIONS_PAGE_SIZE = 25


@login_required
@require_safe
def notifications(request):
    notices = visible_notifications(request.user).select_related("pod")
    page = Paginator(notices, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "alerts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_open(request, pk):
    """Mark one notification read and go where it points (the dashboard at the alert's period)."""
    notice = get_object_or_404(visible_notifications(request.user), pk=pk)
    if notice.read_at is None:
        Notification.objects.filter(pk=notice.pk).update(read_at=timezone.now())
    if request.POST.get("stay"):
        return redirect("alerts:notifications")
    safe = url_has_allowed_host_and_scheme(notice.url, allowed_hosts={request.get_host()})
    return redirect(notice.url if notice.url and safe else "alerts:notifications")


@login_required
@require_POST
def notifications_read(request):
    count = visible_notifications(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("alerts:notifications")


@login_required
@require_safe
def subscriptions(request):
    pods = list(pods_readable_by(request.user).order_by("name"))
    statuses = services.digest_statuses(request.user, pods)
    chosen = set(request.user.digest_subscriptions.values_list("pod_id", flat=True))
    digests = [{"pod": pod, "status": statuses[pod.pk], "default": pod.pk not in chosen} for pod in pods]
    readable = {pod.pk for pod in pods}
    rules = [
        rule for rule in AlertRule.objects.filter(owner=request.user).select_related("pod") if rule.pod_id in readable
    ]
    context = {
        "digests": digests,
        "rules": rules,
        "editable_pods": list(pods_targets_editable_by(request.user).order_by("name")),
        "has_email": bool(request.user.email),
    }
    return render(request, "alerts/subscriptions.html", context)


@login_required
@require_POST
def digest_choice(request, slug):
    pod = get_object_or_404(pods_readable_by(request.user), slug=slug)
    form = DigestChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose subscribed, paused or unsubscribed.")
        return redirect("alerts:subscriptions")
    services.set_digest_status(request.user, pod, form.cleaned_data["status"])
    label = DigestStatus(form.cleaned_data["status"]).label.lower()
    messages.success(request, f"{pod.name}'s weekly digest: {label}.")
    return redirect("alerts:subscriptions")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_new(request, slug):
    pod = get_object_or_404(pods_readable_by(request.user), slug=slug)
    if not pods_targets_editable_by(request.user).filter(pk=pod.pk).exists():
        raise PermissionDenied("Only the pod's leaders and admins set alerts on it.")
    form = AlertRuleForm(request.POST or None, initial={"metric": request.GET.get("metric", "")})
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.owner, rule.pod = request.user, pod
        rule.save()
        messages.success(request, f"Alert set: {rule}. It is checked after each refresh of {pod.name}'s figures.")
        return redirect("alerts:subscriptions")
    return render(request, "alerts/rule_form.html", {"form": form, "pod": pod})  # refused: the form, with its errors


@login_required
@require_POST
def rule_action(request, pk):
    rule = get_object_or_404(AlertRule.objects.select_related("pod"), pk=pk, owner=request.user)
    if not pods_readable_by(request.user).filter(pk=rule.pod_id).exists():
        raise Http404
    action = request.POST.get("action")
    if action == "pause":
        AlertRule.objects.filter(pk=rule.pk).update(paused=True)
        messages.success(request, f"Paused: {rule}.")
    elif action == "resume":
        AlertRule.objects.filter(pk=rule.pk).update(paused=False)
        messages.success(request, f"Resumed: {rule}.")
    elif action == "delete":
        rule.delete()
        messages.success(request, f"Deleted: {rule}.")
    else:
        messages.error(request, "Unknown action: pause, resume or delete.")
    return redirect("alerts:subscriptions")


def _unsubscribe_target(token):
    payload = mail.read_unsubscribe_token(token)
    if payload is None:
        return None, None, None
    user = get_user_model().objects.filter(pk=payload["u"], is_active=True).first()
    if user is None:
        return None, None, None
    if "p" in payload:
        pod = Pod.objects.filter(pk=payload["p"]).first()
        return (user, pod, None) if pod else (None, None, None)
    rule = AlertRule.objects.filter(pk=payload["r"], owner=user).select_related("pod").first()
    return (user, None, rule) if rule else (None, None, None)


@csrf_exempt  # the signed token is the credential; RFC 8058 one-click posts come without a session
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """One click, no sign-in: GET shows what stops and a button, POST (the button, or a mail client's
    List-Unsubscribe-Post) stops it."""
    user, pod, rule = _unsubscribe_target(token)
    if user is None:
        return render(request, "alerts/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        with transaction.atomic():
            if pod is not None:
                services.set_digest_status(user, pod, DigestStatus.UNSUBSCRIBED)
            else:
                AlertRule.objects.filter(pk=rule.pk).update(email=False)
        done = True
    context = {"person": user, "pod": pod, "rule": rule, "done": done, "token": token}
    return render(request, "alerts/unsubscribe.html", context)
