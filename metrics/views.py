"""Pages of the pod dashboard: the dashboard, its drill-downs, CSV export, recomputation and the pod comparison.

Each page has one template; an htmx request gets the named partial of that template that its
target needs (django-htmx example app), so the full page and the swap render the same markup.
The state (grain, period, comparison) lives in the URL: links are shareable and Back works.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST, require_safe

from pods.choices import BuyingJob
from pods.scoping import may_act_on_pod, pods_readable_by, with_permissions
from pods.selectors import pods_with_staffing, staff_count_field
from uce.htmx import wants_fragment

from . import propensity, services
from .catalogue import METRICS_BY_KEY
from .choices import Grain
from .dashboard.drilldowns import DRILLDOWNS, ENGAGED_ORDERS, bounds_of, engaged_accounts_without_lead
from .dashboard.freshness import figures_cache_key, freshness_of, with_freshness
from .dashboard.kpis import pod_dashboard
from .dashboard.pods import COMPARE_KEYS, may_compare_pods, pod_comparison, pod_headlines
from .dashboard.state import COMPARE_CHOICES, DashboardState
from .export import accounts_to_call_rows_csv, dashboard_csv
from .models import RecomputeRequest
from .selectors import pod_metric_series

ENGAGED_PAGE_SIZE = 10
DRILLDOWN_PAGE_SIZE = 25
RELOAD_EVENT = "metrics-recomputed"  # sent when a recomputation finishes; the dashboard body reloads on it


def _partial_for(request, template: str, partials: dict[str, str], default: str) -> str:
    """The template, or the partial the htmx request targets; a history restore gets the whole page."""
    if not wants_fragment(request):
        return template
    return f"{template}#{partials.get(request.htmx.target, default)}"


def _finish(request, response, canonical_url: str | None = None):
    # The same URL answers with a page or a fragment: caches must key on HX-Request.
    patch_vary_headers(response, ["HX-Request"])
    # The pushed URL is the canonical state (period normalised to its start), except for the reload
    # after a recomputation (triggered by the dashboard body itself), which must not add a history entry.
    if canonical_url and wants_fragment(request) and request.htmx.trigger != "dashboard-body":
        response["HX-Push-Url"] = canonical_url
    return response


def _readable_pod(request, slug):
    """The pod, if ``request.user`` may read its pages (CoE members read every pod); 404 otherwise."""
    return get_object_or_404(pods_readable_by(request.user), slug=slug)


def _engaged_sort(request) -> str:
    sort = request.GET.get("engaged_sort", "")
    return sort if sort in ENGAGED_ORDERS else "busiest"


def _engaged_page(request, pod, state, sort):
    bounds = bounds_of(pod, state.grain, state.period)
    rows = engaged_accounts_without_lead(pod=pod, bounds=bounds, order=sort)
    page = Paginator(rows, ENGAGED_PAGE_SIZE).get_page(request.GET.get("engaged_page"))
    page.object_list = propensity.with_propensities(list(page.object_list))
    return page


def _page_number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


@login_required
@require_safe
def dashboard(request, slug):
    # One statement reads the pod, what this person may do on it (never cached: it depends on who asks)
    # and its freshness with the version of its figures, which the cached renderings are keyed by.
    pods = with_permissions(pods_readable_by(request.user), request.user)
    pod = get_object_or_404(with_freshness(pods, DashboardState.grain_of(request.GET)), slug=slug)
    state = DashboardState.from_query(request.GET, today=pod.local_today())
    base_url = reverse("pod-dashboard", args=[pod.slug])
    freshness = freshness_of(pod)
    engaged_page = _page_number(request.GET.get("engaged_page"))
    engaged_sort = _engaged_sort(request)
    context = {
        "pod": pod,
        "state": state,
        "dashboard_url": base_url,
        "freshness": freshness,
        "may_recompute": pod.may_act,
        # Leaders of the pod and admins set alerts on its figures (alerts/, docs/ALERTS.md).
        "may_set_alerts": pod.may_set_targets,
        # The figures and the engaged accounts are rendered once per version of the data (the cache
        # tags of the template); these are assembled only when that rendering is not cached yet.
        "dashboard": SimpleLazyObject(lambda: pod_dashboard(pod=pod, state=state, freshness=freshness)),
        "engaged": SimpleLazyObject(lambda: _engaged_page(request, pod, state, engaged_sort)),
        "engaged_page": engaged_page or 1,
        "engaged_sort": engaged_sort,
        # (sort key or "" when the column does not sort, header, class): ENGAGED_ORDERS.
        "engaged_columns": [
            ("busiest", "Learn activities", "num"),
            ("", "Digital", "num"),
            ("latest", "Latest activity", ""),
            ("engagement", "Engagement", "num"),
            ("", "Propensity", "num"),
            ("", "What moves it most", ""),
        ],
        "figures_key": figures_cache_key(pod, state, freshness),
        "fit_version": freshness.propensity_fit_version,  # a refit changes the engaged list's propensities
        "grains": Grain.choices,
        "compare_choices": COMPARE_CHOICES,
    }
    template = _partial_for(request, "metrics/dashboard.html", {"engaged-accounts": "engaged"}, "body")
    query = state.query()
    if engaged_page:
        query += f"&engaged_page={engaged_page}"
    if engaged_sort != "busiest":
        query += f"&engaged_sort={engaged_sort}"
    return _finish(request, render(request, template, context), f"{base_url}?{query}")


@login_required
@require_safe
def drilldown(request, slug, metric):
    pod = _readable_pod(request, slug)
    spec = DRILLDOWNS.get(metric)
    if spec is None:
        raise Http404("No records behind this figure.")
    state = DashboardState.from_query(request.GET, today=pod.local_today())
    bounds = bounds_of(pod, state.grain, state.period)
    page = Paginator(spec.rows(pod, bounds, state.grain), DRILLDOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    series = pod_metric_series(pod=pod, grain=state.grain, first=state.period, last=state.period)
    url = reverse("pod-drilldown", args=[pod.slug, metric])
    context = {
        "pod": pod,
        "state": state,
        "metric": METRICS_BY_KEY[metric],
        "figure": series.periods[0].metrics.get(metric),
        "spec": spec,
        "page": page,
        "bounds": bounds,
        "drilldown_url": url,
        "dashboard_url": reverse("pod-dashboard", args=[pod.slug]),
    }
    template = _partial_for(request, "metrics/drilldown.html", {}, "records")
    return _finish(request, render(request, template, context), f"{url}?{state.query(page=page.number)}")


@login_required
@require_safe
def export_csv(request, slug):
    pod = _readable_pod(request, slug)
    state = DashboardState.from_query(request.GET, today=pod.local_today())
    content = dashboard_csv(pod_dashboard(pod=pod, state=state))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"{pod.slug}-{state.grain}-{state.period.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_safe
def accounts_to_call_csv(request, slug):
    """The engaged accounts without a lead of the dashboard's period, every row, in the list's order."""
    pod = _readable_pod(request, slug)
    state = DashboardState.from_query(request.GET, today=pod.local_today())
    now = timezone.now()
    rows = engaged_accounts_without_lead(
        pod=pod, bounds=bounds_of(pod, state.grain, state.period), order=_engaged_sort(request), now=now
    )
    rows = propensity.with_propensities(list(rows), now=now)
    response = HttpResponse(accounts_to_call_rows_csv(pod, rows, now), content_type="text/csv; charset=utf-8")
    filename = f"{pod.slug}-accounts-to-call-{state.grain}-{state.period.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def recompute(request, slug):
    """Recompute every snapshot of the pod on a worker (as ``POST /api/pods/{slug}/recompute/``)."""
    pod = _readable_pod(request, slug)
    if not may_act_on_pod(request.user, pod):
        raise PermissionDenied("Centers of excellence read the dashboards; they do not recompute them.")
    recompute_request = services.recompute_request(pod=pod, requested_by=request.user)
    state = DashboardState.from_query(request.POST, today=pod.local_today())
    if not request.htmx:
        return redirect(f"{reverse('pod-dashboard', args=[pod.slug])}?{state.query()}")
    context = {"pod": pod, "state": state, "recompute": recompute_request, "may_recompute": True}
    return _finish(request, render(request, "metrics/dashboard.html#recompute", context))


@login_required
@require_safe
def recompute_progress(request, slug, pk):
    """The progress bar of one recomputation; once it has succeeded the dashboard body reloads itself."""
    pod = _readable_pod(request, slug)
    recompute_request = get_object_or_404(RecomputeRequest.objects.filter(pod=pod), pk=pk)
    state = DashboardState.from_query(request.GET, today=pod.local_today())
    context = {"pod": pod, "state": state, "recompute": recompute_request}
    context["may_recompute"] = may_act_on_pod(request.user, pod)
    response = render(request, "metrics/dashboard.html#recompute", context)
    if recompute_request.status == RecomputeRequest.Status.SUCCEEDED:
        response["HX-Trigger"] = RELOAD_EVENT
    return _finish(request, response)


def _sort_headers(state, sort: str, descending: bool) -> list[dict]:
    """Column headers of the comparison: each links to sorting by it (best first; again: reversed)."""
    headers = []
    for key in ("pod", *COMPARE_KEYS):
        metric = METRICS_BY_KEY.get(key)
        # A new column sorts best first; the current one flips.
        next_descending = (not descending) if key == sort else (metric is not None and not metric.lower_is_better)
        headers.append(
            {
                "key": key,
                "label": metric.label if metric else "Pod",
                "metric": metric,
                "query": state.query(sort=key, dir="desc" if next_descending else "asc"),
                "aria_sort": ("descending" if descending else "ascending") if key == sort else None,
            }
        )
    return headers


@login_required
@require_safe
def compare(request):
    if not may_compare_pods(request.user):
        raise Http404("No pods to compare.")
    pods = list(pods_readable_by(request.user).order_by("name"))
    # Pods sit in several zones: the newest local "today" among them decides the latest period offered.
    today = max((pod.local_today() for pod in pods), default=None)
    if today is None:
        raise Http404("No pods to compare.")
    state = DashboardState.from_query(request.GET, today=today)
    sort = request.GET.get("sort")
    if sort not in COMPARE_KEYS:
        sort = "pod"
    descending = request.GET.get("dir") == "desc"
    url = reverse("pod-compare")
    context = {
        "state": state,
        "rows": pod_comparison(pods, state=state, sort=sort, descending=descending),
        "headers": _sort_headers(state, sort, descending),
        "sort": sort,
        "descending": descending,
        "sort_query": {"sort": sort, "dir": "desc" if descending else "asc"},
        "grains": Grain.choices,
        "compare_choices": COMPARE_CHOICES,
        "compare_url": url,
    }
    template = _partial_for(request, "metrics/compare.html", {}, "table")
    query = state.query(**context["sort_query"])
    return _finish(request, render(request, template, context), f"{url}?{query}")


@require_safe
@login_required
def home(request):
    """Each visible pod with this month's headline KPIs: a constant number of queries whatever the pod count
    (staffing in one query, every pod's snapshots in one, their targets in one)."""
    pods = list(pods_with_staffing(request.user))
    headlines = pod_headlines(pods)
    for pod in pods:
        # The five jobs in their fixed order, so every card reads the same way.
        pod.staffing = [(job.label, getattr(pod, staff_count_field(job.value))) for job in BuyingJob]
        pod.headcount = sum(count for _, count in pod.staffing)
        pod.headline = headlines[pod.pk]
    return render(request, "pods/home.html", {"pods": pods})
