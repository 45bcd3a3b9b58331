from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "classnote.core"
    label = "core"
