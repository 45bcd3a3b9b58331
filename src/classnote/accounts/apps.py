from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "classnote.accounts"
    label = "accounts"

    def ready(self) -> None:
        from classnote.accounts import sessions  # noqa: F401  (connects the login signal)
