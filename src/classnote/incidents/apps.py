from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "classnote.incidents"
    label = "incidents"

    def ready(self) -> None:
        from classnote.incidents.deadlines import incident_deadlines
        from classnote.privacy import deadlines

        deadlines.register(incident_deadlines, queue=deadlines.Queue(_("Incident register"), "incident_list"))
