from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "classnote.privacy"
    label = "privacy"
