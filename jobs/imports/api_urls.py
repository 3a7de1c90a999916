"""Imports routes under /api/: ``POST /api/imports/``, ``GET /api/imports/`` and ``GET /api/imports/{id}/``."""

from rest_framework.routers import DefaultRouter

from .api import ImportJobViewSet

# No root view: the project's router in uce/api_router.py serves /api/ itself.
router = DefaultRouter()
router.include_root_view = False
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = router.urls
