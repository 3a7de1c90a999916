"""Pages of the jobs app under /activities/: log an activity, edit or delete one, export the list."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.activity_log, name="activity-log"),
    path("accounts/", views.account_search, name="activity-account-search"),
    path("contacts/", views.contact_options, name="activity-contact-options"),
    path("export.csv", views.activity_export, name="activity-export"),
    path("<int:pk>/edit/", views.activity_edit, name="activity-edit"),
    path("<int:pk>/delete/", views.activity_delete, name="activity-delete"),
]
