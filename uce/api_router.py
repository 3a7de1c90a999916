"""The HTTP API under /api/: one router for every app's viewsets, plus the OpenAPI schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from metrics.api.views import RecomputeRequestViewSet
from pods.api.views import PodViewSet

router = DefaultRouter()
router.register("pods", PodViewSet, basename="pod")
router.register("recomputes", RecomputeRequestViewSet, basename="recompute")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("metrics.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("jobs.imports.api_urls")),
    *router.urls,
]
