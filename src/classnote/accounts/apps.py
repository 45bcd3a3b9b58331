from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "classnote.accounts"
    label = "accounts"

    def ready(self) -> None:
        from classnote.accounts import credentials, sessions, usercache  # noqa: F401  (connect their signals)
