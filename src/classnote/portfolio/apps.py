from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "classnote.portfolio"
    label = "portfolio"
