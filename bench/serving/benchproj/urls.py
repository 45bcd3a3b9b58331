from benchapp import views
from django.urls import path

urlpatterns = [
    path("min/", views.minimal),
    path("auth/", views.authed),
    path("bus/publish/", views.publish),
    path("events/", views.events),
]
