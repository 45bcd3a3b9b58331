"""Files: upload, and downloads that always go through the access check (included at /files/)."""

from django.urls import path

from classnote.files import views

urlpatterns = [
    path("", views.file_upload, name="file_upload"),
    path("<uuid:file_id>/", views.file_download, name="file_download"),
    path("<uuid:file_id>/thumbnail/", views.file_thumbnail, name="file_thumbnail"),
]
