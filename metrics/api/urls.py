"""Metrics routes under /api/ (the router's viewsets are registered in uce/api_router.py; targets here)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views
from .targets import TargetViewSet

# No root view: the project's router in uce/api_router.py serves /api/ itself.
targets_router = DefaultRouter()
targets_router.include_root_view = False
targets_router.register("targets", TargetViewSet, basename="target")

urlpatterns = [
    path("pods/<slug:slug>/metrics/", views.pod_metrics, name="api-pod-metrics"),
    path("pods/<slug:slug>/recompute/", views.pod_recompute, name="api-pod-recompute"),
    *targets_router.urls,
]
