from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "classnote.cards"
    label = "cards"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from classnote.cards.drawings import delete_after_commit
        from classnote.cards.models import Card

        # However a card goes (deleted by its owner, or with a deleted account), its stored
        # drawing renders go too.
        post_delete.connect(delete_after_commit, sender=Card, dispatch_uid="cards-delete-renders")
