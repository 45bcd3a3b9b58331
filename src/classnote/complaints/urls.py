"""Complaints and consultations: the public form and status page, the privacy officer's queue.
Every view is marked with its audience (tenancy.access.audience)."""

from django.urls import path

from classnote.complaints import views

urlpatterns = [
    path("new/", views.complaint_new, name="complaint_new"),
    path("status/", views.complaint_status, name="complaint_status"),
    path("", views.complaint_queue, name="complaint_queue"),
    path("<int:complaint_id>/", views.complaint_detail, name="complaint_detail"),
]
