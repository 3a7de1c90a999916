"""The import page (PRODUCT.md screen 5): upload a CSV, watch its progress, read the outcome.

Admins only: anyone else is refused the upload page (403) and sees no import (404, as for any
object outside their scope).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from pods.scoping import is_uce_admin

from .forms import ImportUploadForm
from .schema import CSV_KINDS
from .selectors import imports_visible_to
from .services import import_start, max_upload_bytes

RECENT_IMPORTS = 10


def uce_admin_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_uce_admin(request.user):
            raise PermissionDenied("Only admins may import data.")
        return view(request, *args, **kwargs)

    return wrapped


def kind_columns():
    """Each kind with its columns as ``(name, required)``, for the reference table of the page."""
    return [(name, [(column.name, column.required) for column in kind.columns]) for name, kind in CSV_KINDS.items()]


@uce_admin_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        import_job = import_start(
            kind=data["kind"],
            file=data["file"],
            created_by=request.user,
            source=data["source"],
            mapping=data["mapping"],
            source_timezone=data["timezone"].strip(),
        )
        return redirect(reverse("imports:detail", args=[import_job.pk]))
    context = {
        "form": form,
        "recent_imports": imports_visible_to(request.user)[:RECENT_IMPORTS],
        "kinds": kind_columns(),
        "max_upload_bytes": max_upload_bytes(),
    }
    return render(request, "jobs/import_upload.html", context)


@login_required
@require_safe
def import_detail(request, pk):
    import_job = get_object_or_404(imports_visible_to(request.user), pk=pk)
    return render(request, "jobs/import_detail.html", {"import_job": import_job})


@login_required
@require_safe
def import_progress(request, pk):
    """The progress partial the detail page polls every second until the import has finished."""
    import_job = get_object_or_404(imports_visible_to(request.user), pk=pk)
    return render(request, "jobs/import_detail.html#progress", {"import_job": import_job})
