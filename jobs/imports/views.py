"""The import page (PRODUCT.md screen 5): upload a CSV, watch its progress, read the outcome.

Admins only: anyone else is refused the upload page (403) and sees no import (404, as for any
object outside their scope).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from pods.scoping import is_uce_admin

from .forms import ImportUploadForm
from .schema import CSV_KINDS
from .selectors import imports_visible_to
from .services import NotAwaitingConfirmation, import_start, max_upload_bytes
from .services import import_confirm as confirm_import

RECENT_IMPORTS = 10


def _admins_only(refusal):
    """A view for admins; anyone else signed in gets ``refusal()`` raised."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not is_uce_admin(request.user):
                raise refusal()
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# An admin's page (the upload form, the mappings list): anyone else is refused it (403).
uce_admin_required = _admins_only(lambda: PermissionDenied("Only admins may import data."))
# An admin's page about one object (an import, a mapping): anyone else is answered as if it did not exist.
uce_admin_object = _admins_only(lambda: Http404("No such page."))


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
            preview=data["preview"],
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


@uce_admin_object
@require_http_methods(["POST"])
def import_confirm(request, pk):
    """The go-ahead after a preview: import the file, read as the preview read it."""
    import_job = get_object_or_404(imports_visible_to(request.user), pk=pk)
    try:
        confirm_import(import_job)
    except NotAwaitingConfirmation as refused:
        messages.error(request, f"This import cannot be confirmed: {refused}")
    return redirect(reverse("imports:detail", args=[import_job.pk]))
