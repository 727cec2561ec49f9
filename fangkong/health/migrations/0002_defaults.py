from django.db import migrations


def install(apps, schema_editor):
    from fangkong.health.defaults import install_defaults

    install_defaults(apps.get_model("health", "Symptom"), apps.get_model("health", "HealthRule"))


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
