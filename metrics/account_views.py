"""Account pages: find an account by name or external id, and read one account (``metrics/accounts.py``).

Scoped like every page: an account of a pod the caller may not read answers 404 (PRODUCT.md "Access");
CoE members read every pod's accounts.
"""

import math

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from jobs.selectors import accounts_visible_to
from pods.choices import BuyingJob, Persona
from pods.models import Pod
from pods.scoping import is_uce_admin

from . import propensity
from .accounts import ACCOUNT_PAGE_CACHE_SECONDS, account_page_version, account_profile
from .api.serializers import AccountProfileSerializer
from .engagement import weights_table
from .export import account_csv

ACCOUNTS_PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 100


@login_required
@require_safe
def account_list(request):
    """Accounts the caller may read, by name; ``q`` matches name or external id (any case)."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    accounts = accounts_visible_to(request.user)
    if query:
        accounts = accounts.filter(Q(name__icontains=query) | Q(external_id__icontains=query))
    page = Paginator(accounts, ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "metrics/account_list.html", {"page": page, "query": query})


@login_required
@require_safe
def account_detail(request, external_id):
    account = get_object_or_404(accounts_visible_to(request.user), external_id=external_id)
    context = {
        "account": account,
        # Read only when the page of this version of the data is not rendered yet (the template's cache).
        "profile": SimpleLazyObject(lambda: account_profile(account)),
        "page_key": account_page_version(account),
        "cache_seconds": ACCOUNT_PAGE_CACHE_SECONDS,
        "jobs": list(BuyingJob),
        "personas": list(Persona),
        "weights": weights_table(),
        "is_admin": is_uce_admin(request.user),
        "propensity_window": propensity.WINDOW_DAYS,
        "propensity_min_examples": propensity.MIN_EXAMPLES,
        "propensity_min_each": propensity.MIN_EACH,
    }
    return render(request, "metrics/account.html", context)


@login_required
@require_safe
def account_export(request, external_id):
    """The account page's figures as CSV: ``GET /api/accounts/{external_id}/``'s body, one value per line."""
    account = get_object_or_404(accounts_visible_to(request.user), external_id=external_id)
    content = account_csv(AccountProfileSerializer(account_profile(account)).data)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="account-{_filename_safe(account.external_id)}.csv"'
    return response


def _filename_safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:100]


@login_required
@require_safe
def propensity_calibration(request):
    """Admins: the latest propensity fit of every pod and of the organisation, and how well each is calibrated."""
    if not is_uce_admin(request.user):
        raise PermissionDenied("Only admins may read the propensity model's calibration.")
    per_pod, organisation = propensity.latest_fits()
    pods = Pod.objects.order_by("name")
    rows = [{"pod": None, "fit": organisation}] + [{"pod": pod, "fit": per_pod.get(pod.pk)} for pod in pods]
    for row in rows:
        fit = row["fit"]
        row["scored_by"] = propensity.fit_for(row["pod"].pk, (per_pod, organisation)) if row["pod"] else organisation
        row["odds_per_sd"] = (
            [(label, math.exp(fit.coefficients[key])) for key, label in propensity.FEATURE_LABELS.items()]
            if fit is not None and fit.fitted
            else []
        )
    context = {
        "rows": rows,
        "features": propensity.FEATURES,
        "window_days": propensity.WINDOW_DAYS,
        "min_examples": propensity.MIN_EXAMPLES,
        "min_each": propensity.MIN_EACH,
        "folds": propensity.FOLDS,
        "max_examples": propensity.MAX_EXAMPLES,
    }
    return render(request, "metrics/propensity.html", context)
