from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "classnote.core"
    label = "core"

    def ready(self) -> None:
        from classnote.core import security_log

        security_log.connect()  # failed logins, throttles, second-factor failures in the log
