"""Routes of the pods API under /api/: the pods the caller may see."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("pods", views.PodViewSet, basename="pod")

urlpatterns = router.urls
