"""Reorganisation impact pages, included at ``reorganisations/``."""

from django.urls import path

from . import reorg_views

urlpatterns = [
    path("", reorg_views.reorganisation_list, name="reorganisations"),
    path("<int:pk>/", reorg_views.reorganisation_detail, name="reorganisation-page"),
    path("<int:pk>/impact.csv", reorg_views.reorganisation_csv, name="reorganisation-csv"),
    path("<int:pk>/delete/", reorg_views.reorganisation_delete, name="reorganisation-delete"),
]
