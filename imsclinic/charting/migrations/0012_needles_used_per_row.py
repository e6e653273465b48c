"""How many needles each needling row took from its lot; the lots' stock follows existing rows.

Every existing row is taken to have used one needle (the default a practitioner now sees,
docs/decisions/0011), and each lot's quantity on hand becomes what it received less the
needles its rows used, never below zero (a lot over-drawn before stock was counted shows
none left).

Adding the column with a default is `ALTER TABLE ... ADD COLUMN` on PostgreSQL: no row is
updated, so the trigger that refuses changes to a signed note's rows (0003) does not fire,
and the data step only updates lots, never a row. On SQLite, where those triggers do not
exist, the new NOT NULL column and the check constraint rebuild the row tables.
"""

import django.core.validators
from django.db import migrations, models


def lots_lose_what_their_rows_used(apps, schema_editor):
    NeedleLot = apps.get_model("clinic", "NeedleLot")
    NeedlingRow = apps.get_model("charting", "NeedlingRow")
    used = (
        NeedlingRow.objects.values("needle_lot")
        .annotate(total=models.Sum("needles_used"))
        .values_list("needle_lot", "total")
    )
    for lot_id, total in used:
        lot = NeedleLot.objects.get(pk=lot_id)
        NeedleLot.objects.filter(pk=lot_id).update(
            quantity_on_hand=max(0, lot.quantity_received - (total or 0))
        )


def lots_get_back_what_their_rows_used(apps, schema_editor):
    NeedleLot = apps.get_model("clinic", "NeedleLot")
    NeedleLot.objects.update(quantity_on_hand=models.F("quantity_received"))


class Migration(migrations.Migration):

    dependencies = [
        ("charting", "0011_physio_note_locked"),
        ("clinic", "0012_needles_on_hand_and_low_stock_levels"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalneedlingrow",
            name="needles_used",
            field=models.PositiveSmallIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(50)], verbose_name="needles used"),
        ),
        migrations.AddField(
            model_name="needlingrow",
            name="needles_used",
            field=models.PositiveSmallIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(50)], verbose_name="needles used"),
        ),
        migrations.AddConstraint(
            model_name="needlingrow",
            constraint=models.CheckConstraint(condition=models.Q(("needles_used__gte", 1), ("needles_used__lte", models.F("insertions"))), name="charting_row_needles_1_to_insertions"),
        ),
        migrations.RunPython(lots_lose_what_their_rows_used, lots_get_back_what_their_rows_used),
    ]
