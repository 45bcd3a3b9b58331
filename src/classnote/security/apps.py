from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Patch deadlines: `classnote security patches`, the nightly check and the operator's page."""

    name = "classnote.security"
    label = "security"
