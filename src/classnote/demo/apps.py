from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "classnote.demo"
    label = "demo"
