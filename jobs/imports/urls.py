"""Pages of the import under /imports/: the upload form, an import's page and its progress partial."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
]
