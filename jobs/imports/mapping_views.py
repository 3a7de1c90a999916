"""Saved mappings under /imports/mappings/ (admins): the built-ins to copy, the saved ones to edit or delete."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from ..models import SavedMapping
from .mapping_forms import SavedMappingForm
from .sources import saved
from .sources.mappings import BUILT_IN
from .views import uce_admin_object, uce_admin_required


@uce_admin_required
@require_safe
def mapping_list(request):
    saved_rows = list(SavedMapping.objects.select_related("created_by"))
    context = {
        "built_in": list(BUILT_IN.values()),
        "saved_mappings": [(row, BUILT_IN.get(row.based_on)) for row in saved_rows],
    }
    return render(request, "jobs/mapping_list.html", context)


def _unused_name(name: str) -> str:
    for n in range(1, 1000):
        candidate = f"{name}-copy" if n == 1 else f"{name}-copy-{n}"
        if candidate not in BUILT_IN and not SavedMapping.objects.filter(name=candidate).exists():
            return candidate
    return f"{name}-copy"


@uce_admin_object
@require_http_methods(["GET", "POST"])
def mapping_new(request):
    """A copy of ``?from=NAME`` (a built-in or a saved mapping), edited before it is saved."""
    origin = request.GET.get("from", "")
    copied = SavedMapping.objects.filter(name=origin).first()
    if copied is not None:
        base, definition = BUILT_IN.get(copied.based_on), copied.definition
    else:
        base = BUILT_IN.get(origin)
        definition = saved.definition_of(base) if base else None
    if base is None:
        raise Http404("No mapping of that name to copy.")
    form = SavedMappingForm(
        request.POST or None,
        base=base,
        definition=definition,
        initial={"name": _unused_name(origin), "description": f"{copied.description if copied else base.description}"},
    )
    if request.method == "POST" and form.is_valid():
        mapping = form.save(user=request.user)
        messages.success(request, f"Saved mapping {mapping.name}; imports can use it now.")
        return redirect(reverse("imports:mappings"))
    return render(
        request, "jobs/mapping_form.html", {"form": form, "base": base, "copied_from": origin, "instance": None}
    )


@uce_admin_object
@require_http_methods(["GET", "POST"])
def mapping_edit(request, name):
    instance = get_object_or_404(SavedMapping, name=name)
    base = BUILT_IN.get(instance.based_on)
    if base is None:
        raise Http404("The built-in this mapping copies no longer exists.")
    form = SavedMappingForm(
        request.POST or None,
        base=base,
        instance=instance,
        definition=instance.definition,
        initial={"name": instance.name, "description": instance.description},
    )
    if request.method == "POST" and form.is_valid():
        form.save(user=request.user)
        messages.success(request, f"Saved mapping {instance.name}.")
        return redirect(reverse("imports:mappings"))
    context = {"form": form, "base": base, "copied_from": instance.based_on, "instance": instance}
    return render(request, "jobs/mapping_form.html", context)


@uce_admin_object
@require_http_methods(["GET", "POST"])
def mapping_delete(request, name):
    instance = get_object_or_404(SavedMapping, name=name)
    if request.method == "POST":
        instance.delete()
        messages.success(request, f"Deleted mapping {name}. Imports already run with it are kept as they are.")
        return redirect(reverse("imports:mappings"))
    return render(request, "jobs/mapping_confirm_delete.html", {"mapping": instance})
