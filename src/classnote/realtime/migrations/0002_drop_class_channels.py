"""The "class:<id>" channels were emitted to (a lesson opened) but never listened to; they are gone.
Drop their stored events so nothing keeps a channel nobody can read."""

from django.db import migrations


def drop_class_channels(apps, schema_editor):  # type: ignore[no-untyped-def]
    Channel = apps.get_model("realtime", "Channel")
    Channel.objects.filter(name__startswith="class:").delete()


class Migration(migrations.Migration):
    dependencies = [("realtime", "0001_initial")]

    operations = [migrations.RunPython(drop_class_channels, migrations.RunPython.noop)]
