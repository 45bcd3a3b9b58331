from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "classnote.cards"
    label = "cards"
