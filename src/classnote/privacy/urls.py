"""Privacy pages. Every view is marked with its audience (tenancy.access.audience)."""

from django.urls import path

from classnote.privacy import views

urlpatterns = [
    path("officer/", views.officer_dashboard, name="privacy_officer"),
]
