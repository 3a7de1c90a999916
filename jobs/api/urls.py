"""Routes of the jobs API under /api/: activities (read and write) and the facts behind the dashboard (read)."""

from rest_framework.routers import DefaultRouter

from . import views

# No root view: the project's router in uce/api_router.py serves /api/ itself.
router = DefaultRouter()
router.include_root_view = False
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("leads", views.LeadViewSet, basename="lead")
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("orders", views.OrderViewSet, basename="order")
router.register("adoption-readings", views.AdoptionReadingViewSet, basename="adoption-reading")
router.register("tickets", views.SupportTicketViewSet, basename="ticket")

urlpatterns = router.urls
