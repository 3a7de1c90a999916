"""Pages of the jobs app: log an activity, the user's recent activities, edit, delete, CSV export.

One template per page; an htmx request gets a named partial of the same template, so the full
page and the swap render the same markup.  Every queryset starts from the caller's scope
(``jobs.selectors``): someone else's activity, or one outside the scope, answers 404.
"""

import csv
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from uce.htmx import wants_fragment

from . import selectors, services
from .choices import BuyingJob, Channel
from .csv_safety import safe_row
from .filtersets import ActivityFilterSet
from .forms import ActivityForm

PAGE = "jobs/activity_log.html"
RECENT_PER_PAGE = 20
SEARCH_RESULTS = 10
EXPORT_COLUMNS = [
    "external_id",
    "occurred_at",
    "account",
    "job",
    "channel",
    "kind",
    "staff",
    "contact",
    "minutes",
    "notes",
    "pod",
]


def recent_activities_context(request, page_number=None) -> dict:
    """The user's own activities, newest first, 20 a page, narrowed by the list's filters."""
    filterset = ActivityFilterSet(request.GET, queryset=selectors.activities_logged_by(request.user))
    paginator = Paginator(filterset.qs, RECENT_PER_PAGE)
    page_obj = paginator.get_page(page_number or request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return {
        "filterset": filterset,
        "page_obj": page_obj,
        "filter_query": filters.urlencode(),
        "jobs": BuyingJob.choices,
        "channels": Channel.choices,
    }


def _page_context(request, form, **extra) -> dict:
    return {
        "form": form,
        "can_log": selectors.pods_loggable_by(request.user).exists(),
        **recent_activities_context(request),
        **extra,
    }


def _apply_service_errors(form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")  # one URL, a page or a fragment: caches must tell them apart
def activity_log(request):
    """The log-activity screen: the form, and "My recent activities" below it."""
    if request.method != "POST":
        if wants_fragment(request) and request.htmx.target == "recent-activities":
            return render(request, f"{PAGE}#recent-activities", recent_activities_context(request))
        return render(request, PAGE, _page_context(request, ActivityForm(user=request.user), focus="id_account_search"))

    form = ActivityForm(request.POST, user=request.user)
    activity = None
    if form.is_valid():
        try:
            activity = services.activity_log(staff=request.user, **form.service_arguments())
        except ValidationError as error:
            _apply_service_errors(form, error)
    if activity is None:
        if request.htmx:
            return render(request, f"{PAGE}#activity-form", {"form": form, "can_log": True})
        return render(request, PAGE, _page_context(request, form))

    saved = f"Activity logged: {activity.kind} for {activity.account}."
    if not request.htmx:
        messages.success(request, saved)
        return redirect("activity-log")
    # A fresh form in place of the one submitted, the list with the new activity on top (out of
    # band), and the confirmation in the page's live region so screen readers announce it.
    fresh = {"form": ActivityForm(user=request.user), "can_log": True, "focus": "id_account_search"}
    recent = {**recent_activities_context(request, page_number=1), "oob": True, "new_activity_id": activity.pk}
    return HttpResponse(
        render_to_string(f"{PAGE}#activity-form", fresh, request)
        + render_to_string(f"{PAGE}#recent-activities", recent, request)
        + render_to_string(f"{PAGE}#oob-message", {"message": saved}, request)
    )


@login_required
@require_safe
def account_search(request):
    """Accounts the user may log for whose name or external id contains what was typed (htmx)."""
    query = request.GET.get("account_search", "").strip()
    accounts = selectors.accounts_loggable_by(request.user, search=query)
    if request.GET.get("pod"):
        accounts = accounts.filter(pod__slug=request.GET["pod"])  # editing: the activity's pod only
    accounts = accounts[:SEARCH_RESULTS] if query else []
    return render(request, f"{PAGE}#account-options", {"query": query, "matching_accounts": accounts})


@login_required
@require_safe
def contact_options(request):
    """The contact picker for the chosen account (htmx), built by the same form the page uses."""
    form = ActivityForm(user=request.user, initial={"account": request.GET.get("account")})
    return render(request, f"{PAGE}#contact-field", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def activity_edit(request, pk):
    activity = get_object_or_404(selectors.activities_editable_by(request.user), pk=pk)
    form = ActivityForm(request.POST or None, user=request.user, activity=activity)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(activity=activity, **form.service_arguments())
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"Activity updated: {activity.kind} for {activity.account}.")
            return redirect("activity-log")
    return render(
        request,
        "jobs/activity_edit.html",
        {"form": form, "activity": activity, "can_log": True, "focus": form.first_error_id or "id_account_search"},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def activity_delete(request, pk):
    """A confirmation step (a page, or a row of the list for htmx), then the deletion on POST."""
    activity = get_object_or_404(selectors.activities_editable_by(request.user), pk=pk)
    page_number = request.POST.get("page") or request.GET.get("page") or 1
    if request.method != "POST":
        template = "jobs/activity_confirm_delete.html"
        in_list = wants_fragment(request)
        context = {"activity": activity, "page_number": page_number, "in_list": in_list}
        return render(request, f"{template}#confirm-delete" if in_list else template, context)

    services.activity_delete(activity=activity)
    deleted = f"Activity deleted: {activity.kind} for {activity.account}."
    if not request.htmx:
        messages.success(request, deleted)
        return redirect("activity-log")
    recent = {**recent_activities_context(request, page_number=page_number), "focus_heading": True}
    return HttpResponse(
        render_to_string(f"{PAGE}#recent-activities", recent, request)
        + render_to_string(f"{PAGE}#oob-message", {"message": deleted}, request)
    )


class _Echo:
    """A write-only file whose ``write`` hands the line back, so ``csv.writer`` can feed a stream."""

    def write(self, value):
        return value


def _export_rows(activities):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in activities.iterator(chunk_size=2000):
        (external_id, occurred_at, account, job, channel, kind, staff, contact, minutes, notes, pod, zone) = row
        # The pod's wall-clock time with its offset: readable, and exact for the import format.
        occurred = occurred_at.astimezone(ZoneInfo(zone)).isoformat()
        yield writer.writerow(
            safe_row([external_id, occurred, account, job, channel, kind, staff, contact, minutes, notes, pod])
        )


@login_required
@require_safe
def activity_export(request):
    """The activities the user may see, with the list's filters, as a streamed CSV file."""
    filterset = ActivityFilterSet(request.GET, queryset=selectors.activities_visible_to(request.user))
    if not filterset.is_valid():
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in filterset.errors.items())
        return HttpResponse(f"Invalid filters — {errors}\n", status=400, content_type="text/plain; charset=utf-8")
    activities = filterset.qs.order_by("-occurred_at", "-id").values_list(
        "external_id",
        "occurred_at",
        "account__external_id",
        "job",
        "channel",
        "kind",
        "staff__username",
        "contact__external_id",
        "minutes",
        "notes",
        "pod__slug",
        "pod__timezone",
    )
    filename = f"activities-{timezone.now():%Y%m%d-%H%M}.csv"
    return StreamingHttpResponse(
        _export_rows(activities),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
