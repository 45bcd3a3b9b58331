"""Aggregate statistics (included at /statistics/). Every view is marked with its audience."""

from django.urls import path

from classnote.stats import views

urlpatterns = [
    path("", views.statistics, name="statistics"),
]
