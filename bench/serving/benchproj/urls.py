from django.urls import path

from benchapp import views

urlpatterns = [
    path("min/", views.minimal),
    path("auth/", views.authed),
    path("bus/publish/", views.publish),
    path("events/", views.events),
]
