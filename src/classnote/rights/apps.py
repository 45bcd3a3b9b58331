from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "classnote.rights"
    label = "rights"
    verbose_name = "Data-subject rights and retention"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from classnote.privacy import deadlines
        from classnote.rights import workflow

        deadlines.register(
            workflow.officer_deadlines, queue=deadlines.Queue(_("Data-subject requests"), "request_list")
        )
