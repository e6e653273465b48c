"""Needles on hand per lot, and the owner's low-stock level per needle size.

Every existing lot starts with all it received on hand; charting's migration
0007_needles_used_per_row then takes off what its existing needling rows used. Nothing here
touches a charting table, so the signed-notes triggers (charting 0003) are not involved.
"""

import django.core.validators
from decimal import Decimal
from django.db import migrations, models


def everything_received_is_on_hand(apps, schema_editor):
    NeedleLot = apps.get_model("clinic", "NeedleLot")
    NeedleLot.objects.update(quantity_on_hand=models.F("quantity_received"))


class Migration(migrations.Migration):

    dependencies = [
        ("clinic", "0011_practitioner_licences"),
    ]

    operations = [
        migrations.CreateModel(
            name="NeedleStockLevel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("diameter_mm", models.DecimalField(decimal_places=2, max_digits=3, validators=[django.core.validators.MinValueValidator(Decimal("0.01"))], verbose_name="diameter (mm)")),
                ("length_mm", models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1)], verbose_name="length (mm)")),
                ("warn_below", models.PositiveIntegerField(help_text="Warn when fewer needles of this size than this are on hand.", validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100000)], verbose_name="warn below")),
                ("low_since", models.DateTimeField(blank=True, null=True, verbose_name="low since")),
                ("owner_alerted_at", models.DateTimeField(blank=True, null=True, verbose_name="owner emailed at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
            ],
            options={
                "verbose_name": "low-stock level",
                "verbose_name_plural": "low-stock levels",
                "ordering": ("diameter_mm", "length_mm"),
                "constraints": [
                    models.UniqueConstraint(fields=("diameter_mm", "length_mm"), name="needle_stock_level_one_per_size"),
                    models.CheckConstraint(condition=models.Q(("warn_below__gte", 1)), name="needle_stock_level_at_least_one"),
                    models.CheckConstraint(condition=models.Q(("owner_alerted_at__isnull", True), ("low_since__isnull", False), _connector="OR"), name="needle_stock_level_alert_only_when_low"),
                ],
            },
        ),
        migrations.AddField(
            model_name="needlelot",
            name="quantity_on_hand",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="needles on hand"),
            preserve_default=False,
        ),
        migrations.RunPython(everything_received_is_on_hand, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="needlelot",
            constraint=models.CheckConstraint(condition=models.Q(("quantity_on_hand__gte", 0)), name="needle_lot_on_hand_not_negative"),
        ),
        migrations.AddConstraint(
            model_name="needlelot",
            constraint=models.CheckConstraint(condition=models.Q(("quantity_on_hand__lte", models.F("quantity_received"))), name="needle_lot_on_hand_at_most_received"),
        ),
    ]
