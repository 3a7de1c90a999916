"""URL wiring: pages, admin, auth and the API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from metrics.views import home

admin.site.site_header = "UCE Pods administration"
admin.site.site_title = "UCE Pods admin"
admin.site.index_title = "Pods, people, facts and targets"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("auth/", include("django.contrib.auth.urls")),  # sign-in; /accounts/ holds the customer accounts
    # Sign-in's first address, kept for bookmarks and tools that post to it (external ids "login" and
    # "logout" are therefore not reachable as account pages).
    path("accounts/login/", auth_views.LoginView.as_view(), name="legacy-login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="legacy-logout"),
    path("accounts/", include("metrics.account_urls")),
    path("api/", include("uce.api_router")),
    path("activities/", include("jobs.urls")),
    path("imports/", include("jobs.imports.urls")),
    path("pods/", include("metrics.urls")),
    path("alerts/", include("alerts.urls")),
    path("reorganisations/", include("metrics.reorg_urls")),
    path("", home, name="home"),
    path("", include("pods.urls")),
]
