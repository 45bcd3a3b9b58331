from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "classnote.complaints"
    label = "complaints"

    def ready(self) -> None:
        from classnote.complaints.deadlines import complaint_deadlines
        from classnote.privacy import deadlines

        deadlines.register(
            complaint_deadlines, queue=deadlines.Queue(_("Complaints and consultations"), "complaint_queue")
        )
