"""The incident register (leaks and suspected leaks). Every view is marked with its audience."""

from django.urls import path

from classnote.incidents import views

urlpatterns = [
    path("", views.incident_list, name="incident_list"),
    path("new/", views.incident_new, name="incident_new"),
    path("<int:incident_id>/", views.incident_detail, name="incident_detail"),
    path("<int:incident_id>/reports/", views.incident_report, name="incident_report"),
]
