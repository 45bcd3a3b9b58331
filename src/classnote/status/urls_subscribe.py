"""Subscribing to the status page by e-mail (public), mounted at /status/subscribe/. The token in a
confirmation link and the key in an unsubscribe link are not personal data; Django's request logger
writes errors only (settings.LOGGING), so they do not reach the log."""

from django.urls import path

from classnote.status.views import subscriptions as views

urlpatterns = [
    path("", views.subscribe, name="status_subscribe"),
    path("confirm/<str:subscription_token>/", views.confirm, name="status_subscribe_confirm"),
    path("unsubscribe/<str:subscription_token>/", views.unsubscribe, name="status_unsubscribe"),
]
