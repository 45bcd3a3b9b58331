from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from classnote.privacy import deadlines


class IncidentsConfig(AppConfig):
    name = "classnote.incidents"
    label = "incidents"

    def ready(self) -> None:
        # Models are loaded only now: the app's own deadline queries are imported here.
        from classnote.incidents.deadlines import incident_deadlines

        deadlines.register(incident_deadlines, queue=deadlines.Queue(_("Incident register"), "incident_list"))
