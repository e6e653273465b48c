"""A text limit declared on the model (max_length on a TextField) changes no column.

State only: on SQLite an AlterField would rebuild the table, and with it its triggers.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0009_assessment_valid_months"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="needlelot",
                    name="recall_reason",
                    field=models.TextField(
                        blank=True, max_length=2000, verbose_name="reason for the recall"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
