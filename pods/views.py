"""Pages of the pods app: home (the pods the user may see)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .scoping import pods_visible_to


@login_required
def home(request):
    return render(request, "pods/home.html", {"pods": pods_visible_to(request.user)})
