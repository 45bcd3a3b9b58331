from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "classnote.stats"
    label = "stats"
