"""The operator's status pages, mounted at /operator/status/. Every view is marked with its audience."""

from django.urls import path

from classnote.status.views import operator as views

urlpatterns = [
    path("", views.incident_list, name="status_operator"),
    path("incidents/new/", views.incident_new, name="status_operator_incident_new"),
    path("incidents/<int:status_incident_id>/", views.incident_detail, name="status_operator_incident"),
    path("incidents/<int:status_incident_id>/resolve/", views.incident_resolve, name="status_operator_resolve"),
    path("incidents/<int:status_incident_id>/publish/", views.incident_publish, name="status_operator_publish"),
    path("incidents/<int:status_incident_id>/discard/", views.incident_discard, name="status_operator_discard"),
    path("maintenance/", views.maintenance_list, name="status_operator_maintenance"),
    path("maintenance/new/", views.maintenance_new, name="status_operator_maintenance_new"),
    path("maintenance/<int:maintenance_id>/", views.maintenance_edit, name="status_operator_maintenance_edit"),
    path(
        "maintenance/<int:maintenance_id>/cancel/", views.maintenance_cancel, name="status_operator_maintenance_cancel"
    ),
    path("subscribers/", views.subscribers, name="status_operator_subscribers"),
    path("subscribers/<int:subscriber_id>/remove/", views.webhook_remove, name="status_operator_webhook_remove"),
]
