"""Reorganisation impact under /reorganisations/ (docs/REORGANISATION.md): list, marking, impact page, CSV.

Admins and CoE members open them (``pods.scoping.may_review_reorganisations``) over the pods they may read;
only admins mark or delete a reorganisation.  Anyone else is answered as if the pages did not exist (404).
"""

import csv
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from jobs.csv_safety import safe_row
from pods.choices import BuyingJob
from pods.scoping import is_uce_admin, may_review_reorganisations, pods_readable_by

from . import reorg
from .dashboard.kpis import change_between
from .models import Reorganisation
from .reorg_forms import ReorganisationForm
from .templatetags.metric_format import format_number

JOB_LABELS = dict(BuyingJob.choices)


def reviewer_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_review_reorganisations(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


def _months(request) -> int:
    try:
        months = int(request.GET.get("months", reorg.DEFAULT_MONTHS))
    except ValueError:
        return reorg.DEFAULT_MONTHS
    return months if months in reorg.WINDOW_MONTHS else reorg.DEFAULT_MONTHS


def _row(comparison: reorg.Comparison) -> dict:
    unit = comparison.figure.unit
    return {
        "key": comparison.figure.key,
        "label": comparison.figure.label,
        "before": format_number(comparison.before, unit),
        "after": format_number(comparison.after, unit),
        "year_earlier": format_number(comparison.year_earlier, unit),
        # The dashboard's own comparison: points for rates, % otherwise, lower-is-better accounted for.
        "change": change_between(comparison.figure, comparison.after, comparison.before),
        "year_change": change_between(comparison.figure, comparison.after, comparison.year_earlier),
    }


@reviewer_required
@require_http_methods(["GET", "POST"])
def reorganisation_list(request):
    admin = is_uce_admin(request.user)
    if request.method == "POST" and not admin:
        raise Http404("Only admins mark reorganisations.")  # as for anyone else: no such form
    initial = {}
    if request.GET.get("effective_on"):
        initial = {
            "effective_on": request.GET["effective_on"],
            "name": f"Re-designation of {request.GET['effective_on']}",
        }
    form = ReorganisationForm(request.POST or None, initial=initial) if admin else None
    if request.method == "POST" and form.is_valid():
        reorganisation = form.save(commit=False)
        reorganisation.created_by = request.user
        reorganisation.save()
        form.save_m2m()
        messages.success(request, f"Marked {reorganisation}.")
        return redirect(reverse("reorganisation-page", args=[reorganisation.pk]))
    marked = {r.effective_on for r in Reorganisation.objects.all()}
    context = {
        "reorganisations": Reorganisation.objects.prefetch_related("pods"),
        "proposals": [(day, count) for day, count in reorg.proposed_dates() if day not in marked],
        "form": form,
        "proposal_minimum": reorg.PROPOSAL_MIN_CHANGES,
    }
    return render(request, "metrics/reorganisation_list.html", context)


def _impact_of(request, pk):
    reorganisation = get_object_or_404(Reorganisation, pk=pk)
    months = _months(request)
    pods = reorg.pods_of(reorganisation, pods_readable_by(request.user))
    try:
        impact = reorg.impact(pods, reorganisation.effective_on, months)
    except ValueError as error:
        return reorganisation, months, None, str(error)
    return reorganisation, months, impact, None


WINDOW_NAMES = {"before": "before", "after": "after", "year_earlier": "a year earlier"}


def _short_history_text(impact: reorg.Impact) -> str:
    """What the page says of windows the recorded data does not (fully) cover."""
    parts = []
    if impact.unrecorded:
        names = " and ".join(f'"{WINDOW_NAMES[name]}"' for name in impact.unrecorded)
        since = reorg.day_text(impact.first_data_on) if impact.first_data_on else "no day yet"
        parts.append(f"Nothing is recorded before {since}: the {names} window has no figures (—).")
    early = impact.short_history()
    if early:
        names = " and ".join(f'"{WINDOW_NAMES[w.name]}"' for w in early)
        plural = len(early) > 1
        parts.append(
            f"Data is recorded from {reorg.day_text(impact.first_data_on)}: the {names} "
            f"{'windows start' if plural else 'window starts'} earlier, so {'their' if plural else 'its'} "
            "figures are partial."
        )
    return " ".join(parts)


@reviewer_required
@require_safe
def reorganisation_detail(request, pk):
    reorganisation, months, impact, problem = _impact_of(request, pk)
    context = {"reorganisation": reorganisation, "months": months, "window_choices": reorg.WINDOW_MONTHS}
    context["problem"] = problem
    if impact is not None:
        context.update(
            impact=impact,
            headline=[_row(c) for c in impact.headline],
            jobs=[(job, JOB_LABELS[job], [_row(c) for c in rows]) for job, rows in impact.jobs.items()],
            staffing=[
                (job, JOB_LABELS[job], {c.figure.key: _row(c) for c in rows}, reorg.OPEN_WORK.get(job))
                for job, rows in impact.staffing.items()
            ],
            short_history=_short_history_text(impact),
        )
    context["may_delete"] = is_uce_admin(request.user)
    return render(request, "metrics/reorganisation_detail.html", context)


CSV_HEADER = (
    "Section",
    "Job",
    "Figure",
    "Key",
    "Unit",
    "Before",
    "After",
    "Year earlier",
    "Change",
    "Relative change",
    "Change vs year earlier",
    "Relative change vs year earlier",
)


def impact_rows(impact: reorg.Impact):
    def raw(value):
        return "" if value is None else value

    sections = [("headline", None, impact.headline)]
    sections += [("job", job, rows) for job, rows in impact.jobs.items()]
    sections += [("staffing", job, rows) for job, rows in impact.staffing.items()]
    for section, job, rows in sections:
        for c in rows:
            yield (
                section,
                job or "",
                c.figure.label,
                c.figure.key,
                c.figure.unit,
                raw(c.before),
                raw(c.after),
                raw(c.year_earlier),
                raw(c.change),
                raw(c.relative_change),
                raw(c.year_change),
                raw(c.relative_year_change),
            )


@reviewer_required
@require_safe
def reorganisation_csv(request, pk):
    reorganisation, months, impact, problem = _impact_of(request, pk)
    if impact is None:
        return HttpResponse(problem, status=409, content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    w = impact.windows
    writer.writerow(safe_row(["Reorganisation", reorganisation.name, "effective on", reorganisation.effective_on]))
    for window in w.all():
        writer.writerow([f"Window {window.name}", window.start, window.end, f"{window.days} days"])
    writer.writerow(safe_row(["Pods", "; ".join(pod.slug for pod in impact.pods)]))
    writer.writerow([])
    writer.writerow(CSV_HEADER)
    for row in impact_rows(impact):
        writer.writerow(safe_row(row))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"reorganisation-{reorganisation.effective_on}-{months}m.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@reviewer_required
@require_http_methods(["POST"])
def reorganisation_delete(request, pk):
    if not is_uce_admin(request.user):
        raise Http404("Only admins delete reorganisations.")
    reorganisation = get_object_or_404(Reorganisation, pk=pk)
    reorganisation.delete()
    messages.success(request, f"Deleted {reorganisation}; nothing else changed.")
    return redirect(reverse("reorganisations"))
