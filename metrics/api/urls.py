"""Routes of the metrics API under /api/: accounts, a pod's metrics and recomputation, recompute requests, targets."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
# Accounts are listed as jobs lists them; their retrieve is the account page, composed here (metrics reads jobs).
router.register("accounts", views.AccountViewSet, basename="account")
router.register("recomputes", views.RecomputeRequestViewSet, basename="recompute")
router.register("targets", views.TargetViewSet, basename="target")
router.register("reorganisations", views.ReorganisationViewSet, basename="reorganisation")

urlpatterns = [
    path("pods/<slug:slug>/metrics/", views.pod_metrics, name="api-pod-metrics"),
    path("pods/<slug:slug>/recompute/", views.pod_recompute, name="api-pod-recompute"),
    *router.urls,
]
