from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "classnote.lessons"
    label = "lessons"

    def ready(self) -> None:
        from classnote.lessons import streams

        streams.register()
