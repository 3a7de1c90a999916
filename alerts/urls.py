"""Alerts and digests, included at ``alerts/``."""

from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("read/", views.notifications_read, name="notifications-read"),
    path("<int:pk>/open/", views.notification_open, name="notification-open"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<slug:slug>/digest/", views.digest_choice, name="digest-choice"),
    path("pods/<slug:slug>/rules/new/", views.rule_new, name="rule-new"),
    path("rules/<int:pk>/", views.rule_action, name="rule-action"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
