"""Metrics routes under /api/ (the router's viewsets are registered in uce/api_router.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("pods/<slug:slug>/metrics/", views.pod_metrics, name="api-pod-metrics"),
    path("pods/<slug:slug>/recompute/", views.pod_recompute, name="api-pod-recompute"),
]
