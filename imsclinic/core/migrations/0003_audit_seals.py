"""Audit rows are sealed into the hash chain after they commit, in a table of their own.

Rows are no longer chained as they are inserted: each gets its writing transaction's id
(PostgreSQL) and the sealer chains it afterwards into core_auditseal. The rows already
chained keep their prev_hash and hash; core/0004 seals them with those very hashes.

txid is added without a default first and given one after, so that PostgreSQL does not fill
the existing rows with this migration's own transaction id: those rows are already chained.
"""

import django.db.models.deletion
from django.db import migrations, models

import imsclinic.core.models


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only_trigger")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="txid",
            field=models.BigIntegerField(
                editable=False, null=True, verbose_name="writing transaction"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="txid",
            field=models.BigIntegerField(
                db_default=imsclinic.core.models.CurrentTransactionId(),
                editable=False,
                null=True,
                verbose_name="writing transaction",
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["txid", "id"], name="core_auditevent_seal_order"),
        ),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                (
                    "seq",
                    models.PositiveBigIntegerField(
                        primary_key=True, serialize=False, verbose_name="position"
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                (
                    "scheme",
                    models.PositiveSmallIntegerField(
                        choices=[(1, "chained when written"), (2, "sealed after commit")]
                    ),
                ),
                ("sealed_at", models.DateTimeField()),
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seal",
                        to="core.auditevent",
                    ),
                ),
            ],
            options={
                "ordering": ("seq",),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("seq__gte", 1)), name="core_auditseal_seq_from_1"
                    )
                ],
            },
        ),
    ]
