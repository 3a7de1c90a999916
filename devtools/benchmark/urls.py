"""The project's URLs plus the two comparison pages: the ``ROOT_URLCONF`` of the benchmark's dashboard step."""

from django.urls import include, path

from .views import dashboard_on_the_fly, trivial_view

urlpatterns = [
    path("benchmark/ok/", trivial_view, name="benchmark-trivial"),
    path("benchmark/on-the-fly/<slug:slug>/", dashboard_on_the_fly, name="benchmark-on-the-fly"),
    path("", include("uce.urls")),
]
