from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "classnote.files"
    label = "files"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from classnote.core import health
        from classnote.files.guard import ready_check
        from classnote.files.models import StoredFile
        from classnote.files.services import delete_bytes_after_commit

        health.register("storage", ready_check)

        # However a row goes (delete_upload, or a cascade when a pupil's account is deleted),
        # its bytes go too: no file of a deleted account stays behind in storage.
        post_delete.connect(delete_bytes_after_commit, sender=StoredFile, dispatch_uid="files-delete-bytes")
