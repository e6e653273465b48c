"""A text limit declared on the model (max_length on a TextField) changes no column.

State only: on SQLite an AlterField would rebuild the table, and with it its triggers.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0004_adverse_event_updates"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="adverseevent",
                    name="action_taken",
                    field=models.TextField(max_length=4000, verbose_name="action taken"),
                ),
                migrations.AlterField(
                    model_name="adverseevent",
                    name="description",
                    field=models.TextField(
                        blank=True,
                        help_text="Needed when the type is “other”.",
                        max_length=4000,
                        verbose_name="what happened",
                    ),
                ),
                migrations.AlterField(
                    model_name="adverseevent",
                    name="outcome",
                    field=models.TextField(
                        blank=True,
                        help_text="As known when recorded.",
                        max_length=4000,
                        verbose_name="outcome",
                    ),
                ),
                migrations.AlterField(
                    model_name="adverseeventupdate",
                    name="outcome",
                    field=models.TextField(max_length=4000, verbose_name="outcome since"),
                ),
                migrations.AlterField(
                    model_name="clearance",
                    name="reason",
                    field=models.TextField(
                        help_text="Why; for a clearance with precautions, the precautions to take.",
                        max_length=4000,
                        verbose_name="reason",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicaladverseevent",
                    name="action_taken",
                    field=models.TextField(max_length=4000, verbose_name="action taken"),
                ),
                migrations.AlterField(
                    model_name="historicaladverseevent",
                    name="description",
                    field=models.TextField(
                        blank=True,
                        help_text="Needed when the type is “other”.",
                        max_length=4000,
                        verbose_name="what happened",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicaladverseevent",
                    name="outcome",
                    field=models.TextField(
                        blank=True,
                        help_text="As known when recorded.",
                        max_length=4000,
                        verbose_name="outcome",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
