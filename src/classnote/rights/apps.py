from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from classnote.privacy import deadlines


class RightsConfig(AppConfig):
    name = "classnote.rights"
    label = "rights"
    verbose_name = "Data-subject rights and retention"

    def ready(self) -> None:
        # Models are loaded only now: the app's own deadline queries are imported here.
        from classnote.rights import workflow

        deadlines.register(
            workflow.officer_deadlines, queue=deadlines.Queue(_("Data-subject requests"), "request_list")
        )
