"""Routes of the jobs API under /api/: activities (read and write), the facts behind the dashboard (read), imports."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("leads", views.LeadViewSet, basename="lead")
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("orders", views.OrderViewSet, basename="order")
router.register("adoption-readings", views.AdoptionReadingViewSet, basename="adoption-reading")
router.register("tickets", views.SupportTicketViewSet, basename="ticket")
router.register("imports", views.ImportJobViewSet, basename="import")

urlpatterns = router.urls
