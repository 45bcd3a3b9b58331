"""Privacy pages. Every view is marked with its audience (tenancy.access.audience)."""

from django.urls import path

from classnote.privacy import views

urlpatterns = [
    path("", views.privacy_policy, name="privacy_policy"),
    path("officer/", views.officer_dashboard, name="privacy_officer"),
    path("support/", views.support, name="privacy_support"),
    path("support/<int:grant_id>/revoke/", views.support_revoke, name="privacy_support_revoke"),
    path("support/municipalities/<int:municipality_id>/", views.support_tenant, name="privacy_support_tenant"),
    path("views/", views.my_views, name="privacy_my_views"),
    path("users/<int:user_id>/views/", views.user_views, name="privacy_user_views"),
    path("users/<int:user_id>/provisions/", views.user_provisions, name="privacy_user_provisions"),
    path("provisions/", views.provisions, name="privacy_provisions"),
]
