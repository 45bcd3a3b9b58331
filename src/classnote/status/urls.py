"""The public status page, mounted at /status/ (issue 15). Every view is marked with its audience."""

from django.urls import path

from classnote.status.views import public

urlpatterns = [
    path("", public.page, name="status_page"),
    path("feed.atom", public.feed, name="status_feed"),
    path("api/summary.json", public.summary_json, name="status_summary_json"),
]
