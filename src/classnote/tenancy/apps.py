from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "classnote.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from classnote.tenancy import signals  # noqa: F401  (connect its signals)
