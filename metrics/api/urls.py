"""Routes of the metrics API under /api/: a pod's metrics and recomputation, recompute requests, targets."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("recomputes", views.RecomputeRequestViewSet, basename="recompute")
router.register("targets", views.TargetViewSet, basename="target")

urlpatterns = [
    path("pods/<slug:slug>/metrics/", views.pod_metrics, name="api-pod-metrics"),
    path("pods/<slug:slug>/recompute/", views.pod_recompute, name="api-pod-recompute"),
    *router.urls,
]
