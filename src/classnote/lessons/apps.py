from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "classnote.lessons"
    label = "lessons"

    def ready(self) -> None:
        # The lesson registers what the layers below it ask of it: which lesson cards a user reads and
        # what a pupil opening or saving a card of a lesson means (cards), who may listen to a
        # lesson's events and which events concern a person (realtime).
        from classnote.lessons import access, activity, streams

        access.register()
        activity.register()
        streams.register()
