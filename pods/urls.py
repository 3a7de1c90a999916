"""Pages of the pods app (the home page, with metrics on it, is routed in uce/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
]
