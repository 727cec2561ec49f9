"""The jurisdiction profiles and the first tag set (``fangkong.evaluation.defaults``)."""

from django.db import migrations

from fangkong.evaluation.defaults import PROFILES, install_defaults

def forwards(apps, schema_editor):
    install_defaults(apps.get_model("evaluation", "Profile"), apps.get_model("evaluation", "TagSet"))


def backwards(apps, schema_editor):
    apps.get_model("evaluation", "Profile").objects.filter(
        name__in=[row[0] for row in PROFILES]
    ).delete()
    apps.get_model("evaluation", "TagSet").objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
