"""The HTTP API under /api/: one router for every app's viewsets, plus the OpenAPI schema."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from metrics.api.views import RecomputeRequestViewSet
from pods.api.views import PodViewSet

router = DefaultRouter()
router.register("pods", PodViewSet, basename="pod")
router.register("recomputes", RecomputeRequestViewSet, basename="recompute")

# Swagger UI, with its start-up script served as a file (the "split" view) so that no inline script is
# needed. Its page keeps a small inline <style> and its stylesheet uses data: images: styles and
# images are relaxed for this page only; scripts stay 'self' as everywhere.
api_docs = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
    path("", include("metrics.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("jobs.imports.api_urls")),
    *router.urls,
]
