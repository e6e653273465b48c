"""A text limit declared on the model (max_length on a TextField) changes no column.

State only: on SQLite an AlterField would rebuild the table, and with it its triggers.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_withdrawal_notice"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="consentsignature",
                    name="withdrawal_reason",
                    field=models.TextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="consentversion",
                    name="body",
                    field=models.TextField(
                        help_text="Plain text. Leave a blank line between paragraphs.",
                        max_length=50000,
                        verbose_name="text",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
