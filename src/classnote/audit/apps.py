from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "classnote.audit"
    label = "audit"
