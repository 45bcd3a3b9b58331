from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "classnote.files"
    label = "files"
