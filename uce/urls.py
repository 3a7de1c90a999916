"""URL wiring: pages, admin, auth and the API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("uce.api_router")),
    path("", include("pods.urls")),
]
