from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "classnote.tenancy"
    label = "tenancy"
