"""Pages of the pods app: home, the pods the user may see."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from .choices import BuyingJob
from .models import Pod
from .scoping import current_assignments, pods_visible_to

# The "U" mark of the nav bar.  Served at /favicon.ico because browsers ask for that path on every
# page, the Django admin's included, and a 404 there is noise in logs and in the browser tests.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#3b82f6"/><stop offset="1" stop-color="#7c3aed"/></linearGradient></defs>'
    '<rect width="32" height="32" rx="8" fill="url(#g)"/>'
    '<text x="16" y="22.5" font-family="system-ui,Arial,sans-serif" font-size="18" font-weight="700" '
    'fill="#fff" text-anchor="middle">U</text></svg>'
)


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")


def _staff_count_field(job: str) -> str:
    return f"staff_{job}"


def pods_with_staffing(user):
    """The pods ``user`` may see, each annotated with its current head count per buying job.

    One query whatever the number of pods: every count is a conditional ``Count`` over the
    assignments active today (``current_assignments``), so the staffing shown never disagrees
    with who actually has access.  The visible pods are re-selected by primary key because
    ``pods_visible_to`` joins the leaders table, and that join would multiply the counts.
    """
    current = current_assignments()
    return Pod.objects.filter(pk__in=pods_visible_to(user).values("pk")).annotate(
        **{
            _staff_count_field(job): Count("assignments", filter=Q(assignments__job=job, assignments__in=current))
            for job in BuyingJob.values
        }
    )


@login_required
def home(request):
    pods = list(pods_with_staffing(request.user))
    for pod in pods:
        # The five jobs in their fixed order, so every card reads the same way.
        pod.staffing = [(job.label, getattr(pod, _staff_count_field(job.value))) for job in BuyingJob]
        pod.headcount = sum(count for _, count in pod.staffing)
    return render(request, "pods/home.html", {"pods": pods})
