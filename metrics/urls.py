"""Dashboard pages, included at ``pods/`` (the comparison and the propensity page come first:
``compare`` and ``propensity`` are not pod slugs)."""

from django.urls import path

from . import account_views, views

urlpatterns = [
    path("compare/", views.compare, name="pod-compare"),
    path("propensity/", account_views.propensity_calibration, name="propensity-calibration"),
    path("<slug:slug>/", views.dashboard, name="pod-dashboard"),
    path("<slug:slug>/drilldown/<slug:metric>/", views.drilldown, name="pod-drilldown"),
    path("<slug:slug>/export.csv", views.export_csv, name="pod-export"),
    path("<slug:slug>/accounts-to-call.csv", views.accounts_to_call_csv, name="pod-accounts-to-call"),
    path("<slug:slug>/recompute/", views.recompute, name="pod-recompute"),
    path("<slug:slug>/recompute/<int:pk>/", views.recompute_progress, name="pod-recompute-progress"),
]
