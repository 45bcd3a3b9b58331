"""The operator's security pages. Every view is marked with its audience (tenancy.access.audience)."""

from django.urls import path

from classnote.security import views

urlpatterns = [
    path("patches/", views.patches_page, name="security_patches"),
    path("patches/check/", views.patches_check, name="security_patches_check"),
]
