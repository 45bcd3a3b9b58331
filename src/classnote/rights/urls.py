"""Data-subject requests. Every view is marked with its audience (tenancy.access.audience)."""

from django.urls import path

from classnote.rights import views

urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("new/", views.request_new, name="request_new"),
    path("<int:request_id>/", views.request_detail, name="request_detail"),
    path("<int:request_id>/export/", views.request_export, name="request_export"),
    path("<int:request_id>/correct/", views.request_correct, name="request_correct"),
    path("<int:request_id>/cease/", views.request_cease, name="request_cease"),
    path("<int:request_id>/delete/", views.request_delete, name="request_delete"),
    path("<int:request_id>/close/", views.request_close, name="request_close"),
]
