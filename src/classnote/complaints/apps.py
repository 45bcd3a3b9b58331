from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from classnote.privacy import deadlines


class ComplaintsConfig(AppConfig):
    name = "classnote.complaints"
    label = "complaints"

    def ready(self) -> None:
        # Models are loaded only now: the app's own deadline queries are imported here.
        from classnote.complaints.deadlines import complaint_deadlines

        deadlines.register(
            complaint_deadlines, queue=deadlines.Queue(_("Complaints and consultations"), "complaint_queue")
        )
