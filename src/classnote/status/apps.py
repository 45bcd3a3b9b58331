from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "classnote.status"
    label = "status"
