from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "classnote.realtime"
    label = "realtime"
