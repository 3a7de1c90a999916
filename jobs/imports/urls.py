"""Pages of the import under /imports/: the upload form, an import's page and its progress partial."""

from django.urls import path

from . import mapping_views, views

app_name = "imports"

urlpatterns = [
    path("", views.import_upload, name="upload"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("mappings/", mapping_views.mapping_list, name="mappings"),
    path("mappings/new/", mapping_views.mapping_new, name="mapping-new"),
    path("mappings/<slug:name>/", mapping_views.mapping_edit, name="mapping-edit"),
    path("mappings/<slug:name>/delete/", mapping_views.mapping_delete, name="mapping-delete"),
]
