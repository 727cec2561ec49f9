# Outbreaks can be closed: each row is one outbreak's period, purged a while after its close.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("health", "0005_day_tally"),
    ]

    operations = [
        migrations.AddField(
            model_name="outbreakprofile",
            name="started_on",
            field=models.DateField(
                blank=True,
                help_text="Empty: since records began.",
                null=True,
                verbose_name="first day",
            ),
        ),
        migrations.AddField(
            model_name="outbreakprofile",
            name="closed_on",
            field=models.DateField(blank=True, null=True, verbose_name="closed on"),
        ),
        migrations.AddField(
            model_name="outbreakprofile",
            name="purge_after_days",
            field=models.PositiveSmallIntegerField(
                default=180,
                help_text=(
                    "Days after the close at which the outbreak's declarations, follow-ups, "
                    "itineraries and quarantine checks are erased; the daily figures stay."
                ),
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(3650),
                ],
                verbose_name="erase personal data after (days)",
            ),
        ),
        migrations.AddField(
            model_name="outbreakprofile",
            name="purged_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="personal data erased at"
            ),
        ),
        migrations.AddConstraint(
            model_name="outbreakprofile",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("closed_on__isnull", True),
                    ("started_on__isnull", True),
                    ("closed_on__gte", models.F("started_on")),
                    _connector="OR",
                ),
                name="outbreak_closed_after_start",
            ),
        ),
    ]
