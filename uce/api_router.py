"""The HTTP API under /api/: every app's routes, the root listing them, and the OpenAPI schema.

One pattern throughout: an app's API lives in ``<app>/api/`` — ``serializers.py``, ``views.py``
and ``urls.py``, whose ``router`` holds its viewsets and whose ``urlpatterns`` its routes.  This
module only includes them.
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView

from jobs.api import urls as jobs_api
from metrics.api import urls as metrics_api
from pods.api import urls as pods_api

APP_APIS = (pods_api, jobs_api, metrics_api)

# GET /api/: a link to the list of every viewset of every app, as DRF's DefaultRouter draws it.
api_root = APIRootView.as_view(
    api_root_dict={prefix: f"{basename}-list" for app in APP_APIS for prefix, _, basename in app.router.registry}
)

# Swagger UI, with its start-up script served as a file (the "split" view) so that no inline script is
# needed. Its page keeps a small inline <style> and its stylesheet uses data: images: styles and
# images are relaxed for this page only; scripts stay 'self' as everywhere.
api_docs = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
    *(path("", include(app)) for app in APP_APIS),
]
