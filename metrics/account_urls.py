"""Account pages, included at ``accounts/``: the search list and one page per account (by external id)."""

from django.urls import path

from . import account_views

urlpatterns = [
    path("", account_views.account_list, name="account-index"),
    path("<str:external_id>/", account_views.account_detail, name="account-page"),
    path("<str:external_id>/export.csv", account_views.account_export, name="account-export"),
]
